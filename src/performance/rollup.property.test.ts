/**
 * Property: for random streams of contact events, delivered in random order, in random batches and with repeats,
 * the rollups (perf_daily, perf_hist) equal a direct count of the raw events; running the same batches again changes
 * nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { createTestDb, type TestDatabase } from '../../test/support/db';
import { recordContactEvent, rollupStatement, type ContactEvent } from './events';
import { CHANNELS, OUTCOMES } from './tables';

const eventArb = fc.record({
  source: fc.constantFrom('counter_visit', 'case', 'notice'),
  sourceId: fc.integer({ min: 1, max: 40 }).map(String),
  kind: fc.constantFrom('visit', 'outcome'),
  channel: fc.constantFrom(...CHANNELS),
  serviceId: fc.option(fc.constantFrom('svc-a', 'svc-b', 'svc-c'), { nil: null }),
  ownerOrgId: fc.option(fc.constantFrom('org-1', 'org-2'), { nil: null }),
  deliveringOrgId: fc.option(fc.constantFrom('guichet', 'org-1'), { nil: null }),
  officeId: fc.option(fc.constantFrom('off-1', 'off-2'), { nil: null }),
  outcome: fc.constantFrom(...OUTCOMES),
  // around midnight in Toronto and UTC, over 3 days and a month's end
  occurredAt: fc.integer({ min: Date.UTC(2025, 0, 30, 0), max: Date.UTC(2025, 1, 2, 0) }).map((ms) => new Date(ms)),
  waitSeconds: fc.option(fc.integer({ min: 0, max: 7200 }), { nil: null }),
  handleSeconds: fc.option(fc.integer({ min: 0, max: 3600 }), { nil: null }),
  decisionSeconds: fc.option(fc.integer({ min: 0, max: 90 * 86400 }), { nil: null }),
  noRepeat: fc.option(fc.boolean(), { nil: null }),
  withinStandard: fc.option(fc.boolean(), { nil: null }),
  amountCents: fc.option(fc.integer({ min: 0, max: 100000 }), { nil: null }),
}) as fc.Arbitrary<ContactEvent>;

/** A stream: events, then deliveries (indexes with repeats, random order) cut into batches. */
const streamArb = fc.array(eventArb, { minLength: 1, maxLength: 40 }).chain((events) =>
  fc.record({
    events: fc.constant(events),
    order: fc.array(fc.integer({ min: 0, max: events.length - 1 }), { minLength: events.length, maxLength: events.length * 2 }),
    cuts: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
    singly: fc.boolean(),
  }),
);

function valuesSrc(batch: ContactEvent[]) {
  const rows = batch.map((e) => sql`(${e.source}::text, ${e.sourceId}::text, ${e.kind}::text, ${e.channel}::text, ${e.serviceId ?? null}::text,
    ${e.ownerOrgId ?? null}::text, ${e.deliveringOrgId ?? null}::text, ${e.officeId ?? null}::text, ${e.outcome}::text,
    ${e.occurredAt.toISOString()}::timestamptz, ${e.waitSeconds ?? null}::numeric, ${e.handleSeconds ?? null}::numeric,
    ${e.decisionSeconds ?? null}::numeric, ${e.noRepeat ?? null}::boolean, ${e.withinStandard ?? null}::boolean, ${e.amountCents ?? null}::bigint)`);
  return sql`select v.*, v.occurred_at as cursor_at, v.source_id as cursor_id from (values ${sql.join(rows)}) as v(source, source_id, kind, channel,
    service_id, owner_org_id, delivering_org_id, office_id, outcome, occurred_at, wait_s, handle_s, decision_s, no_repeat, within_standard, amount_cents)`;
}

describe('rollups equal a direct count of the events (fast-check)', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDb();
  });
  after(async () => database.cleanup());

  const snapshot = async () => {
    const db = database.db;
    const rollup = await sql`select day::text, service_id, owner_org_id, delivering_org_id, office_id, channel, outcome,
        events::bigint::text, wait_n::text, wait_sum::text, handle_n::text, handle_sum::text, decision_n::text, decision_sum::text,
        no_repeat_n::text, no_repeat_yes::text, standard_n::text, standard_met::text, amount_cents::text
      from perf_daily order by 1, 2, 3, 4, 5, 6, 7`.execute(db);
    const direct = await sql`select day::text, coalesce(service_id, '') as service_id, coalesce(owner_org_id, '') as owner_org_id,
        coalesce(delivering_org_id, '') as delivering_org_id, coalesce(office_id, '') as office_id, channel, outcome,
        count(*)::text as events, count(wait_s)::text as wait_n, coalesce(sum(wait_s), 0)::text as wait_sum,
        count(handle_s)::text as handle_n, coalesce(sum(handle_s), 0)::text as handle_sum,
        count(decision_s)::text as decision_n, coalesce(sum(decision_s), 0)::text as decision_sum,
        count(no_repeat)::text as no_repeat_n, (count(*) filter (where no_repeat))::text as no_repeat_yes,
        count(within_standard)::text as standard_n, (count(*) filter (where within_standard))::text as standard_met,
        coalesce(sum(amount_cents), 0)::text as amount_cents
      from perf_events group by 1, 2, 3, 4, 5, 6, 7 order by 1, 2, 3, 4, 5, 6, 7`.execute(db);
    const hist = await sql`select day::text, service_id, owner_org_id, office_id, channel, measure, bucket::int, n::bigint::text from perf_hist order by 1, 2, 3, 4, 5, 6, 7`.execute(db);
    const histDirect = await sql`select day::text, coalesce(service_id, '') as service_id, coalesce(owner_org_id, '') as owner_org_id,
        coalesce(office_id, '') as office_id, channel, m.measure, floor(ln(1 + m.s) / ln(1.2))::int as bucket, count(*)::text as n
      from perf_events e cross join lateral (values ('wait', e.wait_s), ('handle', e.handle_s), ('decision', e.decision_s)) as m(measure, s)
      where m.s is not null group by 1, 2, 3, 4, 5, 6, 7 order by 1, 2, 3, 4, 5, 6, 7`.execute(db);
    const monthly = await sql`select month::text, service_id, owner_org_id, office_id, channel, outcome, events::bigint::text, wait_n::text,
        wait_sum::text, standard_n::text, standard_met::text from perf_monthly order by 1, 2, 3, 4, 5, 6`.execute(db);
    const monthlyDirect = await sql`select date_trunc('month', day)::date::text as month, coalesce(service_id, '') as service_id,
        coalesce(owner_org_id, '') as owner_org_id, coalesce(office_id, '') as office_id, channel, outcome, count(*)::text as events,
        count(wait_s)::text as wait_n, coalesce(sum(wait_s), 0)::text as wait_sum, count(within_standard)::text as standard_n,
        (count(*) filter (where within_standard))::text as standard_met
      from perf_events group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6`.execute(db);
    const org = await sql`select month::text, owner_org_id, office_id, channel, outcome, events::bigint::text, wait_n::text, wait_sum::text,
        handle_n::text, handle_sum::text, decision_n::text, decision_sum::text, no_repeat_n::text, no_repeat_yes::text, standard_n::text,
        standard_met::text, amount_cents::text from perf_monthly_org order by 1, 2, 3, 4, 5`.execute(db);
    const orgDirect = await sql`select date_trunc('month', day)::date::text as month, coalesce(owner_org_id, '') as owner_org_id,
        coalesce(office_id, '') as office_id, channel, outcome, count(*)::text as events,
        count(wait_s)::text as wait_n, coalesce(sum(wait_s), 0)::text as wait_sum, count(handle_s)::text as handle_n, coalesce(sum(handle_s), 0)::text as handle_sum,
        count(decision_s)::text as decision_n, coalesce(sum(decision_s), 0)::text as decision_sum, count(no_repeat)::text as no_repeat_n,
        (count(*) filter (where no_repeat))::text as no_repeat_yes, count(within_standard)::text as standard_n,
        (count(*) filter (where within_standard))::text as standard_met, coalesce(sum(amount_cents), 0)::text as amount_cents
      from perf_events group by 1, 2, 3, 4, 5 order by 1, 2, 3, 4, 5`.execute(db);
    const histM = await sql`select month::text, owner_org_id, office_id, channel, measure, bucket::int, n::bigint::text from perf_hist_monthly order by 1, 2, 3, 4, 5, 6`.execute(db);
    const histMDirect = await sql`select date_trunc('month', day)::date::text as month, coalesce(owner_org_id, '') as owner_org_id,
        coalesce(office_id, '') as office_id, channel, m.measure, floor(ln(1 + m.s) / ln(1.2))::int as bucket, count(*)::text as n
      from perf_events e cross join lateral (values ('wait', e.wait_s), ('handle', e.handle_s), ('decision', e.decision_s)) as m(measure, s)
      where m.s is not null group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6`.execute(db);
    const events = await sql<{ n: number }>`select count(*)::int as n from perf_events`.execute(db);
    return { rollup: rollup.rows, direct: direct.rows, monthly: monthly.rows, monthlyDirect: monthlyDirect.rows, org: org.rows, orgDirect: orgDirect.rows, histM: histM.rows, histMDirect: histMDirect.rows, hist: hist.rows, histDirect: histDirect.rows, events: events.rows[0].n };
  };

  it('for random streams in random order with repeats, rollups = direct count, and a re-run changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb, async ({ events, order, cuts, singly }) => {
        const db = database.db;
        await sql`truncate perf_survey_mails, perf_events, perf_daily, perf_monthly, perf_monthly_org, perf_hist, perf_hist_monthly`.execute(db);
        const delivered = [...events.map((_, i) => i), ...order]; // every event at least once, then repeats
        const keys = new Set(events.map((e) => `${e.source}|${e.sourceId}|${e.kind}`));
        const batches: ContactEvent[][] = [];
        let i = 0, c = 0;
        while (i < delivered.length) {
          const n = cuts[c++ % cuts.length];
          batches.push(delivered.slice(i, i + n).map((k) => events[k]));
          i += n;
        }
        const run = async () => {
          for (const b of batches) {
            if (singly) for (const e of b) await recordContactEvent(db, e);
            else await rollupStatement(valuesSrc(b)).execute(db);
          }
        };
        await run();
        const first = await snapshot();
        assert.equal(first.events, keys.size, 'one event per (source, source_id, kind)');
        assert.deepEqual(first.rollup, first.direct);
        assert.deepEqual(first.monthly, first.monthlyDirect);
        assert.deepEqual(first.org, first.orgDirect);
        assert.deepEqual(first.histM, first.histMDirect);
        assert.deepEqual(first.hist, first.histDirect);
        await run(); // the whole job again: nothing changes
        const second = await snapshot();
        assert.deepEqual(second, first);
      }),
      { numRuns: Number(process.env.PERF_PROPERTY_RUNS ?? 30) },
    );
  });
});
