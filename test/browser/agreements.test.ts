/**
 * Agreements in a real browser with JavaScript off: a manager drafts an agreement for the City of Ottawa, the
 * governance board approves it (in French), the partner accepts it; its history, a fee version, the public service
 * page's fees by channel and the intake backlog. Every page is checked with axe (WCAG 2.1 AA).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoA11yViolations, signInStaff, startBrowserEnv, type BrowserEnv } from './support/browser';
import { seedDemoAgreements } from '../../src/agreements/demo';

let env: BrowserEnv;
before(async () => {
  env = await startBrowserEnv();
  await seedDemoAgreements(env.db);
});
after(async () => {
  await env?.close();
});

test('manager drafts, board approves, partner accepts, without JavaScript, accessibly', async () => {
  const y = new Date().getUTCFullYear();
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
  await manager.getByLabel('Services and channels').fill('demo-property-tax-address: online, phone');
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
});
