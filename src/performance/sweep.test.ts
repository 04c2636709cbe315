/**
 * The route sweep (test/robustness.test.ts) restricted to the performance capability's routes, quick enough to run
 * with this capability's tests: every route, as an anonymous visitor, a client, a partner, a one-stop manager and a
 * partner key, with malformed path values, nonsense queries and bodies: never a 5xx, API errors carry a JSON code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registeredRoutes } from '../http/app';
import { createApiKey } from '../notices/service';
import { createTestApp, type TestApp } from '../../test/support/app';
import { clientCookie } from '../../test/support/clients';
import { makeStaff } from '../cases/test/helpers';

const BAD = ['00000000-0000-4000-8000-000000000000', "x'%22;--%20%C3%A9..%2F..%2Fetc", '99999999999999999999999', '%00x', 'svy_' + 'A'.repeat(43)];
const QUERY = '?page=-1&q=%00%FF&from=2026-13-45&to=yesterday&month=2026-00&org=%27&service=%00&office=..&channel=%5B%5D&shift=1e99&end=x&next=//evil&lang=zz&file=..%2F';
const BODIES: unknown[] = [
  { token: 'x', score: '9', comment: 'x'.repeat(5000), next: 'https://evil' },
  { _csrf: 'x', day: '2026-02-30', label_en: { a: 1 }, label_fr: null, counter: '-1', web: 'abc' },
  { rows: [{ serviceId: '\u0000', channel: 'pigeon', periodStart: 'x', periodEnd: 12, transactions: -1e30 }] },
  { rows: 'x' },
  'service_id,channel\n\u0000,,',
];

describe('performance routes: bad input never answers 5xx', () => {
  let t: TestApp;
  const callers: Record<string, Record<string, string>> = {};
  before(async () => {
    t = await createTestApp({ catalogue: true });
    callers.anonymous = {};
    callers.client = { cookie: await clientCookie(t.app, t.db) };
    callers.partner = { cookie: await makeStaff(t, 'sweep-partner', 'on-moh', ['partner']) };
    callers.manager = { cookie: await makeStaff(t, 'sweep-manager', 'guichet', ['manager']) };
    callers.key = { authorization: `Bearer ${(await createApiKey(t.db, 'on-moh', 'sweep', null)).key}` };
  });
  after(async () => t.close());

  it('sweeps every performance route', async () => {
    const routes = registeredRoutes(t.app).filter((r) => /performance|rendement/.test(r.url));
    assert.ok(routes.length >= 20, `${routes.length} routes`);
    const failures: string[] = [];
    let n = 0;
    for (const r of routes) {
      const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'HEAD');
      for (const method of methods) {
        for (const bad of BAD) {
          const url = r.url.replace(/:(\w+)/g, bad) + QUERY;
          for (const [who, headers] of Object.entries(callers)) {
            const csrf = /guichet_csrf=([^;]+)/.exec(headers.cookie ?? '')?.[1];
            const bodies = method === 'GET' ? [undefined] : BODIES;
            for (const body of bodies) {
              const res = await t.app.inject({
                method: method as 'GET', url,
                headers: { ...headers, ...(csrf ? { 'x-csrf-token': csrf } : {}), ...(typeof body === 'string' ? { 'content-type': 'text/csv' } : {}) },
                ...(body !== undefined ? { payload: body as string } : {}),
              });
              n++;
              if (res.statusCode >= 500) failures.push(`${who} ${method} ${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
              else if (url.startsWith('/api/') && res.statusCode >= 400 && !/"code"/.test(res.body)) failures.push(`${who} ${method} ${url}: ${res.statusCode} without a code`);
            }
          }
        }
      }
    }
    assert.deepEqual(failures, [], `${failures.length} failures of ${n} requests`);
  });
});
