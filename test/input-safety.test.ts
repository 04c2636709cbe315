/**
 * Issue 14, "still 500": inputs that reached the database or a response header unchecked. Each answers a translated
 * 4xx with a machine-readable code now, and nothing is written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from '../src/notices/service';
import { DEMO_OFFICE, ensureDemoCounters } from '../src/counters/demo';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from './support/app';
import { clientCookie, CookieJar, createTestClient, oidcSignIn, withDevOidc } from './support/clients';

describe('inputs that used to answer 500', () => {
  let t: TestApp;
  let client: Record<string, string>;
  let agent: Record<string, string>;
  let caseId: string;
  before(async () => {
    t = await createTestApp({ catalogue: true });
    const cookie = await clientCookie(t.app, t.db, await createTestClient(t.db));
    client = { cookie, 'x-csrf-token': csrfFrom(cookie) };
    const staff = await staffCookie(t.app, 'staff-agent');
    agent = { cookie: staff, 'x-csrf-token': csrfFrom(staff) };
    const opened = await t.app.inject({ method: 'POST', url: '/api/v1/cases', headers: { ...client, 'content-type': 'application/json' }, payload: { serviceId: 'demo-birth-certificate', summary: 'A case' } });
    assert.equal(opened.statusCode, 201, opened.body);
    caseId = opened.json().id;
    await ensureDemoCounters(t.db);
  });
  after(async () => {
    await t?.close();
  });

  const code = (res: { statusCode: number; body: string }) => {
    assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${res.statusCode} ${res.body.slice(0, 300)}`);
    return JSON.parse(res.body).error.code as string;
  };

  it('a NUL byte in a JSON text field: 400 INVALID_CHARACTERS in both languages, no case written', async () => {
    const before = await t.db.selectFrom('cases').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const en = await t.app.inject({ method: 'POST', url: '/api/v1/cases', headers: { ...client, 'content-type': 'application/json' }, payload: JSON.stringify({ serviceId: 'demo-birth-certificate', summary: 'a\u0000b' }) });
    assert.equal(code(en), 'INVALID_CHARACTERS');
    assert.equal(en.statusCode, 400);
    assert.deepEqual(en.json().error.details, [{ field: 'summary', code: 'invalidCharacters', message: en.json().error.details[0].message }]);
    const fr = await t.app.inject({ method: 'POST', url: '/api/v1/cases?lang=fr', headers: { ...client, 'content-type': 'application/json' }, payload: JSON.stringify({ serviceId: 'demo-birth-certificate', summary: 'a\u0000b' }) });
    assert.equal(code(fr), 'INVALID_CHARACTERS');
    assert.notEqual(fr.json().error.message, en.json().error.message);
    const afterCount = await t.db.selectFrom('cases').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(afterCount.n), Number(before.n));
  });

  it('a NUL byte in a form post, a query string and a path parameter', async () => {
    const form = await t.app.inject({
      method: 'POST', url: `/fr/mon-dossier/demandes/${caseId}/messages`, headers: { ...client, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: `_csrf=${client['x-csrf-token']}&body=Bonjour%00`,
    });
    assert.equal(form.statusCode, 400, form.body.slice(0, 300));
    assert.match(form.body, /<html[^>]*lang="fr"/);
    assert.match(form.body, /caractères impossibles à enregistrer/);
    const messages = await t.db.selectFrom('case_messages').select('id').where('case_id', '=', caseId).execute();
    assert.equal(messages.length, 0);
    const q = await t.app.inject({ method: 'GET', url: '/api/v1/services?q=a%00b' });
    assert.equal(code(q), 'INVALID_CHARACTERS');
    const page = await t.app.inject({ method: 'GET', url: '/fr/recherche?q=a%00b', headers: { accept: 'text/html' } });
    assert.equal(page.statusCode, 400);
    assert.match(page.body, /<html[^>]*lang="fr"/);
    const p = await t.app.inject({ method: 'GET', url: '/api/v1/cases/a%00b' });
    assert.equal(p.statusCode, 400);
  });

  it('a lone surrogate in a declaration’s JSON: 400 INVALID_CHARACTERS', async () => {
    const res = await t.app.inject({
      method: 'POST', url: '/api/v1/me/declarations', headers: { ...client, 'content-type': 'application/json' },
      payload: '{"eventType":"change-of-address","data":{"street":"1 rue \\ud800"},"recipients":[]}',
    });
    assert.equal(code(res), 'INVALID_CHARACTERS');
    assert.equal(res.json().error.details[0].field, 'data.street');
    // a well-formed pair (an emoji) is fine for this check (the route may still refuse the declaration for its content)
    const ok = await t.app.inject({
      method: 'POST', url: '/api/v1/me/declarations', headers: { ...client, 'content-type': 'application/json' },
      payload: '{"eventType":"change-of-address","data":{"street":"1 rue \\ud83d\\ude00"},"recipients":[]}',
    });
    assert.ok(ok.statusCode < 500 && ok.json().error?.code !== 'INVALID_CHARACTERS', ok.body);
  });

  it('a malformed multipart body on document upload: 400 MALFORMED_MULTIPART', async () => {
    const boundary = 'XyZ';
    for (const payload of [
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 trunc`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n`,
      `garbage without any boundary`,
    ]) {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/cases/${caseId}/documents`, headers: { ...client, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${res.statusCode} ${res.body}`);
      assert.ok(JSON.parse(res.body).error.code, res.body);
    }
    const docs = await t.db.selectFrom('case_documents').select('id').where('case_id', '=', caseId).execute();
    assert.equal(docs.length, 0);
  });

  it('a feed cursor beyond bigint: 400 VALIDATION_ERROR', async () => {
    const { key } = await createApiKey(t.db, 'ottawa', 'input-safety', null);
    for (const after of ['9223372036854775808', '1e20', '99999999999999999999999']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/partners/ottawa/notices?after=${after}`, headers: { authorization: `Bearer ${key}` } });
      assert.equal(code(res), 'VALIDATION_ERROR', after);
    }
    const ok = await t.app.inject({ method: 'GET', url: '/api/v1/partners/ottawa/notices?after=9007199254740991', headers: { authorization: `Bearer ${key}` } });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  it('impossible and far dates on slots and wait statistics: 400 VALIDATION_ERROR', async () => {
    for (const date of ['2026-02-30', '9999-12-31', '2026-13-01', '0000-01-01']) {
      const slots = await t.app.inject({ method: 'GET', url: `/api/v1/offices/${DEMO_OFFICE}/slots?serviceId=demo-birth-certificate&date=${date}` });
      assert.equal(code(slots), 'VALIDATION_ERROR', `slots ${date}`);
      const stats = await t.app.inject({ method: 'GET', url: `/api/v1/offices/${DEMO_OFFICE}/wait-stats?from=${date}&to=${date}`, headers: agent });
      assert.equal(code(stats), 'VALIDATION_ERROR', `wait-stats ${date}`);
    }
    const ok = await t.app.inject({ method: 'GET', url: `/api/v1/offices/${DEMO_OFFICE}/slots?serviceId=demo-birth-certificate&date=2028-02-29` });
    assert.ok(ok.statusCode < 500, ok.body);
  });

  it('a returnTo above U+00FF is refused before the sign-in is written, and sign-in still works', async () => {
    const dev = await withDevOidc(t);
    try {
      const pendingBefore = await t.db.selectFrom('oidc_logins').select('state').execute();
      const jar = new CookieJar();
      const done = await oidcSignIn(jar, dev.baseUrl, 'demo-camille', { returnTo: '/en/my-file?x=€✓' });
      assert.equal(done.res.status, 200, done.body.slice(0, 300));
      assert.match(done.url, /\/en\/my-file$/);
      const written = await t.db.selectFrom('oidc_logins').select('return_to').where('state', 'not in', pendingBefore.length ? pendingBefore.map((p) => p.state) : ['-']).execute();
      assert.ok(written.every((w) => w.return_to === null), JSON.stringify(written));
    } finally {
      await dev.close();
    }
  });
});
