/** Business subscribers: yearly subscription, charges on account, monthly statements with the minimum carried, renewal, lapse, cancellation. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, type TestDatabase } from '../../test/support/db';
import { AppError } from '../http/errors';
import { cancelSubscription, chargeOnAccount, chargesOf, renewOrLapse, runStatements, statementsOf, subscribe, subscriptionOf } from './subscriptions';
import { world, type World } from './test/fixtures';

let database: TestDatabase;
let w: World;
async function rejects(p: Promise<unknown>, status: number, code: string) {
  await assert.rejects(p, (e: unknown) => (e instanceof AppError && e.status === status && e.code === code) || assert.fail(`expected ${status} ${code}, got ${(e as any)?.status} ${(e as any)?.code ?? e}`));
}
before(async () => {
  database = await createTestDb({ catalogue: true });
  w = await world(database.db, ['on-mto']);
});
after(async () => database.cleanup());

test('a business subscribes ($75 a year), buys on account, gets monthly statements; under $15 is carried', async () => {
  const db = database.db;
  await rejects(subscribe(db, { businessId: w.clientId }), 400, 'NOT_A_BUSINESS');
  await rejects(subscribe(db, { businessId: 'nobody' }), 404, 'BUSINESS_NOT_FOUND');
  await rejects(subscribe(db, { businessId: w.businessId, yearlyCents: -1 }), 400, 'INVALID_AMOUNT');
  await rejects(chargeOnAccount(db, { businessId: w.businessId, basketRef: 'b0', amountCents: 500, on: '2026-01-10' }), 409, 'NO_ACCOUNT');
  const sub = await subscribe(db, { businessId: w.businessId, on: '2026-01-05' });
  assert.deepEqual([sub!.status, sub!.yearly_cents, sub!.minimum_cents, sub!.ends_on], ['active', 7500, 1500, '2027-01-05']);
  await rejects(subscribe(db, { businessId: w.businessId }), 409, 'SUBSCRIPTION_EXISTS');

  // January: the yearly fee ($75) and a $12 transaction → issued.
  const c1 = await db.transaction().execute((trx) => chargeOnAccount(trx, { businessId: w.businessId, basketRef: 'basket-1', amountCents: 1200, on: '2026-01-20' }));
  assert.equal(c1.replayed, false);
  const again = await chargeOnAccount(db, { businessId: w.businessId, basketRef: 'basket-1', amountCents: 1200, on: '2026-01-20' });
  assert.deepEqual([again.chargeId, again.replayed], [c1.chargeId, true]);
  await rejects(chargeOnAccount(db, { businessId: w.businessId, basketRef: 'basket-1', amountCents: 1300, on: '2026-01-20' }), 409, 'IDEMPOTENCY_CONFLICT');
  for (const bad of [0, -5, 12.5, 1e12]) await rejects(chargeOnAccount(db, { businessId: w.businessId, basketRef: `bad-${bad}`, amountCents: bad, on: '2026-01-20' }), 400, 'INVALID_AMOUNT');
  // February: $9 → under the minimum, carried; March: $4 + carried $9 = $13 → carried again; April: $6 + $13 = $19 → issued.
  await chargeOnAccount(db, { businessId: w.businessId, basketRef: 'basket-2', amountCents: 900, on: '2026-02-11' });
  await chargeOnAccount(db, { businessId: w.businessId, basketRef: 'basket-3', amountCents: 400, on: '2026-03-11' });
  await chargeOnAccount(db, { businessId: w.businessId, basketRef: 'basket-4', amountCents: 600, on: '2026-04-11' });
  await rejects(runStatements(db, '2026-04-01', '2026-04-30'), 409, 'PERIOD_NOT_ENDED');
  for (const m of ['2026-01-01', '2026-02-01', '2026-03-01', '2026-04-01']) await runStatements(db, m, '2026-05-02');
  await runStatements(db, '2026-02-01', '2026-05-02'); // again: nothing new
  const st = (await statementsOf(db, w.businessId)).reverse();
  assert.deepEqual(st.map((s) => [s.month, s.charges_cents, s.carried_in_cents, s.total_cents, s.status]), [
    ['2026-01-01', 8700, 0, 8700, 'issued'],
    ['2026-02-01', 900, 0, 900, 'carried'],
    ['2026-03-01', 400, 900, 1300, 'carried'],
    ['2026-04-01', 600, 1300, 1900, 'issued'],
  ]);
  assert.equal(st[3].due_on, '2026-05-22');
  assert.equal((await chargesOf(db, w.businessId)).filter((c) => c.statement_id === null).length, 0);
});

test('renewal, lapse and cancellation: a lapsed or cancelled account cannot buy on account', async () => {
  const db = database.db;
  // The subscription above renews automatically on 2027-01-05: a new yearly fee, a year more.
  await renewOrLapse(db, '2027-01-05');
  const renewed = await subscriptionOf(db, w.businessId);
  assert.deepEqual([renewed!.status, renewed!.ends_on], ['active', '2028-01-05']);
  assert.equal((await chargesOf(db, w.businessId)).filter((c) => c.kind === 'subscription_fee').length, 2);
  await renewOrLapse(db, '2027-01-06'); // again: nothing
  assert.equal((await chargesOf(db, w.businessId)).filter((c) => c.kind === 'subscription_fee').length, 2);
  await cancelSubscription(db, w.businessId);
  await rejects(chargeOnAccount(db, { businessId: w.businessId, basketRef: 'after-cancel', amountCents: 500, on: '2027-02-01' }), 409, 'ACCOUNT_CANCELLED');
  await rejects(cancelSubscription(db, w.businessId), 409, 'NO_ACTIVE_SUBSCRIPTION');
  // A new subscription without automatic renewal lapses at its end.
  await subscribe(db, { businessId: w.businessId, on: '2027-03-01', autoRenew: false });
  await chargeOnAccount(db, { businessId: w.businessId, basketRef: 'in-year', amountCents: 500, on: '2027-06-01' });
  await rejects(chargeOnAccount(db, { businessId: w.businessId, basketRef: 'past-end', amountCents: 500, on: '2028-03-01' }), 409, 'ACCOUNT_LAPSED');
  await renewOrLapse(db, '2028-03-01');
  assert.equal((await subscriptionOf(db, w.businessId))!.status, 'lapsed');
  await rejects(chargeOnAccount(db, { businessId: w.businessId, basketRef: 'lapsed', amountCents: 500, on: '2028-03-02' }), 409, 'ACCOUNT_LAPSED');
});
