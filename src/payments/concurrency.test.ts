/**
 * Concurrency (meaningful on PostgreSQL, where requests really run at once; PGlite serialises them):
 * 20 concurrent refunds of one payment never refund more than was paid; two concurrent remittance runs never remit
 * the same payment twice.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { startPaymentsApp, payOnHostedPage, waitFor, DRIVER, DOG, type PaymentsTestApp } from './test/support';
import { TEST_CARDS } from './providers/dev-server';
import { runRemittance } from './remittance';
import { ledgerTotals } from './ledger';
import { localDate } from '../i18n/index';

let t: PaymentsTestApp;
before(async () => {
  t = await startPaymentsApp();
});
after(async () => t?.close());

async function paid(services: string[]) {
  const b = await t.api('POST', '/api/v1/payments/baskets', { channel: 'web', items: services.map((serviceId) => ({ serviceId })) });
  const p = await t.api('POST', `/api/v1/payments/baskets/${b.json.id}/payments`, { method: 'card', returnUrl: `${t.baseUrl}/r` });
  await payOnHostedPage(p.json.nextUrl, TEST_CARDS.approved);
  await waitFor(async () => (await t.db.selectFrom('payments').select('status').where('id', '=', p.json.id).executeTakeFirstOrThrow()).status === 'succeeded');
  return p.json.id as string;
}

test('20 concurrent refunds of one payment, all stating the same refund_amount_available, never refund more than was paid', async () => {
  const id = await paid([DRIVER, DOG]); // 10,900
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    fetch(`${t.baseUrl}/api/v1/payments/${id}/refunds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID(), cookie: t.managerCookie, 'x-csrf-token': /guichet_csrf=([^;]+)/.exec(t.managerCookie)![1] },
      body: JSON.stringify({ amount: 1000 + i, refund_amount_available: 10900 }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any })),
  ));
  const ok = results.filter((r) => r.status === 201);
  assert.equal(ok.length, 1, JSON.stringify(results.map((r) => r.status)));
  for (const r of results.filter((x) => x.status !== 201)) {
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'REFUND_AMOUNT_AVAILABLE_MISMATCH');
  }
  // each then refunds with a fresh figure: never beyond 10,900 in total
  const more = await Promise.all(Array.from({ length: 20 }, async () => {
    for (let attempt = 0; attempt < 30; attempt++) {
      const left = (await t.api('GET', `/api/v1/payments/${id}`)).json.refundAmountAvailable;
      if (left === 0) return 'done';
      const r = await t.api('POST', `/api/v1/payments/${id}/refunds`, { amount: Math.min(left, 1500), refund_amount_available: left }, { cookie: t.managerCookie });
      if (r.status === 201) return 'refunded';
      assert.ok([409, 422].includes(r.status), JSON.stringify(r.json));
    }
    return 'gave up';
  }));
  assert.ok(more.length === 20);
  const sum = await sql<{ s: number }>`select coalesce(sum(amount_cents), 0) as s from refunds where payment_id = ${id} and status <> 'failed'`.execute(t.db);
  assert.ok(Number(sum.rows[0].s) <= 10900, String(sum.rows[0].s));
  const over = await sql<{ n: number }>`select count(*) as n from basket_components c where c.amount_cents < (select coalesce(sum(rc.amount_cents), 0) from refund_components rc where rc.component_id = c.id)`.execute(t.db);
  assert.equal(Number(over.rows[0].n), 0);
  assert.deepEqual(await ledgerTotals(t.db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
});

test('two concurrent remittance runs never remit the same payment twice', async () => {
  for (let i = 0; i < 6; i++) await paid(i % 2 ? [DRIVER] : [DRIVER, DOG]);
  const today = localDate();
  const runs = await Promise.all([0, 1, 2, 3].map(() => runRemittance(t.db, { on: today, cutoff: today, orgIds: ['on-mto', 'ottawa'] })));
  const batches = runs.flatMap((r) => r.batches);
  assert.ok(batches.length >= 1 && batches.length <= 2);
  const dup = await sql<{ n: number }>`select count(*) as n from (select component_id from remittance_items where not returned and component_id is not null group by component_id having count(*) > 1) d`.execute(t.db);
  assert.equal(Number(dup.rows[0].n), 0);
  const unremitted = await sql<{ n: number }>`select count(*) as n from basket_components c join payments p on p.basket_id = c.basket_id and p.status = 'succeeded'
    where c.account_id in ('payable:on-mto', 'payable:ottawa') and not exists (select 1 from remittance_items i where i.component_id = c.id and not i.returned)`.execute(t.db);
  assert.equal(Number(unremitted.rows[0].n), 0, 'every component remitted once');
  assert.deepEqual(await ledgerTotals(t.db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
});
