/**
 * Nothing personal stays in a cache (issue 16: Back after sign-out showed the previous person's file and profile;
 * issue 14: answers that show a one-time code). The rule is in the plumbing (src/http/app.ts): every answer is
 * `Cache-Control: no-store`, except static assets and a public answer whose route set its own caching for a caller
 * without a session. This test asks EVERY registered route, as a signed-in client, a staff member, a partner key and
 * an anonymous visitor, with real ids where it has them, and checks the header on every answer, success or error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registeredRoutes } from '../src/http/app';
import { createApiKey } from '../src/notices/service';
import { DEMO_OFFICE, ensureDemoCounters } from '../src/counters/demo';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from './support/app';
import { clientCookie, createTestClient } from './support/clients';

/** Routes that may answer an anonymous visitor with their own caching (public, no personal data). */
const PUBLIC_CACHEABLE = [/^\/api\/v1\/catalogue\.jsonld/, /^\/docs/];

describe('every answer with personal data is no-store', () => {
  let t: TestApp;
  const callers: Array<{ name: string; headers: Record<string, string>; signedIn: boolean }> = [];
  let fill: (url: string) => string = (u) => u;
  before(async () => {
    t = await createTestApp({ catalogue: true });
    const clientId = await createTestClient(t.db);
    const cookie = await clientCookie(t.app, t.db, clientId);
    const opened = await t.app.inject({ method: 'POST', url: '/api/v1/cases', headers: { cookie, 'x-csrf-token': csrfFrom(cookie), 'content-type': 'application/json' }, payload: { serviceId: 'demo-birth-certificate', summary: 'No-store case' } });
    assert.equal(opened.statusCode, 201, opened.body);
    await ensureDemoCounters(t.db);
    const real: Record<string, string> = { id: opened.json().id, caseId: opened.json().id, officeId: DEMO_OFFICE, office: DEMO_OFFICE, serviceId: 'demo-birth-certificate', clientId, org: 'ottawa', orgId: 'ottawa' };
    fill = (url) => url.replace(/:([A-Za-z0-9_]+)|\*/g, (_m, name?: string) => (name && real[name]) || '00000000-0000-4000-8000-000000000000');
    const { key } = await createApiKey(t.db, 'ottawa', 'no-store', null);
    callers.push({ name: 'client', headers: { cookie, 'x-csrf-token': csrfFrom(cookie) }, signedIn: true });
    const staff = await staffCookie(t.app, 'staff-admin');
    callers.push({ name: 'admin', headers: { cookie: staff, 'x-csrf-token': csrfFrom(staff) }, signedIn: true });
    callers.push({ name: 'partner key', headers: { authorization: `Bearer ${key}` }, signedIn: true });
    callers.push({ name: 'anonymous', headers: {}, signedIn: false });
  });
  after(async () => {
    await t?.close();
  });

  it('answers Cache-Control: no-store on every route, for every caller', { timeout: 300_000 }, async () => {
    const ends = (url: string) => /logout|sign-out|deconnexion/.test(url);
    const routes = registeredRoutes(t.app)
      .filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && !r.url.startsWith('/assets/') && !r.url.endsWith('/events'))
      .sort((a, b) => Number(ends(a.url)) - Number(ends(b.url)));
    assert.ok(routes.length > 300, `expected the whole app's routes, got ${routes.length}`);
    const failures: string[] = [];
    let checked = 0;
    let successes = 0;
    for (const caller of callers) {
      for (const route of routes) {
        const url = fill(route.url);
        const res = await t.app.inject({
          method: route.method as 'GET',
          url,
          headers: { ...caller.headers, accept: url.startsWith('/api/') ? 'application/json' : 'text/html', ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
          payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}',
        });
        checked++;
        if (res.statusCode < 300) successes++;
        const cc = String(res.headers['cache-control'] ?? '');
        if (!caller.signedIn && PUBLIC_CACHEABLE.some((re) => re.test(route.url))) continue;
        if (!/\bno-store\b/.test(cc)) failures.push(`${caller.name} ${route.method} ${url} → ${res.statusCode} Cache-Control: ${cc || '(none)'}`);
      }
    }
    assert.ok(successes > 200, `only ${successes} of ${checked} answers were successes: the sweep did not reach the pages`);
    assert.deepEqual(failures, [], `${failures.length} of ${checked} answers may be cached:\n${failures.slice(0, 40).join('\n')}`);
  });

  it('a profile page read after sign-out is not served from a cache', async () => {
    const cookie = await clientCookie(t.app, t.db); // (the sweep above signed the first one out)
    const page = await t.app.inject({ method: 'GET', url: '/en/my-file/profile', headers: { cookie } });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['cache-control']), /no-store/);
    assert.match(page.body, /Camille/);
  });
});
