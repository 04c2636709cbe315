/**
 * Agreements in a real browser with JavaScript off, the whole loop of issue 17: a manager drafts an agreement for the
 * City of Ottawa, the governance board approves it (in French), the partner accepts it; its history, a fee version,
 * the public service page's fees by channel and the intake backlog; then the month's counter visits and staff
 * interactions on a case, recorded through the counters' and the cases' own functions and routes, are invoiced by the
 * daily billing job's function (billDue) as it runs on the first day of the next month, and the partner opens its
 * invoice, the records behind a line, the printable version and the CSV. Every page is checked with axe (WCAG 2.1 AA).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoA11yViolations, signInStaff, startBrowserEnv, type BrowserEnv } from './support/browser';
import fs from 'node:fs';
import { seedDemoAgreements } from '../../src/agreements/demo';
import { addMonths, BILLING_TZ } from '../../src/billing/billing';
import { billDue } from '../../src/billing/jobs';
import { localDate } from '../../src/i18n/index';
import { callNext, createTicket, openCounter, ticketAction } from '../../src/counters/queue';
import { DEMO_OFFICE } from '../../src/counters/demo';
import { openAllDay } from '../support/counters';
import { staffCookie } from '../support/app';
import { call, makeClient, serve } from '../../src/cases/test/helpers';

let env: BrowserEnv;
before(async () => {
  env = await startBrowserEnv();
  await seedDemoAgreements(env.db);
});
after(async () => {
  await env?.close();
});

test('manager drafts, board approves, partner accepts, without JavaScript, accessibly; the month is invoiced and the partner opens its invoice', async () => {
  const y = new Date().getUTCFullYear();
  // The month being recorded (local days in Toronto, as billing counts them); the agreement starts on its first day.
  const month = localDate(new Date(), BILLING_TZ).slice(0, 7);
  const manager = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(manager, env, 'staff-reviewer');
  await manager.goto(env.url('/en/staff/agreements'));
  await assertNoA11yViolations(manager);
  await manager.getByRole('button', { name: 'Draft a new agreement' }).click();
  await assertNoA11yViolations(manager);
  await manager.getByLabel('Partner organisation').selectOption('ottawa');
  await manager.getByLabel('Title (French)').fill('Services municipaux (essai)');
  await manager.getByLabel('End date').fill('31 December');
  await manager.getByRole('button', { name: 'Create the draft' }).click();
  await manager.locator('.govuk-error-summary').waitFor();
  assert.equal(await manager.locator('.govuk-error-summary a[href="#title_en"]').count(), 1);
  await assertNoA11yViolations(manager);
  await manager.getByLabel('Title (English)').fill('Municipal services (test)');
  await manager.getByLabel('End date').fill(`${y + 1}-06-30`);
  await manager.getByLabel('Start date').fill(`${month}-01`);
  await manager.getByLabel('Services and channels').fill('demo-property-tax-address: online, phone, in_person');
  await manager.getByRole('button', { name: 'Create the draft' }).click();
  await manager.getByText('The draft agreement was created.').waitFor();
  await assertNoA11yViolations(manager);
  const url = manager.url().split('?')[0];
  await manager.getByRole('button', { name: 'Submit to the governance board' }).click();
  await manager.getByText('The agreement was submitted to the governance board.').waitFor();

  const board = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(board, env, 'staff-board', 'fr');
  await board.goto(url.replace('/en/staff/agreements/', '/fr/personnel/ententes/'));
  await assertNoA11yViolations(board);
  await board.getByLabel('Référence de la décision (procès-verbal)').fill('CG-2026-11');
  await board.getByRole('button', { name: 'Approuver', exact: true }).click();
  await board.getByText('L’approbation du conseil a été consignée.').waitFor();
  await assertNoA11yViolations(board);

  const partner = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(partner, env, 'staff-ottawa-partner');
  await partner.goto(url);
  await partner.getByRole('button', { name: 'Accept the agreement' }).click();
  await partner.getByText('The agreement was accepted; its terms are in force.').waitFor();
  await assertNoA11yViolations(partner);
  await partner.getByRole('link', { name: 'Versions and history' }).click();
  await assertNoA11yViolations(partner);

  await manager.goto(url);
  await manager.getByLabel('Statutory fee (dollars)').fill('12.50');
  await manager.getByLabel('One-stop’s share (dollars, taken out of the statutory fee)').fill('1');
  await manager.getByRole('button', { name: 'Add a fee version' }).click();
  await manager.getByText('The fee version was added.').waitFor();
  assert.match(await manager.locator('#fees').innerText(), /\$12\.50/);
  await assertNoA11yViolations(manager);

  const client = await env.newPage({ javaScriptEnabled: false });
  await client.goto(env.url('/en/services/demo-driver-licence'));
  assert.match(await client.locator('#fees-by-channel').innerText(), /Online[\s\S]*\$90\.00[\s\S]*\$2\.00 kept by the one-stop/);
  await assertNoA11yViolations(client);

  await partner.goto(env.url('/en/staff/proposals'));
  await assertNoA11yViolations(partner);
  const row = await env.db.selectFrom('agreements').select(['status', 'decision_reference']).where('title_en', '=', 'Municipal services (test)').executeTakeFirstOrThrow();
  assert.deepEqual(row, { status: 'active', decision_reference: 'CG-2026-11' });

  // ---- Billing the month. The rates of the agreement, set by the manager through the API (per interaction by channel,
  // information-only contacts free, monthly).
  const agreementId = url.split('/').pop()!;
  const managerApi = await staffCookie(env.app, 'staff-reviewer');
  const rates = await call(env.testApp, managerApi, 'PUT', `/api/v1/billing/terms/${agreementId}`, {
    model: 'per_interaction', frequency: 'monthly', validFrom: `${month}-01`, channelRates: { counter: 1400, phone: 750 }, infoOnlyCents: 0,
    serviceIds: ['demo-property-tax-address'],
  });
  assert.equal(rates.status, 200, JSON.stringify(rates.body));

  // Counter visits, recorded by the counters capability: the one-stop's agent serves three walk-ins for the City's
  // property-tax service at the shared office (one only needed information).
  await openAllDay(env.db, DEMO_OFFICE);
  const counter = await env.db.selectFrom('counters').select('id').where('office_id', '=', DEMO_OFFICE).where('label', '=', '1').executeTakeFirstOrThrow();
  await openCounter(env.db, DEMO_OFFICE, counter.id, 'staff-agent');
  for (const result of ['Address changed', 'Address changed', 'information_given']) {
    const ticket = await createTicket(env.db, DEMO_OFFICE, { services: ['demo-property-tax-address'], language: 'en', channel: 'greeter' });
    const called = await callNext(env.db, DEMO_OFFICE, counter.id, 'staff-agent');
    assert.equal(called.ticket?.id, ticket.id);
    await ticketAction(env.db, DEMO_OFFICE, ticket.id, 'serve', 'staff-agent', {}, new Date(), counter.id);
    await ticketAction(env.db, DEMO_OFFICE, ticket.id, 'complete', 'staff-agent', { result }, new Date(), counter.id);
  }
  // Staff interactions on a case, through the cases API: a client opens a case online, gives the one-stop's agent
  // access to their file, and the agent calls them twice and once only to inform them.
  const citizen = await makeClient(env.testApp);
  const agentApi = await staffCookie(env.app, 'staff-agent');
  const opened = await call(env.testApp, citizen.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-property-tax-address', summary: 'My new address' });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  await serve(env.testApp, citizen.cookie, agentApi);
  for (const outcome of ['callback_needed', 'callback_needed', 'information_given']) {
    const r = await call(env.testApp, agentApi, 'POST', `/api/v1/cases/${opened.body.id}/interactions`, { channel: 'phone', outcome });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }

  // The daily billing job as it runs on the first day of the next month: it bills the month for monthly agreements.
  const firstOfNext = addMonths(`${month}-01`, 1);
  const billed = await billDue(env.db, firstOfNext);
  assert.equal(billed.invoices, 1);
  // Twice: nothing more.
  assert.equal((await billDue(env.db, firstOfNext)).invoices, 0);

  // The partner opens its invoice: 2 visits × $14.00 + 2 calls × $7.50, information free = $43.00.
  await partner.goto(env.url('/en/staff/billing/invoices'));
  await assertNoA11yViolations(partner);
  await partner.locator('main a[href^="/en/staff/billing/invoices/"]').first().click();
  await partner.locator('#invoice-total').waitFor();
  assert.equal((await partner.locator('#invoice-total').innerText()).trim(), '$43.00');
  assert.match(await partner.locator('#invoice-partner').innerText(), /Ottawa/);
  await assertNoA11yViolations(partner);
  const invoiceUrl = partner.url().split('?')[0];
  // A line's records, traced back to the visits and interactions it counts.
  await partner.locator('main table a[href*="/lines/"]').first().click();
  await assertNoA11yViolations(partner);
  // The printable version and the CSV, in the partner's language.
  await partner.goto(`${invoiceUrl}/print`);
  await assertNoA11yViolations(partner);
  await partner.goto(invoiceUrl);
  const [download] = await Promise.all([partner.waitForEvent('download'), partner.locator('#csv-link').click()]);
  const csv = fs.readFileSync((await download.path())!, 'utf8');
  assert.match(csv, /^\ufeff/);
  assert.match(csv, /4300/);
  // Another partner does not see it.
  const mto = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(mto, env, 'staff-mto-partner');
  const other = await mto.goto(invoiceUrl);
  assert.equal(other?.status(), 404);
});
