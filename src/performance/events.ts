/**
 * One count of every contact: inserting events, then rolling them up by batch.
 *
 * Events enter perf_events through `insertEventsStatement` (the ingestion job's sources) or `recordContactEvent` (the
 * seam for other capabilities), with ON CONFLICT (source, source_id, kind) DO NOTHING: a row read twice, a re-run, a
 * late or repeated row is refused by the unique key, so each contact is stored once.
 *
 * The rollup job (`rollupPending`) then adds the new events to every rollup, set-based: per batch of up to 50,000
 * events past its watermark, one statement whose CTEs run one INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE per
 * rollup table and move the watermark, atomically. The watermark is (xid, id), where xid is the id of the transaction
 * that inserted the event: only events whose transaction is older than every transaction still running
 * (pg_snapshot_xmin of the current snapshot) are taken, so an event committed late by a long transaction is never
 * skipped (an id watermark alone would skip it) and is never taken twice. The cursor row is locked for the batch, so
 * two nodes never roll up the same events. The rollups therefore always equal an aggregate of perf_events below the
 * watermark (checked by rollup.property.test.ts).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/database';
import type { Transaction } from 'kysely';
import type { DB } from '../schema';
import { CHANNELS, COMPLETED, DIGITAL_CHANNELS, OUTCOMES, STARTED, type Channel, type Outcome } from './tables';

/** Histogram bucket of a time in seconds: floor(ln(1+s)/ln(1.2)); its upper bound is 1.2^(b+1) − 1 s (±20 %). */
export const bucketOf = (s: number) => Math.floor(Math.log(1 + s) / Math.log(1.2));
export const bucketUpper = (b: number) => Math.pow(1.2, b + 1) - 1;

/** Local day of an event (the rollups' day): the one-stop's time zone. */
export const ROLLUP_TIME_ZONE = 'America/Toronto';

/** Events per rollup batch (one statement, one transaction). */
export const ROLLUP_BATCH = 50_000;

const EVENT_COLUMNS = `source, source_id, kind, channel, service_id, owner_org_id, delivering_org_id, office_id, outcome,
  occurred_at, day, wait_s, handle_s, decision_s, no_repeat, within_standard, amount_cents`;

/**
 * Wrap a source query (columns: source, source_id, kind, channel, service_id, owner_org_id, delivering_org_id,
 * office_id, outcome, occurred_at, wait_s, handle_s, decision_s, no_repeat, within_standard, amount_cents, cursor_at,
 * cursor_id) in the statement that stores its events once. Returns rows read, rows inserted and the last cursor of the
 * source rows.
 */
export function insertEventsStatement(src: RawBuilder<unknown>) {
  return sql<{ read: number; inserted: number; cursor_at: Date | null; cursor_id: string | null }>`
    with src as (${src}),
    ins as (
      insert into perf_events (${sql.raw(EVENT_COLUMNS)})
      select source::text, source_id::text, kind::text, channel::text, service_id::text, owner_org_id::text, delivering_org_id::text,
             office_id::text, outcome::text, occurred_at::timestamptz, (occurred_at::timestamptz at time zone ${ROLLUP_TIME_ZONE})::date,
             greatest(0, round(wait_s::numeric))::int, greatest(0, round(handle_s::numeric))::int, greatest(0, round(decision_s::numeric))::int,
             no_repeat::boolean, within_standard::boolean, amount_cents::bigint
      from src
      on conflict (source, source_id, kind) do nothing
      returning 1
    )
    select (select count(*) from src)::int as read, (select count(*) from ins)::int as inserted, c.cursor_at, c.cursor_id
    from (select 1) as one
    left join lateral (select cursor_at::timestamptz as cursor_at, cursor_id::text as cursor_id from src order by 1 desc, 2 desc limit 1) as c on true`;
}

/** The sums every count rollup keeps (means are sums ÷ counts). */
const SUMS: [string, string][] = [
  ['events', 'count(*)'],
  ['wait_n', 'count(wait_s)'], ['wait_sum', 'coalesce(sum(wait_s), 0)'],
  ['handle_n', 'count(handle_s)'], ['handle_sum', 'coalesce(sum(handle_s), 0)'],
  ['decision_n', 'count(decision_s)'], ['decision_sum', 'coalesce(sum(decision_s), 0)'],
  ['no_repeat_n', 'count(no_repeat)'], ['no_repeat_yes', 'count(*) filter (where no_repeat)'],
  ['standard_n', 'count(within_standard)'], ['standard_met', 'count(*) filter (where within_standard)'],
  ['amount_cents', 'coalesce(sum(amount_cents), 0)'],
];
const inList = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(', ');
/**
 * The outcome classes a rollup with `classes` keeps besides the sums: column and condition on an event (or on a parent
 * rollup's row, keyed by channel and outcome). Definitions: docs/performance.md, Indicators.
 */
export const CLASSES: [string, string][] = [
  ['transactions', `outcome in (${inList(COMPLETED)})`],
  ['started', `outcome in (${inList(STARTED)})`],
  ['web_transactions', `outcome in (${inList(COMPLETED)}) and channel in (${inList(DIGITAL_CHANNELS)})`],
];
const MONTH = "date_trunc('month', day)::date";
const K = {
  day: ['day', 'day'], month: ['month', MONTH],
  service: ['service_id', "coalesce(service_id, '')"], owner: ['owner_org_id', "coalesce(owner_org_id, '')"],
  delivering: ['delivering_org_id', "coalesce(delivering_org_id, '')"], office: ['office_id', "coalesce(office_id, '')"],
  channel: ['channel', 'channel'], outcome: ['outcome', 'outcome'],
} as const;

/**
 * The rollups: each a key (column, expression over perf_events) and either the sums above or a time histogram
 * ('' stands for "none" in a key). A rollup with a `parent` is aggregated from its parent's aggregate of the same
 * batch (fewer rows to group) rather than from the events. Which page reads which: docs/performance.md.
 */
export interface Rollup { table: string; keys: (readonly [string, string])[]; hist?: true; parent?: string; /** also keeps CLASSES */ classes?: true }
export const ROLLUPS: Rollup[] = [
  { table: 'perf_daily', keys: [K.day, K.service, K.owner, K.delivering, K.office, K.channel, K.outcome] },
  { table: 'perf_monthly', keys: [K.service, K.month, K.owner, K.channel, K.outcome] },
  { table: 'perf_monthly_org', keys: [K.month, K.owner, K.office, K.channel, K.outcome] },
  { table: 'perf_monthly_owner', keys: [K.month, K.owner, K.channel, K.outcome], parent: 'perf_monthly_org' },
  { table: 'perf_monthly_office', keys: [K.month, K.office, K.channel, K.outcome], parent: 'perf_monthly_org' },
  { table: 'perf_monthly_total', keys: [K.month, K.channel, K.outcome], parent: 'perf_monthly_owner' },
  { table: 'perf_monthly_owner_summary', keys: [K.month, K.owner], parent: 'perf_monthly_owner', classes: true },
  { table: 'perf_hist_monthly', keys: [K.month, K.owner], hist: true },
  { table: 'perf_hist_service', keys: [K.service, K.month], hist: true },
  { table: 'perf_hist_total', keys: [K.month], hist: true, parent: 'perf_hist_monthly' },
];

/** SELECT … GROUP BY … of one rollup's rows: from the events (`from`), or from its parent's aggregate (`a_<parent>`). */
function aggregateSql(r: Rollup, from: string): string {
  const keyCols = r.keys.map((k) => k[0]);
  const groupBy = keyCols.map((_, i) => i + 1).join(', ');
  const n = keyCols.length;
  if (r.parent) {
    const vals = r.hist ? ['measure', 'bucket', 'sum(n)::bigint as n'] : SUMS.map(([c]) => `sum(${c})::bigint as ${c}`);
    if (r.classes) vals.push(...CLASSES.map(([c, cond]) => `coalesce(sum(events) filter (where ${cond}), 0)::bigint as ${c}`));
    return `select ${[...keyCols, ...vals].join(', ')} from a_${r.parent} group by ${r.hist ? `${groupBy}, ${n + 1}, ${n + 2}` : groupBy}`;
  }
  const keyExprs = r.keys.map((k) => `${k[1]} as ${k[0]}`);
  if (r.hist) {
    return `select ${keyExprs.join(', ')}, m.measure, floor(ln(1 + m.s) / ln(1.2))::smallint as bucket, count(*) as n
      from ${from} e cross join lateral (values ('wait', e.wait_s), ('handle', e.handle_s), ('decision', e.decision_s)) as m(measure, s)
      where m.s is not null group by ${groupBy}, ${n + 1}, ${n + 2}`;
  }
  const classes = r.classes ? CLASSES.map(([c, cond]) => `count(*) filter (where ${cond}) as ${c}`) : [];
  return `select ${[...keyExprs, ...SUMS.map(([c, e]) => `${e} as ${c}`), ...classes].join(', ')} from ${from} e group by ${groupBy}`;
}

/** A rollup's columns: its keys, then its figures. */
function columnsOf(r: Rollup): string[] {
  const figures = r.hist ? ['measure', 'bucket', 'n'] : [...SUMS.map((x) => x[0]), ...(r.classes ? CLASSES.map((x) => x[0]) : [])];
  return [...r.keys.map((k) => k[0]), ...figures];
}

/** The statement that fills a rollup from the whole of its parent's table (a migration adding a rollup under an existing one). */
export function fillFromParentSql(table: string): string {
  const r = ROLLUPS.find((x) => x.table === table);
  if (!r?.parent) throw new Error(`${table} is not a rollup with a parent`);
  return `with a_${r.parent} as (select * from ${r.parent}) insert into ${r.table} (${columnsOf(r).join(', ')}) ${aggregateSql(r, r.parent)}`;
}

/**
 * The CTEs that add a relation of perf_events rows (`from`) to every rollup: per rollup one INSERT … SELECT … GROUP BY
 * (… ON CONFLICT DO UPDATE when `add`, adding to the figures already there).
 */
export function rollupCtes(from: string, add: boolean, rollups: Rollup[] = ROLLUPS): string {
  const parents = new Set(rollups.map((r) => r.parent).filter(Boolean));
  const out: string[] = [];
  for (const r of rollups) {
    const keyCols = r.keys.map((k) => k[0]);
    const conflict = r.hist ? [...keyCols, 'measure', 'bucket'] : keyCols;
    const cols = columnsOf(r);
    const update = r.hist ? 'n = p.n + excluded.n' : cols.slice(keyCols.length).map((c) => `${c} = p.${c} + excluded.${c}`).join(', ');
    let select = aggregateSql(r, from);
    if (parents.has(r.table)) {
      out.push(`a_${r.table} as materialized (${select})`);
      select = `select * from a_${r.table}`;
    }
    out.push(`w_${r.table} as (insert into ${r.table} as p (${cols.join(', ')}) ${select}` +
      (add ? ` on conflict (${conflict.join(', ')}) do update set ${update})` : ')'));
  }
  return out.join(',\n    ');
}

const ROLLUP_CURSOR = 'rollup';
/** Transactions older than this have all ended: their rows are final (committed and visible, or never). */
const HORIZON = 'pg_snapshot_xmin(pg_current_snapshot())::text::bigint';

/**
 * One batch: the next `limit` events past the watermark whose transaction has ended, added to every rollup, and the
 * watermark moved past them, in one statement. Call with the cursor row locked.
 */
function batchStatement(markXid: string, markId: string, limit: number) {
  return sql<{ n: number; last_xid: string | null; last_id: string | null }>`
    with b as materialized (
      select id, xid, day, service_id, owner_org_id, delivering_org_id, office_id, channel, outcome,
             wait_s, handle_s, decision_s, no_repeat, within_standard, amount_cents
      from perf_events
      where (xid, id) > (${markXid}::bigint, ${markId}::bigint) and xid < ${sql.raw(HORIZON)}
      order by xid, id limit ${limit}
    ),
    last as (select xid, id from b order by xid desc, id desc limit 1),
    mark as (update perf_rollup_cursor c set mark_xid = last.xid, mark_id = last.id, updated_at = now() from last where c.name = ${ROLLUP_CURSOR}),
    ${sql.raw(rollupCtes('b', true))}
    select (select count(*) from b)::int as n, (select xid::text from last) as last_xid, (select id::text from last) as last_id`;
}

export interface RollupResult { events: number; batches: number; /** visible events left for a later run (their transaction's elders still running) */ waiting: boolean }

/**
 * The rollup job: every event not yet rolled up, batch by batch (each its own transaction). Safe to run twice or on
 * two nodes at once (the cursor row is locked per batch; a second runner waits, then finds the events gone).
 * Committed events that an older transaction still running (anywhere on the cluster) holds back are taken once it
 * ends: this run waits up to `settleMs` (default 30 s; the job runs every minute) for that, otherwise the next run
 * takes them.
 */
export async function rollupPending(db: Database, opts: { batchSize?: number; maxBatches?: number; settleMs?: number } = {}): Promise<RollupResult> {
  const limit = opts.batchSize ?? ROLLUP_BATCH;
  const until = Date.now() + (opts.settleMs ?? 30_000);
  const out: RollupResult = { events: 0, batches: 0, waiting: false };
  await sql`insert into perf_rollup_cursor (name, mark_xid, mark_id) values (${ROLLUP_CURSOR}, 0, 0) on conflict do nothing`.execute(db);
  for (;;) {
    if (opts.maxBatches !== undefined && out.batches >= opts.maxBatches) break;
    const n = await db.transaction().execute(async (trx) => {
      await sql`set local work_mem = '64MB'`.execute(trx); // the batch's hash aggregates stay in memory
      const c = (await sql<{ mark_xid: string; mark_id: string }>`select mark_xid::text, mark_id::text from perf_rollup_cursor where name = ${ROLLUP_CURSOR} for update`.execute(trx)).rows[0];
      return (await batchStatement(c.mark_xid, c.mark_id, limit).execute(trx)).rows[0].n;
    });
    out.batches++;
    out.events += n;
    if (n === limit) continue;
    out.waiting = (await sql<{ left: boolean }>`select exists (select 1 from perf_events e, perf_rollup_cursor c
        where c.name = ${ROLLUP_CURSOR} and (e.xid, e.id) > (c.mark_xid, c.mark_id)) as left`.execute(db)).rows[0].left;
    if (!out.waiting || Date.now() >= until) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return out;
}

export interface ContactEvent {
  /** Who records it, e.g. 'payment'. With sourceId and kind: the event's identity (a second record is ignored). */
  source: string;
  sourceId: string;
  kind: string;
  channel: Channel;
  serviceId?: string | null;
  /** The partner that owns the service (defaults to the service's owner). */
  ownerOrgId?: string | null;
  /** The organisation that delivered the contact. */
  deliveringOrgId?: string | null;
  officeId?: string | null;
  outcome: Outcome;
  occurredAt: Date;
  waitSeconds?: number | null;
  handleSeconds?: number | null;
  decisionSeconds?: number | null;
  noRepeat?: boolean | null;
  withinStandard?: boolean | null;
  /** Money collected with this contact (integer cents): the payments capability's seam into revenue figures. */
  amountCents?: number | null;
}

/**
 * The seam for other capabilities (payments, a contact centre) that push their own contacts: call it inside the
 * transaction that records the payment or call, so the event commits (or not) with it. Idempotent on
 * (source, sourceId, kind). Returns true when the event was new. The rollups take it at the job's next run (every
 * minute), once its transaction has ended.
 */
export async function recordContactEvent(trx: Transaction<DB> | Database, e: ContactEvent): Promise<boolean> {
  if (!CHANNELS.includes(e.channel)) throw new Error(`unknown channel ${e.channel}`);
  if (!OUTCOMES.includes(e.outcome)) throw new Error(`unknown outcome ${e.outcome}`);
  const src = sql`
    select ${e.source}::text as source, ${e.sourceId}::text as source_id, ${e.kind}::text as kind, ${e.channel}::text as channel,
           ${e.serviceId ?? null}::text as service_id,
           coalesce(${e.ownerOrgId ?? null}::text, (select owner_org_id from services where id = ${e.serviceId ?? null}::text)) as owner_org_id,
           ${e.deliveringOrgId ?? null}::text as delivering_org_id, ${e.officeId ?? null}::text as office_id, ${e.outcome}::text as outcome,
           ${e.occurredAt.toISOString()}::timestamptz as occurred_at, ${e.waitSeconds ?? null}::numeric as wait_s,
           ${e.handleSeconds ?? null}::numeric as handle_s, ${e.decisionSeconds ?? null}::numeric as decision_s,
           ${e.noRepeat ?? null}::boolean as no_repeat, ${e.withinStandard ?? null}::boolean as within_standard, ${e.amountCents ?? null}::bigint as amount_cents,
           ${e.occurredAt.toISOString()}::timestamptz as cursor_at, ${e.sourceId}::text as cursor_id`;
  const r = await insertEventsStatement(src).execute(trx);
  return (r.rows[0]?.inserted ?? 0) > 0;
}

/**
 * Rebuild every rollup (or all but `without`) from perf_events (after a bulk load, or to repair): truncate, then the same upserts by
 * aggregate over every event whose transaction has ended, and the watermark set after the last of them; events of
 * transactions still running are left to the job. Runs in the caller's transaction, or its own. Pages never call this.
 */
export async function rebuildRollups(db: Kysely<DB>, opts: { without?: string[] } = {}): Promise<void> {
  // `without`: rollups whose table a later migration creates (a migration rebuilds with the tables of its time)
  const rollups = ROLLUPS.filter((r) => !opts.without?.includes(r.table));
  if (rollups.some((r) => r.parent && !rollups.some((p) => p.table === r.parent))) throw new Error('rebuildRollups: a rollup left out is the parent of another');
  const run = async (trx: Kysely<DB>) => {
    await sql`insert into perf_rollup_cursor (name, mark_xid, mark_id) values (${ROLLUP_CURSOR}, 0, 0) on conflict do nothing`.execute(trx);
    await sql`select 1 from perf_rollup_cursor where name = ${ROLLUP_CURSOR} for update`.execute(trx);
    const h = (await sql<{ h: string }>`select ${sql.raw(HORIZON)}::text as h`.execute(trx)).rows[0].h;
    await sql.raw(`truncate ${rollups.map((r) => r.table).join(', ')}`).execute(trx);
    const from = `(select * from perf_events where xid < ${BigInt(h).toString()})`; // h: a number from the server
    await sql.raw(`with ${rollupCtes(from, false, rollups)} select 1`).execute(trx);
    await sql`update perf_rollup_cursor c set updated_at = now(), mark_xid = l.xid, mark_id = l.id
      from (select xid, id from perf_events where xid < ${h}::bigint order by xid desc, id desc limit 1) l
      where c.name = ${ROLLUP_CURSOR}`.execute(trx);
  };
  if (db.isTransaction) await run(db);
  else await db.transaction().execute(run);
}
