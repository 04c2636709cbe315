/**
 * Tell Us Once in Chromium, without JavaScript (issue 3): a client signs in through the real development OpenID
 * provider, declares a change of address (first with an invalid postal code: translated error summary, in French and
 * in English), chooses programs on the check page (an empty choice is refused first), sends, and reloads "Your notices" until every chosen recipient
 * shows "Delivered". The pg-boss workers run (createTestApp({ background: true })) and deliver to real partner HTTP
 * servers on 127.0.0.1 (test/support/partners.ts), which verify the HMAC signature: each chosen partner must have
 * received exactly one signed notice with only its entitled fields, and a partner not chosen nothing. axe (WCAG 2.1
 * AA, no serious/critical violation) runs on every page visited; the status page is checked in French too.
 *
 * The harness's startBrowserEnv() has no background workers, so this file starts its own server with them and reuses
 * the harness's Chromium, script-disabling and axe helpers.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { assertNoA11yViolations, disableScripts, launchChromium } from './support/browser';
import { createTestApp, type TestApp } from '../support/app';
import { signInClientInBrowser, withDevOidc } from '../support/clients';
import { startPartner, type Partner } from '../support/partners';
import { saveSubscription, type SubscriptionInput } from '../../src/notices/service';

const ENV = {
  GUICHET_NOTICE_RETRY_BASE_S: '0.2',
  GUICHET_NOTICE_RETRY_MAX_S: '0.6',
  GUICHET_NOTICE_RETRY_WINDOW_S: '20',
  GUICHET_NOTICE_HTTP_TIMEOUT_MS: '5000',
  GUICHET_NOTICE_POLL_S: '0.5',
  GUICHET_JOBS_MAINTENANCE_S: '1',
};
const EVENT_KEY = 'urn:guichet:tell-us-once:event:change-of-address:v1';

const sub = (over: Partial<SubscriptionInput> & { id: string; orgId: string; programEn: string; programFr: string }): SubscriptionInput => ({
  purposeEn: 'Keep your record up to date.',
  purposeFr: 'Garder votre dossier à jour.',
  eventTypes: ['change-of-address'],
  fields: ['newAddress'],
  legalBasis: 'consent',
  delivery: 'webhook',
  ...over,
});

/** Chosen recipients: subscription id → entitled fields (as they appear in the notice). */
const CHOSEN = {
  'tuo-browser-health': ['effectiveDate', 'newAddress', 'subject.birthDate', 'subject.name'],
  'tuo-browser-city': ['newAddress', 'previousAddress'],
} as const;
type ChosenId = keyof typeof CHOSEN;

let t: TestApp;
let baseUrl = '';
let browser: Browser | undefined;
let oidc: Awaited<ReturnType<typeof withDevOidc>> | undefined;
const contexts: BrowserContext[] = [];
const partners: Record<string, Partner> = {};

before(async () => {
  t = await createTestApp({ catalogue: true, background: true, env: ENV });
  oidc = await withDevOidc({ app: t.app, config: t.config }); // listens on 127.0.0.1:0 and points OIDC at the dev provider
  baseUrl = oidc.baseUrl;
  const specs: Array<[string, SubscriptionInput]> = [
    [
      'tuo-browser-health',
      sub({
        id: 'tuo-browser-health',
        orgId: 'on-moh',
        programEn: 'Browser test health card',
        programFr: 'Carte santé (test navigateur)',
        fields: [...CHOSEN['tuo-browser-health']],
        legalBasis: 'law',
        lawReference: 'Health Insurance Act (test)',
      }),
    ],
    ['tuo-browser-city', sub({ id: 'tuo-browser-city', orgId: 'ottawa', programEn: 'Browser test city services', programFr: 'Services municipaux (test navigateur)', fields: [...CHOSEN['tuo-browser-city']] })],
    ['tuo-browser-unchosen', sub({ id: 'tuo-browser-unchosen', orgId: 'on-mto', programEn: 'Browser test licence', programFr: 'Permis (test navigateur)', fields: ['subject.name', 'newAddress'] })],
  ];
  for (const [id, input] of specs) {
    const p = await startPartner({ behaviour: 'fast' });
    const r = await saveSubscription(t.db, { ...input, webhookUrl: p.url }, { staffId: 'staff-admin', allowLoopback: true });
    p.setSecret(r.signingSecret!);
    partners[id] = p;
  }
  browser = await launchChromium();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close().catch(() => {});
  await oidc?.close();
  await t?.close();
  for (const p of Object.values(partners)) await p.close();
});

async function noJsPage(): Promise<Page> {
  const context = await browser!.newContext({ baseURL: baseUrl });
  context.setDefaultTimeout(30_000);
  context.setDefaultNavigationTimeout(60_000);
  contexts.push(context);
  const page = await context.newPage();
  await disableScripts(page);
  return page;
}

const url = (p: string) => new URL(p, baseUrl).toString();

async function rowStatuses(page: Page): Promise<Record<string, string>> {
  const rows = await page.$$eval('tr[data-notice]', (trs) => trs.map((tr) => [tr.textContent ?? '', tr.getAttribute('data-status') ?? '']));
  const out: Record<string, string> = {};
  for (const [text, status] of rows) {
    if (/Browser test health card|Carte santé \(test navigateur\)/.test(text)) out['tuo-browser-health'] = status;
    if (/Browser test city services|Services municipaux \(test navigateur\)/.test(text)) out['tuo-browser-city'] = status;
    if (/Browser test licence|Permis \(test navigateur\)/.test(text)) out['tuo-browser-unchosen'] = status;
  }
  return out;
}

test('a client declares a change of address in Chromium without JavaScript and follows it to "delivered"', async () => {
  const page = await noJsPage();

  // public start page, with the new navigation link
  await page.goto(url('/en'));
  assert.equal(await page.locator('nav.guichet-nav a[href="/en/tell-us-once"]').textContent(), 'Tell us once');
  await page.click('nav.guichet-nav a[href="/en/tell-us-once"]');
  await page.waitForURL(/\/en\/tell-us-once$/);
  await assertNoA11yViolations(page);

  // real OIDC sign-in (Guichet sign-in page → development provider → callback), back to Tell us once
  await page.goto(url('/en/sign-in?returnTo=%2Fen%2Ftell-us-once'));
  await assertNoA11yViolations(page);
  await signInClientInBrowser(page, baseUrl, 'demo-jordan', { returnTo: '/en/tell-us-once' });
  assert.match((await page.textContent('h1')) ?? '', /Tell us once/);
  await assertNoA11yViolations(page);

  // French form first: an invalid submission shows the French error summary
  await page.goto(url('/fr/dites-le-nous-une-fois/changement-d-adresse'));
  await assertNoA11yViolations(page);
  await page.fill('#f-newAddress-postalCode', 'ZZZ');
  await page.click('form[action="/fr/dites-le-nous-une-fois/changement-d-adresse/verifier"] button');
  const frSummary = (await page.textContent('.govuk-error-summary')) ?? '';
  assert.match(frSummary, /Il y a un problème/);
  assert.match(frSummary, /Entrez un code postal canadien/);
  assert.doesNotMatch(frSummary, /There is a problem|field\.|notices\./);
  await assertNoA11yViolations(page);

  // English form from the start page: invalid postal code, then fixed
  await page.goto(url('/en/tell-us-once'));
  await page.click('a[href="/en/tell-us-once/change-of-address"]');
  await page.waitForURL(/\/en\/tell-us-once\/change-of-address$/);
  await assertNoA11yViolations(page);
  const today = new Date().toISOString().slice(0, 10);
  await page.fill('#f-newAddress-line1', '50 Rideau Street');
  await page.fill('#f-newAddress-city', 'Ottawa');
  await page.selectOption('#f-newAddress-province', 'ON');
  await page.fill('#f-newAddress-postalCode', 'not a postcode');
  await page.fill('#f-previousAddress-line1', '150 Elgin Street');
  await page.fill('#f-previousAddress-city', 'Ottawa');
  await page.selectOption('#f-previousAddress-province', 'ON');
  await page.fill('#f-previousAddress-postalCode', 'K2P 1L4');
  await page.fill('#f-effectiveDate', today);
  const checkAction = 'form[action="/en/tell-us-once/change-of-address/check"] button';
  await page.click(checkAction);
  const enSummary = (await page.textContent('.govuk-error-summary')) ?? '';
  assert.match(enSummary, /There is a problem/);
  assert.match(enSummary, /Postal code: Enter a Canadian postal code/);
  assert.doesNotMatch(enSummary, /Il y a un problème|field\.|notices\./);
  // the summary links to the field, the other answers are kept
  const href = await page.getAttribute('.govuk-error-summary a', 'href');
  assert.equal(href, '#f-newAddress-postalCode');
  assert.equal(await page.locator('#f-newAddress-postalCode').count(), 1);
  assert.equal(await page.inputValue('#f-newAddress-line1'), '50 Rideau Street');
  assert.equal(await page.inputValue('#f-newAddress-province'), 'ON');
  await assertNoA11yViolations(page);
  await page.fill('#f-newAddress-postalCode', 'k1n9j7');
  await page.click(checkAction);
  await page.waitForSelector('form[action="/en/tell-us-once/change-of-address/send"]');

  // check answers and choose programs
  assert.match((await page.textContent('h1')) ?? '', /Check your answers/);
  assert.match((await page.textContent('.govuk-summary-list')) ?? '', /50 Rideau Street/);
  await assertNoA11yViolations(page);
  for (const box of await page.$$('input[name="recipients"]')) if (await box.isChecked()) await box.uncheck();
  // sending with no program chosen: the error summary points at the checkboxes, the answers are kept
  await page.click('form[action="/en/tell-us-once/change-of-address/send"] button');
  const noneSummary = (await page.textContent('.govuk-error-summary')) ?? '';
  assert.match(noneSummary, /There is a problem/);
  assert.match(noneSummary, /Which programs should we tell\?/);
  assert.equal(await page.getAttribute('.govuk-error-summary a', 'href'), '#f-recipients');
  assert.equal(await page.locator('#f-recipients').count(), 1);
  assert.match((await page.textContent('.govuk-summary-list')) ?? '', /50 Rideau Street/);
  await assertNoA11yViolations(page);
  for (const box of await page.$$('input[name="recipients"]')) if (await box.isChecked()) await box.uncheck();
  for (const id of Object.keys(CHOSEN)) await page.check(`input[name="recipients"][value="${id}"]`);
  await page.click('form[action="/en/tell-us-once/change-of-address/send"] button');
  await page.waitForURL(/\/en\/my-file\/notices\/[0-9a-f-]+\?sent=1$/);
  assert.match((await page.textContent('.govuk-notification-banner')) ?? '', /\S/);
  await assertNoA11yViolations(page);
  const declarationPath = new URL(page.url()).pathname;

  // "Your notices": reload until each chosen recipient is delivered (bounded)
  await page.goto(url('/en/my-file/notices'));
  await assertNoA11yViolations(page);
  const deadline = Date.now() + 90_000;
  let statuses = await rowStatuses(page);
  while (!Object.keys(CHOSEN).every((id) => statuses[id] === 'delivered')) {
    if (Date.now() > deadline) assert.fail(`notices not delivered within 90 s: ${JSON.stringify(statuses)}`);
    await new Promise((r) => setTimeout(r, 500));
    await page.reload();
    statuses = await rowStatuses(page);
  }
  assert.deepEqual(Object.keys(statuses).sort(), Object.keys(CHOSEN).sort(), 'only the chosen programs were told');
  const tags = await page.$$eval('tr[data-status="delivered"] .govuk-tag', (els) => els.map((e) => (e.textContent ?? '').trim()));
  assert.deepEqual(tags, ['Delivered', 'Delivered']);
  await assertNoA11yViolations(page);

  // the declaration page shows the same statuses
  await page.goto(url(declarationPath));
  assert.deepEqual(await rowStatuses(page), { 'tuo-browser-health': 'delivered', 'tuo-browser-city': 'delivered' });
  await assertNoA11yViolations(page);

  // French status pages
  await page.goto(url('/fr/mon-dossier/avis'));
  assert.match((await page.textContent('h1')) ?? '', /Vos avis/);
  assert.deepEqual(await rowStatuses(page), { 'tuo-browser-health': 'delivered', 'tuo-browser-city': 'delivered' });
  const frTags = await page.$$eval('tr[data-status] .govuk-tag', (els) => els.map((e) => (e.textContent ?? '').trim()));
  assert.deepEqual(frTags, ['Livré', 'Livré']);
  assert.equal(await page.locator('nav.guichet-nav a[href="/fr/dites-le-nous-une-fois"]').textContent(), 'Dites-le-nous une fois');
  await assertNoA11yViolations(page);
  await page.goto(url(declarationPath.replace('/en/my-file/notices/', '/fr/mon-dossier/avis/')));
  await assertNoA11yViolations(page);

  // each chosen partner received exactly one signed notice, with only its entitled fields
  const noticeIds = await t.db.selectFrom('notices').select(['id', 'subscription_id']).where('subscription_id', 'in', Object.keys(partners)).execute();
  assert.equal(noticeIds.length, 2);
  for (const id of Object.keys(CHOSEN) as ChosenId[]) {
    const p = partners[id];
    const noticeId = noticeIds.find((n) => n.subscription_id === id)!.id;
    assert.equal(p.badSignatures, 0, `${id}: signature verified`);
    assert.equal(p.received, 1, `${id}: exactly one request`);
    assert.deepEqual([...p.applied.entries()], [[noticeId, 1]], `${id}: exactly one notice, applied once`);
    const payload = p.payloads.get(noticeId);
    assert.equal(payload.jti, noticeId);
    assert.deepEqual(Object.keys(payload.events), [EVENT_KEY]);
    const items = payload.events[EVENT_KEY];
    assert.deepEqual(Object.keys(items).sort(), [...CHOSEN[id]].sort(), `${id}: only its entitled fields`);
    assert.equal(items.newAddress.line1, '50 Rideau Street');
    assert.equal(items.newAddress.postalCode, 'K1N 9J7');
  }
  assert.equal(partners['tuo-browser-unchosen'].received, 0, 'a program not chosen is not told');
});
