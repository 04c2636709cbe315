/**
 * Payments in Chromium, citizen pages without JavaScript, every Guichet page checked with axe (WCAG 2.1 AA):
 * a signed-in client pays a two-payee basket (Ministry of Transportation + City of Ottawa, and the one-stop's fee)
 * with a test card on the development payment provider (real HTTP: its hosted card page, the redirect back, the
 * signed webhook to Guichet), finds the receipt in their file; the remittance job function runs; the case's service
 * guarantee is breached (cases records guarantee_refunds with its own job function) and the payments job function
 * settles it through the provider; the client's file shows the refund and the partner's page shows the money
 * collected, refunded and remitted.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { assertNoA11yViolations, signInStaff, startBrowserEnv, type BrowserEnv } from './support/browser';
import { signInClientInBrowser, withDevOidc } from '../support/clients';
import { seedDemoAgreements } from '../../src/agreements/demo';
import { startDevPaymentServer, TEST_CARDS, type DevPaymentServer } from '../../src/payments/providers/dev-server';
import { devProvider } from '../../src/payments/providers/dev';
import { paymentProvider, setPaymentProvider } from '../../src/payments/providers/select';
import { runRemittance } from '../../src/payments/remittance';
import { settleGuaranteeRefunds } from '../../src/payments/guarantee';
import { ledgerTotals } from '../../src/payments/ledger';
import { detectGuaranteeBreaches } from '../../src/cases/guarantee';
import { localDate } from '../../src/i18n/index';

const DRIVER = 'demo-driver-licence'; // on-mto $88 + guichet $2 online
const DOG = 'demo-dog-licence'; // ottawa $18 + guichet $1 online

let env: BrowserEnv;
let oidc: Awaited<ReturnType<typeof withDevOidc>>;
let dev: DevPaymentServer;
before(async () => {
  env = await startBrowserEnv();
  oidc = await withDevOidc({ app: env.app, config: env.testApp.config });
  await seedDemoAgreements(env.db);
  dev = await startDevPaymentServer({ apiKey: 'browser-key', webhookSecret: 'whsec_browser', retryScale: 0.0002, webhookUrl: env.url('/api/v1/payments/webhooks/dev') });
  setPaymentProvider(devProvider({ url: dev.url, apiKey: dev.apiKey, webhookSecret: dev.webhookSecret }));
});
after(async () => {
  await dev?.close();
  setPaymentProvider(null);
  await oidc?.close();
  await env?.close();
});

const text = async (page: import('playwright-core').Page, sel: string) => ((await page.textContent(sel)) ?? '').replace(/\s+/g, ' ').trim();

test('a client pays a two-payee basket by card on the development provider, a guarantee refund follows, and the partner sees collected, refunded and remitted', async () => {
  const page = await env.newPage({ javaScriptEnabled: false });
  await signInClientInBrowser(page, env.baseUrl, 'demo-jordan');
  const client = await env.db.selectFrom('clients').select('id').where('oidc_subject', '=', 'demo-jordan').executeTakeFirstOrThrow();

  // the client's driver's-licence request, whose service guarantee will be missed
  const caseId = `case-${crypto.randomUUID().slice(0, 8)}`;
  const overdue = localDate(new Date(Date.now() - 20 * 86_400_000));
  await sql`insert into cases (id, reference, client_id, service_id, origin_channel, responsible_org_id, summary, created_by_kind, created_by_id, guarantee_due_date)
    values (${caseId}, ${'REF-' + caseId}, ${client.id}, ${DRIVER}, 'web', 'on-mto', 'renewal', 'client', ${client.id}, ${overdue})`.execute(env.db);

  // the service's page makes the basket through the API, with the client's session (cookie + CSRF header)
  const csrf = (await page.context().cookies()).find((c) => c.name === 'guichet_csrf')!.value;
  const made = await page.request.post(env.url('/api/v1/payments/baskets'), {
    headers: { 'idempotency-key': crypto.randomUUID(), 'x-csrf-token': csrf },
    data: { channel: 'web', items: [{ serviceId: DRIVER, caseId }, { serviceId: DOG }] },
  });
  assert.equal(made.status(), 201, await made.text());
  const basket = (await made.json()) as { id: string; reference: string; totalCents: number };
  assert.equal(basket.totalCents, 10900);

  // the basket page: lines per payee, "Pay by card" (a form: no JavaScript)
  await page.goto(env.url(`/en/pay/${basket.id}`));
  assert.equal(await text(page, '#basket-reference'), basket.reference);
  const lines = await text(page, 'main');
  assert.match(lines, /Ministry of Transportation/);
  assert.match(lines, /Ottawa/);
  await assertNoA11yViolations(page);
  await page.click('#pay-card');
  await assertNoA11yViolations(page);
  await page.click('#go-pay');

  // the development provider's hosted card page (its own HTTP server), test card "approved"
  await page.waitForURL((u) => u.toString().startsWith(dev.url));
  await page.fill('#card', TEST_CARDS.approved);
  await page.click('button[type="submit"]');
  // back to Guichet: the webhook (signed, real HTTP) confirms the payment; the return page shows the receipt
  await page.waitForURL(new RegExp(`/en/(pay/${basket.id}/return|receipts/[0-9a-f-]+)$`));
  const paid = await (async () => {
    for (let i = 0; i < 400; i++) {
      const p = await env.db.selectFrom('payments').select(['id', 'status']).where('basket_id', '=', basket.id).where('status', '=', 'succeeded').executeTakeFirst();
      if (p) return p;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('the webhook never confirmed the payment');
  })();
  await page.goto(env.url(`/en/pay/${basket.id}/return`));
  assert.equal(new URL(page.url()).pathname, `/en/receipts/${paid.id}`);
  const receipt = await text(page, 'main');
  assert.match(receipt, /Payment received/);
  assert.match(receipt, new RegExp(basket.reference));
  assert.match(receipt, /\$109\.00/);
  await assertNoA11yViolations(page);
  const event = await env.db.selectFrom('provider_events').select(['outcome']).where('payment_id', '=', paid.id).execute();
  assert.ok(event.some((e) => e.outcome === 'confirmed'), 'confirmed by the provider’s webhook');

  // the receipt is in the client's file: My file → My payments → the receipt
  await page.goto(env.url('/en/my-file'));
  await page.click('#my-file-payments');
  await page.waitForURL(/\/en\/my-payments$/);
  assert.match(await text(page, '#my-payments'), new RegExp(`${basket.reference} .*\\$109\\.00 \\$0\\.00`));
  await assertNoA11yViolations(page);

  // the remittance job's function: everything confirmed up to today is remitted (hold overridden for the test)
  const today = localDate();
  const run = await runRemittance(env.db, { on: today, cutoff: today, orgIds: ['on-mto', 'ottawa'] });
  assert.deepEqual(run.batches.map((b) => [b.orgId, b.totalCents]).sort(), [['on-mto', 8800], ['ottawa', 1800]]);

  // the guarantee is missed: cases records the refund owed (its job function), payments settles it (its job function)
  const breaches = await detectGuaranteeBreaches(env.db);
  assert.deepEqual(breaches.caseIds, [caseId]);
  const owed = await env.db.selectFrom('guarantee_refunds').selectAll().where('case_id', '=', caseId).executeTakeFirstOrThrow();
  assert.equal(owed.status, 'owed');
  const settled = await settleGuaranteeRefunds(env.db, paymentProvider());
  assert.equal(settled.settled, 1);
  const refund = await env.db.selectFrom('refunds').selectAll().where('id', '=', settled.refundIds[0]).executeTakeFirstOrThrow();
  assert.equal(refund.kind, 'guarantee');
  assert.equal(refund.bearer, 'partner', 'the Ministry was late: it bears the refund');
  assert.equal(Number(refund.amount_cents), 9000, 'the fee paid for the driver’s licence');
  assert.equal(refund.status, 'succeeded', 'refunded through the provider');
  assert.ok(refund.provider_refund_ref?.startsWith('dr_'));
  assert.equal((await env.db.selectFrom('guarantee_refunds').select(['status', 'settlement_ref']).where('id', '=', owed.id).executeTakeFirstOrThrow()).settlement_ref, refund.id);

  // the client's file shows the refund, on the receipt too (and in French)
  await page.goto(env.url('/en/my-payments'));
  assert.match(await text(page, '#my-payments'), new RegExp(`${basket.reference} .*\\$109\\.00 \\$90\\.00`));
  await page.click(`a[href="/en/receipts/${paid.id}"]`);
  assert.match(await text(page, 'main'), /\$90\.00/);
  await assertNoA11yViolations(page);
  await page.goto(env.url('/fr/mes-paiements'));
  assert.match(await text(page, '#my-payments'), /90,00\s\$/);
  await assertNoA11yViolations(page);

  // the partner's page: collected on its behalf, the refund it bore, what was remitted (and what it now owes back)
  const partner = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(partner, env, 'staff-mto-partner');
  await partner.goto(env.url('/en/partner/payments'));
  assert.equal(await text(partner, '#total-collected'), '$88.00');
  assert.equal(await text(partner, '#total-refunded'), '$88.00');
  assert.equal(await text(partner, '#total-remitted'), '$88.00');
  assert.equal(await text(partner, '#total-held'), '-$88.00');
  assert.match(await text(partner, '#partner-days'), /\$88\.00 \$88\.00 \$88\.00/);
  await assertNoA11yViolations(partner);
  await partner.click(`a[href="/en/staff/payments/batches/${run.batches.find((b) => b.orgId === 'on-mto')!.id}"]`);
  assert.match(await text(partner, 'main'), new RegExp(basket.reference));
  await assertNoA11yViolations(partner);
  await partner.goto(env.url('/fr/partenaire/paiements'));
  assert.match(await text(partner, '#total-remitted'), /88,00\s\$/);
  await assertNoA11yViolations(partner);

  // the other payee: collected and remitted, no refund borne
  const ottawa = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(ottawa, env, 'staff-ottawa-partner');
  await ottawa.goto(env.url('/en/partner/payments'));
  assert.equal(await text(ottawa, '#total-collected'), '$18.00');
  assert.equal(await text(ottawa, '#total-refunded'), '$0.00');
  assert.equal(await text(ottawa, '#total-remitted'), '$18.00');

  // one ledger, balanced
  assert.deepEqual(await ledgerTotals(env.db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
});
