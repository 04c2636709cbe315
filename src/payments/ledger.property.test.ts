/**
 * Model-based property test of the ledger (fast-check). Random sequences of baskets with several payees, card
 * payments (approved and declined, on the development provider over HTTP), counter cash and subscriber-on-account
 * payments, partial and full refunds (some with a stale refund_amount_available), guarantee refunds borne by the
 * partner or the one-stop, remittance runs (each started twice), returned transfers and statement payments.
 * After every step:
 *  - every entry and the whole ledger sum to zero, and every account's balance equals the sum of its legs;
 *  - each partner's payable = collected − refunds it bears − remitted (non-returned batches, gross of netting),
 *    computed by an independent model;
 *  - no payee goes below zero: no component is ever refunded more than it received, and each refund's split is the
 *    proportional one (within a cent);
 *  - replaying a request with its Idempotency-Key changes nothing and returns the first answer;
 *  - card costs (the provider's fee of each card payment, from its settlement report) are posted once each.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { startPaymentsApp, payOnHostedPage, waitFor, DRIVER, DOG, type PaymentsTestApp } from './test/support';
import { TEST_CARDS, devFee } from './providers/dev-server';
import { withIdempotency } from './idempotency';
import { createBasket, startPayment } from './checkout';
import { createRefund, refundableLeft, sendToProvider } from './refunds';
import { runRemittance, setBatchStatus } from './remittance';
import { recordStatementPayment } from './statements';
import { ledgerTotals, balanceOf, payableOf, ONE_STOP_ORG_ID, CARD_COSTS } from './ledger';
import { postCardCosts } from './card-costs';
import { paymentProvider } from './providers/select';
import { localDate } from '../i18n/index';
import { subscribe } from '../billing/subscriptions';

let t: PaymentsTestApp;
const BUSINESS = 'biz-prop-test';
before(async () => {
  t = await startPaymentsApp();
  await sql`insert into clients (id, kind, business_name) values (${BUSINESS}, 'business', 'Prop Test Inc.') on conflict do nothing`.execute(t.db);
  await subscribe(t.db, { businessId: BUSINESS }); // a business subscriber (billing) may pay on account
});
after(async () => t?.close());

type Method = 'card' | 'declined' | 'cash' | 'account';
type Op =
  | { t: 'pay'; services: string[]; method: Method; replay: boolean }
  | { t: 'refund'; pick: number; fraction: number; stale: boolean; replay: boolean }
  | { t: 'guarantee'; pick: number; bearer: 'partner' | 'one_stop' }
  | { t: 'remit' }
  | { t: 'return'; pick: number }
  | { t: 'statement'; fraction: number }
  | { t: 'settle' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('pay' as const), services: fc.subarray([DRIVER, DOG, DOG], { minLength: 1 }), method: fc.constantFrom<Method>('card', 'declined', 'cash', 'account'), replay: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('refund' as const), pick: fc.nat(), fraction: fc.double({ min: 0.001, max: 1, noNaN: true }), stale: fc.boolean(), replay: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('guarantee' as const), pick: fc.nat(), bearer: fc.constantFrom<'partner' | 'one_stop'>('partner', 'one_stop') }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('remit' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('return' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('statement' as const), fraction: fc.double({ min: 0.01, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('settle' as const) }) },
);

interface MComp { id: number; org: string; account: string; amount: number; refunded: number; serviceId: string }
interface MPayment { id: string; method: Method; amount: number; comps: MComp[]; feePosted?: boolean }
interface Model {
  payments: MPayment[];
  collected: Map<string, number>;
  borne: Map<string, number>;
  remitted: Map<string, number>;
  batches: Array<{ id: string; org: string; gross: number; returned: boolean }>;
  statementOwed: number;
  /** costs:card: the provider's fees posted (1.5% + 10¢ of each card payment, from its settlement report). */
  cardCosts: number;
}

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const PARTNERS = ['on-mto', 'ottawa'];

async function entryCount() {
  return Number((await t.db.selectFrom('journal_entries').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
}

async function check(model: Model, label: string) {
  assert.deepEqual(await ledgerTotals(t.db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 }, label);
  for (const org of PARTNERS) {
    const owed = 0 - (await balanceOf(t.db, payableOf(org)));
    const expected = (model.collected.get(org) ?? 0) - (model.borne.get(org) ?? 0) - (model.remitted.get(org) ?? 0);
    assert.equal(owed + 0, expected + 0, `${label}: payable of ${org}`);
  }
  // no component refunded beyond what it received (database view)
  const over = await sql<{ n: number }>`
    select count(*) as n from basket_components c
    where c.amount_cents < coalesce((select sum(rc.amount_cents) from refund_components rc join refunds f on f.id = rc.refund_id where rc.component_id = c.id and f.status <> 'failed'), 0)`.execute(t.db);
  assert.equal(Number(over.rows[0].n), 0, `${label}: a component refunded beyond what it received`);
  for (const p of model.payments) for (const c of p.comps) assert.ok(c.refunded <= c.amount && c.refunded >= 0, label);
  assert.equal((await balanceOf(t.db, `receivable:statement:${BUSINESS}`)) + 0, model.statementOwed + 0, `${label}: statement owed`);
  assert.equal((await balanceOf(t.db, CARD_COSTS)) + 0, model.cardCosts + 0, `${label}: card costs`);
}

async function runOp(model: Model, op: Op, today: string) {
  const provider = paymentProvider();
  if (op.t === 'pay') {
    const channel = op.method === 'cash' ? 'counter' : op.method === 'account' ? 'account' : 'web';
    const body = { channel, items: op.services.map((serviceId) => ({ serviceId })) };
    const key = crypto.randomUUID();
    const make = () => withIdempotency(t.db, 'prop:basket', key, body, async (trx) => ({ status: 201, body: await createBasket(trx, { channel: channel as any, items: body.items, officeId: channel === 'counter' ? 'ottawa-rideau' : null, businessId: channel === 'account' ? BUSINESS : null }) }));
    const b = await make();
    if (op.replay) {
      const n = await entryCount();
      const again = await make();
      assert.equal(again.body.id, b.body.id);
      assert.equal(again.replayed, true);
      assert.equal(await entryCount(), n);
    }
    const method = op.method === 'declined' ? 'card' : op.method;
    const payKey = crypto.randomUUID();
    const payBody = { method, returnUrl: `${t.baseUrl}/r` };
    const pay = () => withIdempotency(t.db, 'prop:pay', payKey, payBody, async (trx) => ({ status: 201, body: await startPayment(trx, provider, b.body.id, payBody) }));
    const p = await pay();
    if (op.method === 'card' || op.method === 'declined') {
      await payOnHostedPage(p.body.nextUrl!, op.method === 'card' ? TEST_CARDS.approved : TEST_CARDS.declined);
      const want = op.method === 'card' ? 'succeeded' : 'failed';
      await waitFor(async () => (await t.db.selectFrom('payments').select('status').where('id', '=', p.body.id).executeTakeFirstOrThrow()).status === want);
    }
    if (op.replay) {
      const n = await entryCount();
      const again = await pay();
      assert.equal(again.body.id, p.body.id);
      assert.equal(await entryCount(), n);
    }
    if (op.method === 'declined') return;
    const comps: MComp[] = b.body.lines.flatMap((l) => l.components.map((c) => ({ id: c.id, org: c.payeeOrgId, account: payableOf(c.payeeOrgId), amount: c.amountCents, refunded: 0, serviceId: l.serviceId })));
    model.payments.push({ id: p.body.id, method: op.method, amount: b.body.totalCents, comps });
    for (const c of comps) add(model.collected, c.org, c.amount);
    if (op.method === 'account') model.statementOwed += b.body.totalCents;
    return;
  }
  if (op.t === 'refund' || op.t === 'guarantee') {
    if (!model.payments.length) return;
    const mp = model.payments[op.pick % model.payments.length];
    const left = mp.comps.reduce((s, c) => s + c.amount - c.refunded, 0);
    assert.equal(await refundableLeft(t.db, mp.id), left);
    if (left === 0) return;
    let input;
    if (op.t === 'refund') {
      const amount = Math.max(1, Math.min(left, Math.round(left * op.fraction)));
      if (op.stale) {
        const n = await entryCount();
        await assert.rejects(withIdempotency(t.db, 'prop:refund', crypto.randomUUID(), { amount, s: 1 }, async (trx) => ({ status: 201, body: await createRefund(trx, mp.id, { amountCents: amount, refundAmountAvailable: left + 1 }) })), (e: any) => e.code === 'REFUND_AMOUNT_AVAILABLE_MISMATCH');
        assert.equal(await entryCount(), n);
      }
      input = { amountCents: amount, refundAmountAvailable: left };
    } else {
      const line = mp.comps.filter((c) => c.serviceId === mp.comps[0].serviceId);
      const lineLeft = line.reduce((s, c) => s + c.amount - c.refunded, 0);
      if (lineLeft === 0) return;
      input = { amountCents: lineLeft, refundAmountAvailable: left, kind: 'guarantee' as const, bearer: op.bearer, serviceId: mp.comps[0].serviceId };
    }
    const key = crypto.randomUUID();
    const run = () => withIdempotency(t.db, 'prop:refund', key, input, async (trx) => ({ status: 201, body: await createRefund(trx, mp.id, input) }));
    const r = await run();
    if (mp.method === 'card') await sendToProvider(t.db, provider, r.body.id);
    if (op.t === 'refund' && op.replay) {
      const n = await entryCount();
      assert.equal((await run()).body.id, r.body.id);
      assert.equal(await entryCount(), n);
    }
    // the split: sums to the amount, never beyond a component's left, proportional within a cent for ordinary refunds
    assert.equal(r.body.components.reduce((s, c) => s + c.amountCents, 0), input.amountCents);
    for (const a of r.body.components) {
      const c = mp.comps.find((x) => x.id === a.componentId)!;
      assert.ok(a.amountCents <= c.amount - c.refunded, 'refund beyond component');
      if (op.t === 'refund') assert.ok(Math.abs(a.amountCents - (input.amountCents * (c.amount - c.refunded)) / left) < 1, 'not proportional');
    }
    for (const a of r.body.components) {
      const c = mp.comps.find((x) => x.id === a.componentId)!;
      c.refunded += a.amountCents;
      if (a.accountId === c.account) add(model.borne, c.org, a.amountCents);
      else assert.equal(a.accountId, 'refunds:one-stop');
      if (op.t === 'guarantee' && op.bearer === 'one_stop') assert.equal(a.accountId, 'refunds:one-stop');
    }
    if (mp.method === 'account') model.statementOwed -= input.amountCents;
    return;
  }
  if (op.t === 'remit') {
    const expected = new Map<string, number>();
    for (const org of PARTNERS) expected.set(org, (model.collected.get(org) ?? 0) - (model.borne.get(org) ?? 0) - (model.remitted.get(org) ?? 0));
    // the demo terms: Ottawa is remitted monthly (not twice in a month, unless the earlier batch was returned), MTO daily
    const monthly = await sql<{ n: number }>`select count(*) as n from remittance_batches where org_id = 'ottawa' and status <> 'returned'
      and to_char(created_at at time zone 'America/Toronto', 'YYYY-MM') = ${today.slice(0, 7)}`.execute(t.db);
    if (Number(monthly.rows[0].n) > 0) expected.set('ottawa', 0);
    const r1 = await runRemittance(t.db, { on: today, cutoff: today, orgIds: PARTNERS });
    const r2 = await runRemittance(t.db, { on: today, cutoff: today, orgIds: PARTNERS }); // started twice: nothing more
    assert.equal(r2.batches.length, 0);
    for (const org of PARTNERS) {
      const b = r1.batches.find((x) => x.orgId === org);
      const want = expected.get(org)!;
      if (want > 0) {
        assert.ok(b, `a batch for ${org} (${want})`);
        assert.equal(b.grossCents, want);
        add(model.remitted, org, b.grossCents);
        model.batches.push({ id: b.id, org, gross: b.grossCents, returned: false });
      } else assert.equal(b, undefined);
    }
    return;
  }
  if (op.t === 'return') {
    const live = model.batches.filter((b) => !b.returned);
    if (!live.length) return;
    const b = live[op.pick % live.length];
    await setBatchStatus(t.db, b.id, 'returned');
    b.returned = true;
    add(model.remitted, b.org, -b.gross);
    return;
  }
  if (op.t === 'statement') {
    if (model.statementOwed <= 0) return;
    const cents = Math.max(1, Math.round(model.statementOwed * op.fraction));
    const ref = crypto.randomUUID();
    await t.db.transaction().execute((trx) => recordStatementPayment(trx, BUSINESS, ref, cents));
    assert.equal(await t.db.transaction().execute((trx) => recordStatementPayment(trx, BUSINESS, ref, cents)), null, 'a statement payment posts once');
    model.statementOwed -= cents;
    return;
  }
  if (op.t === 'settle') {
    // the provider's settlement report of today (UTC, its days): each card payment's fee posted once as card costs
    const day = new Date().toISOString().slice(0, 10);
    const r = await postCardCosts(t.db, provider!, day);
    const due = model.payments.filter((p) => p.method === 'card' && !p.feePosted);
    assert.equal(r.posted, due.length, 'one card-cost entry per card payment not yet posted');
    for (const p of due) {
      model.cardCosts += devFee(p.amount);
      p.feePosted = true;
    }
    const n = await entryCount();
    assert.equal((await postCardCosts(t.db, provider!, day)).posted, 0, 'a day posted twice posts nothing more');
    assert.equal(await entryCount(), n);
  }
}

test('the ledger keeps its invariants over random sequences of payments, refunds, guarantee refunds, remittances, returns, statements and card costs', async () => {
  const today = localDate();
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
      // each run starts from the ledger as it is: the model starts from the current partner balances
      // card costs of earlier runs' payments are posted first, so the model starts from a settled day
      await postCardCosts(t.db, paymentProvider()!, new Date().toISOString().slice(0, 10));
      const model: Model = { payments: [], collected: new Map(), borne: new Map(), remitted: new Map(), batches: [], statementOwed: -(-(await balanceOf(t.db, `receivable:statement:${BUSINESS}`))), cardCosts: await balanceOf(t.db, CARD_COSTS) };
      for (const org of PARTNERS) model.collected.set(org, -(await balanceOf(t.db, payableOf(org))));
      for (const [i, op] of ops.entries()) {
        await runOp(model, op, today);
        await check(model, `step ${i} ${op.t}`);
      }
    }),
    { numRuns: Number(process.env.PAYMENTS_PROP_RUNS ?? 12), endOnFailure: true },
  );
  assert.ok(ONE_STOP_ORG_ID);
});
