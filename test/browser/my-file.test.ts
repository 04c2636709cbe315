/**
 * "My file" in Chromium, without JavaScript: real OpenID Connect sign-in on the development provider, every page
 * of the file checked with axe (WCAG 2.1 AA), a form error state, a consent withdrawal, and an agent opening the
 * file with the client's one-time code.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertNoA11yViolations, signInStaff, startBrowserEnv, type BrowserEnv } from './support/browser';
import { signInClientInBrowser } from '../support/clients';

let env: BrowserEnv;
before(async () => {
  env = await startBrowserEnv({ oidc: true });
});
after(async () => {
  await env?.close();
});

test('a client signs in, reads and edits their file, lets an agent in, and sees the access (no JavaScript)', async () => {
  const page = await env.newPage({ javaScriptEnabled: false });
  await page.goto(env.url('/en/sign-in'));
  await assertNoA11yViolations(page);
  await signInClientInBrowser(page, env.baseUrl, 'demo-jordan');
  assert.match(await page.textContent('h1') ?? '', /My file/);
  assert.match(await page.content(), /150 Elgin Street/);
  await assertNoA11yViolations(page);

  // profile with an error, then fixed
  await page.click('a[href="/en/my-file/profile"]');
  await assertNoA11yViolations(page);
  await page.fill('#birthDate', '2999-01-01');
  await page.click('form[action="/en/my-file/profile"] button');
  assert.match(await page.textContent('.govuk-error-summary') ?? '', /cannot be in the future/);
  await assertNoA11yViolations(page);
  await page.fill('#birthDate', '1990-09-30');
  await page.fill('#phone', '613-555-0142');
  await page.check('#contact-2');
  await page.click('form[action="/en/my-file/profile"] button');
  await page.waitForURL(/\/en\/my-file\?saved=profile$/);

  // addresses: history page and French version
  await page.goto(env.url('/en/my-file/addresses'));
  await assertNoA11yViolations(page);
  await page.fill('#line1', '99 Bank Street');
  await page.fill('#city', 'Ottawa');
  await page.selectOption('#province', 'ON');
  await page.fill('#postalCode', 'k1p5n2');
  await page.click('form[action="/en/my-file/addresses"] button');
  await page.waitForURL(/\/en\/my-file\/addresses\?saved=1$/);
  assert.match(await page.content(), /K1P 5N2/);
  await page.goto(env.url('/fr/mon-dossier/adresses'));
  await assertNoA11yViolations(page);

  // one-time code for an agent
  await page.goto(env.url('/en/my-file'));
  await page.click('#get-agent-code');
  const code = await page.getAttribute('#agent-code', 'data-code');
  assert.match(code ?? '', /^\d{8}$/);
  await assertNoA11yViolations(page);

  const agentPage = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(agentPage, env, 'staff-agent');
  await agentPage.goto(env.url('/en/staff/clients/lookup'));
  await assertNoA11yViolations(agentPage);
  await agentPage.fill('#code', code!);
  await agentPage.click('form button');
  await agentPage.waitForURL(/\/en\/staff\/clients\/[0-9a-f-]+$/);
  assert.match(await agentPage.textContent('#client-name') ?? '', /Jordan Smith/);
  await assertNoA11yViolations(agentPage);

  // the client sees who looked, and withdraws the agent's access
  await page.goto(env.url('/en/my-file/access-log'));
  assert.match(await page.textContent('#access-log') ?? '', /Alex Agent/);
  await assertNoA11yViolations(page);
  await page.goto(env.url('/en/my-file/consents'));
  await assertNoA11yViolations(page);
  await page.click('#consents form button');
  await page.waitForURL(/\?saved=withdrawn$/);
  assert.match(await page.textContent('#consents') ?? '', /Withdrawn on/);
  const denied = await agentPage.goto(agentPage.url());
  assert.equal(denied?.status(), 404);
});
