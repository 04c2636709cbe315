/**
 * Group commit of webhook confirmations (confirm-batcher.ts, payments_confirm_many of migration 007), on PGlite and
 * on PostgreSQL: many concurrent confirmations — some duplicated (the same event again, or another event for the same
 * payment), one for an unknown payment, one whose entry cannot balance — are each posted exactly once, each caller
 * gets its own answer, the bad one fails alone, and the ledger balances.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestDb, type TestDatabase } from '../../test/support/db';
import { seedDemoAgreements } from '../agreements/demo';
import { insertPendingPayments } from './test/pending';
import { ConfirmBatcher, type ConfirmResult } from './confirm-batcher';
import { ensureAccounts, ledgerTotals, balanceOf, clearing, payableOf, FEE_REVENUE } from './ledger';

let database: TestDatabase;
before(async () => {
  database = await createTestDb({ catalogue: true, poolSize: 8 });
  await seedDemoAgreements(database.db);
  await ensureAccounts(database.db, [clearing('dev'), payableOf('on-mto'), payableOf('ottawa'), FEE_REVENUE]);
});
after(async () => database?.cleanup());

const BALANCED = { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 };

async function entriesOf(prefix: string) {
  const r = await sql<{ n: number; dup: number }>`
    select count(*) as n, count(*) - count(distinct e.event_ref) as dup
    from journal_entries e join payments p on e.posting_key = 'payment:' || p.id where p.provider_ref like ${prefix + '\\_%'}`.execute(database.db);
  return { n: Number(r.rows[0].n), dup: Number(r.rows[0].dup) };
}

test('one batch: duplicates, an unknown payment and a payment whose entry cannot balance — each caller gets its own answer, every good payment is posted once', async () => {
  const db = database.db;
  const N = 40;
  await insertPendingPayments(db, 'gb', N);
  // gb_40's amount no longer matches its components: its entry cannot balance, the database refuses it at commit
  await sql`update payments set amount_cents = 10901 where provider = 'dev' and provider_ref = 'gb_40'`.execute(db);
  const mto0 = await balanceOf(db, payableOf('on-mto'));
  const batcher = new ConfirmBatcher(db, { maxBatch: 256, inFlight: 1 });
  type Ask = { ref: string; ev: string };
  const asks: Ask[] = [];
  for (let i = 1; i <= N; i++) asks.push({ ref: `gb_${i}`, ev: `evt_gb_${i}` });
  for (let i = 2; i <= 6; i++) asks.push({ ref: `gb_${i}`, ev: `evt_gb_${i}` }); // the same event again
  for (let i = 7; i <= 11; i++) asks.push({ ref: `gb_${i}`, ev: `evt_gb_${i}_retry` }); // another event, same payment
  asks.push({ ref: 'gb_nope', ev: 'evt_gb_nope' }); // unknown payment
  // all at once: the first goes alone (nothing was in flight), the rest wait for it and make one batch
  const settled = await Promise.allSettled(asks.map((a) => batcher.confirm({ provider: 'dev', providerRef: a.ref, eventId: a.ev })));
  assert.equal(batcher.stats.calls, 2, JSON.stringify(batcher.stats));
  assert.equal(batcher.stats.largest, asks.length - 1);
  assert.equal(batcher.stats.fallbacks, 1, 'the bad payment failed the batch, which was confirmed again one by one');

  const byRef = new Map<string, Array<PromiseSettledResult<ConfirmResult>>>();
  asks.forEach((a, i) => byRef.set(a.ref, [...(byRef.get(a.ref) ?? []), settled[i]]));
  const ok = (s: PromiseSettledResult<ConfirmResult>) => {
    assert.equal(s.status, 'fulfilled', s.status === 'rejected' ? String(s.reason) : '');
    return (s as PromiseFulfilledResult<ConfirmResult>).value;
  };
  const ids = await sql<{ id: string; ref: string }>`select id, provider_ref as ref from payments where provider_ref like 'gb\\_%'`.execute(db);
  const idOf = new Map(ids.rows.map((r) => [r.ref, r.id]));
  for (let i = 1; i < N; i++) {
    const rs = byRef.get(`gb_${i}`)!.map(ok);
    assert.equal(rs[0].outcome, 'confirmed', `gb_${i}`);
    assert.equal(rs[0].duplicate, false);
    assert.equal(rs[0].paymentId, idOf.get(`gb_${i}`));
    assert.ok(rs[0].entryId != null && rs[0].entryId > 0);
    if (i >= 2 && i <= 6) assert.deepEqual({ ...rs[1], paymentId: null }, { paymentId: null, outcome: 'unchanged', duplicate: true, entryId: null });
    if (i >= 7 && i <= 11) assert.deepEqual({ ...rs[1], paymentId: null }, { paymentId: null, outcome: 'unchanged', duplicate: false, entryId: null });
  }
  assert.deepEqual(ok(byRef.get('gb_nope')![0]), { paymentId: null, outcome: 'not_found', duplicate: false, entryId: null });
  const bad = byRef.get(`gb_${N}`)![0];
  assert.equal(bad.status, 'rejected');
  assert.match(String((bad as PromiseRejectedResult).reason), /unbalanced/);

  // exactly once: N − 1 entries, one per good payment; the bad one and the unknown one left nothing
  assert.deepEqual(await entriesOf('gb'), { n: N - 1, dup: 0 });
  const st = await sql<{ status: string; n: number }>`select status, count(*) as n from payments where provider_ref like 'gb\\_%' group by status order by status`.execute(db);
  assert.deepEqual(st.rows.map((r) => [r.status, Number(r.n)]), [['pending', 1], ['succeeded', N - 1]]);
  const paid = await sql<{ n: number }>`select count(*) as n from payment_baskets where reference like 'GB-%' and status = 'paid'`.execute(db);
  assert.equal(Number(paid.rows[0].n), N - 1);
  const evs = await sql<{ outcome: string; n: number }>`select outcome, count(*) as n from provider_events where event_id like 'evt\\_gb\\_%' group by outcome order by outcome`.execute(db);
  assert.deepEqual(evs.rows.map((r) => [r.outcome, Number(r.n)]), [['confirmed', N - 1], ['unchanged', 5]]);
  assert.equal(await balanceOf(db, payableOf('on-mto')) - mto0, -8800 * (N - 1));
  assert.deepEqual(await ledgerTotals(db), BALANCED);

  // late webhooks, batched again: nothing changes
  const late = await Promise.all(asks.slice(0, 20).map((a) => batcher.confirm({ provider: 'dev', providerRef: a.ref, eventId: a.ev })));
  assert.ok(late.every((r) => r.outcome === 'unchanged' && r.duplicate && r.entryId === null), JSON.stringify(late));
  assert.deepEqual(await entriesOf('gb'), { n: N - 1, dup: 0 });
  assert.deepEqual(await ledgerTotals(db), BALANCED);
});

test('two payments of one basket in one batch: only the first is confirmed (a basket is paid once)', async () => {
  const db = database.db;
  await insertPendingPayments(db, 'gs', 2);
  // a second pending card payment of gs_1's basket
  await sql`insert into payments (basket_id, reference, provider, provider_ref, method, amount_cents, status, debit_account_id)
    select basket_id, reference, provider, 'gs_1b', method, amount_cents, 'pending', debit_account_id from payments where provider_ref = 'gs_1'`.execute(db);
  const batcher = new ConfirmBatcher(db, { maxBatch: 16, inFlight: 1 });
  const [a, b, c, d] = await Promise.all(['gs_2', 'gs_1b', 'gs_1', 'gs_2'].map((ref, i) => batcher.confirm({ provider: 'dev', providerRef: ref, eventId: `evt_gs_${i}` })));
  assert.equal(a.outcome, 'confirmed'); // alone, first
  assert.equal(b.outcome, 'confirmed');
  assert.equal(c.outcome, 'unchanged');
  assert.equal(d.outcome, 'unchanged');
  assert.equal(batcher.stats.fallbacks, 0);
  const st = await sql<{ ref: string; status: string }>`select provider_ref as ref, status from payments where provider_ref like 'gs\\_%' order by provider_ref`.execute(db);
  assert.deepEqual(st.rows.map((r) => `${r.ref}:${r.status}`), ['gs_1:pending', 'gs_1b:succeeded', 'gs_2:succeeded']);
  assert.deepEqual(await entriesOf('gs'), { n: 2, dup: 0 });
  assert.deepEqual(await ledgerTotals(db), BALANCED);
});

test('concurrent batches of two server processes sharing payments in different orders: no deadlock, each posted once', async () => {
  const db = database.db;
  const N = 150;
  await insertPendingPayments(db, 'gc', N);
  const one = new ConfirmBatcher(db, { maxBatch: 32, inFlight: 3 });
  const two = new ConfirmBatcher(db, { maxBatch: 32, inFlight: 3 });
  // every payment three times (the same event id twice, a retry once), spread over both batchers, shuffled
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const asks = Array.from({ length: N }, (_, i) => [
    { ref: `gc_${i + 1}`, ev: `evt_gc_${i + 1}` }, { ref: `gc_${i + 1}`, ev: `evt_gc_${i + 1}` }, { ref: `gc_${i + 1}`, ev: `evt_gc_${i + 1}_r` },
  ]).flat().map((a) => ({ a, k: rnd() })).sort((x, y) => x.k - y.k).map((x) => x.a);
  const results = await Promise.all(asks.map((a, i) => (i % 2 ? one : two).confirm({ provider: 'dev', providerRef: a.ref, eventId: a.ev }).then((r) => ({ a, r }))));
  const confirmed = new Map<string, number>();
  for (const { a, r } of results) if (r.outcome === 'confirmed') confirmed.set(a.ref, (confirmed.get(a.ref) ?? 0) + 1);
  assert.equal(confirmed.size, N);
  assert.ok([...confirmed.values()].every((n) => n === 1));
  // each event id: recorded once, and of its two deliveries at most one is not a duplicate
  const firsts = results.filter(({ a, r }) => !a.ev.endsWith('_r') && !r.duplicate).length;
  assert.equal(firsts, N);
  assert.ok(one.stats.largest > 1 || two.stats.largest > 1, 'batches were made');
  assert.deepEqual(await entriesOf('gc'), { n: N, dup: 0 });
  assert.deepEqual(await ledgerTotals(db), BALANCED);
});
