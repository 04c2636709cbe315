/** Checkout over the API with the development provider over real HTTP: baskets, card and counter payments, webhooks, refunds, bad input. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startPaymentsApp, payOnHostedPage, waitFor, DRIVER, DOG, type PaymentsTestApp } from './test/support';
import { TEST_CARDS } from './providers/dev-server';
import { sign } from '../notices/signing';
import { ledgerTotals, balanceOf, payableOf, FEE_REVENUE, clearing } from './ledger';

let t: PaymentsTestApp;
before(async () => {
  t = await startPaymentsApp({ chaos: true });
});
after(async () => t?.close());

const basketBody = { channel: 'web', items: [{ serviceId: DRIVER }, { serviceId: DOG }] };

async function paidBasket(card: string = TEST_CARDS.approved) {
  const b = await t.api('POST', '/api/v1/payments/baskets', basketBody);
  assert.equal(b.status, 201, JSON.stringify(b.json));
  const p = await t.api('POST', `/api/v1/payments/baskets/${b.json.id}/payments`, { method: 'card', returnUrl: `${t.baseUrl}/en/pay/${b.json.id}/return` });
  assert.equal(p.status, 201, JSON.stringify(p.json));
  const back = await payOnHostedPage(p.json.nextUrl, card);
  assert.equal(back, `${t.baseUrl}/en/pay/${b.json.id}/return`);
  return { basket: b.json, payment: p.json };
}

test('a two-partner basket is priced from the fee schedules in force, per payee, and locked for 30 minutes', async () => {
  const b = await t.api('POST', '/api/v1/payments/baskets', basketBody);
  assert.equal(b.status, 201);
  assert.equal(b.json.totalCents, 9000 + 1900);
  const comps = b.json.lines.flatMap((l: any) => l.components.map((c: any) => `${c.kind}:${c.payeeOrgId}:${c.amountCents}`)).sort();
  assert.deepEqual(comps, ['service_fee:guichet:100', 'service_fee:guichet:200', 'statutory:on-mto:8800', 'statutory:ottawa:1800']);
  const ttl = Date.parse(b.json.expiresAt) - Date.now();
  assert.ok(ttl > 29 * 60_000 && ttl <= 30 * 60_000, String(ttl));
});

test('Idempotency-Key: same key and body → the first result; another body → 409; none → 400', async () => {
  const key = 'basket-key-1';
  const a = await t.api('POST', '/api/v1/payments/baskets', basketBody, { key });
  const b = await t.api('POST', '/api/v1/payments/baskets', { items: basketBody.items, channel: 'web' }, { key });
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  assert.equal(b.json.id, a.json.id);
  assert.equal(b.headers['idempotent-replayed'], 'true');
  const c = await t.api('POST', '/api/v1/payments/baskets', { channel: 'web', items: [{ serviceId: DOG }] }, { key });
  assert.equal(c.status, 409);
  assert.equal(c.json.error.code, 'IDEMPOTENCY_KEY_REUSED');
  const d = await t.api('POST', '/api/v1/payments/baskets', basketBody, { key: null });
  assert.equal(d.status, 400);
  assert.equal(d.json.error.code, 'IDEMPOTENCY_KEY_REQUIRED');
  const n = await t.db.selectFrom('payment_baskets').select(sql<number>`count(*)`.as('n')).where('id', '=', a.json.id).executeTakeFirstOrThrow();
  assert.equal(Number(n.n), 1);
});

test('bad input gets a translated 4xx with a code and writes nothing', async () => {
  const before = await t.db.selectFrom('payment_baskets').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  const cases: Array<[unknown, number, string]> = [
    [{ channel: 'web', items: [{ serviceId: 'no-such-service' }] }, 404, 'SERVICE_NOT_FOUND'],
    [{ channel: 'web', items: [{ serviceId: DRIVER }, { serviceId: 'no-such-service' }] }, 404, 'SERVICE_NOT_FOUND'],
    [{ channel: 'phone', items: [{ serviceId: DRIVER }] }, 400, 'VALIDATION_ERROR'],
    [{ channel: 'web', items: [] }, 400, 'VALIDATION_ERROR'],
    [{ channel: 'web', items: [{ serviceId: DRIVER, expectedCents: 0 }] }, 400, 'VALIDATION_ERROR'],
    [{ channel: 'web', items: [{ serviceId: DRIVER, expectedCents: -5 }] }, 400, 'VALIDATION_ERROR'],
    [{ channel: 'web', items: [{ serviceId: DRIVER, expectedCents: 12.5 }] }, 400, 'VALIDATION_ERROR'],
    [{ channel: 'web', items: [{ serviceId: DRIVER, expectedCents: 1e12 }] }, 400, 'VALIDATION_ERROR'],
    [{ channel: 'web', items: [{ serviceId: DRIVER, expectedCents: 8999 }] }, 409, 'PRICE_CHANGED'],
  ];
  for (const [body, status, code] of cases) {
    for (const lang of ['en', 'fr']) {
      const r = await t.api('POST', `/api/v1/payments/baskets?lang=${lang}`, body);
      assert.equal(r.status, status, JSON.stringify([body, r.json]));
      assert.equal(r.json.error.code, code);
      assert.ok(r.json.error.message && !r.json.error.message.startsWith('errors.'), r.json.error.message);
    }
  }
  // a real service with no fee schedule
  const noFee = await t.db.selectFrom('services').select('id').where('id', 'not in', [DRIVER, DOG]).limit(1).executeTakeFirstOrThrow();
  const r = await t.api('POST', '/api/v1/payments/baskets', { channel: 'web', items: [{ serviceId: noFee.id }] });
  assert.equal(r.status, 422);
  assert.equal(r.json.error.code, 'NO_FEE');
  const afterN = await t.db.selectFrom('payment_baskets').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(afterN.n), Number(before.n));
});

test('a card payment on the development provider posts ONE entry crediting each payee; duplicate and late webhooks change nothing', async () => {
  const mto = await balanceOf(t.db, payableOf('on-mto'));
  const ott = await balanceOf(t.db, payableOf('ottawa'));
  const rev = await balanceOf(t.db, FEE_REVENUE);
  const { basket, payment } = await paidBasket();
  const done = await waitFor(async () => {
    const r = await t.api('GET', `/api/v1/payments/${payment.id}`);
    return r.json.status === 'succeeded' ? r.json : null;
  });
  assert.equal(done.refundAmountAvailable, 10900);
  await t.dev.idle(); // chaos: every event twice, plus a stale 'payment.created' after it
  const entries = await t.db.selectFrom('journal_entries').selectAll().where('event', '=', 'payment').where('event_ref', '=', payment.id).execute();
  assert.equal(entries.length, 1);
  const legs = await t.db.selectFrom('journal_legs').select(['account_id', 'amount_cents']).where('entry_id', '=', entries[0].id).execute();
  assert.equal(legs.length, 5);
  assert.equal(await balanceOf(t.db, payableOf('on-mto')), mto - 8800);
  assert.equal(await balanceOf(t.db, payableOf('ottawa')), ott - 1800);
  assert.equal(await balanceOf(t.db, FEE_REVENUE), rev - 300);
  const events = await t.db.selectFrom('provider_events').select(['type', 'outcome']).where('payment_id', '=', payment.id).execute();
  assert.equal(events.filter((e) => e.outcome === 'confirmed').length, 1);
  assert.ok(t.dev.deliveries().length >= 3);
  // paid once
  const again = await t.api('POST', `/api/v1/payments/baskets/${basket.id}/payments`, { method: 'card', returnUrl: `${t.baseUrl}/x` });
  assert.equal(again.status, 409);
  assert.equal(again.json.error.code, 'BASKET_PAID');
  assert.deepEqual(await ledgerTotals(t.db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
});

test('a declined card posts nothing; the basket can be paid again', async () => {
  const b = await t.api('POST', '/api/v1/payments/baskets', basketBody);
  const p1 = await t.api('POST', `/api/v1/payments/baskets/${b.json.id}/payments`, { method: 'card', returnUrl: `${t.baseUrl}/r` });
  await payOnHostedPage(p1.json.nextUrl, TEST_CARDS.declined);
  await waitFor(async () => (await t.api('GET', `/api/v1/payments/${p1.json.id}`)).json.status === 'failed');
  const p2 = await t.api('POST', `/api/v1/payments/baskets/${b.json.id}/payments`, { method: 'card', returnUrl: `${t.baseUrl}/r` });
  await payOnHostedPage(p2.json.nextUrl, TEST_CARDS.error);
  await waitFor(async () => (await t.api('GET', `/api/v1/payments/${p2.json.id}`)).json.status === 'failed');
  const n = await t.db.selectFrom('journal_entries').select(sql<number>`count(*)`.as('n')).where('event_ref', 'in', [p1.json.id, p2.json.id]).executeTakeFirstOrThrow();
  assert.equal(Number(n.n), 0);
  const p3 = await t.api('POST', `/api/v1/payments/baskets/${b.json.id}/payments`, { method: 'card', returnUrl: `${t.baseUrl}/r` });
  await payOnHostedPage(p3.json.nextUrl, TEST_CARDS.approved);
  await waitFor(async () => (await t.api('GET', `/api/v1/payments/${p3.json.id}`)).json.status === 'succeeded');
});

test('a webhook with a bad signature answers 401 and records nothing; one for an unknown payment answers 404', async () => {
  const count = async () => Number((await t.db.selectFrom('provider_events').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
  const n0 = await count();
  const body = JSON.stringify({ id: 'evt_forged', type: 'payment.succeeded', data: { payment_id: 'dp_x' } });
  for (const header of [sign('wrong-secret', body), 't=1,v1=00', undefined]) {
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/payments/webhooks/dev', headers: { 'content-type': 'application/json', ...(header ? { 'guichet-signature': header } : {}) }, payload: body });
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().error.code, 'WEBHOOK_SIGNATURE_INVALID');
  }
  const unknown = await t.app.inject({ method: 'POST', url: '/api/v1/payments/webhooks/dev', headers: { 'content-type': 'application/json', 'guichet-signature': sign('whsec_test', body) }, payload: body });
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().error.code, 'PAYMENT_NOT_FOUND');
  assert.equal(await count(), n0);
});

test('refunds: stale refund_amount_available → 409, above available → 422, partial split per payee, never more than paid', async () => {
  const { payment } = await paidBasket();
  await waitFor(async () => (await t.api('GET', `/api/v1/payments/${payment.id}`)).json.status === 'succeeded');
  const url = `/api/v1/payments/${payment.id}/refunds`;
  const stale = await t.api('POST', url, { amount: 1000, refund_amount_available: 5000 }, { cookie: t.managerCookie });
  assert.equal(stale.status, 409);
  assert.equal(stale.json.error.code, 'REFUND_AMOUNT_AVAILABLE_MISMATCH');
  const above = await t.api('POST', url, { amount: 10901, refund_amount_available: 10900 }, { cookie: t.managerCookie });
  assert.equal(above.status, 422);
  assert.equal(above.json.error.code, 'REFUND_EXCEEDS_AVAILABLE');
  const noAuth = await t.api('POST', url, { amount: 100, refund_amount_available: 10900 });
  assert.equal(noAuth.status, 401);
  const key = 'refund-1';
  const r1 = await t.api('POST', url, { amount: 1090, refund_amount_available: 10900, reason: 'test' }, { cookie: t.managerCookie, key });
  assert.equal(r1.status, 201, JSON.stringify(r1.json));
  assert.equal(r1.json.status, 'succeeded');
  assert.equal(r1.json.refundAmountAvailable, 9810);
  // 10% of each component: 880 + 20 + 180 + 10
  assert.deepEqual(r1.json.components.map((c: any) => c.amountCents).sort((a: number, b: number) => a - b), [10, 20, 180, 880]);
  const replay = await t.api('POST', url, { amount: 1090, refund_amount_available: 10900, reason: 'test' }, { cookie: t.managerCookie, key });
  assert.equal(replay.json.id, r1.json.id);
  const rest = await t.api('POST', url, { amount: 9810, refund_amount_available: 9810 }, { cookie: t.managerCookie });
  assert.equal(rest.status, 201);
  const more = await t.api('POST', url, { amount: 1, refund_amount_available: 0 }, { cookie: t.managerCookie });
  assert.equal(more.status, 422);
  assert.equal(more.json.error.code, 'REFUND_EXCEEDS_AVAILABLE');
  const d = (await t.api('GET', `/api/v1/payments/${payment.id}`)).json;
  for (const l of d.lines) for (const c of l.components) assert.equal(c.refundedCents, c.amountCents);
  assert.equal(d.refundAmountAvailable, 0);
  assert.deepEqual(await ledgerTotals(t.db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
  assert.ok((await balanceOf(t.db, clearing('dev'))) >= 0);
});

test('an expired basket cannot be paid; a counter basket paid in cash posts to the office\'s cash', async () => {
  const b = await t.api('POST', '/api/v1/payments/baskets', basketBody);
  await sql`update payment_baskets set expires_at = now() - interval '1 minute' where id = ${b.json.id}`.execute(t.db);
  const p = await t.api('POST', `/api/v1/payments/baskets/${b.json.id}/payments`, { method: 'card', returnUrl: `${t.baseUrl}/r` });
  assert.equal(p.status, 409);
  assert.equal(p.json.error.code, 'BASKET_EXPIRED');
  const c = await t.api('POST', '/api/v1/payments/baskets', { channel: 'counter', officeId: 'ottawa-rideau', items: [{ serviceId: DRIVER }] }, { cookie: t.managerCookie });
  assert.equal(c.status, 201, JSON.stringify(c.json));
  assert.equal(c.json.totalCents, 9000); // in person: no share
  const cash = await t.api('POST', `/api/v1/payments/baskets/${c.json.id}/payments`, { method: 'cash' }, { cookie: t.managerCookie });
  assert.equal(cash.status, 201);
  assert.equal(cash.json.status, 'succeeded');
  assert.equal(await balanceOf(t.db, 'cash:ottawa-rideau'), 9000);
  const anon = await t.api('POST', `/api/v1/payments/baskets/${b.json.id}/payments`, { method: 'cash' });
  assert.equal(anon.status, 401);
});
