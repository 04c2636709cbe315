/**
 * "Bad input gets a clear, translated error, never a 500": a sweep over EVERY route the app registers (pages and
 * API, as buildApp records them), as every kind of caller, with guessed and malformed ids in the path, nonsense in
 * the query string and malformed bodies (JSON of the wrong shape and types, broken JSON, form posts of nonsense).
 * No answer may be a 5xx, show a stack trace or a source path; an API error (under /api/) must be JSON with a
 * machine-readable code and, asked in French (Accept-Language), the same code with its message translated; an error
 * page under /fr/ must be in French.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registeredRoutes } from '../src/http/app';
import { createApiKey } from '../src/notices/service';
import { DEMO_OFFICE, ensureDemoCounters } from '../src/counters/demo';
import { seedDemoAgreements } from '../src/agreements/demo';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from './support/app';
import { clientCookie, createTestClient } from './support/clients';

/** Values put in place of every path parameter: an id that does not exist, ids that are not ids, and worse. */
const BAD_PARAMS = [
  '00000000-0000-4000-8000-000000000000',
  '------------------------------------',
  "x'%22;--%20%C3%A9%E2%82%AC..%2F..%2Fetc%2Fpasswd",
  '99999999999999999999999',
];

/** Nonsense in the query string: negative and huge numbers, impossible dates, unknown values, a NUL byte. */
const BAD_QUERY =
  '?page=-1&limit=1e99&offset=-5&q=%00%FF&from=2026-13-45&to=yesterday&date=31-02-2026&year=99999&status=nope&sort=%3Bdrop&lang=zz&org=%27&service=..&channel=%5B%5D&week=2026-W99&month=2026-00';

/** A JSON body of the wrong shape: the names forms use, with values of every wrong type. */
const WRONG_TYPES = {
  id: ['x'],
  serviceId: { a: 1 },
  clientId: 12,
  caseId: true,
  toOrgId: null,
  orgId: -1,
  summary: 'x'.repeat(70_000),
  channel: 'pigeon',
  status: 'exploded',
  email: 'not-an-email',
  amountCents: 1.5,
  feeCents: -1e30,
  date: '2026-02-30',
  startsAt: 'tomorrow',
  endsAt: 12,
  lang: 'zz',
  fields: 'all',
  recipients: 'everyone',
  data: 'x',
  answers: [null],
  code: { $gt: '' },
  clientConsent: 'perhaps',
  page: -3,
};

/** The answer, or a failure naming the request when none comes within 10 s (instead of a hung sweep). */
async function answered<T>(p: Promise<T>, where: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within 10 s: ${where}`)), 10_000)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Caller {
  name: string;
  headers: Record<string, string>;
  /** the CSRF token form posts carry (signed-in callers) */
  csrf?: string;
}

describe('every route answers bad input without a 5xx', () => {
  let t: TestApp;
  const callers: Caller[] = [];
  /** Paths with real ids in them too (an existing case, service, office, counter, client, organisation), so that
   * handlers get past "not found" and meet the malformed query and bodies. */
  let realPaths: (url: string) => string[] = () => [];
  before(async () => {
    t = await createTestApp({ catalogue: true });
    const withCookie = (name: string, cookie: string): Caller => ({ name, headers: { cookie, 'x-csrf-token': csrfFrom(cookie) }, csrf: csrfFrom(cookie) });
    const { key } = await createApiKey(t.db, 'ottawa', 'sweep', null);
    const clientId = await createTestClient(t.db);
    const client = withCookie('client', await clientCookie(t.app, t.db, clientId));
    const opened = await t.app.inject({ method: 'POST', url: '/api/v1/cases', headers: { ...client.headers, 'content-type': 'application/json' }, payload: { serviceId: 'demo-birth-certificate', summary: 'Sweep case' } });
    assert.equal(opened.statusCode, 201, opened.body);
    await ensureDemoCounters(t.db);
    const counter = await t.db.selectFrom('counters').select('id').where('office_id', '=', DEMO_OFFICE).executeTakeFirstOrThrow();
    const real: Record<string, string> = { officeId: DEMO_OFFICE, serviceId: 'demo-birth-certificate', clientId, org: 'ottawa', counterId: counter.id };
    await seedDemoAgreements(t.db);
    const agreement = await t.db.selectFrom('agreements').select('id').where('partner_org_id', '=', 'on-mto').executeTakeFirstOrThrow();
    realPaths = (url) =>
      [opened.json().id, 'demo-birth-certificate', DEMO_OFFICE, ...(/agreements|ententes/.test(url) ? [agreement.id] : [])].map((id) => url.replace(/:([A-Za-z0-9_]+)|\*/g, (_m, name?: string) => (name === 'id' ? id : (name && real[name]) || BAD_PARAMS[0])));
    callers.push({ name: 'anonymous', headers: {} });
    callers.push(client);
    callers.push(withCookie('one-stop agent', await staffCookie(t.app, 'staff-agent')));
    callers.push(withCookie('admin', await staffCookie(t.app, 'staff-admin')));
    callers.push(withCookie('catalogue reviewer and editor', await staffCookie(t.app, 'staff-reviewer')));
    callers.push(withCookie('partner editor and agent', await staffCookie(t.app, 'staff-ottawa-editor')));
    callers.push(withCookie('governance board', await staffCookie(t.app, 'staff-board')));
    callers.push(withCookie('partner staff (agreements)', await staffCookie(t.app, 'staff-mto-partner')));
    callers.push({ name: 'partner API key', headers: { authorization: `Bearer ${key}` } });
  });
  after(async () => {
    await t?.close();
  });

  it('sweeps every registered route as every caller', { timeout: 600_000 }, async () => {
    // Routes that end the caller's session go last, so that the rest is swept signed in.
    const ends = (url: string) => /logout|sign-out|deconnexion/.test(url);
    const routes = registeredRoutes(t.app)
      .filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS')
      .sort((a, b) => Number(ends(a.url)) - Number(ends(b.url)));
    assert.ok(routes.length > 300, `expected the whole app's routes, got ${routes.length}`);
    const failures: string[] = [];
    let requests = 0;
    let frenchErrorPages = 0;
    let apiErrorsInFrench = 0;
    for (const caller of callers) {
      for (const route of routes) {
        const hasParams = /[:*]/.test(route.url);
        // (a live board's event stream with a real office never ends: src/counters tests it)
        const real = route.url.endsWith('/events') ? [] : [...new Set(realPaths(route.url))];
        const paths = hasParams ? [...BAD_PARAMS.map((v) => route.url.replace(/:[A-Za-z0-9_]+|\*/g, v)), ...real] : [route.url];
        for (const path of paths) {
          const attempts: Array<{ url: string; headers?: Record<string, string>; payload?: string }> = [];
          if (route.method === 'GET') {
            attempts.push({ url: path }, { url: path + BAD_QUERY });
          } else {
            attempts.push(
              { url: path, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(WRONG_TYPES) },
              { url: path + BAD_QUERY, headers: { 'content-type': 'application/json' }, payload: '{"summary": "unterminated' },
              {
                url: path,
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
                payload: new URLSearchParams({ _csrf: caller.csrf ?? '', ...Object.fromEntries(Object.entries(WRONG_TYPES).map(([k, v]) => [k, String(v).slice(0, 300)])), 'fields[]': 'x' }).toString(),
              },
            );
          }
          for (const a of attempts) {
            requests++;
            const where = `${caller.name} ${route.method} ${a.url.slice(0, 160)}`;
            const res = await answered(t.app.inject({ method: route.method as 'GET', url: a.url, headers: { ...caller.headers, ...a.headers }, payload: a.payload }), where);
            const html = String(res.headers['content-type'] ?? '').startsWith('text/html');
            if (/\.ts:\d+|node_modules\//.test(res.body)) failures.push(`${where} → ${res.statusCode} shows a stack trace or source path`);
            if (res.statusCode >= 400 && html && a.url.startsWith('/fr/') && ++frenchErrorPages && !/<html[^>]*\slang="fr"/.test(res.body)) {
              failures.push(`${where} → ${res.statusCode}: a French page's error is not in French`);
            }
            if (res.statusCode >= 500) {
              failures.push(`${where} → ${res.statusCode} ${res.body.slice(0, 200)}`);
            } else if (res.statusCode >= 400 && a.url.startsWith('/api/')) {
              let code: unknown;
              try {
                code = JSON.parse(res.body)?.error?.code;
              } catch {
                code = undefined;
              }
              if (typeof code !== 'string' || !code) failures.push(`${where} → ${res.statusCode} without a JSON error code: ${res.body.slice(0, 120)}`);
              else if (!a.url.includes('lang=')) {
                // the same request in French: the same answer, its message translated
                const fr = await answered(t.app.inject({ method: route.method as 'GET', url: a.url, headers: { ...caller.headers, ...a.headers, 'accept-language': 'fr-CA,fr;q=0.9' }, payload: a.payload }), where);
                const en = JSON.parse(res.body).error;
                let frError: { code?: string; message?: string } | undefined;
                try {
                  frError = fr.statusCode === res.statusCode ? JSON.parse(fr.body)?.error : undefined;
                } catch {
                  frError = undefined; // not JSON: listed below with the answer's start
                }
                apiErrorsInFrench++;
                if (!frError || frError.code !== en.code || !frError.message || frError.message === en.message) {
                  failures.push(`${where} → ${res.statusCode} ${en.code}: in French ${fr.statusCode} ${fr.body.slice(0, 120)} (English: ${en.message})`);
                }
              }
            }
          }
        }
      }
    }
    assert.ok(requests > 5000, `swept ${requests} requests`);
    assert.ok(frenchErrorPages > 100, `only ${frenchErrorPages} French error pages seen`);
    assert.ok(apiErrorsInFrench > 100, `only ${apiErrorsInFrench} API errors asked in French`);
    assert.deepEqual(failures, [], `${failures.length} of ${requests} answers broke the rule:\n${failures.slice(0, 60).join('\n')}`);
  });
});
