/**
 * Validation errors on pages come back on the form (issue 16, "dead-end errors"): the GOV.UK error summary with labels
 * a person reads, never a schema path, for a form posted empty and for a query string the page's schema rejects.
 * The mechanism is the pages' one (bilingualRoute in src/web/render.ts), not one fix per form.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './support/app';

const RAW = /(?<![\w.])(querystring|body|params)\.[A-Za-z_]/;
const has = (body: string, re: RegExp) => re.test(body);

describe('validation errors on pages', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalogue: true });
  });
  after(async () => {
    await t?.close();
  });

  for (const lang of ['en', 'fr'] as const) {
    it(`the staff login posted empty comes back on the form (${lang})`, async () => {
      const url = lang === 'en' ? '/en/staff/login' : '/fr/personnel/connexion';
      const page = await t.app.inject({ method: 'GET', url });
      const csrf = page.cookies.find((c) => c.name === 'guichet_csrf')!.value;
      const res = await t.app.inject({ method: 'POST', url, headers: { cookie: `guichet_csrf=${csrf}`, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf}` });
      assert.equal(res.statusCode, 400);
      assert.ok(!has(res.body, RAW));
      assert.ok(!has(res.body, /staffId:/));
      assert.ok(has(res.body, /govuk-error-summary/));
      assert.ok(has(res.body, /href="#staffId"/));
      assert.ok(has(res.body, lang === 'en' ? /Staff member: Enter this information\./ : /Membre du personnel : Entrez ce renseignement\./));
      // the form itself, with its radios, is on the page again
      assert.ok(has(res.body, /name="staffId"/));
      assert.ok(has(res.body, /govuk-error-message/));
    });
  }

  it('a search query too long, or page=-1, shows the search page with the error summary', async () => {
    for (const qs of [`q=${'x'.repeat(300)}`, 'q=passport&page=-1']) {
      const res = await t.app.inject({ method: 'GET', url: `/en/search?${qs}`, headers: { accept: 'text/html' } });
      assert.equal(res.statusCode, 400, qs);
      assert.ok(!has(res.body, RAW), qs);
      assert.ok(has(res.body, /govuk-error-summary/), qs);
      assert.ok(has(res.body, qs.startsWith('q=x') ? /Search terms: This is too long\./ : /Page number: This number is too small\./));
      // the search form is there to try again
      assert.ok(has(res.body, /<form[^>]*method="get"/i), qs);
    }
    const fr = await t.app.inject({ method: 'GET', url: `/fr/recherche?page=-1`, headers: { accept: 'text/html' } });
    assert.equal(fr.statusCode, 400);
    assert.ok(has(fr.body, /Numéro de page/));
    assert.ok(!has(fr.body, RAW));
  });

  it('an API caller still gets the JSON error with the field path', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/en/search?page=-1' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'VALIDATION_ERROR');
    assert.equal(res.json().error.details[0].field, 'querystring.page');
  });
});
