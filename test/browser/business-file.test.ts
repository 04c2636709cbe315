/**
 * A business's file for its representatives, in Chromium without JavaScript (issue 3): from My file the person acts
 * for the business ("Acting for"), declares a business change of address through Tell Us Once (an error first), and
 * reads the business's notices, consents and access log; then takes the business's yearly subscription, reads its
 * renewal date, statements and carried amount, and cancels it (billing). axe (WCAG 2.1 AA) runs on every page, in
 * English and French.
 * The recipient is a pull partner, so no background worker is needed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertNoA11yViolations, startBrowserEnv, type BrowserEnv } from './support/browser';
import { clientCookie, createTestClient } from '../support/clients';
import { addRepresentative } from '../../src/clients/accounts';
import { saveSubscription } from '../../src/notices/service';
import { chargeOnAccount, runStatements } from '../../src/billing/subscriptions';
import { addMonths, BILLING_TZ } from '../../src/billing/billing';
import { localDate } from '../../src/i18n/index';

let env: BrowserEnv;
let person = '';
let biz = '';

before(async () => {
  env = await startBrowserEnv();
  person = await createTestClient(env.db, { givenName: 'Rosalie', familyName: 'Owner', preferredLang: 'en' });
  biz = await createTestClient(env.db, { kind: 'business', businessName: 'Boulangerie Rideau inc.', businessNumber: '123456780' });
  await addRepresentative(env.db, biz, person, 'director');
  await saveSubscription(
    env.db,
    {
      id: 'browser-biz-registry',
      orgId: 'on-pbr',
      programEn: 'Business registry (browser test)',
      programFr: 'Registre des entreprises (test navigateur)',
      purposeEn: 'Keeps the registered office address up to date.',
      purposeFr: 'Tient à jour l’adresse du siège.',
      eventTypes: ['business-change-of-address'],
      fields: ['business.name', 'business.number', 'newAddress', 'effectiveDate'],
      legalBasis: 'consent',
      delivery: 'pull',
    },
    { staffId: 'staff-admin', allowLoopback: true },
  );
});
after(async () => env?.close());

test('a representative acts for a business, declares its change of address and reads its file (no JavaScript, axe-clean, EN/FR)', async () => {
  const page = await env.newPage({ javaScriptEnabled: false });
  const cookie = await clientCookie(env.app, env.db, person);
  await page.context().addCookies(
    cookie.split('; ').map((c) => {
      const [name, value] = c.split('=');
      return { name, value, url: env.baseUrl };
    }),
  );

  await page.goto(env.url('/en/my-file'));
  await assertNoA11yViolations(page);
  await page.click(`a[data-act-for="${biz}"]`);
  await page.waitForURL(new RegExp(`/en/my-file/businesses/${biz}$`));
  assert.match((await page.textContent('#acting-for')) ?? '', /Acting for: Boulangerie Rideau inc\./);
  assert.match((await page.textContent('#business-profile')) ?? '', /123456780/);
  await assertNoA11yViolations(page);

  // Tell Us Once for the business: an error, then the check page, then send
  await page.click(`a[href="/en/my-file/businesses/${biz}/notices"]`);
  await assertNoA11yViolations(page);
  await page.click('#business-events a');
  await page.waitForURL(/\/tell-us-once\/business-change-of-address$/);
  assert.match((await page.textContent('#acting-for')) ?? '', /Boulangerie Rideau inc\./);
  await assertNoA11yViolations(page);
  await page.fill('#f-newAddress-line1', '200 Elgin Street');
  await page.fill('#f-newAddress-city', 'Ottawa');
  await page.selectOption('#f-newAddress-province', 'ON');
  await page.fill('#f-newAddress-postalCode', '12345');
  await page.fill('#f-effectiveDate', new Date().toISOString().slice(0, 10));
  await page.click('form[action$="/check"] button');
  assert.ok(await page.isVisible('.govuk-error-summary'));
  await assertNoA11yViolations(page);
  await page.fill('#f-newAddress-postalCode', 'K2P 1L5');
  await page.click('form[action$="/check"] button');
  await page.waitForSelector('input[name="recipients"][value="browser-biz-registry"]');
  await assertNoA11yViolations(page);
  await page.check('input[name="recipients"][value="browser-biz-registry"]');
  await page.click('form[action$="/send"] button');
  await page.waitForURL(new RegExp(`/en/my-file/businesses/${biz}/notices\\?sent=1$`));
  assert.match(await page.content(), /data-status="pending"/);
  assert.match(await page.content(), /Declared by Rosalie Owner/);
  await assertNoA11yViolations(page);

  // its consents and access log, in English and French
  for (const url of [`/en/my-file/businesses/${biz}/consents`, `/en/my-file/businesses/${biz}/access-log`, `/fr/mon-dossier/entreprises/${biz}`, `/fr/mon-dossier/entreprises/${biz}/avis`, `/fr/mon-dossier/entreprises/${biz}/consentements`, `/fr/mon-dossier/entreprises/${biz}/journal-des-acces`]) {
    const res = await page.goto(env.url(url));
    assert.equal(res?.status(), 200, url);
    assert.ok(await page.isVisible('#acting-for'), url);
    await assertNoA11yViolations(page);
  }
  assert.match((await page.textContent('#access-log')) ?? '', /Rosalie Owner \(représentant\)/);

  // "stop acting" goes back to the person's own file
  await page.click('#stop-acting');
  await page.waitForURL(/\/fr\/mon-dossier$/);
});

test('a director takes the business’s subscription, reads its statements and cancels it (no JavaScript, axe-clean, EN/FR)', async () => {
  const page = await env.newPage({ javaScriptEnabled: false });
  const cookie = await clientCookie(env.app, env.db, person);
  await page.context().addCookies(cookie.split('; ').map((c) => {
    const [name, value] = c.split('=');
    return { name, value, url: env.baseUrl };
  }));
  await page.goto(env.url(`/en/my-file/businesses/${biz}`));
  await page.click('#subscription-link');
  await page.waitForURL(new RegExp(`/en/my-file/businesses/${biz}/subscription$`));
  assert.match((await page.textContent('#subscription')) ?? '', /no subscription/);
  await assertNoA11yViolations(page);
  // An error first: the renewal choice is required.
  await page.getByRole('button', { name: 'Take the subscription' }).click();
  assert.ok(await page.isVisible('.govuk-error-summary'));
  await assertNoA11yViolations(page);
  await page.getByLabel('Yes, renew it each year until we cancel it').check();
  await page.getByRole('button', { name: 'Take the subscription' }).click();
  await page.waitForURL(/\?done=taken$/);
  assert.match((await page.textContent('#subscription')) ?? '', /Active[\s\S]*\$75\.00[\s\S]*Renews automatically on/);
  await assertNoA11yViolations(page);

  // Two months of statements: this month's yearly fee (issued), then a $4 transaction next month, carried.
  const month = `${localDate(new Date(), BILLING_TZ).slice(0, 7)}-01`;
  const next = addMonths(month, 1);
  await runStatements(env.db, month, next);
  await chargeOnAccount(env.db, { businessId: biz, basketRef: 'browser-basket-1', amountCents: 400, on: `${next.slice(0, 8)}10` });
  await runStatements(env.db, next, addMonths(next, 1));
  await page.goto(env.url(`/fr/mon-dossier/entreprises/${biz}/abonnement`));
  assert.match((await page.textContent('#subscription')) ?? '', /Reporté au mois suivant\s*4,00\s*\$/);
  assert.match((await page.textContent('#statements')) ?? '', /Sous le minimum : reporté au mois suivant[\s\S]*75,00/);
  await assertNoA11yViolations(page);
  // Cancelling needs the box ticked.
  await page.getByRole('button', { name: 'Annuler l’abonnement' }).click();
  assert.ok(await page.isVisible('.govuk-error-summary'));
  await assertNoA11yViolations(page);
  await page.getByLabel('Je comprends que l’entreprise ne pourra plus payer au compte').check();
  await page.getByRole('button', { name: 'Annuler l’abonnement' }).click();
  await page.waitForURL(/\?done=cancelled$/);
  assert.match((await page.textContent('#subscription')) ?? '', /Annulé/);
  await assertNoA11yViolations(page);
});
