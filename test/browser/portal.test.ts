/**
 * Public portal in Chromium: every page type in English and French has no serious/critical WCAG 2.1 AA violation
 * (axe-core), and the main journeys work with JavaScript turned off (search, facet filter, paging, language toggle,
 * office locator and its error).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoA11yViolations, gotoStatus, startBrowserEnv, type BrowserEnv } from './support/browser';

let env: BrowserEnv;
before(async () => {
  env = await startBrowserEnv();
  // Warm up: the first search builds the in-process search index.
  await env.app.inject({ method: 'GET', url: '/en', headers: { accept: 'text/html' } });
});
after(async () => {
  await env?.close();
});

const PAGES: Array<{ name: string; en: string; fr: string; status?: number }> = [
  { name: 'home', en: '/en', fr: '/fr' },
  { name: 'search with results', en: '/en/search?q=passport', fr: '/fr/recherche?q=passeport' },
  { name: 'search filtered, page 2', en: '/en/search?level=federal&page=2', fr: '/fr/recherche?level=federal&page=2' },
  { name: 'service page (demo)', en: '/en/services/demo-health-card', fr: '/fr/services/demo-health-card' },
  { name: 'service page (GC)', en: '/en/services/gc-1242', fr: '/fr/services/gc-1242' },
  { name: 'organisation list', en: '/en/organisations?level=provincial', fr: '/fr/organisations' },
  { name: 'organisation page', en: '/en/organisations/ottawa', fr: '/fr/organisations/esdc-edsc' },
  { name: 'life-event list', en: '/en/life-events', fr: '/fr/evenements-de-vie' },
  { name: 'life-event page', en: '/en/life-events/moving', fr: '/fr/evenements-de-vie/starting-a-business' },
  { name: 'office search', en: '/en/offices?postcode=K1P+1J1&service=demo-health-card', fr: '/fr/bureaux?postcode=K2G5K7' },
  { name: 'office search error', en: '/en/offices?postcode=12345', fr: '/fr/bureaux?postcode=ZZZ', status: 400 },
  { name: 'office page', en: '/en/offices/ottawa-ben-franklin', fr: '/fr/bureaux/ottawa-rideau' },
  { name: 'not found', en: '/en/services/no-such-service', fr: '/fr/services/no-such-service', status: 404 },
];

describe('accessibility (axe, WCAG 2.1 AA): every page type in both languages', () => {
  for (const p of PAGES) {
    for (const lang of ['en', 'fr'] as const) {
      test(`${p.name} (${lang})`, async () => {
        const page = await env.newPage();
        assert.equal(await gotoStatus(page, env.url(p[lang])), p.status ?? 200);
        assert.equal(await page.getAttribute('html', 'lang'), lang);
        assert.ok((await page.title()).length > 0);
        assert.equal(await page.locator('h1').count(), 1, 'one h1 per page');
        await assertNoA11yViolations(page);
        await page.close();
      });
    }
  }
});

describe('without JavaScript', () => {
  test('search from the home page, filter with a facet, page through, switch language', async () => {
    const page = await env.newPage({ javaScriptEnabled: false });
    await page.goto(env.url('/en'));
    assert.equal(await page.evaluate(() => document.body.classList.contains('js-enabled')), false, 'scripts are off');
    await page.getByLabel('What do you need?').fill('licence');
    await Promise.all([page.waitForURL((u) => u.pathname === '/en/search'), page.getByRole('button', { name: 'Search' }).click()]);
    assert.equal(new URL(page.url()).searchParams.get('q'), 'licence');
    const count = async () => Number(((await page.locator('#result-count strong').textContent()) ?? '').replace(/[^\d]/g, ''));
    const before = await count();
    assert.ok(before > 1, `results for "licence": ${before}`);
    assert.ok((await page.locator('.guichet-result').count()) > 0);

    await page.getByRole('checkbox', { name: /^Municipal/ }).check();
    await Promise.all([page.waitForURL((u) => u.searchParams.get('level') === 'municipal'), page.locator('#apply-filters').click()]);
    const after = await count();
    assert.ok(after > 0 && after < before, `filtered ${after} < ${before}`);
    assert.equal(await page.getByRole('checkbox', { name: /^Municipal/ }).isChecked(), true);
    await assertNoA11yViolations(page);

    // Paging keeps the query.
    await page.goto(env.url('/en/search?q=benefit'));
    const next = page.locator('.govuk-pagination__next a');
    await Promise.all([page.waitForURL((u) => u.searchParams.get('page') === '2'), next.click()]);
    assert.equal(new URL(page.url()).searchParams.get('q'), 'benefit');

    // The language toggle keeps the page and its query.
    await Promise.all([page.waitForURL((u) => u.pathname === '/fr/recherche'), page.locator('.guichet-header__lang').click()]);
    const u = new URL(page.url());
    assert.equal(u.searchParams.get('q'), 'benefit');
    assert.equal(u.searchParams.get('page'), '2');
    assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  });

  test('language toggle keeps a service page and an office page', async () => {
    const page = await env.newPage({ javaScriptEnabled: false });
    await page.goto(env.url('/fr/services/demo-driver-licence'));
    await Promise.all([page.waitForURL('**/en/services/demo-driver-licence'), page.locator('.guichet-header__lang').click()]);
    assert.match((await page.locator('h1').textContent()) ?? '', /Driver’s licence/);
    await page.goto(env.url('/en/offices/ottawa-kanata'));
    await Promise.all([page.waitForURL('**/fr/bureaux/ottawa-kanata'), page.locator('.guichet-header__lang').click()]);
    assert.match((await page.locator('h1').textContent()) ?? '', /Kanata/);
    assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  });

  test('office locator: postal code and service, then a bad postal code shows a translated error', async () => {
    const page = await env.newPage({ javaScriptEnabled: false });
    await page.goto(env.url('/fr/bureaux'));
    await page.getByLabel('Code postal').fill('k2g 5k7');
    await page.getByLabel('Service dont vous avez besoin (facultatif)').selectOption('demo-driver-licence');
    await Promise.all([page.waitForURL((u) => u.searchParams.get('postcode') !== null), page.getByRole('button', { name: 'Trouver des centres de service' }).click()]);
    const first = page.locator('.guichet-office').first();
    assert.match((await first.textContent()) ?? '', /Ben-Franklin/);
    assert.match((await first.textContent()) ?? '', /km/);
    await assertNoA11yViolations(page);

    await page.getByLabel('Code postal').fill('99999');
    const [res] = await Promise.all([page.waitForResponse((r) => r.url().includes('postcode=99999')), page.getByRole('button', { name: 'Trouver des centres de service' }).click()]);
    assert.equal(res.status(), 400);
    await page.waitForLoadState();
    assert.match((await page.locator('.govuk-error-summary').textContent()) ?? '', /Entrez un code postal canadien/);
    await assertNoA11yViolations(page);
  });
});
