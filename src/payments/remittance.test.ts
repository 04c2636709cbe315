/** Remittance batches, files and states; guarantee refunds settled from cases' guarantee_refunds. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { startPaymentsApp, payOnHostedPage, waitFor, DRIVER, DOG, type PaymentsTestApp } from './test/support';
import { TEST_CARDS } from './providers/dev-server';
import { runRemittance, remitPartner, setBatchStatus, batchAdvice, adviceCsv, pain001, cutoffFor } from './remittance';
import { settleGuaranteeRefunds } from './guarantee';
import { paymentProvider } from './providers/select';
import { ledgerTotals, balanceOf, payableOf, BANK } from './ledger';
import { setRemittancePaused } from '../agreements/fees';
import { localDate } from '../i18n/index';

let t: PaymentsTestApp;
const CLIENT = 'client-remit-test';
before(async () => {
  t = await startPaymentsApp();
  await sql`insert into clients (id, kind, given_name, family_name) values (${CLIENT}, 'person', 'Rémi', 'Test')`.execute(t.db);
});
after(async () => t?.close());
const today = localDate();

async function cardPayment(services: string[], clientId: string | null = null) {
  const b = await t.api('POST', '/api/v1/payments/baskets', { channel: 'web', items: services.map((serviceId) => ({ serviceId })) });
  const p = await t.api('POST', `/api/v1/payments/baskets/${b.json.id}/payments`, { method: 'card', returnUrl: `${t.baseUrl}/r` });
  if (clientId) await sql`update payment_baskets set client_id = ${clientId} where id = ${b.json.id}`.execute(t.db);
  await payOnHostedPage(p.json.nextUrl, TEST_CARDS.approved);
  await waitFor(async () => (await t.db.selectFrom('payments').select('status').where('id', '=', p.json.id).executeTakeFirstOrThrow()).status === 'succeeded');
  return { basketId: b.json.id as string, paymentId: p.json.id as string, lines: b.json.lines };
}

test('the cutoff is the hold in business days before the run (weekends and Ontario holidays skipped)', () => {
  assert.equal(cutoffFor('2026-12-04', 3), '2026-12-01'); // Friday → Tuesday
  assert.equal(cutoffFor('2026-12-07', 3), '2026-12-02'); // Monday → Wednesday before
  assert.equal(cutoffFor('2026-12-29', 3), '2026-12-22'); // Christmas and Boxing Day (Dec 25, 28 observed)
});

test('one batch per partner past the hold; files whose control sums equal the batch; never twice; returned transfers go into the next batch', async () => {
  const a = await cardPayment([DRIVER, DOG]);
  const b = await cardPayment([DOG]);
  // nothing is past the hold today
  const early = await runRemittance(t.db, { on: today, orgIds: ['on-mto', 'ottawa'] });
  assert.equal(early.batches.length, 0);
  // two workers at once, on the run day: each component is remitted once
  const [r1, r2] = await Promise.all([
    runRemittance(t.db, { on: today, cutoff: today, orgIds: ['on-mto', 'ottawa'] }),
    runRemittance(t.db, { on: today, cutoff: today, orgIds: ['on-mto', 'ottawa'] }),
  ]);
  const batches = [...r1.batches, ...r2.batches];
  assert.equal(batches.length, 2, JSON.stringify(batches));
  const mto = batches.find((x) => x.orgId === 'on-mto')!;
  const ott = batches.find((x) => x.orgId === 'ottawa')!;
  assert.equal(mto.totalCents, 8800);
  assert.equal(ott.totalCents, 1800 * 2);
  assert.equal(await balanceOf(t.db, payableOf('on-mto')), 0);
  assert.equal(await balanceOf(t.db, payableOf('ottawa')), 0);
  const dup = await sql<{ n: number }>`select count(*) as n from (select component_id from remittance_items where not returned and component_id is not null group by component_id having count(*) > 1) d`.execute(t.db);
  assert.equal(Number(dup.rows[0].n), 0);

  const advice = (await batchAdvice(t.db, ott.id))!;
  assert.equal(advice.lines.length, 2, 'one line per payment');
  assert.deepEqual(advice.lines.map((l) => l.net).sort(), [1800, 1800]);
  const csv = adviceCsv(advice);
  assert.match(csv.split('\r\n')[0], /payment_reference \/ référence_paiement/);
  assert.equal(csv.trim().split('\r\n').length, 1 + 2 + 1);
  const xml = pain001(advice);
  assert.equal([...xml.matchAll(/<CtrlSum>([\d.]+)<\/CtrlSum>/g)].map((m) => m[1]).join(','), '36.00,36.00');
  assert.equal([...xml.matchAll(/<InstdAmt Ccy="CAD">([\d.]+)<\/InstdAmt>/g)].reduce((s, m) => s + Math.round(Number(m[1]) * 100), 0), ott.totalCents);
  assert.match(xml, /<NbOfTxs>1<\/NbOfTxs>/);

  // states: sent → acknowledged → paid with the bank reference; a paid batch can still come back returned
  await assert.rejects(setBatchStatus(t.db, mto.id, 'paid'), (e: any) => e.code === 'BANK_REFERENCE_REQUIRED');
  await setBatchStatus(t.db, mto.id, 'acknowledged');
  await setBatchStatus(t.db, mto.id, 'paid', 'BANKREF-001');
  await assert.rejects(setBatchStatus(t.db, mto.id, 'acknowledged'), (e: any) => e.code === 'BATCH_TRANSITION_NOT_ALLOWED');
  const bank = await balanceOf(t.db, BANK);
  await setBatchStatus(t.db, mto.id, 'returned');
  assert.equal(await balanceOf(t.db, payableOf('on-mto')), -8800, 'the money is owed again');
  assert.equal(await balanceOf(t.db, BANK), bank + 8800);
  await assert.rejects(setBatchStatus(t.db, mto.id, 'returned'), (e: any) => e.code === 'BATCH_TRANSITION_NOT_ALLOWED');
  const next = await runRemittance(t.db, { on: today, cutoff: today, orgIds: ['on-mto'] });
  assert.equal(next.batches.length, 1);
  assert.equal(next.batches[0].totalCents, 8800);
  assert.deepEqual(await ledgerTotals(t.db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
  assert.ok(a && b);
});

test('a paused partner is skipped by the run, and remitting it by hand answers 409 REMITTANCE_PAUSED', async () => {
  await cardPayment([DRIVER]);
  await setRemittancePaused(t.db, 'on-mto', true, 'staff-admin', 'test');
  const r = await runRemittance(t.db, { on: today, cutoff: today, orgIds: ['on-mto'] });
  assert.deepEqual(r.skippedPaused, ['on-mto']);
  assert.equal(r.batches.length, 0);
  await assert.rejects(remitPartner(t.db, 'on-mto', today), (e: any) => e.status === 409 && e.code === 'REMITTANCE_PAUSED');
  await setRemittancePaused(t.db, 'on-mto', false, 'staff-admin');
  const again = await runRemittance(t.db, { on: today, cutoff: today, orgIds: ['on-mto'] });
  assert.equal(again.batches.length, 1);
});

test('owed guarantee refunds are settled: the card payment is refunded through the provider, charged to the bearer, once', async () => {
  const p = await cardPayment([DRIVER, DOG], CLIENT);
  const caseId = `case-${crypto.randomUUID().slice(0, 8)}`;
  await sql`insert into cases (id, reference, client_id, service_id, origin_channel, responsible_org_id, summary, created_by_kind, created_by_id)
    values (${caseId}, ${'REF-' + caseId}, ${CLIENT}, ${DRIVER}, 'web', 'on-mto', 'test', 'client', ${CLIENT})`.execute(t.db);
  await sql`insert into guarantee_refunds (case_id, service_id, client_id, org_id, guarantee_days, guarantee_due_date, amount_cents)
    values (${caseId}, ${DRIVER}, ${CLIENT}, 'on-mto', 15, ${today}, 0)`.execute(t.db);
  const mto = await balanceOf(t.db, payableOf('on-mto'));
  const oneStop = await balanceOf(t.db, 'refunds:one-stop');
  const [s1, s2] = await Promise.all([settleGuaranteeRefunds(t.db, paymentProvider()), settleGuaranteeRefunds(t.db, paymentProvider())]);
  assert.equal(s1.settled + s2.settled, 1);
  const g = await t.db.selectFrom('guarantee_refunds').selectAll().where('case_id', '=', caseId).executeTakeFirstOrThrow();
  assert.equal(g.status, 'settled');
  const r = await t.db.selectFrom('refunds').selectAll().where('id', '=', g.settlement_ref!).executeTakeFirstOrThrow();
  assert.equal(r.payment_id, p.paymentId);
  assert.equal(r.amount_cents, 9000, 'the fee paid for the guaranteed service');
  assert.equal(r.status, 'succeeded');
  assert.ok(r.provider_refund_ref?.startsWith('dr_'));
  // the demo agreement: the one-stop bears it only for its own delay; the partner (MTO) was responsible here
  assert.equal(r.bearer, 'partner');
  assert.equal(await balanceOf(t.db, payableOf('on-mto')), mto + 8800);
  assert.equal(await balanceOf(t.db, 'refunds:one-stop'), oneStop);
  const again = await settleGuaranteeRefunds(t.db, paymentProvider());
  assert.equal(again.settled, 0);
  assert.deepEqual(await ledgerTotals(t.db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
});
