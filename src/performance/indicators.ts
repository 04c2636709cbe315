/**
 * Indicators, read from the rollups (events.ts ROLLUPS), partners' reported volumes, survey responses, the
 * catalogue's GC standards and the cases' guarantee refunds. Never from perf_events: a page (whole months) reads the
 * monthly rollups — per partner × channel × outcome, or per service — a few hundred rows a month. Definitions:
 * docs/performance.md.
 */
import { sql, type Compilable, type RawBuilder } from 'kysely';
import type { Database } from '../db/database';
import { bucketUpper, CLASSES } from './events';
import { CHANNELS, COMPLETED, DIGITAL_CHANNELS, OUTCOMES, STARTED } from './tables';

export { COMPLETED, DIGITAL_CHANNELS, STARTED };
/** Cells under this count are suppressed in public figures. */
export const SUPPRESS_UNDER = 10;

export interface Filter {
  from: string; // YYYY-MM-DD inclusive
  to: string; // inclusive
  serviceId?: string;
  ownerOrgId?: string;
}

const isMonthStart = (d: string) => d.endsWith('-01');
const isMonthEnd = (d: string) => new Date(Date.parse(d + 'T00:00:00Z') + 86400_000).getUTCDate() === 1;
export const isWholeMonths = (f: { from: string; to: string }) => isMonthStart(f.from) && isMonthEnd(f.to);

/**
 * Which rollup answers a filter. Whole months (every page): the monthly rollup per service for one service, the one
 * per partner otherwise (a few hundred rows a month). Any other period: the daily rollup (counts exact to the day);
 * percentiles then come from the monthly histograms of the months the period touches.
 */
export function rollupFor(f: Filter) {
  const hist = sql.table(f.serviceId ? 'perf_hist_service' : f.ownerOrgId ? 'perf_hist_monthly' : 'perf_hist_total');
  if (!isWholeMonths(f)) return { table: sql.table('perf_daily'), hist, col: 'day' as const };
  return { table: sql.table(f.serviceId ? 'perf_monthly' : f.ownerOrgId ? 'perf_monthly_owner' : 'perf_monthly_total'), hist, col: 'month' as const };
}

function where(f: Filter, col: 'day' | 'month' = rollupFor(f).col, alias = 'd'): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [col === 'month'
    ? sql`${sql.ref(alias + '.month')} between date_trunc('month', ${f.from}::date)::date and ${f.to}::date`
    : sql`${sql.ref(alias + '.day')} between ${f.from}::date and ${f.to}::date`];
  if (f.serviceId) parts.push(sql`${sql.ref(alias + '.service_id')} = ${f.serviceId}`);
  if (f.ownerOrgId) parts.push(sql`${sql.ref(alias + '.owner_org_id')} = ${f.ownerOrgId}`);
  return sql.join(parts, sql` and `);
}

/** The histogram's filter: the period's months, and the service (perf_hist_service) or the partner (perf_hist_monthly). */
function histWhere(f: Filter): RawBuilder<unknown> {
  return where(f.serviceId ? { from: f.from, to: f.to, serviceId: f.serviceId } : f, 'month');
}

export interface ChannelRow {
  channel: string;
  counted: Record<string, number>; // per outcome, counted by Guichet
  transactions: number; // completed + not eligible, counted by Guichet
  started: number;
  reported: number; // transactions reported by partners (API, CSV, GC inventory)
}

export interface Times { n: number; mean: number | null; p90: number | null }

export interface Indicators {
  filter: Filter;
  contacts: number;
  byChannel: ChannelRow[];
  transactions: number; // counted + reported
  digitalTransactions: number;
  takeUp: number | null;
  completed: number;
  started: number;
  completionRate: number | null;
  cost: { totalCents: number; perTransactionCents: number | null; digitalPerTransactionCents: number | null; costedTransactions: number; unitCosts: Record<string, number>; avoidedCents: number | null };
  waits: Times;
  handling: Times;
  decision: Times;
  noRepeat: { referrals: number; told: number; yes: number; share: number | null };
  standardsMeasured: { cases: { total: number; met: number; share: number | null }; counterWaits: { total: number; met: number; share: number | null; targetMinutes: number } };
  revenueCents: number | null;
  satisfaction: Satisfaction;
  guarantee: Guarantee;
}

export interface Satisfaction { levels: number[]; notApplicable: number; answered: number; satisfied: number; share: number | null; mean: number | null }

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

/** Percentile from the histogram rows of one measure (upper bound of the bucket that holds the p-th value). */
export function percentileFromHist(rows: { bucket: number; n: number }[], p: number): number | null {
  const total = rows.reduce((s, r) => s + Number(r.n), 0);
  if (!total) return null;
  const need = Math.ceil(total * p);
  let acc = 0;
  for (const r of [...rows].sort((a, b) => a.bucket - b.bucket)) {
    acc += Number(r.n);
    if (acc >= need) return Math.round(bucketUpper(r.bucket));
  }
  return null;
}

/** Unit costs per channel (cents), as set by the managers. */
export const unitCostsQuery = (db: Database) => db.selectFrom('perf_unit_costs').select(['channel', 'cost_cents']);
export const costsFrom = (rows: { channel: string; cost_cents: number | string }[]): Record<string, number> =>
  Object.fromEntries(rows.map((r) => [r.channel, Number(r.cost_cents)]));
export async function unitCosts(db: Database): Promise<Record<string, number>> {
  return costsFrom(await unitCostsQuery(db).execute());
}

/** One row of a count rollup grouped by channel and outcome (the sums; numbers may come as strings). */
export interface CountRow { channel: string; outcome: string; events: number; wait_n: number; wait_sum: number; handle_n: number; handle_sum: number; decision_n: number; decision_sum: number; no_repeat_n: number; no_repeat_yes: number; standard_n: number; standard_met: number; amount_cents: number }
export const COUNT_SUMS = ['events', 'wait_n', 'wait_sum', 'handle_n', 'handle_sum', 'decision_n', 'decision_sum', 'no_repeat_n', 'no_repeat_yes', 'standard_n', 'standard_met', 'amount_cents'] as const;
export interface HistRow { measure: string; bucket: number; n: number }

/** The period's time histogram (measure × bucket) from the monthly histogram that answers the filter. */
export const histQuery = (f: Filter) => sql<HistRow>`
  select measure, bucket, sum(n)::bigint as n from ${rollupFor(f).hist} d where ${histWhere(f)} group by measure, bucket`;

/** The filter's counts by channel × outcome, from the rollup that answers it. */
export const countsQuery = (f: Filter) => sql<CountRow>`
  select channel, outcome, ${sql.raw(COUNT_SUMS.map((c) => `sum(${c})::bigint as ${c}`).join(', '))}
  from ${rollupFor(f).table} d where ${where(f)} group by channel, outcome`;

/** Transactions (outcomes COMPLETED) by month × channel × outcome, for trendFrom. */
export const trendQuery = (f: Filter) => sql<{ month: string; channel: string; outcome: string; events: number }>`
  select to_char(${sql.ref('d.' + rollupFor(f).col)}, 'YYYY-MM') as month, channel, outcome, sum(events)::bigint as events
  from ${rollupFor(f).table} d where ${where(f)} and ${sql.raw(Object.fromEntries(CLASSES).transactions)}
  group by 1, 2, 3`;

export async function indicators(db: Database, f: Filter): Promise<Indicators> {
  const [daily, hist, reported, sat, costs, guarantee] = await Promise.all([
    countsQuery(f).execute(db),
    histQuery(f).execute(db),
    reportedVolumes(db, f),
    satisfaction(db, f),
    unitCosts(db),
    guaranteeFigures(db, f),
  ]);
  return indicatorsFrom(f, daily.rows, hist.rows, reported, sat, costs, guarantee);
}

/** The indicators from their inputs: count rows by channel × outcome, the histogram, reported volumes, survey, costs, guarantee. */
export function indicatorsFrom(f: Filter, countRows: CountRow[], histRows: HistRow[], reported: Record<string, number>, sat: Satisfaction, costs: Record<string, number>, guarantee: Guarantee): Indicators {
  const hist = { rows: histRows };
  const rows = countRows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && k !== 'channel' && k !== 'outcome' ? Number(v) : v]))) as CountRow[];
  const byChannel: ChannelRow[] = CHANNELS.map((channel) => {
    const counted: Record<string, number> = Object.fromEntries(OUTCOMES.map((o) => [o, 0]));
    for (const r of rows) if (r.channel === channel) counted[r.outcome] = Number(r.events);
    const transactions = COMPLETED.reduce((s, o) => s + counted[o], 0);
    const started = STARTED.reduce((s, o) => s + counted[o], 0);
    return { channel, counted, transactions, started, reported: reported[channel] ?? 0 };
  });
  const sum = (k: keyof (typeof rows)[number], pred: (r: (typeof rows)[number]) => boolean = () => true) => rows.filter(pred).reduce((s, r) => s + Number(r[k]), 0);
  const transactions = byChannel.reduce((s, c) => s + c.transactions + c.reported, 0);
  const digitalTransactions = byChannel.filter((c) => (DIGITAL_CHANNELS as readonly string[]).includes(c.channel)).reduce((s, c) => s + c.transactions + c.reported, 0);
  const completed = byChannel.reduce((s, c) => s + c.transactions, 0);
  const started = byChannel.reduce((s, c) => s + c.started, 0);
  let totalCents = 0, costed = 0;
  for (const c of byChannel) {
    const u = costs[c.channel];
    if (u === undefined) continue;
    totalCents += u * (c.transactions + c.reported);
    costed += c.transactions + c.reported;
  }
  const digital = byChannel.filter((c) => c.channel === 'web').reduce((s, c) => s + c.transactions + c.reported, 0);
  const times = (measure: string, nKey: 'wait_n' | 'handle_n' | 'decision_n', sKey: 'wait_sum' | 'handle_sum' | 'decision_sum'): Times => {
    const n = sum(nKey);
    return { n, mean: n ? Math.round(sum(sKey) / n) : null, p90: percentileFromHist(hist.rows.filter((h) => h.measure === measure).map((h) => ({ bucket: Number(h.bucket), n: Number(h.n) })), 0.9) };
  };
  const visitRows = (r: (typeof rows)[number]) => r.channel === 'counter' && r.wait_n > 0;
  const referrals = sum('events', (r) => r.outcome === 'referred');
  const told = sum('no_repeat_n');
  const yes = sum('no_repeat_yes');
  const revenue = sum('amount_cents');
  return {
    filter: f,
    contacts: sum('events'),
    byChannel,
    transactions,
    digitalTransactions,
    takeUp: ratio(digitalTransactions, transactions),
    completed,
    started,
    completionRate: ratio(completed, started),
    cost: {
      totalCents, costedTransactions: costed, unitCosts: costs,
      perTransactionCents: costed ? Math.round(totalCents / costed) : null,
      digitalPerTransactionCents: costs.web !== undefined && digital ? costs.web : null,
      avoidedCents: costs.counter !== undefined && costs.web !== undefined ? digital * (costs.counter - costs.web) : null,
    },
    waits: times('wait', 'wait_n', 'wait_sum'),
    handling: times('handle', 'handle_n', 'handle_sum'),
    decision: times('decision', 'decision_n', 'decision_sum'),
    noRepeat: { referrals, told, yes, share: ratio(yes, told) },
    standardsMeasured: {
      cases: (() => { const total = sum('standard_n', (r) => !visitRows(r)), met = sum('standard_met', (r) => !visitRows(r)); return { total, met, share: ratio(met, total) }; })(),
      counterWaits: (() => { const total = sum('standard_n', visitRows), met = sum('standard_met', visitRows); return { total, met, share: ratio(met, total), targetMinutes: 15 }; })(),
    },
    // Revenue comes from events recorded by the payments capability (recordContactEvent with amountCents); until it
    // lands, no source carries an amount and the figure is null ("not available"), never 0.
    revenueCents: rows.length && revenue ? revenue : null,
    satisfaction: sat,
    guarantee,
  };
}

/** Transactions partners reported for periods inside the filter's, by channel. */
export function reportedVolumesQuery(db: Database, f: Filter) {
  let q = db.selectFrom('perf_partner_volumes').select(['channel', sql<number>`sum(transactions)::bigint`.as('n')])
    .where('period_start', '>=', f.from).where('period_end', '<=', f.to).groupBy('channel');
  if (f.serviceId) q = q.where('service_id', '=', f.serviceId);
  if (f.ownerOrgId) q = q.where('org_id', '=', f.ownerOrgId);
  return q;
}
export const reportedFrom = (rows: { channel: string; n: number | string }[]): Record<string, number> => Object.fromEntries(rows.map((r) => [r.channel, Number(r.n)]));
export async function reportedVolumes(db: Database, f: Filter): Promise<Record<string, number>> {
  return reportedFrom(await reportedVolumesQuery(db, f).execute());
}

/** Survey answers of the filter's days, by score (null = does not apply). */
export function satisfactionQuery(db: Database, f: Filter) {
  let q = db.selectFrom('perf_survey_responses').select(['score', sql<number>`count(*)::int`.as('n')])
    .where('day', '>=', f.from).where('day', '<=', f.to).groupBy('score');
  if (f.serviceId) q = q.where('service_id', '=', f.serviceId);
  if (f.ownerOrgId) q = q.where('org_id', '=', f.ownerOrgId);
  return q;
}
export function satisfactionFrom(rows: { score: number | null; n: number | string }[]): Satisfaction {
  const levels = [0, 0, 0, 0, 0];
  let na = 0;
  for (const r of rows) {
    if (r.score === null) na += Number(r.n);
    else levels[Number(r.score) - 1] += Number(r.n);
  }
  const answered = levels.reduce((a, b) => a + b, 0);
  const satisfied = levels[3] + levels[4];
  const mean = answered ? levels.reduce((s, n, i) => s + n * (i + 1), 0) / answered : null;
  return { levels, notApplicable: na, answered, satisfied, share: ratio(satisfied, answered), mean: mean === null ? null : Math.round(mean * 100) / 100 };
}
export async function satisfaction(db: Database, f: Filter): Promise<Satisfaction> {
  return satisfactionFrom(await satisfactionQuery(db, f).execute());
}

export interface Guarantee { breaches: number; refundsOwed: number; refundsSettled: number; refundCents: number }
/** Service guarantee breaches detected in the filter's days (one row). */
export function guaranteeQuery(db: Database, f: Filter) {
  let q = db.selectFrom('guarantee_refunds').select([
    sql<number>`count(*)::int`.as('breaches'),
    sql<number>`count(*) filter (where status = 'owed')::int`.as('owed'),
    sql<number>`count(*) filter (where status = 'settled')::int`.as('settled'),
    sql<number>`coalesce(sum(amount_cents) filter (where status <> 'cancelled'), 0)::bigint`.as('cents'),
  ]).where(sql<boolean>`(detected_at at time zone 'America/Toronto')::date between ${f.from}::date and ${f.to}::date`);
  if (f.serviceId) q = q.where('service_id', '=', f.serviceId);
  if (f.ownerOrgId) q = q.where('org_id', '=', f.ownerOrgId);
  return q;
}
export const guaranteeFrom = (r: { breaches: number | string; owed: number | string; settled: number | string; cents: number | string }): Guarantee =>
  ({ breaches: Number(r.breaches), refundsOwed: Number(r.owed), refundsSettled: Number(r.settled), refundCents: Number(r.cents) });
export async function guaranteeFigures(db: Database, f: Filter): Promise<Guarantee> {
  return guaranteeFrom(await guaranteeQuery(db, f).executeTakeFirstOrThrow());
}

/** The GC inventory's standards of a service or partner: latest fiscal year, with target, volume meeting, total, % met. */
export async function gcStandards(db: Database, opts: { serviceId?: string; ownerOrgId?: string; limit?: number }) {
  let q = db.selectFrom('service_standards as st').innerJoin('services as s', 's.id', 'st.service_id')
    .select(['st.id', 'st.service_id', 's.title_en as service_en', 's.title_fr as service_fr', 'st.fiscal_year', 'st.text_en', 'st.text_fr', 'st.channel', 'st.target', 'st.volume_meeting_target', 'st.total_volume', 'st.performance', 'st.target_met'])
    .orderBy('st.service_id').orderBy('st.fiscal_year', 'desc').orderBy('st.id');
  if (opts.serviceId) q = q.where('st.service_id', '=', opts.serviceId);
  if (opts.ownerOrgId) q = q.where('s.owner_org_id', '=', opts.ownerOrgId);
  return q.limit(opts.limit ?? 500).execute();
}

/** Share of GC standards met (latest year of each), overall and for a partner. */
export async function gcStandardsSummary(db: Database, ownerOrgId?: string) {
  const r = await sql<{ total: number; with_result: number; met: number }>`
    select count(*)::int as total, count(st.target_met)::int as with_result, count(*) filter (where st.target_met)::int as met
    from service_standards st join services s on s.id = st.service_id
    where (${ownerOrgId ?? null}::text is null or s.owner_org_id = ${ownerOrgId ?? null}::text)`.execute(db);
  const x = r.rows[0];
  return { total: Number(x.total), withResult: Number(x.with_result), met: Number(x.met), share: ratio(Number(x.met), Number(x.with_result)) };
}

/**
 * The monthly trend: transactions (outcomes COMPLETED, counted by Guichet) by channel and digital take-up, per month,
 * from count rows by month × channel × outcome.
 */
export function trendFrom(rows: { month: string; channel: string; outcome: string; events: number | string }[]) {
  const months = new Map<string, Record<string, number>>();
  for (const row of rows) {
    if (!(COMPLETED as readonly string[]).includes(row.outcome)) continue;
    const m = months.get(row.month) ?? {};
    m[row.channel] = (m[row.channel] ?? 0) + Number(row.events);
    months.set(row.month, m);
  }
  return [...months.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([month, ch]) => {
    const total = Object.values(ch).reduce((a, b) => a + b, 0);
    const digital = DIGITAL_CHANNELS.reduce((s, c) => s + (ch[c] ?? 0), 0);
    return { month, byChannel: ch, total, takeUp: ratio(digital, total) };
  });
}

/** What one row of a side-by-side table is made of: contacts, transactions, started transactions, web transactions, waits. */
interface SideSums { key: string; contacts: number; completed: number; started: number; digital: number; wait_n: number; wait_sum: number }
const sideRow = (x: SideSums) => ({
  key: x.key, contacts: x.contacts, completed: x.completed, started: x.started,
  completionRate: ratio(x.completed, x.started), takeUp: ratio(x.digital, x.completed),
  meanWait: x.wait_n ? Math.round(x.wait_sum / x.wait_n) : null,
});
const SIDE_LIMIT = 200;

/** Side by side from count rows by channel × outcome (e.g. the channels, from the totals a page already read). */
export function sideFromCounts(rows: CountRow[], keyOf: (r: CountRow) => string) {
  const m = new Map<string, SideSums>();
  for (const r of rows) {
    const key = keyOf(r);
    const a = m.get(key) ?? { key, contacts: 0, completed: 0, started: 0, digital: 0, wait_n: 0, wait_sum: 0 };
    const n = Number(r.events);
    const done = (COMPLETED as readonly string[]).includes(r.outcome);
    a.contacts += n;
    if (done) a.completed += n;
    if (done && (DIGITAL_CHANNELS as readonly string[]).includes(r.channel)) a.digital += n;
    if ((STARTED as readonly string[]).includes(r.outcome)) a.started += n;
    a.wait_n += Number(r.wait_n);
    a.wait_sum += Number(r.wait_sum);
    m.set(key, a);
  }
  return [...m.values()].sort((a, b) => b.contacts - a.contacts).slice(0, SIDE_LIMIT).map(sideRow);
}

/**
 * Side by side: one row per owner organisation (partner), per channel, per office, with the names of the
 * organisations or offices when asked (`names`). For whole months, partners come from the monthly summary per partner
 * (one row per partner and month, outcome classes precomputed), offices from the monthly rollup per office (or per
 * partner and office for one partner), the rest as in rollupFor.
 */
export function sideBySideQuery(f: Filter, by: 'owner_org_id' | 'office_id' | 'channel', opts: { names?: 'organisations' | 'offices' } = {}) {
  const whole = isWholeMonths(f) && !(by === 'office_id' && f.serviceId);
  const summary = whole && by === 'owner_org_id' && !f.serviceId;
  const table = !whole ? sql.table('perf_daily')
    : by === 'office_id' ? sql.table(f.ownerOrgId ? 'perf_monthly_org' : 'perf_monthly_office')
    : summary ? sql.table('perf_monthly_owner_summary') : rollupFor(f).table;
  const col = whole ? 'month' : 'day';
  const cls = Object.fromEntries(CLASSES);
  const figures = summary
    ? sql.raw('sum(transactions)::bigint as completed, sum(started)::bigint as started, sum(web_transactions)::bigint as digital')
    : sql.raw(`sum(events) filter (where ${cls.transactions})::bigint as completed, sum(events) filter (where ${cls.started})::bigint as started,
        sum(events) filter (where ${cls.web_transactions})::bigint as digital`);
  const grouped = sql<SideDbRow>`
    select ${sql.ref(by)} as key, sum(events)::bigint as contacts, ${figures}, sum(wait_n)::bigint as wait_n, sum(wait_sum)::bigint as wait_sum
    from ${table} d where ${where(f, col)}
    group by 1 order by 2 desc limit ${SIDE_LIMIT}`;
  return opts.names
    ? sql<SideDbRow>`select s.*, n.name_en, n.name_fr from (${grouped}) s left join ${sql.table(opts.names)} n on n.id = s.key order by s.contacts desc`
    : grouped;
}
type SideDbRow = Record<keyof SideSums, string | number | null> & { name_en?: string | null; name_fr?: string | null };

/** The rows of sideBySideQuery, shaped (names kept when the query had them). */
export function sideFrom(rows: SideDbRow[]) {
  return rows.map((x) => ({
    ...sideRow({ key: String(x.key), contacts: Number(x.contacts), completed: Number(x.completed ?? 0), started: Number(x.started ?? 0), digital: Number(x.digital ?? 0), wait_n: Number(x.wait_n), wait_sum: Number(x.wait_sum) }),
    ...(x.name_en !== undefined ? { name_en: x.name_en ?? null, name_fr: x.name_fr ?? null } : {}),
  }));
}

export async function sideBySide(db: Database, f: Filter, by: 'owner_org_id' | 'office_id' | 'channel', opts: { names?: 'organisations' | 'offices' } = {}) {
  return sideFrom((await sideBySideQuery(f, by, opts).execute(db)).rows);
}

/**
 * Several small queries as one statement (one round trip, one connection): each query's rows as a JSON array
 * (numbers as numbers, dates as 'YYYY-MM-DD'; the order of rows is not kept).
 */
export async function jsonBatch<Q extends Record<string, Compilable | RawBuilder<unknown>>>(db: Database, queries: Q): Promise<{ [K in keyof Q]: Record<string, unknown>[] }> {
  const cols = Object.entries(queries).map(([k, q]) => sql`(select coalesce(json_agg(t), '[]'::json) from (${q}) t) as ${sql.ref(k)}`);
  const r = await sql<Record<string, Record<string, unknown>[]>>`select ${sql.join(cols)}`.execute(db);
  const row = r.rows[0];
  return Object.fromEntries(Object.keys(queries).map((k) => [k, typeof row[k] === 'string' ? JSON.parse(row[k] as unknown as string) : row[k]])) as { [K in keyof Q]: Record<string, unknown>[] };
}

/** Suppress a public count under SUPPRESS_UNDER (null = suppressed). */
export const suppress = (n: number) => (n > 0 && n < SUPPRESS_UNDER ? null : n);
