/**
 * Editorial workflow in a real browser with JavaScript off: an MTO editor drafts and submits a change, the one-stop
 * reviewer publishes it; every page is checked with axe (WCAG 2.1 AA).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoA11yViolations, signInStaff, startBrowserEnv, type BrowserEnv } from './support/browser';

let env: BrowserEnv;
before(async () => {
  env = await startBrowserEnv();
});
after(async () => {
  await env?.close();
});

test('editor drafts and submits, reviewer publishes, without JavaScript, accessibly', async () => {
  const editor = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(editor, env, 'staff-mto-editor');
  await editor.goto(env.url('/en/staff/catalogue'));
  await assertNoA11yViolations(editor);
  await editor.getByRole('link', { name: 'Driver’s licence: renew or change your address' }).click();
  await editor.getByRole('button', { name: 'Edit the content' }).click();
  assert.match(editor.url(), /\/en\/staff\/catalogue\/demo-driver-licence\/edit$/);
  await assertNoA11yViolations(editor);

  // Errors: an error summary linking to each field.
  await editor.getByLabel('Title (French)').fill('');
  await editor.getByLabel('Amount').first().fill('ninety');
  await editor.getByRole('button', { name: 'Save draft' }).click();
  await editor.locator('.govuk-error-summary').waitFor();
  assert.equal(await editor.locator('.govuk-error-summary a[href="#title_fr"]').count(), 1);
  assert.equal(await editor.locator('.govuk-error-summary a[href="#cost_0_amount"]').count(), 1);
  await assertNoA11yViolations(editor);

  await editor.getByLabel('Title (French)').fill('Permis de conduire : renouvellement ou changement d’adresse');
  await editor.getByLabel('Amount').first().fill('95.50');
  await editor.getByLabel('Description (English)').fill('Renew your driver’s licence online or at a kiosk.');
  await editor.getByRole('button', { name: 'Save draft' }).click();
  await editor.getByText('Your draft was saved.').waitFor();
  assert.match(await editor.locator('.guichet-diff').innerText(), /95\.50/);
  await assertNoA11yViolations(editor);
  await editor.getByRole('button', { name: 'Submit for review' }).click();
  await editor.getByText('Your revision was submitted for review.').waitFor();

  const reviewer = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(reviewer, env, 'staff-reviewer', 'fr');
  await reviewer.goto(env.url('/fr/personnel/catalogue/examen'));
  await assertNoA11yViolations(reviewer);
  await reviewer.getByRole('link', { name: 'Permis de conduire : renouvellement ou changement d’adresse' }).click();
  await assertNoA11yViolations(reviewer);
  await reviewer.getByRole('button', { name: 'Publier' }).click();
  await reviewer.getByText('La révision a été publiée.').waitFor();
  await reviewer.getByRole('link', { name: 'Historique et modifications' }).click();
  await assertNoA11yViolations(reviewer);
  await reviewer.goto(env.url('/fr/personnel/catalogue/contenu-perime?months=12&org=on-mto'));
  await assertNoA11yViolations(reviewer);

  const row = await env.db.selectFrom('services').select(['description_en', 'version']).where('id', '=', 'demo-driver-licence').executeTakeFirstOrThrow();
  assert.deepEqual(row, { description_en: 'Renew your driver’s licence online or at a kiosk.', version: 2 });

  const agent = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(agent, env, 'staff-agent');
  await agent.goto(env.url('/en/staff/services/demo-health-card'));
  await agent.getByText('Photo cards must be renewed in person').waitFor();
  await assertNoA11yViolations(agent);
});
