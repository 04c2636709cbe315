/**
 * Monthly partner reports: what the one-stop delivered on a partner's behalf last month (volumes by channel and
 * office, standards met, satisfaction and comments, referrals, fees — empty until payments lands —, cost avoided).
 * Kept in perf_reports (one per partner and month, never rewritten) and e-mailed bilingually to the partner's staff.
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { t } from '../i18n/index';
import type { Mailer } from '../mail/mailer';
import { indicators, sideBySide, type Filter } from './indicators';

export function monthRange(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, '0')}` };
}

export function previousMonth(now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

/** A partner's figures for a month (live, from the rollups). */
export async function partnerReport(db: Database, orgId: string, month: string) {
  const f: Filter = { ...monthRange(month), ownerOrgId: orgId };
  const [ind, offices] = await Promise.all([indicators(db, f), sideBySide(db, f, 'office_id')]);
  return { orgId, month, indicators: ind, offices: offices.filter((o) => o.key !== '') };
}

/** Comments about a partner's own services (scrubbed at storage), newest first. */
export async function partnerComments(db: Database, orgId: string, f: { from: string; to: string }, limit = 200) {
  return db.selectFrom('perf_survey_responses as r').leftJoin('services as s', 's.id', 'r.service_id')
    .select(['r.day', 'r.channel', 'r.score', 'r.comment', 'r.lang', 's.title_en', 's.title_fr'])
    .where('r.org_id', '=', orgId).where('r.comment', 'is not', null)
    .where('r.day', '>=', f.from).where('r.day', '<=', f.to)
    .orderBy('r.day', 'desc').orderBy('r.id', 'desc').limit(limit).execute();
}

/** Build (once) and mail last month's report of every partner with activity. Returns the partners reported. */
export async function buildMonthlyReports(db: Database, opts: { mailer: Mailer; baseUrl: string; month?: string }): Promise<string[]> {
  const month = opts.month ?? previousMonth();
  const { from, to } = monthRange(month);
  const orgs = await sql<{ org: string }>`
    select distinct owner_org_id as org from perf_monthly_owner where month = ${from}::date and owner_org_id <> ''
    union select distinct org_id from perf_survey_responses where day between ${from}::date and ${to}::date and org_id is not null`.execute(db);
  const done: string[] = [];
  for (const { org } of orgs.rows) {
    const report = await partnerReport(db, org, month);
    await db.insertInto('perf_reports').values({ org_id: org, month, data: JSON.stringify(report) }).onConflict((oc) => oc.doNothing()).execute();
    const row = await db.selectFrom('perf_reports').select(['mailed_at']).where('org_id', '=', org).where('month', '=', month).executeTakeFirst();
    if (row?.mailed_at) continue;
    const staff = await db.selectFrom('staff_users').select(['email']).where('org_id', '=', org)
      .where(sql<boolean>`roles && array['partner', 'manager']::text[]`).execute();
    const i = report.indicators;
    const body = (['en', 'fr'] as const).map((lang) => t(lang, 'performance.report.mail', {
      month, contacts: i.contacts, transactions: i.transactions,
      link: `${opts.baseUrl}${lang === 'fr' ? '/fr/personnel/rendement/rapport' : '/en/staff/performance/report'}?month=${month}`,
    })).join('\n\n---\n\n');
    for (const s of staff) {
      if (!s.email) continue;
      await opts.mailer.send({ to: s.email, subject: `${t('en', 'performance.report.subject', { month })} / ${t('fr', 'performance.report.subject', { month })}`, text: body });
    }
    await db.updateTable('perf_reports').set({ mailed_at: new Date() }).where('org_id', '=', org).where('month', '=', month).execute();
    done.push(org);
  }
  return done;
}
