/**
 * One count of every contact: inserting events and rolling them up in the same statement.
 *
 * Every event goes through `rollupStatement`: a single SQL statement whose CTEs (1) insert the candidate events into
 * perf_events with ON CONFLICT (source, source_id, kind) DO NOTHING, and (2) add only the rows actually inserted
 * (RETURNING) to the daily rollup perf_daily, the monthly rollups perf_monthly (per service) and perf_monthly_org
 * (per partner, office, channel) and the time histograms perf_hist and perf_hist_monthly. An event read twice (a re-run, the
 * look-back window, a late event) is refused by the unique key and so adds nothing to the rollups: the rollups always
 * equal a count of perf_events (checked by rollup.property.test.ts). The statement is atomic on both engines.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../db/database';
import type { Transaction } from 'kysely';
import type { DB } from '../schema';
import { CHANNELS, OUTCOMES, type Channel, type Outcome } from './tables';

/** Histogram bucket of a time in seconds: floor(ln(1+s)/ln(1.2)); its upper bound is 1.2^(b+1) − 1 s (±20 %). */
export const bucketOf = (s: number) => Math.floor(Math.log(1 + s) / Math.log(1.2));
export const bucketUpper = (b: number) => Math.pow(1.2, b + 1) - 1;

/** Local day of an event (the rollups' day): the one-stop's time zone. */
export const ROLLUP_TIME_ZONE = 'America/Toronto';

/**
 * Wrap a source query (columns: source, source_id, kind, channel, service_id, owner_org_id, delivering_org_id,
 * office_id, outcome, occurred_at, wait_s, handle_s, decision_s, no_repeat, within_standard, amount_cents, cursor_at, cursor_id) in
 * the insert-and-rollup statement. Returns rows read, rows inserted and the last cursor of the source rows.
 */
export function rollupStatement(src: RawBuilder<unknown>) {
  return sql<{ read: number; inserted: number; cursor_at: Date | null; cursor_id: string | null }>`
    with src as (${src}),
    ins as (
      insert into perf_events (source, source_id, kind, channel, service_id, owner_org_id, delivering_org_id, office_id, outcome,
                               occurred_at, day, wait_s, handle_s, decision_s, no_repeat, within_standard, amount_cents)
      select source::text, source_id::text, kind::text, channel::text, service_id::text, owner_org_id::text, delivering_org_id::text,
             office_id::text, outcome::text, occurred_at::timestamptz, (occurred_at::timestamptz at time zone ${ROLLUP_TIME_ZONE})::date,
             greatest(0, round(wait_s::numeric))::int, greatest(0, round(handle_s::numeric))::int, greatest(0, round(decision_s::numeric))::int,
             no_repeat::boolean, within_standard::boolean, amount_cents::bigint
      from src
      on conflict (source, source_id, kind) do nothing
      returning day, service_id, owner_org_id, delivering_org_id, office_id, channel, outcome, wait_s, handle_s, decision_s, no_repeat, within_standard, amount_cents
    ),
    d as (
      insert into perf_daily as p (day, service_id, owner_org_id, delivering_org_id, office_id, channel, outcome, events,
                                   wait_n, wait_sum, handle_n, handle_sum, decision_n, decision_sum, no_repeat_n, no_repeat_yes, standard_n, standard_met, amount_cents)
      select day, coalesce(service_id, ''), coalesce(owner_org_id, ''), coalesce(delivering_org_id, ''), coalesce(office_id, ''), channel, outcome,
             count(*), count(wait_s), coalesce(sum(wait_s), 0), count(handle_s), coalesce(sum(handle_s), 0), count(decision_s), coalesce(sum(decision_s), 0),
             count(no_repeat), count(*) filter (where no_repeat), count(within_standard), count(*) filter (where within_standard), coalesce(sum(amount_cents), 0)
      from ins group by 1, 2, 3, 4, 5, 6, 7
      on conflict (day, service_id, owner_org_id, delivering_org_id, office_id, channel, outcome) do update set
        events = p.events + excluded.events, wait_n = p.wait_n + excluded.wait_n, wait_sum = p.wait_sum + excluded.wait_sum,
        handle_n = p.handle_n + excluded.handle_n, handle_sum = p.handle_sum + excluded.handle_sum,
        decision_n = p.decision_n + excluded.decision_n, decision_sum = p.decision_sum + excluded.decision_sum,
        no_repeat_n = p.no_repeat_n + excluded.no_repeat_n, no_repeat_yes = p.no_repeat_yes + excluded.no_repeat_yes,
        standard_n = p.standard_n + excluded.standard_n, standard_met = p.standard_met + excluded.standard_met,
        amount_cents = p.amount_cents + excluded.amount_cents
    ),
    m as (
      insert into perf_monthly as p (month, service_id, owner_org_id, office_id, channel, outcome, events, wait_n, wait_sum, standard_n, standard_met)
      select date_trunc('month', day)::date, coalesce(service_id, ''), coalesce(owner_org_id, ''), coalesce(office_id, ''), channel, outcome,
             count(*), count(wait_s), coalesce(sum(wait_s), 0), count(within_standard), count(*) filter (where within_standard)
      from ins group by 1, 2, 3, 4, 5, 6
      on conflict (month, service_id, owner_org_id, office_id, channel, outcome) do update set
        events = p.events + excluded.events, wait_n = p.wait_n + excluded.wait_n, wait_sum = p.wait_sum + excluded.wait_sum,
        standard_n = p.standard_n + excluded.standard_n, standard_met = p.standard_met + excluded.standard_met
    ),
    mo as (
      insert into perf_monthly_org as p (month, owner_org_id, office_id, channel, outcome, events,
                                   wait_n, wait_sum, handle_n, handle_sum, decision_n, decision_sum, no_repeat_n, no_repeat_yes, standard_n, standard_met, amount_cents)
      select date_trunc('month', day)::date, coalesce(owner_org_id, ''), coalesce(office_id, ''), channel, outcome,
             count(*), count(wait_s), coalesce(sum(wait_s), 0), count(handle_s), coalesce(sum(handle_s), 0), count(decision_s), coalesce(sum(decision_s), 0),
             count(no_repeat), count(*) filter (where no_repeat), count(within_standard), count(*) filter (where within_standard), coalesce(sum(amount_cents), 0)
      from ins group by 1, 2, 3, 4, 5
      on conflict (month, owner_org_id, office_id, channel, outcome) do update set
        events = p.events + excluded.events, wait_n = p.wait_n + excluded.wait_n, wait_sum = p.wait_sum + excluded.wait_sum,
        handle_n = p.handle_n + excluded.handle_n, handle_sum = p.handle_sum + excluded.handle_sum,
        decision_n = p.decision_n + excluded.decision_n, decision_sum = p.decision_sum + excluded.decision_sum,
        no_repeat_n = p.no_repeat_n + excluded.no_repeat_n, no_repeat_yes = p.no_repeat_yes + excluded.no_repeat_yes,
        standard_n = p.standard_n + excluded.standard_n, standard_met = p.standard_met + excluded.standard_met,
        amount_cents = p.amount_cents + excluded.amount_cents
    ),
    hm as (
      insert into perf_hist_monthly as p (month, owner_org_id, office_id, channel, measure, bucket, n)
      select date_trunc('month', i.day)::date, coalesce(i.owner_org_id, ''), coalesce(i.office_id, ''), i.channel, m.measure,
             floor(ln(1 + m.s) / ln(1.2))::smallint, count(*)
      from ins i cross join lateral (values ('wait', i.wait_s), ('handle', i.handle_s), ('decision', i.decision_s)) as m(measure, s)
      where m.s is not null
      group by 1, 2, 3, 4, 5, 6
      on conflict (month, owner_org_id, office_id, channel, measure, bucket) do update set n = p.n + excluded.n
    ),
    h as (
      insert into perf_hist as p (day, service_id, owner_org_id, office_id, channel, measure, bucket, n)
      select i.day, coalesce(i.service_id, ''), coalesce(i.owner_org_id, ''), coalesce(i.office_id, ''), i.channel, m.measure,
             floor(ln(1 + m.s) / ln(1.2))::smallint, count(*)
      from ins i cross join lateral (values ('wait', i.wait_s), ('handle', i.handle_s), ('decision', i.decision_s)) as m(measure, s)
      where m.s is not null
      group by 1, 2, 3, 4, 5, 6, 7
      on conflict (day, service_id, owner_org_id, office_id, channel, measure, bucket) do update set n = p.n + excluded.n
    )
    select (select count(*) from src)::int as read, (select count(*) from ins)::int as inserted, c.cursor_at, c.cursor_id
    from (select 1) as one
    left join lateral (select cursor_at::timestamptz as cursor_at, cursor_id::text as cursor_id from src order by 1 desc, 2 desc limit 1) as c on true`;
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
 * (source, sourceId, kind). Returns true when the event was new.
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
  const r = await rollupStatement(src).execute(trx);
  return (r.rows[0]?.inserted ?? 0) > 0;
}

/**
 * Rebuild every rollup from perf_events in one transaction (after a bulk load, or to repair): the same figures the
 * incremental statement keeps, computed by aggregate. Pages never call this.
 */
export async function rebuildRollups(db: Database): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`truncate perf_daily, perf_monthly, perf_monthly_org, perf_hist, perf_hist_monthly`.execute(trx);
    await sql`insert into perf_daily (day, service_id, owner_org_id, delivering_org_id, office_id, channel, outcome, events, wait_n, wait_sum,
        handle_n, handle_sum, decision_n, decision_sum, no_repeat_n, no_repeat_yes, standard_n, standard_met, amount_cents)
      select day, coalesce(service_id, ''), coalesce(owner_org_id, ''), coalesce(delivering_org_id, ''), coalesce(office_id, ''),
        channel, outcome, count(*), count(wait_s), coalesce(sum(wait_s), 0), count(handle_s), coalesce(sum(handle_s), 0), count(decision_s),
        coalesce(sum(decision_s), 0), count(no_repeat), count(*) filter (where no_repeat), count(within_standard), count(*) filter (where within_standard),
        coalesce(sum(amount_cents), 0)
      from perf_events group by 1, 2, 3, 4, 5, 6, 7`.execute(trx);
    await sql`insert into perf_monthly (month, service_id, owner_org_id, office_id, channel, outcome, events, wait_n, wait_sum, standard_n, standard_met)
      select date_trunc('month', day)::date, coalesce(service_id, ''), coalesce(owner_org_id, ''), coalesce(office_id, ''), channel, outcome,
        count(*), count(wait_s), coalesce(sum(wait_s), 0), count(within_standard), count(*) filter (where within_standard)
      from perf_events group by 1, 2, 3, 4, 5, 6`.execute(trx);
    await sql`insert into perf_monthly_org (month, owner_org_id, office_id, channel, outcome, events, wait_n, wait_sum, handle_n, handle_sum,
        decision_n, decision_sum, no_repeat_n, no_repeat_yes, standard_n, standard_met, amount_cents)
      select date_trunc('month', day)::date, coalesce(owner_org_id, ''), coalesce(office_id, ''), channel, outcome,
        count(*), count(wait_s), coalesce(sum(wait_s), 0), count(handle_s), coalesce(sum(handle_s), 0), count(decision_s), coalesce(sum(decision_s), 0),
        count(no_repeat), count(*) filter (where no_repeat), count(within_standard), count(*) filter (where within_standard), coalesce(sum(amount_cents), 0)
      from perf_events group by 1, 2, 3, 4, 5`.execute(trx);
    await sql`insert into perf_hist (day, service_id, owner_org_id, office_id, channel, measure, bucket, n)
      select e.day, coalesce(e.service_id, ''), coalesce(e.owner_org_id, ''), coalesce(e.office_id, ''), e.channel, m.measure, floor(ln(1 + m.s) / ln(1.2))::smallint, count(*)
      from perf_events e cross join lateral (values ('wait', e.wait_s), ('handle', e.handle_s), ('decision', e.decision_s)) as m(measure, s)
      where m.s is not null group by 1, 2, 3, 4, 5, 6, 7`.execute(trx);
    await sql`insert into perf_hist_monthly (month, owner_org_id, office_id, channel, measure, bucket, n)
      select date_trunc('month', e.day)::date, coalesce(e.owner_org_id, ''), coalesce(e.office_id, ''), e.channel, m.measure, floor(ln(1 + m.s) / ln(1.2))::smallint, count(*)
      from perf_events e cross join lateral (values ('wait', e.wait_s), ('handle', e.handle_s), ('decision', e.decision_s)) as m(measure, s)
      where m.s is not null group by 1, 2, 3, 4, 5, 6`.execute(trx);
  });
}
