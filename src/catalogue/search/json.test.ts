import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/app';
import { searchServices } from './index';

/** /api/v1/services writes each item's JSON once per index (serviceResultJson): the body must be the result itself. */
describe('services API body', () => {
  let ctx: TestApp;
  before(async () => {
    ctx = await createTestApp({ catalogue: true });
  });
  after(async () => ctx.close());

  it('is exactly the search result, for pages, languages, filters, no match, and the cached path', async () => {
    const cases: Array<Record<string, string>> = [
      { q: 'passport', lang: 'en' },
      { q: 'passeport', lang: 'fr' },
      { q: 'employment insurance', lang: 'en', page: '2' },
      { q: 'permis', lang: 'fr', pageSize: '3' },
      { q: 'xyzzy qqq', lang: 'en' },
      { lang: 'en', page: '3' },
      { q: 'benefits', lang: 'en', channel: 'online', level: 'federal' },
    ];
    for (const c of cases) {
      const qs = new URLSearchParams(c).toString();
      for (const round of [1, 2]) {
        const res = await ctx.app.inject({ method: 'GET', url: `/api/v1/services?${qs}` });
        assert.equal(res.statusCode, 200, res.body);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        const expected = await searchServices(
          ctx.db,
          { q: c.q, lang: c.lang as 'en' | 'fr', page: Number(c.page ?? 1), pageSize: Number(c.pageSize ?? 10), channel: c.channel ? [c.channel] : undefined, level: c.level ? [c.level] : undefined },
          { cache: false },
        );
        assert.deepEqual(JSON.parse(res.body), JSON.parse(JSON.stringify(expected)), `${qs} (request ${round})`);
      }
    }
  });
});
