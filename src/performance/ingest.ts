/**
 * Incremental ingestion: each source table of another capability is read (read-only) from its high-water mark, and
 * its rows become contact events (insertEventsStatement, events.ts); the run ends with the rollup job (rollupPending).
 *
 * Each source has a keyset (time, id). A run reads forward from the mark in batches (advancing it), then reads again
 * the rows of the last `lookback` seconds before the mark: a row committed late with an earlier time (a long
 * transaction) is still found. Rows read twice are refused by perf_events' unique key, so nothing counts twice.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../db/database';
import { ROLLUP_TIME_ZONE, insertEventsStatement, rollupPending } from './events';
import { ONE_STOP_ORG } from '../http/ownership';

/** The counter wait standard Guichet measures: called within 15 minutes (the counters' statistics use the same default). */
export const COUNTER_WAIT_TARGET_S = 15 * 60;

export const NOT_ELIGIBLE_PATTERN = '(not eligible|ineligible|non admissible|inadmissible|refus)';

interface Source {
  name: string;
  /** Time and id (text, ordered) of a row, and the SELECT producing event columns, with `where ${cond}`. */
  ts: string;
  id: string;
  select: (cond: RawBuilder<unknown>) => RawBuilder<unknown>;
  /** Extra condition (e.g. abandoned drafts only after N days). */
}

const outcomeOfVisit = sql.raw(`case v.outcome when 'transferred' then 'referred' when 'no_show' then 'abandoned' when 'abandoned' then 'abandoned'
  else case when v.result ~* '${NOT_ELIGIBLE_PATTERN}' then 'not_eligible'
            when v.result ~* '^(info|renseign)' then 'information'
            else 'completed' end end`);

export function sources(opts: { abandonAfterSeconds: number }): Source[] {
  return [
    {
      name: 'counter_visit', ts: 'v.done_at', id: 'v.id::text',
      select: (cond) => sql`
        select 'counter_visit' as source, v.id::text as source_id, 'visit' as kind, 'counter' as channel, v.service_id,
               s.owner_org_id, coalesce(c.org_id, su.org_id, v.org_id) as delivering_org_id, v.office_id, ${outcomeOfVisit} as outcome,
               v.done_at as occurred_at, v.wait_seconds as wait_s,
               case when v.outcome in ('served', 'transferred') then v.service_seconds end as handle_s,
               null::numeric as decision_s, null::boolean as no_repeat,
               case when v.outcome in ('served', 'transferred') and v.wait_seconds is not null then v.wait_seconds <= ${COUNTER_WAIT_TARGET_S} end as within_standard,
               null::bigint as amount_cents,
               v.done_at as cursor_at, v.id::text as cursor_id
        from ticket_visits v
        join services s on s.id = v.service_id
        left join counters c on c.id = v.counter_id
        left join staff_users su on su.id = v.agent_id
        where v.done_at is not null and ${cond}`,
    },
    {
      // A case's end: decided (completed, or not eligible when the decision says so) or withdrawn (abandoned); once per case.
      name: 'case_outcome', ts: 'h.at', id: `lpad(h.id::text, 20, '0')`,
      select: (cond) => sql`
        select 'case' as source, c.id as source_id, 'outcome' as kind, c.origin_channel as channel, c.service_id,
               s.owner_org_id, c.responsible_org_id as delivering_org_id, null::text as office_id,
               case when h.to_status = 'withdrawn' then 'abandoned'
                    when c.decision ~* ${NOT_ELIGIBLE_PATTERN} then 'not_eligible' else 'completed' end as outcome,
               h.at as occurred_at, null::numeric as wait_s, null::numeric as handle_s,
               case when h.to_status = 'decided' then extract(epoch from h.at - c.submitted_at) end as decision_s,
               null::boolean as no_repeat,
               case when h.to_status = 'decided' and c.due_date is not null then (h.at at time zone ${ROLLUP_TIME_ZONE})::date <= c.due_date end as within_standard,
               null::bigint as amount_cents,
               h.at as cursor_at, lpad(h.id::text, 20, '0') as cursor_id
        from case_status_history h
        join cases c on c.id = h.case_id
        join services s on s.id = c.service_id
        where h.to_status in ('decided', 'withdrawn') and ${cond}`,
    },
    {
      // Contacts about a case (not its opening or status changes, counted by its outcome; not referrals, counted below).
      name: 'case_interaction', ts: 'i.at', id: `lpad(i.id::text, 20, '0')`,
      select: (cond) => sql`
        select 'case_interaction' as source, i.id::text as source_id, 'contact' as kind, i.channel, c.service_id,
               s.owner_org_id, coalesce(i.org_id, c.responsible_org_id) as delivering_org_id, null::text as office_id,
               case when i.outcome = 'resolved_first_contact' then 'completed' else 'information' end as outcome,
               i.at as occurred_at, null::numeric as wait_s, null::numeric as handle_s, null::numeric as decision_s,
               null::boolean as no_repeat, null::boolean as within_standard, null::bigint as amount_cents,
               i.at as cursor_at, lpad(i.id::text, 20, '0') as cursor_id
        from case_interactions i
        join cases c on c.id = i.case_id
        join services s on s.id = c.service_id
        where i.actor_kind <> 'system'
          and i.outcome not in ('case_opened', 'status_changed', 'guarantee_breached', 'referred', 'referral_accepted')
          and ${cond}`,
    },
    {
      // Online forms started and left: a draft not submitted and untouched for abandonAfterSeconds.
      name: 'form_abandoned', ts: 'd.updated_at', id: 'd.id::text',
      select: (cond) => sql`
        select 'form_draft' as source, d.id::text as source_id, 'abandoned' as kind,
               case when d.assisted_by is null then 'web' else 'counter' end as channel, d.service_id,
               s.owner_org_id, s.owner_org_id as delivering_org_id, null::text as office_id, 'abandoned' as outcome,
               d.updated_at as occurred_at, null::numeric as wait_s, null::numeric as handle_s, null::numeric as decision_s,
               null::boolean as no_repeat, null::boolean as within_standard, null::bigint as amount_cents,
               d.updated_at as cursor_at, d.id::text as cursor_id
        from case_form_drafts d
        join services s on s.id = d.service_id
        where d.submitted_case_id is null
          and d.updated_at < now() - make_interval(secs => ${opts.abandonAfterSeconds})
          and ${cond}`,
    },
    {
      // Tell Us Once: one notice per partner program, counted when it reached its end.
      name: 'notice', ts: 'coalesce(n.delivered_at, n.acknowledged_at, n.rejected_at, n.failed_at)', id: 'n.id::text',
      select: (cond) => sql`
        select 'notice' as source, n.id::text as source_id, 'notice' as kind, 'web' as channel, sub.service_id,
               n.org_id as owner_org_id, ${ONE_STOP_ORG}::text as delivering_org_id, null::text as office_id,
               case n.status when 'rejected' then 'not_eligible' when 'failed' then 'failed' else 'completed' end as outcome,
               coalesce(n.delivered_at, n.acknowledged_at, n.rejected_at, n.failed_at) as occurred_at,
               null::numeric as wait_s, null::numeric as handle_s,
               extract(epoch from coalesce(n.delivered_at, n.acknowledged_at, n.rejected_at, n.failed_at) - n.created_at) as decision_s,
               null::boolean as no_repeat, null::boolean as within_standard, null::bigint as amount_cents,
               coalesce(n.delivered_at, n.acknowledged_at, n.rejected_at, n.failed_at) as cursor_at, n.id::text as cursor_id
        from notices n
        join notice_subscriptions sub on sub.id = n.subscription_id
        where coalesce(n.delivered_at, n.acknowledged_at, n.rejected_at, n.failed_at) is not null and ${cond}`,
    },
    {
      // Warm referrals of a case, counted when the receiving organisation accepted or declined them.
      name: 'case_referral', ts: 'r.accepted_at', id: 'r.id::text',
      select: (cond) => sql`
        select 'case_referral' as source, r.id::text as source_id, 'referral' as kind, c.origin_channel as channel, c.service_id,
               r.to_org_id as owner_org_id, r.from_org_id as delivering_org_id, null::text as office_id, 'referred' as outcome,
               r.accepted_at as occurred_at, null::numeric as wait_s, null::numeric as handle_s, null::numeric as decision_s,
               r.no_repeat, null::boolean as within_standard, null::bigint as amount_cents,
               r.accepted_at as cursor_at, r.id::text as cursor_id
        from case_referrals r
        join cases c on c.id = r.case_id
        where r.accepted_at is not null and ${cond}`,
    },
    {
      // Questions referred to another organisation (no case), counted when answered.
      name: 'question', ts: 'q.answered_at', id: 'q.id::text',
      select: (cond) => sql`
        select 'question' as source, q.id::text as source_id, 'referral' as kind, q.channel, null::text as service_id,
               q.to_org_id as owner_org_id, q.from_org_id as delivering_org_id, null::text as office_id, 'referred' as outcome,
               q.answered_at as occurred_at, null::numeric as wait_s, null::numeric as handle_s, null::numeric as decision_s,
               q.no_repeat, null::boolean as within_standard, null::bigint as amount_cents,
               q.answered_at as cursor_at, q.id::text as cursor_id
        from case_questions q
        where q.answered_at is not null and ${cond}`,
    },
  ];
}

export interface IngestOptions {
  batchSize?: number;
  lookbackSeconds?: number;
  abandonAfterSeconds?: number;
}

export interface IngestResult {
  read: number;
  inserted: number;
  /** Events added to the rollups by this run (its own and any recorded through recordContactEvent). */
  rolledUp: number;
  bySource: Record<string, number>;
}

const EPOCH = new Date('1970-01-01T00:00:00Z');

/**
 * Ingest every source from its mark, then roll up every new event (rollupPending). Safe to run twice or concurrently
 * (the unique key decides which rows are new; the rollup cursor is locked per batch).
 */
export async function ingestAll(db: Database, opts: IngestOptions = {}): Promise<IngestResult> {
  const batch = opts.batchSize ?? 5000;
  const lookback = opts.lookbackSeconds ?? 900;
  const out: IngestResult = { read: 0, inserted: 0, rolledUp: 0, bySource: {} };
  await seedGcVolumes(db);
  for (const s of sources({ abandonAfterSeconds: opts.abandonAfterSeconds ?? 7 * 86400 })) {
    const cur = await db.selectFrom('perf_cursors').select(['mark_at', 'mark_id']).where('source', '=', s.name).executeTakeFirst();
    let markAt = cur?.mark_at ?? EPOCH;
    let markId = cur?.mark_id ?? '';
    let inserted = 0;
    // Look back first (rows committed late before the mark), then forward in batches.
    if (cur) {
      const cond = sql`${sql.raw(s.ts)} >= ${markAt}::timestamptz - make_interval(secs => ${lookback})
        and (${sql.raw(s.ts)}, ${sql.raw(s.id)}) <= (${markAt}::timestamptz, ${markId}::text)`;
      const r = await insertEventsStatement(s.select(cond)).execute(db);
      out.read += r.rows[0].read;
      inserted += r.rows[0].inserted;
    }
    for (;;) {
      const cond = sql`(${sql.raw(s.ts)}, ${sql.raw(s.id)}) > (${markAt}::timestamptz, ${markId}::text)
        order by ${sql.raw(s.ts)}, ${sql.raw(s.id)} limit ${batch}`;
      const r = await db.transaction().execute(async (trx) => {
        const res = (await insertEventsStatement(s.select(cond)).execute(trx)).rows[0];
        if (res.cursor_at) {
          await sql`insert into perf_cursors (source, mark_at, mark_id) values (${s.name}, ${res.cursor_at}, ${res.cursor_id})
            on conflict (source) do update set mark_at = excluded.mark_at, mark_id = excluded.mark_id, updated_at = now()`.execute(trx);
        }
        return res;
      });
      out.read += r.read;
      inserted += r.inserted;
      if (r.cursor_at) {
        markAt = r.cursor_at;
        markId = r.cursor_id!;
      }
      if (r.read < batch) break;
    }
    out.bySource[s.name] = inserted;
    out.inserted += inserted;
  }
  out.rolledUp = (await rollupPending(db)).events;
  return out;
}

/** GC inventory metrics that are transactions, by channel (enquiries and website visits are not transactions). */
export const GC_METRIC_CHANNELS: Record<string, string> = {
  applications_online: 'web',
  applications_in_person: 'counter',
  applications_by_phone: 'phone',
  applications_by_mail: 'mail',
  applications_by_email: 'email',
};

/**
 * The GC Service Inventory's 2023–24 volumes (imported by the catalogue into service_volumes) become the federal
 * services' partner-reported figures for fiscal year 2023–24 (April 1 to March 31). Idempotent.
 */
export async function seedGcVolumes(db: Database): Promise<number> {
  const done = await db.selectFrom('perf_cursors').select('source').where('source', '=', 'gc-volumes').executeTakeFirst();
  if (done) return 0;
  const map = sql.join(Object.entries(GC_METRIC_CHANNELS).map(([m, c]) => sql`(${m}::text, ${c}::text)`));
  return db.transaction().execute(async (trx) => {
    const r = await sql`
      insert into perf_partner_volumes (org_id, service_id, channel, period_start, period_end, transactions, source)
      select s.owner_org_id, v.service_id, m.channel, date '2023-04-01', date '2024-03-31', v.value, 'gc-inventory'
      from service_volumes v
      join services s on s.id = v.service_id
      join (values ${map}) as m(metric, channel) on m.metric = v.metric
      where v.fiscal_year = '2023-2024' and v.value is not null and v.value >= 0
      on conflict (service_id, channel, period_start) do nothing`.execute(trx);
    await sql`insert into perf_cursors (source, mark_at, mark_id) values ('gc-volumes', now(), '') on conflict do nothing`.execute(trx);
    return Number(r.numAffectedRows ?? 0);
  });
}
