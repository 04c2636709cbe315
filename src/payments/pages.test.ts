/** Pages: pay a basket without JavaScript, the receipt (EN/FR), receipt e-mail, a partner's page, the managers' page with reconciliation, advice files. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startPaymentsApp, payOnHostedPage, waitFor, DRIVER, DOG, type PaymentsTestApp } from './test/support';
import { staffCookie } from '../../test/support/app';
import { startSmtp } from '../../test/support/smtp';
import { createMailer } from '../mail/mailer';
import { TEST_CARDS } from './providers/dev-server';
import { sendReceipts } from './receipts';
import { runRemittance } from './remittance';
import { localDate } from '../i18n/index';

let t: PaymentsTestApp;
before(async () => {
  t = await startPaymentsApp();
});
after(async () => t?.close());

test('a client pays a two-partner basket on the pages (no JavaScript) and gets a bilingual receipt by page and e-mail', async () => {
  const b = await t.api('POST', '/api/v1/payments/baskets', { channel: 'web', email: 'payer@example.ca', lang: 'fr', items: [{ serviceId: DRIVER }, { serviceId: DOG }] });
  const page = await fetch(`${t.baseUrl}/fr/payer/${b.json.id}`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /Ministère des Transports|Ministry of Transportation/);
  assert.match(html, /Payer par carte/);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1];
  const key = /name="key" value="([^"]+)"/.exec(html)![1];
  const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0];
  const posted = await fetch(`${t.baseUrl}/fr/payer/${b.json.id}`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, key }) });
  assert.equal(posted.status, 200);
  const next = /id="go-pay" href="([^"]+)"/.exec(await posted.text())![1].replace(/&amp;/g, '&');
  const back = await payOnHostedPage(next, TEST_CARDS.approved);
  assert.equal(new URL(back!).pathname, `/fr/payer/${b.json.id}/retour`); // PUBLIC_BASE_URL + the return path
  const pay = await waitFor(async () => (await t.db.selectFrom('payments').select(['id', 'status']).where('basket_id', '=', b.json.id).where('status', '=', 'succeeded').executeTakeFirst()));
  const ret = await fetch(`${t.baseUrl}${new URL(back!).pathname}`, { redirect: 'manual' });
  assert.equal(ret.status, 303);
  assert.equal(ret.headers.get('location'), `/fr/recus/${pay.id}`);
  const receipt = await (await fetch(`${t.baseUrl}/fr/recus/${pay.id}`)).text();
  assert.match(receipt, /Paiement reçu/);
  assert.match(receipt, new RegExp(b.json.reference));
  assert.match(receipt, /Droit gouvernemental/);
  const en = await (await fetch(`${t.baseUrl}/en/receipts/${pay.id}`)).text();
  assert.match(en, /Payment received/);
  assert.match(en, /Government fee/);
  // e-mail: both languages, lines per payee, the reference; sent once
  const smtp = await startSmtp();
  try {
    const mailer = createMailer({ SMTP_URL: smtp.url } as NodeJS.ProcessEnv);
    assert.ok((await sendReceipts(t.db, mailer, t.baseUrl)) >= 1);
    assert.equal(await sendReceipts(t.db, mailer, t.baseUrl), 0);
    const mail = smtp.inbox.find((m) => m.to.includes('payer@example.ca'))!;
    assert.ok(mail);
    assert.match(mail.raw, new RegExp(b.json.reference));
    assert.match(mail.raw, /Droit gouvernemental/);
    assert.match(mail.raw, /Government fee/);
  } finally {
    await smtp.close();
  }
});

test("a partner sees what was collected on its behalf, refunded, remitted and still held; a manager sees balances, batches and the reconciliation", async () => {
  const b = await t.api('POST', '/api/v1/payments/baskets', { channel: 'web', items: [{ serviceId: DRIVER }] });
  const p = await t.api('POST', `/api/v1/payments/baskets/${b.json.id}/payments`, { method: 'card', returnUrl: `${t.baseUrl}/r` });
  await payOnHostedPage(p.json.nextUrl, TEST_CARDS.approved);
  await waitFor(async () => (await t.db.selectFrom('payments').select('status').where('id', '=', p.json.id).executeTakeFirstOrThrow()).status === 'succeeded');
  const r = await t.api('POST', `/api/v1/payments/${p.json.id}/refunds`, { amount: 900, refund_amount_available: 9000 }, { cookie: t.managerCookie });
  assert.equal(r.status, 201);
  const run = await runRemittance(t.db, { on: localDate(), cutoff: localDate(), orgIds: ['on-mto'] });
  assert.equal(run.batches.length, 1);
  const partner = await staffCookie(t.app, 'staff-mto-partner');
  const page = await t.app.inject({ method: 'GET', url: '/en/partner/payments', headers: { cookie: partner } });
  assert.equal(page.statusCode, 200);
  const collected = await sql<{ c: number }>`select sum(c.amount_cents) as c from basket_components c join payments p on p.basket_id = c.basket_id and p.status = 'succeeded' where c.account_id = 'payable:on-mto'`.execute(t.db);
  const money = (c: number) => `$${(c / 100).toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}`;
  assert.match(page.body, new RegExp(`id="total-collected">${money(Number(collected.rows[0].c)).replace('$', '\\$')}`));
  assert.match(page.body, /id="total-refunded">\$8\.80/);
  assert.match(page.body, /id="total-held">\$0\.00/);
  const fr = await t.app.inject({ method: 'GET', url: '/fr/partenaire/paiements', headers: { cookie: partner } });
  assert.match(fr.body, /Sommes perçues en votre nom/);
  // a partner cannot open another partner's batch
  const ottawa = await staffCookie(t.app, 'staff-ottawa-partner');
  const other = await t.app.inject({ method: 'GET', url: `/en/staff/payments/batches/${run.batches[0].id}`, headers: { cookie: ottawa } });
  assert.equal(other.statusCode, 404);
  const csv = await t.app.inject({ method: 'GET', url: `/en/staff/payments/batches/${run.batches[0].id}/advice.csv`, headers: { cookie: partner } });
  assert.equal(csv.statusCode, 200);
  assert.match(csv.body, /référence_paiement/);
  const xml = await t.app.inject({ method: 'GET', url: `/fr/personnel/paiements/lots/${run.batches[0].id}/pain001.xml`, headers: { cookie: t.managerCookie } });
  assert.match(xml.body, /pain\.001\.001\.09/);
  // managers: balances, the ledger check, the reconciliation against the provider's report for today (UTC)
  const day = new Date().toISOString().slice(0, 10);
  const m = await t.app.inject({ method: 'GET', url: `/en/staff/payments?day=${day}`, headers: { cookie: t.managerCookie } });
  assert.equal(m.statusCode, 200);
  assert.match(m.body, /id="ledger-check">every entry balances/);
  assert.match(m.body, /payable:on-mto/);
  assert.match(m.body, /id="recon-summary">\d+ payments match; 0 differences/);
  // a payment the provider captured that our ledger does not know is listed
  await sql`update payments set provider_ref = 'dp_forgotten' where id = ${p.json.id}`.execute(t.db);
  const m2 = await t.app.inject({ method: 'GET', url: `/en/staff/payments?day=${day}`, headers: { cookie: t.managerCookie } });
  assert.match(m2.body, /not in our ledger/);
  assert.match(m2.body, /not in the provider’s report/);
  const denied = await t.app.inject({ method: 'GET', url: '/en/staff/payments', headers: { cookie: partner } });
  assert.equal(denied.statusCode, 403);
});

test("a client's file links their payments: receipts and refunds are reachable from My file (EN and FR)", async () => {
  const { createTestClient, clientCookie } = await import('../../test/support/clients');
  const clientId = await createTestClient(t.db, { givenName: 'Paula', familyName: 'Payeur' });
  const cookie = await clientCookie(t.app, t.db, clientId);
  const b = await t.api('POST', '/api/v1/payments/baskets', { channel: 'web', items: [{ serviceId: DRIVER }, { serviceId: DOG }] }, { cookie });
  assert.equal(b.status, 201);
  const p = await t.api('POST', `/api/v1/payments/baskets/${b.json.id}/payments`, { method: 'card', returnUrl: `${t.baseUrl}/r` }, { cookie });
  await payOnHostedPage(p.json.nextUrl, TEST_CARDS.approved);
  await waitFor(async () => (await t.db.selectFrom('payments').select('status').where('id', '=', p.json.id).executeTakeFirstOrThrow()).status === 'succeeded');
  const r = await t.api('POST', `/api/v1/payments/${p.json.id}/refunds`, { amount: 500, refund_amount_available: 10900 }, { cookie: t.managerCookie });
  assert.equal(r.status, 201);
  for (const [file, mine, receipts] of [['/en/my-file', '/en/my-payments', '/en/receipts'], ['/fr/mon-dossier', '/fr/mes-paiements', '/fr/recus']] as const) {
    const f = await t.app.inject({ method: 'GET', url: file, headers: { cookie, accept: 'text/html' } });
    assert.equal(f.statusCode, 200);
    const href = /<a class="govuk-link" href="([^"]+)" id="my-file-payments">/.exec(f.body)?.[1];
    assert.equal(href, mine, 'My file links the client’s payments');
    const list = await t.app.inject({ method: 'GET', url: href!, headers: { cookie, accept: 'text/html' } });
    assert.equal(list.statusCode, 200);
    assert.match(list.body, new RegExp(`href="${receipts}/${p.json.id}">${b.json.reference}<`));
    assert.match(list.body, /<td class="govuk-table__cell govuk-table__cell--numeric">(\$5\.00|5,00\s\$)<\/td>/, "the refund is shown");
    const receipt = await t.app.inject({ method: 'GET', url: `${receipts}/${p.json.id}`, headers: { cookie, accept: 'text/html' } });
    assert.equal(receipt.statusCode, 200);
    assert.match(receipt.body, new RegExp(b.json.reference));
  }
  // another client's file does not list them
  const other = await clientCookie(t.app, t.db, await createTestClient(t.db, { givenName: 'Otto', familyName: 'Autre' }));
  const theirs = await t.app.inject({ method: 'GET', url: '/en/my-payments', headers: { cookie: other, accept: 'text/html' } });
  assert.equal(theirs.statusCode, 200);
  assert.doesNotMatch(theirs.body, new RegExp(b.json.reference));
});

test('card costs: the provider’s fee of each card payment is posted once as a balanced entry, shown in the balances and the reconciliation', async () => {
  const { postCardCosts } = await import('./card-costs');
  const { devFee } = await import('./providers/dev-server');
  const { paymentProvider } = await import('./providers/select');
  const { balanceOf, ledgerTotals, CARD_COSTS } = await import('./ledger');
  const b = await t.api('POST', '/api/v1/payments/baskets', { channel: 'web', items: [{ serviceId: DRIVER }, { serviceId: DOG }] });
  const p = await t.api('POST', `/api/v1/payments/baskets/${b.json.id}/payments`, { method: 'card', returnUrl: `${t.baseUrl}/r` });
  await payOnHostedPage(p.json.nextUrl, TEST_CARDS.approved);
  await waitFor(async () => (await t.db.selectFrom('payments').select('status').where('id', '=', p.json.id).executeTakeFirstOrThrow()).status === 'succeeded');
  const day = new Date().toISOString().slice(0, 10); // the provider's days are UTC
  const provider = paymentProvider()!;
  const report = await provider.settlementReport(day);
  const ours = await t.db.selectFrom('payments').select(['amount_cents']).where('provider', '=', 'dev').where('status', '=', 'succeeded').where('provider_ref', 'in', report.map((l) => l.providerRef)).execute();
  const expected = ours.reduce((s, x) => s + devFee(Number(x.amount_cents)), 0);
  assert.ok(ours.length >= 1 && expected >= devFee(10900));
  const clearingBefore = await balanceOf(t.db, 'clearing:dev');
  assert.equal(await balanceOf(t.db, CARD_COSTS), 0, 'no card costs posted yet');
  const r = await postCardCosts(t.db, provider, day);
  assert.equal(r.feesCents, expected);
  assert.equal(r.posted, ours.length, 'one entry per card payment of ours in the report');
  assert.equal(await balanceOf(t.db, CARD_COSTS), expected, 'costs:card = the provider’s fees on our payments');
  assert.equal(clearingBefore - (await balanceOf(t.db, 'clearing:dev')), expected, 'the clearing account holds what the provider will pay out');
  const entry = await t.db.selectFrom('journal_entries').select(['id', 'event']).where('posting_key', '=', `card-fee:dev:${(await t.db.selectFrom('payments').select('provider_ref').where('id', '=', p.json.id).executeTakeFirstOrThrow()).provider_ref}`).executeTakeFirstOrThrow();
  assert.equal(entry.event, 'settlement');
  const legs = await t.db.selectFrom('journal_legs').select(['account_id', 'amount_cents']).where('entry_id', '=', entry.id).orderBy('account_id').execute();
  assert.deepEqual(legs.map((l) => [l.account_id, Number(l.amount_cents)]), [['clearing:dev', -devFee(10900)], ['costs:card', devFee(10900)]]);
  // posted twice: nothing more
  assert.equal((await postCardCosts(t.db, provider, day)).posted, 0);
  assert.equal(await balanceOf(t.db, CARD_COSTS), expected);
  assert.deepEqual(await ledgerTotals(t.db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
  const money = (c: number) => `$${(c / 100).toFixed(2)}`;
  const m = await t.app.inject({ method: 'GET', url: `/en/staff/payments?day=${day}`, headers: { cookie: t.managerCookie } });
  assert.match(m.body, new RegExp(`<td class="govuk-table__cell">costs:card</td><td class="govuk-table__cell">Card costs</td>\\s*<td class="govuk-table__cell govuk-table__cell--numeric">\\${money(expected)}</td>`));
  assert.match(m.body, new RegExp(`id="recon-fees">Provider’s fees in its report: \\$[\\d.,]+\\. Card costs posted in the ledger: \\${money(expected)}\\.`));
  const fr = await t.app.inject({ method: 'GET', url: `/fr/personnel/paiements?day=${day}`, headers: { cookie: t.managerCookie } });
  assert.match(fr.body, /id="recon-fees">Frais du fournisseur selon son rapport/);
});
