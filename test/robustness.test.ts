/**
 * "Bad input gets a clear, translated error, never a 500": a sweep over EVERY route the app registers (pages and
 * API, as buildApp records them), as every kind of caller, with guessed and malformed ids in the path, nonsense in
 * the query string and malformed bodies (JSON of the wrong shape and types, broken JSON, form posts of nonsense).
 * No answer may be a 5xx, show a stack trace or a source path; an API error (under /api/) must be JSON with a
 * machine-readable code and, asked in French (Accept-Language), the same code with its message translated; an error
 * page under /fr/ must be in French; a page (asked by a browser) never shows a raw schema path such as `querystring.q`.
 * Hostile input too (issue 14): NUL bytes and lone surrogates in every field (JSON, form, query), impossible and far
 * dates, integers beyond bigint, redirect targets (returnTo) with characters above U+00FF, and malformed multipart
 * bodies. The rate limits are on (with limits no sweep reaches), so their hook runs on every limited route.
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

/** Nonsense in the query string: negative and huge numbers, impossible dates, unknown values, broken UTF-8. */
const BAD_QUERY =
  '?page=-1&limit=1e99&offset=-5&q=%FF&from=2026-13-45&to=yesterday&date=31-02-2026&year=99999&status=nope&sort=%3Bdrop&lang=zz&org=%27&service=..&channel=%5B%5D&week=2026-W99&month=2026-00';

/** Past the type checks: far and impossible dates, integers beyond bigint, cursors, non-Latin-1 redirect targets. */
const FAR_QUERY =
  '?date=2026-02-30&from=9999-12-31&to=0001-01-01&after=9223372036854775808&limit=1e20&page=99999999999999999999&offset=1e20&year=9999&returnTo=%2Fen%2F%E2%82%AC%E2%9C%93&next=%2Ffr%2Fcaf%C3%A9%E2%82%AC&start_date=2026-02-30T00%3A00%3A00Z&end_date=9999-12-31T23%3A59%3A59Z';

/** A NUL byte in the query string (refused by one hook before any route). */
const NUL_QUERY = '?q=a%00b&lang=en%00';

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

/** The same names with values of the right type that no database or header takes: NUL bytes and lone surrogates
 * (written as JSON escapes, which JSON.parse turns into the characters themselves). */
const HOSTILE_JSON = `{${Object.keys(WRONG_TYPES)
  .map((k, i) => `"${k}": "${['a\\u0000b', 'x\\ud800y', '\\udc00', 'ok\\ud83d'][i % 4]}"`)
  .join(', ')}, "data": {"street": "1 rue \\ud800", "n\\u0000": 1}, "answers": ["\\u0000"]}`;

/** Values of the right type beyond any range: far and impossible dates, integers beyond bigint, returnTo above U+00FF. */
const FAR_VALUES = {
  date: '2026-02-30',
  from: '9999-12-31',
  to: '0001-01-01',
  startsAt: '9999-12-31T23:59:59Z',
  endsAt: '0001-01-01T00:00:00Z',
  birthDate: '2026-02-30',
  validUntil: '9999-12-31',
  amountCents: 9223372036854775808,
  feeCents: 1e20,
  after: 9223372036854775808,
  version: 1e20,
  page: 99999999999999999999,
  limit: 1e20,
  returnTo: '/en/€✓',
  next: '/fr/café€',
  summary: 'Summary €✓ 😀',
};

/** A multipart body cut short (and one without its boundary): document uploads parse these. */
const BROKEN_MULTIPART = [
  { 'content-type': 'multipart/form-data; boundary=XyZ', payload: '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 cut' },
  { 'content-type': 'multipart/form-data', payload: 'no boundary at all' },
];

/** A schema path a person should never read on a page (`querystring.q`, `body.staffId`, `params.id`). */
const RAW_SCHEMA_PATH = /(?<![\w.])(querystring|body|params)\.[A-Za-z_]/;

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
    // rate limits on (their hook runs), with limits the sweep never reaches
    const generous = Object.fromEntries(['SIGN_IN', 'ACCESS_CODE', 'BOOKING', 'MAIL_PER_ADDRESS', 'TICKET', 'SEARCH', 'PARTNER_FEED'].map((p) => [`GUICHET_RATE_LIMIT_${p}`, '1000000/60']));
    t = await createTestApp({ catalogue: true, env: { GUICHET_RATE_LIMIT: 'on', ...generous } });
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

  it('sweeps every registered route as every caller', { timeout: 1_200_000 }, async () => {
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
        for (const [index, path] of paths.entries()) {
          const attempts: Array<{ url: string; headers?: Record<string, string>; payload?: string }> = [];
          // the hostile values: with the first malformed id and with the real ids (not with every malformed id)
          const hostile = index === 0 || index >= BAD_PARAMS.length || !hasParams;
          if (route.method === 'GET') {
            attempts.push({ url: path }, { url: path + BAD_QUERY });
            if (hostile) attempts.push({ url: path + FAR_QUERY }, { url: path + NUL_QUERY });
          } else {
            if (hostile) {
              attempts.push(
                { url: path, headers: { 'content-type': 'application/json' }, payload: HOSTILE_JSON },
                { url: path + FAR_QUERY, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(FAR_VALUES) },
                {
                  url: path,
                  headers: { 'content-type': 'application/x-www-form-urlencoded' },
                  payload: new URLSearchParams({ _csrf: caller.csrf ?? '', ...Object.fromEntries(Object.entries(FAR_VALUES).map(([k, v]) => [k, String(v)])), text: 'a\u0000b' }).toString(),
                },
                {
                  url: path,
                  headers: { 'content-type': 'application/x-www-form-urlencoded' },
                  payload: new URLSearchParams({ _csrf: caller.csrf ?? '', ...Object.fromEntries(Object.entries(FAR_VALUES).map(([k, v]) => [k, String(v)])) }).toString(),
                },
                ...BROKEN_MULTIPART.map((m) => ({ url: path, headers: { 'content-type': m['content-type'], 'x-csrf-token': caller.csrf ?? '' }, payload: m.payload })),
              );
            }
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
            // a page's answer never shows a raw schema path ("querystring.q: This is too long."): asked by a browser
            if (res.statusCode === 400 && !a.url.startsWith('/api/')) {
              const page = await answered(t.app.inject({ method: route.method as 'GET', url: a.url, headers: { ...caller.headers, ...a.headers, accept: 'text/html' }, payload: a.payload }), where);
              // (an API outside /api/, such as Open311's .json, answers JSON with its field paths, as /api/ does)
              const isPage = String(page.headers['content-type'] ?? '').startsWith('text/html');
              if (isPage && RAW_SCHEMA_PATH.test(page.body)) failures.push(`${where} → ${page.statusCode}: the page shows a raw schema path: ${RAW_SCHEMA_PATH.exec(page.body)![0]}`);
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
