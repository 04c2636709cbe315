/**
 * The public charter: per service, its standards (target, volume meeting, total, % met), take-up, completion and
 * satisfaction, from the monthly rollup (index) and the daily rollup (one service). Counts under 10 are suppressed
 * (null) and so are rates whose denominator is under 10; comments are never public.
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { gcStandards, indicators, satisfaction, suppress, SUPPRESS_UNDER, type Filter } from './indicators';

const rate = (num: number, den: number) => (den >= SUPPRESS_UNDER ? num / den : null);

export interface CharterRow {
  serviceId: string;
  title_en: string;
  title_fr: string;
  owner_org_id: string;
  transactions: number | null;
  takeUp: number | null;
  completionRate: number | null;
  satisfied: number | null;
  responses: number | null;
  standards: number;
  standardsMet: number;
}

/** A page of the charter's index: services with any figure, by title. */
export async function charterIndex(db: Database, f: { from: string; to: string; q?: string; page?: number; lang: 'en' | 'fr'; pageSize?: number }) {
  const size = f.pageSize ?? 50;
  const page = Math.max(1, f.page ?? 1);
  const title = f.lang === 'fr' ? sql.ref('s.title_fr') : sql.ref('s.title_en');
  const like = f.q ? `%${f.q.replace(/[\\%_]/g, (c) => '\\' + c)}%` : null;
  const services = await sql<{ id: string; title_en: string; title_fr: string; owner_org_id: string; total: number }>`
    select s.id, s.title_en, s.title_fr, s.owner_org_id, count(*) over ()::int as total
    from services s
    where s.status = 'published'
      and (${like}::text is null or ${title} ilike ${like}::text)
      and (exists (select 1 from perf_monthly m where m.service_id = s.id and m.month between date_trunc('month', ${f.from}::date)::date and ${f.to}::date)
           or exists (select 1 from service_standards st where st.service_id = s.id)
           or exists (select 1 from perf_partner_volumes v where v.service_id = s.id and v.period_start >= ${f.from}::date and v.period_end <= ${f.to}::date))
    order by ${title}, s.id
    limit ${size} offset ${(page - 1) * size}`.execute(db);
  const ids = services.rows.map((r) => r.id);
  if (!ids.length) return { rows: [] as CharterRow[], total: 0, page, pageSize: size };
  const [counted, reported, sat, std] = await Promise.all([
    sql<{ service_id: string; tx: number; started: number; done: number; web: number }>`
      select service_id, sum(events) filter (where outcome in ('completed', 'not_eligible'))::bigint as tx,
             sum(events) filter (where outcome in ('completed', 'not_eligible', 'abandoned', 'failed'))::bigint as started,
             sum(events) filter (where outcome in ('completed', 'not_eligible'))::bigint as done,
             sum(events) filter (where outcome in ('completed', 'not_eligible') and channel = 'web')::bigint as web
      from perf_monthly where service_id = any(${ids}::text[]) and month between date_trunc('month', ${f.from}::date)::date and ${f.to}::date
      group by service_id`.execute(db),
    sql<{ service_id: string; tx: number; web: number }>`
      select service_id, sum(transactions)::bigint as tx, sum(transactions) filter (where channel = 'web')::bigint as web
      from perf_partner_volumes where service_id = any(${ids}::text[]) and period_start >= ${f.from}::date and period_end <= ${f.to}::date
      group by service_id`.execute(db),
    sql<{ service_id: string; answered: number; satisfied: number }>`
      select service_id, count(score)::int as answered, count(*) filter (where score >= 4)::int as satisfied
      from perf_survey_responses where service_id = any(${ids}::text[]) and day between ${f.from}::date and ${f.to}::date
      group by service_id`.execute(db),
    sql<{ service_id: string; total: number; met: number }>`
      select service_id, count(target_met)::int as total, count(*) filter (where target_met)::int as met
      from service_standards where service_id = any(${ids}::text[]) group by service_id`.execute(db),
  ]);
  const by = <T extends { service_id: string }>(rows: T[]) => new Map(rows.map((r) => [r.service_id, r]));
  const c = by(counted.rows), r = by(reported.rows), s = by(sat.rows), st = by(std.rows);
  const rows: CharterRow[] = services.rows.map((x) => {
    const tx = Number(c.get(x.id)?.tx ?? 0) + Number(r.get(x.id)?.tx ?? 0);
    const web = Number(c.get(x.id)?.web ?? 0) + Number(r.get(x.id)?.web ?? 0);
    const answered = Number(s.get(x.id)?.answered ?? 0);
    return {
      serviceId: x.id, title_en: x.title_en, title_fr: x.title_fr, owner_org_id: x.owner_org_id,
      transactions: suppress(tx),
      takeUp: rate(web, tx),
      completionRate: rate(Number(c.get(x.id)?.done ?? 0), Number(c.get(x.id)?.started ?? 0)),
      satisfied: rate(Number(s.get(x.id)?.satisfied ?? 0), answered),
      responses: suppress(answered),
      standards: Number(st.get(x.id)?.total ?? 0),
      standardsMet: Number(st.get(x.id)?.met ?? 0),
    };
  });
  return { rows, total: services.rows[0]?.total ?? 0, page, pageSize: size };
}

/** One service's public figures (suppressed). */
export async function serviceCharter(db: Database, serviceId: string, f: { from: string; to: string }) {
  const service = await db.selectFrom('services').select(['id', 'title_en', 'title_fr', 'owner_org_id', 'status']).where('id', '=', serviceId).executeTakeFirst();
  if (!service || service.status !== 'published') return null;
  const filter: Filter = { from: f.from, to: f.to, serviceId };
  const [ind, standards, sat] = await Promise.all([indicators(db, filter), gcStandards(db, { serviceId }), satisfaction(db, filter)]);
  const channels = ind.byChannel.map((c) => ({ channel: c.channel, counted: suppress(c.transactions), reported: suppress(c.reported), total: suppress(c.transactions + c.reported) }))
    .filter((c) => c.total !== 0);
  const m = ind.standardsMeasured;
  return {
    service: { id: service.id, title_en: service.title_en, title_fr: service.title_fr, owner_org_id: service.owner_org_id },
    period: { from: f.from, to: f.to },
    transactions: suppress(ind.transactions),
    takeUp: rate(ind.digitalTransactions, ind.transactions),
    completionRate: rate(ind.completed, ind.started),
    channels,
    satisfaction: {
      responses: suppress(sat.answered),
      levels: sat.levels.map(suppress),
      notApplicable: suppress(sat.notApplicable),
      share: sat.answered >= SUPPRESS_UNDER ? sat.share : null,
      mean: sat.answered >= SUPPRESS_UNDER ? sat.mean : null,
    },
    standards: standards.map((s) => ({
      id: s.id, fiscalYear: s.fiscal_year, text_en: s.text_en, text_fr: s.text_fr, channel: s.channel, target: s.target,
      volumeMeeting: s.volume_meeting_target, total: s.total_volume, performance: s.performance, met: s.target_met, source: 'gc-inventory',
    })),
    measured: {
      casesWithinStandard: { total: suppress(m.cases.total), met: suppress(m.cases.met), share: rate(m.cases.met, m.cases.total) },
      counterWaits: { targetMinutes: m.counterWaits.targetMinutes, total: suppress(m.counterWaits.total), met: suppress(m.counterWaits.met), share: rate(m.counterWaits.met, m.counterWaits.total) },
    },
    waits: ind.waits.n >= SUPPRESS_UNDER ? { meanSeconds: ind.waits.mean, p90Seconds: ind.waits.p90 } : null,
  };
}
export type ServiceCharter = NonNullable<Awaited<ReturnType<typeof serviceCharter>>>;
