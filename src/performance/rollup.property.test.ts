/**
 * Property: for random streams of contact events, delivered in random order, in random batches and with repeats,
 * with the rollup job run at random points in between (random batch sizes), every rollup equals a direct count of the
 * raw events (computed here, in JavaScript, from perf_events); running the whole stream and the job again changes
 * nothing; rebuilding the rollups by aggregate gives the same tables. On PostgreSQL, an event whose transaction
 * commits after a later one has been rolled up is still counted, once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { createTestDb, type TestDatabase } from '../../test/support/db';
import { insertEventsStatement, rebuildRollups, recordContactEvent, rollupPending, type ContactEvent } from './events';
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

/** A stream: events, then deliveries (indexes with repeats, random order) cut into batches; rollup runs in between. */
const streamArb = fc.array(eventArb, { minLength: 1, maxLength: 40 }).chain((events) =>
  fc.record({
    events: fc.constant(events),
    order: fc.array(fc.integer({ min: 0, max: events.length - 1 }), { minLength: events.length, maxLength: events.length * 2 }),
    cuts: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
    singly: fc.boolean(),
    // after which batches the rollup job runs, and with what batch size
    rollAfter: fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
    rollBatch: fc.integer({ min: 1, max: 7 }),
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

/** The rollups' keys, written out independently of events.ts. */
const COUNT_TABLES: Record<string, string[]> = {
  perf_daily: ['day', 'service_id', 'owner_org_id', 'delivering_org_id', 'office_id', 'channel', 'outcome'],
  perf_monthly: ['service_id', 'month', 'owner_org_id', 'channel', 'outcome'],
  perf_monthly_org: ['month', 'owner_org_id', 'office_id', 'channel', 'outcome'],
  perf_monthly_owner: ['month', 'owner_org_id', 'channel', 'outcome'],
  perf_monthly_office: ['month', 'office_id', 'channel', 'outcome'],
  perf_monthly_total: ['month', 'channel', 'outcome'],
  perf_monthly_owner_summary: ['month', 'owner_org_id'],
};
/** Count rollups that also keep outcome classes: transactions (completed, not eligible), started (those, abandoned, failed), web transactions. */
const WITH_CLASSES = new Set(['perf_monthly_owner_summary']);
const CLASS_COLUMNS = ['transactions', 'started', 'web_transactions'];
const HIST_TABLES: Record<string, string[]> = {
  perf_hist_monthly: ['month', 'owner_org_id'],
  perf_hist_service: ['service_id', 'month'],
  perf_hist_total: ['month'],
};
const SUMS = ['events', 'wait_n', 'wait_sum', 'handle_n', 'handle_sum', 'decision_n', 'decision_sum', 'no_repeat_n', 'no_repeat_yes', 'standard_n', 'standard_met', 'amount_cents'];

interface Ev { [k: string]: string | number | boolean | null }

/** Every rollup as sorted lines "key… | figures", from the tables, or computed from the raw events. */
async function fromTables(db: TestDatabase['db']): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [t, keys] of Object.entries({ ...COUNT_TABLES, ...HIST_TABLES })) {
    const cols = keys.map((k) => (k === 'day' || k === 'month' ? `${k}::text as ${k}` : k));
    const vals = t in COUNT_TABLES ? [...SUMS, ...(WITH_CLASSES.has(t) ? CLASS_COLUMNS : [])].map((s) => `${s}::text as ${s}`) : ['measure', 'bucket::text as bucket', 'n::text as n'];
    const rows = await sql.raw<Ev>(`select ${[...cols, ...vals].join(', ')} from ${t}`).execute(db);
    out[t] = rows.rows.map((r) => Object.values(r).join('|')).sort();
  }
  return out;
}

function fromEvents(events: Ev[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [t, keys] of Object.entries(COUNT_TABLES)) {
    const m = new Map<string, number[]>();
    for (const e of events) {
      const k = keys.map((x) => e[x] ?? '').join('|');
      const classes = WITH_CLASSES.has(t);
      const a = m.get(k) ?? [...SUMS, ...(classes ? CLASS_COLUMNS : [])].map(() => 0);
      const has = (v: unknown) => (v === null ? 0 : 1);
      const add = [1, has(e.wait_s), Number(e.wait_s ?? 0), has(e.handle_s), Number(e.handle_s ?? 0), has(e.decision_s), Number(e.decision_s ?? 0),
        has(e.no_repeat), e.no_repeat === true ? 1 : 0, has(e.within_standard), e.within_standard === true ? 1 : 0, Number(e.amount_cents ?? 0)];
      if (classes) {
        const done = e.outcome === 'completed' || e.outcome === 'not_eligible';
        add.push(done ? 1 : 0, done || e.outcome === 'abandoned' || e.outcome === 'failed' ? 1 : 0, done && e.channel === 'web' ? 1 : 0);
      }
      m.set(k, a.map((v, i) => v + add[i]));
    }
    out[t] = [...m.entries()].map(([k, a]) => `${k}|${a.join('|')}`).sort();
  }
  for (const [t, keys] of Object.entries(HIST_TABLES)) {
    const m = new Map<string, number>();
    for (const e of events) {
      for (const measure of ['wait', 'handle', 'decision']) {
        if (e[`${measure}_s`] === null) continue;
        const k = [...keys.map((x) => e[x] ?? ''), measure, e[`${measure}_b`]].join('|');
        m.set(k, (m.get(k) ?? 0) + 1);
      }
    }
    out[t] = [...m.entries()].map(([k, n]) => `${k}|${n}`).sort();
  }
  return out;
}

async function rawEvents(db: TestDatabase['db']): Promise<Ev[]> {
  // the bucket of each time comes from the database (its ln), the grouping from here
  const r = await sql<Ev>`select day::text as day, to_char(day, 'YYYY-MM-01') as month, service_id, owner_org_id, delivering_org_id, office_id,
      channel, outcome, wait_s, handle_s, decision_s, no_repeat, within_standard, amount_cents::int as amount_cents,
      floor(ln(1 + wait_s) / ln(1.2))::int as wait_b, floor(ln(1 + handle_s) / ln(1.2))::int as handle_b, floor(ln(1 + decision_s) / ln(1.2))::int as decision_b
    from perf_events`.execute(db);
  return r.rows;
}

const ALL = 'perf_survey_mails, perf_events, perf_rollup_cursor, perf_daily, perf_monthly, perf_monthly_org, perf_monthly_owner, perf_monthly_owner_summary, perf_monthly_office, perf_monthly_total, perf_hist_monthly, perf_hist_service, perf_hist_total';

describe('rollups equal a direct count of the events (fast-check)', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDb();
  });
  after(async () => database.cleanup());

  it('for random streams in random order with repeats, rollups = direct count; a re-run changes nothing; a rebuild gives the same', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb, async ({ events, order, cuts, singly, rollAfter, rollBatch }) => {
        const db = database.db;
        await sql.raw(`truncate ${ALL}`).execute(db);
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
          for (const [j, b] of batches.entries()) {
            if (singly) for (const e of b) await recordContactEvent(db, e);
            else await insertEventsStatement(valuesSrc(b)).execute(db);
            if (rollAfter[j % rollAfter.length]) await rollupPending(db, { batchSize: rollBatch, maxBatches: 1 + (j % 3) });
          }
          await rollupPending(db, { batchSize: rollBatch });
        };
        await run();
        const raw = await rawEvents(db);
        assert.equal(raw.length, keys.size, 'one event per (source, source_id, kind)');
        const first = await fromTables(db);
        assert.deepEqual(first, fromEvents(raw));
        await run(); // the whole stream and the job again: nothing changes
        assert.deepEqual(await fromTables(db), first);
        await rebuildRollups(db); // the bulk path gives the same tables, and the job then finds nothing to add
        assert.deepEqual(await fromTables(db), first);
        assert.equal((await rollupPending(db)).events, 0);
      }),
      { numRuns: Number(process.env.PERF_PROPERTY_RUNS ?? 30) },
    );
  });

  it('an event whose transaction commits after a later event was rolled up is counted once (PostgreSQL: concurrent transactions)', { skip: !process.env.DATABASE_URL && 'PGlite has one connection' }, async () => {
    const db = database.db;
    await sql.raw(`truncate ${ALL}`).execute(db);
    const ev = (id: string): ContactEvent => ({ source: 'race', sourceId: id, kind: 'contact', channel: 'web', serviceId: 'svc-a', ownerOrgId: 'org-1', outcome: 'completed', occurredAt: new Date('2025-02-01T12:00:00Z') });
    const events = async () => Number((await sql<{ n: string }>`select coalesce(sum(events), 0)::text as n from perf_monthly_owner`.execute(db)).rows[0].n);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const insertedA = new Promise<void>((r) => (inserted = r));
    // A takes the lower id and stays open while B commits and the job runs
    const a = db.transaction().execute(async (trx) => {
      await recordContactEvent(trx, ev('a'));
      inserted();
      await held;
    });
    await insertedA;
    await recordContactEvent(db, ev('b'));
    const during = await rollupPending(db, { settleMs: 0 });
    assert.equal(during.events, 0, 'nothing past a running transaction is taken (B waits for A)');
    release();
    await a;
    // (on a shared cluster another database's open transaction may hold the horizon a moment longer)
    assert.equal((await rollupPending(db, { settleMs: 60_000 })).events, 2);
    assert.equal(await events(), 2);
    assert.equal((await rollupPending(db)).events, 0);
    assert.equal(await events(), 2);
  });
});
