/**
 * Recorded activity for billing tests: rows written straight into the tables the other capabilities own (counter
 * visits, case interactions, questions, online forms), as those capabilities record them, at chosen times.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema';

type Db = Kysely<DB>;
let seq = 0;
const uid = (p: string) => `${p}-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

export interface World {
  clientId: string;
  businessId: string;
  officeId: string;
  staffId: string;
  /** partner org id → one of its services */
  service: Record<string, string>;
}

export async function world(db: Db, partners: string[]): Promise<World> {
  const clientId = uid('cl');
  const businessId = uid('biz');
  await db.insertInto('clients').values([
    { id: clientId, kind: 'person', given_name: 'Billing', family_name: 'Client' } as any,
    { id: businessId, kind: 'business', business_name: 'Billing Business Inc.' } as any,
  ]).execute();
  const office = await db.selectFrom('offices').select('id').orderBy('id').executeTakeFirstOrThrow();
  const service: Record<string, string> = {};
  for (const p of partners) {
    const s = await db.selectFrom('services').select('id').where('owner_org_id', '=', p).orderBy('id').executeTakeFirst();
    if (!s) throw new Error(`no service for ${p}`);
    service[p] = s.id;
  }
  return { clientId, businessId, officeId: office.id, staffId: 'staff-agent', service };
}

export async function addCase(db: Db, w: World, org: string, opts: { form?: boolean; at?: Date } = {}): Promise<string> {
  const id = uid('case');
  await db.insertInto('cases').values({
    id, reference: id, client_id: w.clientId, service_id: w.service[org], origin_channel: 'web', responsible_org_id: org, summary: 'billing test',
    created_by_kind: opts.form ? 'client' : 'staff', created_by_id: opts.form ? w.clientId : w.staffId, form_version: opts.form ? 1 : null,
    form_data: opts.form ? JSON.stringify({ a: 1 }) : null, submitted_at: opts.at ?? new Date(),
  } as any).execute();
  return id;
}

export async function addInteraction(db: Db, caseId: string, opts: { channel: string; outcome?: string; at: Date; byOrg?: string | null; actorKind?: string }): Promise<string> {
  const r = await db.insertInto('case_interactions').values({
    case_id: caseId, channel: opts.channel as any, actor_kind: (opts.actorKind ?? 'staff') as any, actor_id: 'staff-agent', org_id: opts.byOrg === undefined ? 'guichet' : opts.byOrg,
    outcome: opts.outcome ?? 'callback_needed', at: opts.at,
  } as any).returning('id').executeTakeFirstOrThrow();
  return String(r.id);
}

export async function addVisit(db: Db, w: World, org: string, opts: { at: Date; result?: string | null; outcome?: string }): Promise<string> {
  const day = opts.at.toISOString().slice(0, 10);
  const s = ++seq;
  const t = await sql<{ id: string }>`
    insert into tickets (office_id, day, seq, number, service_id, org_id, language, priority, status, queued_at, waiting_since, arrived_at, done_at, channel)
    values (${w.officeId}, ${day}, ${100000 + s + Math.floor(Math.random() * 1e6)}, ${'A' + s}, ${w.service[org]}, ${org}, 'en', 'none', 'done', ${opts.at}, ${opts.at}, ${opts.at}, ${opts.at}, 'greeter')
    returning id`.execute(db);
  const v = await sql<{ id: string }>`
    insert into ticket_visits (ticket_id, office_id, service_id, org_id, queued_at, called_at, served_at, done_at, outcome, result)
    values (${t.rows[0].id}, ${w.officeId}, ${w.service[org]}, ${org}, ${opts.at}, ${opts.at}, ${opts.at}, ${opts.at}, ${opts.outcome ?? 'served'}, ${opts.result ?? null})
    returning id`.execute(db);
  return v.rows[0].id;
}

export async function addQuestion(db: Db, w: World, toOrg: string, opts: { at: Date; channel?: string }): Promise<string> {
  const id = uid('q');
  const consent = uid('consent');
  await sql`insert into consents (id, client_id, org_id, purpose, fields, legal_basis) values (${consent}, ${w.clientId}, ${toOrg}, 'referral', '{}', 'consent')`.execute(db);
  await db.insertInto('case_questions').values({
    id, client_id: w.clientId, from_org_id: 'guichet', to_org_id: toOrg, referred_by: w.staffId, channel: (opts.channel ?? 'phone') as any, question: 'Q?', summary: 's', consent_id: consent, created_at: opts.at,
  } as any).execute();
  return id;
}

/** An active agreement with a partner (as src/agreements records one once the board approved it and the partner accepted it). */
export async function addAgreement(db: Db, partnerOrgId: string, opts: { dueDays?: number; start?: string; end?: string } = {}): Promise<string> {
  const r = await sql<{ id: string }>`
    insert into agreements (partner_org_id, title_en, title_fr, term_start, term_end, status, payment_due_days)
    values (${partnerOrgId}, 'Billing test agreement', 'Entente d’essai de facturation', ${opts.start ?? '2020-01-01'}::date, ${opts.end ?? '2099-12-31'}::date, 'active', ${opts.dueDays ?? 20})
    returning id`.execute(db);
  return r.rows[0].id;
}
