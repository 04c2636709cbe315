/**
 * Netting against a real billing invoice: the City of Ottawa's demo agreement says "net invoices"; the billing
 * capability bills last month's recorded phone interactions to Ottawa (runBilling); Ottawa's dog licences are paid
 * by card on the development provider and one is partly refunded; the remittance run nets the open invoice.
 *   batch = collected − refunds Ottawa bears − the invoice; the invoice shows netted (billing's own record and page);
 *   the ledger balances; Ottawa's payable = collected − refunds it bears − remitted − netted (= 0 after the batch).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startPaymentsApp, payOnHostedPage, waitFor, DOG, type PaymentsTestApp } from './test/support';
import { TEST_CARDS } from './providers/dev-server';
import { runRemittance, batchAdvice, adviceCsv, pain001 } from './remittance';
import { ledgerTotals, balanceOf, payableOf, invoiceReceivable, BANK } from './ledger';
import { runBilling, setTerms } from '../billing/billing';
import { addCase, addInteraction, world } from '../billing/test/fixtures';
import { staffCookie } from '../../test/support/app';
import { localDate } from '../i18n/index';

let t: PaymentsTestApp;
before(async () => {
  t = await startPaymentsApp();
});
after(async () => t?.close());

const manager = { id: 'staff-admin', orgId: 'guichet', roles: ['admin', 'manager'] };

async function cardPayment(services: string[]) {
  const b = await t.api('POST', '/api/v1/payments/baskets', { channel: 'web', items: services.map((serviceId) => ({ serviceId })) });
  const p = await t.api('POST', `/api/v1/payments/baskets/${b.json.id}/payments`, { method: 'card', returnUrl: `${t.baseUrl}/r` });
  await payOnHostedPage(p.json.nextUrl, TEST_CARDS.approved);
  await waitFor(async () => (await t.db.selectFrom('payments').select('status').where('id', '=', p.json.id).executeTakeFirstOrThrow()).status === 'succeeded');
  return p.json.id as string;
}

test('a remittance batch nets the partner’s open billing invoice when its agreement says so', async () => {
  const today = localDate();
  const lastMonth = new Date(`${today.slice(0, 7)}-01T12:00:00Z`);
  lastMonth.setUTCMonth(lastMonth.getUTCMonth() - 1);
  const periodStart = lastMonth.toISOString().slice(0, 7) + '-01';
  const at = new Date(`${periodStart.slice(0, 7)}-15T15:00:00Z`);

  // the agreement (demo): Ottawa, monthly remittance, net invoices
  const agreement = await t.db.selectFrom('agreements').select(['id', 'net_invoices']).where('partner_org_id', '=', 'ottawa').where('status', '=', 'active').executeTakeFirstOrThrow();
  assert.equal(agreement.net_invoices, true);
  // billing: $7.50 per phone interaction; two recorded last month; the run issues a real invoice
  await setTerms(t.db, manager, { agreementId: agreement.id, model: 'per_interaction', frequency: 'monthly', validFrom: '2020-01-01', channelRates: { phone: 750 } });
  const w = await world(t.db, ['ottawa']);
  const caseId = await addCase(t.db, w, 'ottawa', { at });
  await addInteraction(t.db, caseId, { channel: 'phone', at, outcome: 'resolved' });
  await addInteraction(t.db, caseId, { channel: 'phone', at: new Date(at.getTime() + 3_600_000), outcome: 'resolved' });
  const billed = await runBilling(t.db, { frequency: 'monthly', periodStart, today });
  const inv = await t.db.selectFrom('billing_invoices').selectAll().where('partner_org_id', '=', 'ottawa').where('id', 'in', billed.invoiceIds.length ? billed.invoiceIds : [-1]).executeTakeFirstOrThrow();
  const invoiceCents = Number(inv.total_cents);
  assert.equal(invoiceCents, 1500, 'two phone interactions at $7.50');
  assert.equal(inv.status, 'open');

  // collected on Ottawa's behalf: three dog licences ($18 to Ottawa, $1 to the one-stop each); one partly refunded
  const payments = [await cardPayment([DOG]), await cardPayment([DOG]), await cardPayment([DOG])];
  const r = await t.api('POST', `/api/v1/payments/${payments[0]}/refunds`, { amount: 500, refund_amount_available: 1900 }, { cookie: t.managerCookie });
  assert.equal(r.status, 201);
  const collected = Number((await sql<{ s: number }>`select sum(c.amount_cents) as s from basket_components c join payments p on p.basket_id = c.basket_id and p.status = 'succeeded' where c.account_id = 'payable:ottawa'`.execute(t.db)).rows[0].s);
  const borne = Number((await sql<{ s: number }>`select coalesce(sum(rc.amount_cents), 0) as s from refund_components rc join refunds f on f.id = rc.refund_id where rc.account_id = 'payable:ottawa' and f.status <> 'failed'`.execute(t.db)).rows[0].s);
  assert.equal(collected, 3 * 1800);
  assert.ok(borne > 0 && borne < 500, `Ottawa bears its share of the refund (${borne})`);
  const bankBefore = await balanceOf(t.db, BANK);

  const run = await runRemittance(t.db, { on: today, cutoff: today, orgIds: ['ottawa'] });
  assert.equal(run.batches.length, 1);
  const b = run.batches[0];
  assert.equal(b.grossCents, collected - borne);
  assert.equal(b.nettedCents, invoiceCents);
  assert.equal(b.totalCents, collected - borne - invoiceCents, 'batch = collected − refunds − the invoice');

  // the invoice shows settled by netting (billing's record and its page)
  const after = await t.db.selectFrom('billing_invoices').selectAll().where('id', '=', inv.id).executeTakeFirstOrThrow();
  assert.equal(after.status, 'netted');
  assert.equal(Number(after.netted_cents), invoiceCents);
  const page = await t.app.inject({ method: 'GET', url: `/en/staff/billing/invoices/${inv.id}`, headers: { cookie: await staffCookie(t.app, 'staff-ottawa-partner') } });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /Netted against remittances<\/dt><dd class="govuk-summary-list__value">\$15\.00/);
  assert.match(page.body, /<dd class="govuk-summary-list__value">Netted<\/dd>/);

  // the files: the advice nets the invoice; pain.001's control sum is what is sent
  const advice = (await batchAdvice(t.db, b.id))!;
  assert.deepEqual(advice.nettings, [{ invoiceId: String(inv.id), cents: invoiceCents }]);
  assert.match(adviceCsv(advice), new RegExp(`invoice / facture ${inv.id},,,,-15\\.00`));
  assert.match(pain001(advice), new RegExp(`<CtrlSum>${(b.totalCents / 100).toFixed(2)}</CtrlSum>`));

  // the ledger: balanced; Ottawa's payable = collected − refunds it bears − remitted − netted
  assert.deepEqual(await ledgerTotals(t.db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
  const owed = 0 - (await balanceOf(t.db, payableOf('ottawa')));
  assert.equal(owed, collected - borne - b.totalCents - b.nettedCents);
  assert.equal(owed, 0);
  assert.equal(bankBefore - (await balanceOf(t.db, BANK)), b.totalCents, 'the bank sends what is left after netting');
  assert.equal(await balanceOf(t.db, invoiceReceivable('ottawa')), 0, 'the invoice receivable is settled by the netting');
  const legs = await t.db.selectFrom('journal_legs').select(['account_id', 'amount_cents']).where('entry_id', '=', (await t.db.selectFrom('remittance_batches').select('entry_id').where('id', '=', b.id).executeTakeFirstOrThrow()).entry_id!).orderBy('account_id').execute();
  assert.deepEqual(legs.map((l) => [l.account_id, Number(l.amount_cents)]), [['bank:trust', -b.totalCents], ['payable:ottawa', b.grossCents], ['receivable:invoice:ottawa', -invoiceCents]]);

  // a second run nets nothing more (the invoice is settled, the payments remitted)
  const again = await runRemittance(t.db, { on: today, cutoff: today, orgIds: ['ottawa'] });
  assert.equal(again.batches.length, 0);
  assert.equal(Number((await t.db.selectFrom('billing_invoices').select('netted_cents').where('id', '=', inv.id).executeTakeFirstOrThrow()).netted_cents), invoiceCents);
});
