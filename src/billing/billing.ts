/**
 * Billing partners for the work the one-stop does on their behalf (issue 17). Rates per agreement; what is counted
 * comes from what Guichet records (counter visits, staff interactions on cases, questions, online forms); a run bills
 * one period for every agreement due, set-based, in one transaction. Formulas and decisions: docs/billing.md.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../schema';
import type { Database } from '../db/database';
import { AppError } from '../http/errors';
import { localDate } from '../i18n/index';
import { ONE_STOP_ORG_ID } from '../catalogue/demo-data';
import { isUuid } from '../db/ids';
import type { BillingFrequency, RateModel } from './tables';

type Db = Kysely<DB>;

export const CHANNELS = ['web', 'phone', 'counter', 'kiosk', 'mail', 'email'] as const;
export const RATE_MODELS: RateModel[] = ['per_interaction', 'per_transaction', 'fixed_yearly'];
export const FREQUENCIES: BillingFrequency[] = ['daily', 'monthly'];
/** The sane maximum of one rate (cents): $100,000 per interaction is a typing error, not a price. */
export const MAX_RATE_CENTS = 10_000_000;
/** The sane maximum of a fixed yearly amount (cents): $1 billion. */
export const MAX_YEARLY_CENTS = 100_000_000_000;
export const BILLING_TZ = 'America/Toronto';
/** Case interaction outcomes that are bookkeeping, not a contact with the client: never counted. */
export const NOT_CONTACTS = ['status_changed', 'referral_accepted', 'guarantee_breached', 'documents_received', 'case_opened'];
/** The outcome (case interactions) or result (counter visits) that marks an information-only contact. */
export const INFO_ONLY = 'information_given';

export interface Viewer {
  id: string;
  orgId: string;
  roles: string[];
}

/** Managers (and admins) of the one-stop see every partner's invoices; a partner's staff only their own. */
export function isBillingManager(v: Viewer): boolean {
  return v.orgId === ONE_STOP_ORG_ID && v.roles.some((r) => r === 'manager' || r === 'admin');
}

function requireManager(v: Viewer) {
  if (!isBillingManager(v)) throw new AppError(403, 'FORBIDDEN');
}

function fieldError(field: string, code: string, errCode = 'VALIDATION_ERROR'): never {
  throw new AppError(400, errCode, undefined, undefined, [{ field, code }]);
}

/** Money in cents: an integer between 0 and max, else 400 INVALID_AMOUNT naming the field. */
export function checkCents(v: unknown, field: string, max = MAX_RATE_CENTS): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fieldError(field, 'notInteger', 'INVALID_AMOUNT');
  if (v < 0) fieldError(field, 'tooSmall', 'INVALID_AMOUNT');
  if (v > max) fieldError(field, 'tooLarge', 'INVALID_AMOUNT');
  return v;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
export function checkDate(v: unknown, field: string): string {
  if (typeof v !== 'string' || !DATE_RE.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) {
    fieldError(field, 'invalid');
  }
  return v;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function addMonths(date: string, months: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString().slice(0, 10);
}

/** The billing period [start, end) a run bills: a day, or a calendar month starting on its first day. */
export function periodOf(frequency: BillingFrequency, start: string): { start: string; end: string } {
  checkDate(start, 'periodStart');
  if (frequency === 'monthly') {
    if (!start.endsWith('-01')) fieldError('periodStart', 'notFirstOfMonth');
    return { start, end: addMonths(start, 1) };
  }
  return { start, end: addDays(start, 1) };
}

/**
 * The monthly share of a fixed yearly amount: floor(y·m/12) − floor(y·(m−1)/12) for month m (1–12), so that the
 * twelve months sum to the yearly amount exactly, whatever the remainder.
 */
export function monthlyShare(yearlyCents: number, month: number): number {
  return Math.floor((yearlyCents * month) / 12) - Math.floor((yearlyCents * (month - 1)) / 12);
}

// ---------------------------------------------------------------- rates

export interface TermsInput {
  /** The agreement (src/agreements); its partner is the one billed, its payment_due_days set the due date. */
  agreementId: string;
  /** Optional: when given, must be the agreement's partner. */
  partnerOrgId?: string;
  model: RateModel;
  frequency: BillingFrequency;
  /** per_interaction: cents per interaction, by channel; a channel not listed is not billed. */
  channelRates?: Partial<Record<(typeof CHANNELS)[number], number>>;
  /** per_interaction: the price of an information-only contact (0 = free, ServiceOntario's rule). */
  infoOnlyCents?: number;
  /** per_transaction: cents per completed transaction. */
  transactionCents?: number;
  /** fixed_yearly: the amount a year, billed monthly. */
  yearlyCents?: number;
  validFrom: string;
  validTo?: string | null;
  serviceIds?: string[] | null;
}

/**
 * Sets (creates or replaces) the rates of one agreement. Managers only. Bad amounts → 400 INVALID_AMOUNT; an
 * agreement of another partner's terms in force over the same days → 409 TERMS_OVERLAP; nothing half-written.
 */
export async function setTerms(db: Db, actor: Viewer, input: TermsInput) {
  requireManager(actor);
  if (typeof input.agreementId !== 'string' || !isUuid(input.agreementId)) throw new AppError(404, 'AGREEMENT_NOT_FOUND');
  if (!RATE_MODELS.includes(input.model)) fieldError('model', 'notAllowed');
  if (!FREQUENCIES.includes(input.frequency)) fieldError('frequency', 'notAllowed');
  if (input.model === 'fixed_yearly' && input.frequency !== 'monthly') fieldError('frequency', 'fixedIsMonthly');
  const validFrom = checkDate(input.validFrom, 'validFrom');
  const validTo = input.validTo == null ? null : checkDate(input.validTo, 'validTo');
  if (validTo && validTo < validFrom) fieldError('validTo', 'beforeStart');
  const info = checkCents(input.infoOnlyCents ?? 0, 'infoOnlyCents');
  const tx = checkCents(input.transactionCents ?? 0, 'transactionCents');
  const yearly = checkCents(input.yearlyCents ?? 0, 'yearlyCents', MAX_YEARLY_CENTS);
  const rates: Array<{ channel: string; cents: number }> = [];
  for (const [channel, cents] of Object.entries(input.channelRates ?? {})) {
    if (!(CHANNELS as readonly string[]).includes(channel)) fieldError(`channelRates.${channel}`, 'notAllowed');
    rates.push({ channel, cents: checkCents(cents, `channelRates.${channel}`) });
  }
  if (input.model === 'per_interaction' && !rates.length && info === 0) fieldError('channelRates', 'required');
  if (input.model === 'per_transaction' && tx === 0) fieldError('transactionCents', 'required');
  if (input.model === 'fixed_yearly' && yearly === 0) fieldError('yearlyCents', 'required');
  const serviceIds = input.serviceIds?.length ? input.serviceIds : null;
  return db.transaction().execute(async (trx) => {
    const agreement = await trx.selectFrom('agreements').select(['id', 'partner_org_id']).where('id', '=', input.agreementId).forUpdate().executeTakeFirst();
    if (!agreement) throw new AppError(404, 'AGREEMENT_NOT_FOUND');
    if (input.partnerOrgId !== undefined && input.partnerOrgId !== agreement.partner_org_id) fieldError('partnerOrgId', 'notTheAgreementsPartner', 'UNKNOWN_PARTNER');
    const partnerOrgId = agreement.partner_org_id;
    // Two sets of terms of one partner in force on the same day would bill the same record under either: refused.
    const overlap = await trx
      .selectFrom('billing_terms')
      .select('agreement_id')
      .where('partner_org_id', '=', partnerOrgId)
      .where('agreement_id', '<>', input.agreementId)
      .where(sql<boolean>`daterange(valid_from, valid_to, '[]') && daterange(${validFrom}::date, ${validTo}::date, '[]')`)
      .executeTakeFirst();
    if (overlap) throw new AppError(409, 'TERMS_OVERLAP');
    const row = {
      partner_org_id: partnerOrgId, model: input.model, frequency: input.frequency, info_only_cents: info, transaction_cents: tx,
      yearly_cents: yearly, valid_from: validFrom, valid_to: validTo, service_ids: serviceIds, updated_by: actor.id, updated_at: new Date(),
    };
    await trx.insertInto('billing_terms').values({ agreement_id: input.agreementId, ...row })
      .onConflict((oc) => oc.column('agreement_id').doUpdateSet(row)).execute();
    await trx.deleteFrom('billing_channel_rates').where('agreement_id', '=', input.agreementId).execute();
    if (rates.length) await trx.insertInto('billing_channel_rates').values(rates.map((r) => ({ agreement_id: input.agreementId, ...r }))).execute();
    return getTerms(trx, input.agreementId);
  });
}

export async function getTerms(db: Db, agreementId: string) {
  const t = await db.selectFrom('billing_terms').selectAll().where('agreement_id', '=', agreementId).executeTakeFirst();
  if (!t) return null;
  const rates = await db.selectFrom('billing_channel_rates').select(['channel', 'cents']).where('agreement_id', '=', agreementId).execute();
  return { ...t, channelRates: Object.fromEntries(rates.map((r) => [r.channel, Number(r.cents)])) };
}


/**
 * The kinds of records counted, and the partner each belongs to: the organisation that owns the service (counter
 * visits carry it; a case's service owner for interactions and forms), or the organisation a question was sent to.
 */
export const SOURCE_KINDS = ['counter_visit', 'case_interaction', 'question', 'online_form'] as const;

/**
 * The ids of the records a billed_items row counts, as text, whichever of its three arrays holds them (source_ids:
 * text ids; source_nums: case interactions' bigint ids; source_uuids: counter visits' uuids). `alias` is the row's.
 */
export const billedIds = (alias: string) => sql.raw(`coalesce(${alias}.source_ids, ${alias}.source_nums::text[], ${alias}.source_uuids::text[])`);

/**
 * The run's statements, for the invoices `ids` just made (each a plain statement, so that the planner sees the real
 * size of what the previous one wrote):
 *  - claim: the blocks (kind, partner, local day) of each agreement's days in the period, ON CONFLICT DO NOTHING: a
 *    block another invoice holds is skipped;
 *  - count: one pass over the recorded activity of the period, grouped (like a plain GROUP BY) with the ids of each
 *    group, joined to the blocks this run claimed and priced; one billed_items row per line key, day and service;
 *  - lines: the sums of those rows.
 * Exported for the benchmark's EXPLAIN.
 */
export function runStatements(ids: number[], period: { start: string; end: string }, tz: string) {
  const from = sql`(${period.start}::timestamp at time zone ${tz})`;
  const to = sql`(${period.end}::timestamp at time zone ${tz})`;
  const inv = sql`
        select i.id as invoice_id, t.agreement_id, t.partner_org_id, t.model, t.info_only_cents, t.transaction_cents, t.service_ids,
               greatest(t.valid_from, a.term_start, ${period.start}::date) as first_day,
               least(coalesce(t.valid_to, ${period.end}::date - 1), a.term_end, ${period.end}::date - 1) as last_day
        from billing_invoices i join billing_terms t on t.agreement_id = i.agreement_id join agreements a on a.id = t.agreement_id
        where i.id = any(${ids}::bigint[]) and t.model <> 'fixed_yearly'`;
  const claim = sql`
      insert into billing_claims (source_kind, partner_org_id, day, invoice_id)
      select k.kind, inv.partner_org_id, d::date, inv.invoice_id
        from (${inv}) inv cross join unnest(${[...SOURCE_KINDS]}::text[]) as k(kind)
        cross join generate_series(inv.first_day::timestamp, inv.last_day::timestamp, interval '1 day') as d
       where inv.first_day <= inv.last_day
      on conflict do nothing`;
  // The local day of a record, without converting each timestamp to local time: the instants at which the period's
  // days 2..n (and the period's end) begin, computed once; a record's day is the period's first day plus the number
  // of those bounds at or before it (width_bucket: a binary search over at most 32 instants).
  // The bounds are one value for the whole statement (computed once and passed to billing_grouped), not a table
  // joined to every row (a nested loop over each of the period's millions of rows).
  const bounds = sql`(select array(select d::timestamp at time zone ${tz}
      from generate_series(${period.start}::date + 1, ${period.end}::date, interval '1 day') d) as b)`;
  const count = sql<{ n: number }>`
      with bd as ${bounds},
      -- one row per (kind, partner, service, channel, information only, completed transaction, day) with the ids of
      -- its records in their own type (ids: text, nums: bigint, uuids: uuid; one of the three per kind): a plain
      -- SELECT in a function of migration 650_billing/003_parallel_count, so that PostgreSQL can group the large
      -- tables' parts side by side (this INSERT itself never runs in parallel)
      grouped as (
        select * from billing_grouped(${from}, ${to}, ${period.start}::date, (select b from bd), ${INFO_ONLY}, ${NOT_CONTACTS}::text[])
      ),
      inv as (${inv}),
      priced as (
        select g.*, inv.invoice_id,
               case when inv.model = 'per_transaction' then inv.transaction_cents
                    when g.info then inv.info_only_cents
                    else cr.cents end as unit
          from grouped g
          join billing_claims c on c.source_kind = g.kind and c.partner_org_id = g.org_id and c.day = g.day
          join inv on inv.invoice_id = c.invoice_id
          left join billing_channel_rates cr on cr.agreement_id = inv.agreement_id and cr.channel = g.channel
         where (inv.service_ids is null or g.service_id = any(inv.service_ids))
           and (inv.model = 'per_interaction' or (g.tx and not g.info))
      ),
      ins as (
        insert into billed_items (invoice_id, source_kind, service_id, channel, info_only, unit_cents, day, quantity, source_ids, source_nums, source_uuids)
        select invoice_id, kind, service_id, channel, info, unit, day, coalesce(cardinality(ids), 0) + coalesce(cardinality(nums), 0) + coalesce(cardinality(uuids), 0),
               ids, nums, uuids
          from priced where unit is not null
        returning quantity
      )
      select coalesce(sum(quantity), 0)::bigint as n from ins`;
  const lines = sql`
      insert into billing_invoice_lines (invoice_id, source_kind, channel, info_only, unit_cents, quantity, amount_cents)
      select invoice_id, source_kind, channel, info_only, unit_cents, sum(quantity), sum(quantity) * unit_cents
        from billed_items where invoice_id = any(${ids}::bigint[])
       group by invoice_id, source_kind, channel, info_only, unit_cents`;
  return { claim, count, lines };
}

/**
 * Settings of the run's transaction: the grouping keeps every id of the period in memory (about 60 bytes each) and
 * is hashed, not sorted: the planner guesses ten times too many groups, reserves 8 kB for each group's array, and
 * chose to sort millions of rows, which took most of the run; it also guesses a few dozen groups after the join to
 * the claimed blocks, and looped over them once per invoice (hash joins instead).
 */
export async function runSettings(trx: Kysely<DB>) {
  await sql`set local work_mem = '256MB'`.execute(trx);
  // The run's statements are planned and run once each: compiling them (JIT) cost about 0.3 s apiece, more than it saved.
  await sql`set local jit = off`.execute(trx);
  await sql`set local enable_sort = off`.execute(trx);
  await sql`set local enable_nestloop = off`.execute(trx);
}

// ---------------------------------------------------------------- the run

export interface RunOptions {
  frequency: BillingFrequency;
  /** First day of the period: a day (daily) or the first of a month (monthly). */
  periodStart: string;
  /** The issue date (default: today in BILLING_TZ); the period must have ended by then. */
  today?: string;
  /** Only these agreements (default: every agreement of that frequency in force during the period). */
  agreementIds?: string[];
  tz?: string;
}

export interface RunResult {
  period: { start: string; end: string };
  /** Invoices this run made (none when another run already billed the period). */
  invoiceIds: number[];
  items: number;
  totalCents: number;
}

/**
 * Bills one period for every agreement due, in one transaction, set-based:
 *  1. one invoice per agreement and period (UNIQUE (agreement_id, period_start), ON CONFLICT DO NOTHING: a second
 *     run, or a second worker at the same moment, waits on the first one's row and then makes nothing);
 *  2. runStatements: claims the blocks (kind, partner, local day) of the agreement's days in the
 *     period (billing_claims, primary key, ON CONFLICT DO NOTHING: a block is billed by one invoice only, so a record
 *     is never billed twice), counts the records of the claimed blocks with one INSERT … SELECT … GROUP BY into
 *     billed_items (ids per line and day) and groups what it wrote into the invoice lines;
 *  3. totals; invoices with no line removed; numbers given without gaps under the year's counter row, locked.
 */
export async function runBilling(db: Db, opts: RunOptions): Promise<RunResult> {
  if (!FREQUENCIES.includes(opts.frequency)) fieldError('frequency', 'notAllowed');
  const period = periodOf(opts.frequency, opts.periodStart);
  const tz = opts.tz ?? BILLING_TZ;
  const today = opts.today ? checkDate(opts.today, 'today') : localDate(new Date(), tz);
  if (period.end > today) throw new AppError(409, 'PERIOD_NOT_ENDED');
  const year = Number(today.slice(0, 4));
  const month = Number(period.start.slice(5, 7));
  const onlyAgreements = opts.agreementIds ? opts.agreementIds.filter(isUuid) : null;
  return db.transaction().execute(async (trx) => {
    const made = await sql<{ id: number }>`
      insert into billing_invoices (agreement_id, partner_org_id, period_start, period_end, year, issued_on, due_on)
      select t.agreement_id, t.partner_org_id, ${period.start}::date, ${period.end}::date, ${year}, ${today}::date, ${today}::date + a.payment_due_days
      from billing_terms t join agreements a on a.id = t.agreement_id
      where t.frequency = ${opts.frequency} and t.valid_from < ${period.end}::date and (t.valid_to is null or t.valid_to >= ${period.start}::date)
        and a.status in ('active', 'expired', 'terminated') and a.term_start < ${period.end}::date and a.term_end >= ${period.start}::date
        and (${onlyAgreements}::uuid[] is null or t.agreement_id = any(${onlyAgreements}::uuid[]))
      order by t.agreement_id
      on conflict (agreement_id, period_start) do nothing
      returning id`.execute(trx);
    const ids = made.rows.map((r) => Number(r.id));
    if (!ids.length) return { period, invoiceIds: [], items: 0, totalCents: 0 };
    await runSettings(trx);
    const st = runStatements(ids, period, tz);
    await st.claim.execute(trx);
    const counted = await st.count.execute(trx);
    // Fixed yearly amounts: one block per agreement's partner and month (kind fixed_fee, day = the month's first), so
    // a month is billed once; its one "record" is the agreement and month.
    await sql`
      with c as (
        insert into billing_claims (source_kind, partner_org_id, day, invoice_id)
        select 'fixed_fee', i.partner_org_id, ${period.start}::date, i.id
          from billing_invoices i join billing_terms t on t.agreement_id = i.agreement_id
         where i.id = any(${ids}::bigint[]) and t.model = 'fixed_yearly'
        on conflict do nothing
        returning invoice_id
      )
      insert into billed_items (invoice_id, source_kind, service_id, channel, info_only, unit_cents, day, quantity, source_ids)
      select i.id, 'fixed_fee', '', 'all', false, floor(t.yearly_cents * ${month} / 12) - floor(t.yearly_cents * ${month - 1} / 12),
             ${period.start}::date, 1, array[t.agreement_id || ':' || ${period.start.slice(0, 7)}]
        from c join billing_invoices i on i.id = c.invoice_id join billing_terms t on t.agreement_id = i.agreement_id`.execute(trx);
    await st.lines.execute(trx);
    // Totals; an invoice with no line (no activity) is not kept.
    await sql`
      update billing_invoices i set total_cents = s.total
        from (select invoice_id, sum(amount_cents) as total from billing_invoice_lines where invoice_id = any(${ids}::bigint[]) group by invoice_id) s
       where i.id = s.invoice_id`.execute(trx);
    await sql`delete from billing_invoices i where i.id = any(${ids}::bigint[])
      and not exists (select 1 from billing_invoice_lines l where l.invoice_id = i.id)`.execute(trx);
    // Numbers without gaps per year: the year's counter row is locked until this transaction ends, and a rollback
    // takes back the numbers with the invoices.
    await sql`insert into billing_invoice_counters (year, last_number) values (${year}, 0) on conflict (year) do nothing`.execute(trx);
    const numbered = await sql<{ id: number; total_cents: number }>`
      with c as (select last_number from billing_invoice_counters where year = ${year} for update),
      n as (
        select i.id, (select last_number from c) + row_number() over (order by i.partner_org_id, i.agreement_id) as number
          from billing_invoices i where i.id = any(${ids}::bigint[])
      ),
      u as (update billing_invoices i set number = n.number from n where i.id = n.id returning i.id, i.number, i.total_cents)
      update billing_invoice_counters set last_number = last_number + (select count(*) from u)
       where year = ${year}
      returning (select coalesce(json_agg(json_build_object('id', u.id, 'total', u.total_cents)), '[]'::json) from u) as made`.execute(trx);
    const kept = ((numbered.rows[0] as any)?.made ?? []) as Array<{ id: number; total: number }>;
    return {
      period,
      invoiceIds: kept.map((k) => Number(k.id)).sort((a, b) => a - b),
      items: Number(counted.rows[0]?.n ?? 0),
      totalCents: kept.reduce((s, k) => s + Number(k.total), 0),
    };
  });
}
