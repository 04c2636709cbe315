import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestApp, staffCookie, type TestApp } from './support/app';
import { allMessages } from '../src/i18n/index';
import { flushTouches, forgetSessions, touchAfterMs } from '../src/http/session';
import { waitFor } from './support/wait';

describe('foundation', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalogue: true });
  });
  after(async () => t.close());

  it('answers /healthz once migrated and seeded', async () => {
    const res = await t.app.inject('/healthz');
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, 'ok');
  });

  it('serves Prometheus metrics including request durations', async () => {
    await t.app.inject('/healthz');
    const res = await t.app.inject('/metrics');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/plain/);
    assert.match(res.body, /guichet_http_request_duration_seconds_bucket\{[^}]*route="\/healthz"/);
    assert.match(res.body, /guichet_process_cpu_user_seconds_total/);
  });

  it('/metrics: loopback only without GUICHET_METRICS_TOKEN (not through a proxy), the bearer token with it; HSTS only under https', async () => {
    assert.equal((await t.app.inject({ url: '/metrics', remoteAddress: '203.0.113.5' })).statusCode, 403);
    const proxied = await t.app.inject({ url: '/metrics', headers: { 'x-forwarded-for': '203.0.113.5' } });
    assert.equal(proxied.statusCode, 403);
    assert.equal(proxied.json().error.code, 'FORBIDDEN');
    assert.equal((await t.app.inject({ url: '/metrics', remoteAddress: '::1' })).statusCode, 200);
    assert.equal((await t.app.inject('/healthz')).headers['strict-transport-security'], undefined);
    const secure = await createTestApp({ env: { PUBLIC_BASE_URL: 'https://guichet.example', GUICHET_METRICS_TOKEN: 'metrics-s3cret' } });
    try {
      assert.equal((await secure.app.inject('/metrics')).statusCode, 403, 'loopback alone is not enough once a token is set');
      assert.equal((await secure.app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode, 403);
      const ok = await secure.app.inject({ url: '/metrics', remoteAddress: '203.0.113.5', headers: { authorization: 'Bearer metrics-s3cret' } });
      assert.equal(ok.statusCode, 200);
      assert.match(ok.body, /guichet_http_request_duration_seconds/);
      assert.equal((await secure.app.inject('/healthz')).headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
    } finally {
      await secure.close();
    }
  });

  it('serves the OpenAPI document and its UI at /docs', async () => {
    const ui = await t.app.inject('/docs/');
    assert.equal(ui.statusCode, 200);
    const json = await t.app.inject('/docs/json');
    assert.equal(json.statusCode, 200);
    const doc = json.json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(!Object.keys(doc.paths ?? {}).some((p) => p.startsWith('/en/') || p.startsWith('/fr/')), 'pages are not in the API document');
    // themed as Guichet, introduced in both languages
    assert.match(ui.body, /<title>Guichet API/);
    assert.match(ui.body, /guichet-docs\.css/);
    assert.match(doc.info.description, /\*\*English\.\*\*/);
    assert.match(doc.info.description, /\*\*Français\.\*\*/);
    const css = await t.app.inject('/docs/static/theme/guichet-docs.css');
    assert.equal(css.statusCode, 200);
    assert.match(css.body, /#0b4f6c/);
    // its own policy and never framed (issue 14): on the page, its assets and the document alike
    for (const res of [ui, json, await t.app.inject('/docs/static/index.html')]) {
      if (res.statusCode !== 200) continue;
      const csp = String(res.headers['content-security-policy'] ?? '');
      assert.match(csp, /default-src 'self'/, res.raw.req.url);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/, 'works over http on 127.0.0.1');
      assert.equal(res.headers['x-frame-options'], 'DENY');
    }
    // a favicon
    const icon = await t.app.inject('/favicon.ico');
    assert.equal(icon.statusCode, 301);
    const svg = await t.app.inject(String(icon.headers.location));
    assert.equal(svg.statusCode, 200);
    assert.match(String(svg.headers['content-type']), /image\/svg\+xml/);
  });

  it('answers unknown API routes with a translated JSON 404', async () => {
    const en = await t.app.inject({ url: '/api/v1/nope', headers: { 'accept-language': 'en-CA' } });
    assert.equal(en.statusCode, 404);
    assert.equal(en.json().error.code, 'ROUTE_NOT_FOUND');
    assert.match(en.json().error.message, /No such address/);
    const fr = await t.app.inject({ url: '/api/v1/nope?lang=fr' });
    assert.equal(fr.json().error.code, 'ROUTE_NOT_FOUND');
    assert.match(fr.json().error.message, /n’existe pas/);
  });

  it('answers unknown pages with an HTML 404 in the page language', async () => {
    const res = await t.app.inject({ url: '/fr/pas-une-page', headers: { accept: 'text/html' } });
    assert.equal(res.statusCode, 404);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.match(res.body, /<html lang="fr"/);
    assert.match(res.body, /Page introuvable/);
  });

  it('shows the language chooser at /', async () => {
    const res = await t.app.inject('/');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /href="\/en"/);
    assert.match(res.body, /href="\/fr"/);
  });

  it('rejects a form post without a CSRF token with a translated 403', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/fr/personnel/connexion', payload: { staffId: 'staff-agent' }, headers: { accept: 'text/html' } });
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /formulaire a expiré/);
  });

  it('draws the CSRF token and the script nonce only for a page: a page sets the cookie its form carries, /healthz and JSON answers set none', async () => {
    const page = await t.app.inject({ url: '/en/staff/login' });
    assert.equal(page.statusCode, 200);
    const csrf = page.cookies.find((c) => c.name === 'guichet_csrf');
    assert.match(csrf?.value ?? '', /^[A-Za-z0-9_-]{32}$/);
    assert.ok(page.body.includes(`name="_csrf" value="${csrf!.value}"`), 'the form carries the token of the cookie');
    const nonce = /'nonce-([^']+)'/.exec(String(page.headers['content-security-policy']))?.[1];
    assert.ok(nonce && page.body.includes(`nonce="${nonce}"`), 'the page scripts carry the nonce of the policy');
    const second = await t.app.inject({ url: '/en/staff/login' });
    assert.notEqual(/'nonce-([^']+)'/.exec(String(second.headers['content-security-policy']))?.[1], nonce, 'a nonce per page');
    // a browser that has the cookie keeps its token
    const again = await t.app.inject({ url: '/en/staff/login', headers: { cookie: `guichet_csrf=${csrf!.value}` } });
    assert.equal(again.cookies.length, 0);
    assert.ok(again.body.includes(`value="${csrf!.value}"`));
    for (const url of ['/healthz', '/api/v1/services?q=passport']) {
      const res = await t.app.inject({ url });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['set-cookie'], undefined, `${url} sets no cookie`);
    }
  });

  it('signs staff in with the development login and out again', async () => {
    const cookie = await staffCookie(t.app, 'staff-reviewer');
    const home = await t.app.inject({ url: '/en/staff', headers: { cookie } });
    assert.equal(home.statusCode, 200);
    assert.match(home.body, /Renée Reviewer/);
    const csrf = /guichet_csrf=([^;]+)/.exec(cookie)![1];
    const out = await t.app.inject({ method: 'POST', url: '/en/staff/logout', headers: { cookie }, payload: { _csrf: csrf } });
    assert.equal(out.statusCode, 303);
    const again = await t.app.inject({ url: '/en/staff', headers: { cookie } });
    assert.equal(again.statusCode, 303, 'revoked session no longer signs in');
  });

  it('a session revoked or a staff account deactivated by another process stops working as soon as the database announces it', async () => {
    const cookie = await staffCookie(t.app, 'staff-reviewer');
    const token = /guichet_sid=([^;]+)/.exec(cookie)![1];
    const id = crypto.createHash('sha256').update(token).digest('hex');
    assert.equal((await t.app.inject({ url: '/en/staff', headers: { cookie } })).statusCode, 200);
    // What notifies nothing (activity) leaves this process's copy in use past the 2 s of a process that does not
    // listen: a last activity 40 minutes ago, written elsewhere, is not seen
    await t.db.updateTable('sessions').set({ last_seen_at: new Date(Date.now() - 40 * 60_000) }).where('id', '=', id).execute();
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await t.app.inject({ url: '/en/staff', headers: { cookie } })).statusCode, 200, 'kept longer while listening');
    await t.db.updateTable('sessions').set({ last_seen_at: new Date() }).where('id', '=', id).execute();
    // Another server process revokes it (same database, not this process's cache): announced, forgotten here at once.
    const revokedAt = Date.now();
    await t.db.updateTable('sessions').set({ revoked_at: new Date() }).where('id', '=', id).execute();
    await waitFor('the revoked session refused', async () => (await t.app.inject({ url: '/en/staff', headers: { cookie } })).statusCode === 303, 1_000);
    assert.ok(Date.now() - revokedAt < 1_000);

    // A deactivated staff account: likewise.
    const other = await staffCookie(t.app, 'staff-agent');
    assert.equal((await t.app.inject({ url: '/en/staff', headers: { cookie: other } })).statusCode, 200);
    await t.db.updateTable('staff_users').set({ active: false }).where('id', '=', 'staff-agent').execute();
    try {
      await waitFor('the deactivated account refused', async () => (await t.app.inject({ url: '/en/staff', headers: { cookie: other } })).statusCode === 303, 1_000);
    } finally {
      await t.db.updateTable('staff_users').set({ active: true }).where('id', '=', 'staff-agent').execute();
    }
  });

  it('records session activity about once a minute, without making the request wait', async () => {
    const cookie = await staffCookie(t.app, 'staff-reviewer');
    const id = crypto.createHash('sha256').update(/guichet_sid=([^;]+)/.exec(cookie)![1]).digest('hex');
    const old = new Date(Date.now() - 120_000);
    await t.db.updateTable('sessions').set({ last_seen_at: old }).where('id', '=', id).execute();
    forgetSessions(t.db);
    assert.equal((await t.app.inject({ url: '/en/staff', headers: { cookie } })).statusCode, 200);
    await waitFor('the activity written', async () => {
      const row = await t.db.selectFrom('sessions').select('last_seen_at').where('id', '=', id).executeTakeFirstOrThrow();
      return row.last_seen_at.getTime() > Date.now() - 10_000;
    }, 5_000);
    // Fresh activity is not written again at the next request.
    const before = (await t.db.selectFrom('sessions').select('last_seen_at').where('id', '=', id).executeTakeFirstOrThrow()).last_seen_at;
    forgetSessions(t.db);
    assert.equal((await t.app.inject({ url: '/en/staff', headers: { cookie } })).statusCode, 200);
    await new Promise((r) => setTimeout(r, 50));
    const after = (await t.db.selectFrom('sessions').select('last_seen_at').where('id', '=', id).executeTakeFirstOrThrow()).last_seen_at;
    assert.equal(after.getTime(), before.getTime());
  });

  it('writes the activity of several sessions together, later, and never moves a time backwards', async () => {
    const cookies = [await staffCookie(t.app, 'staff-reviewer'), await staffCookie(t.app, 'staff-agent')];
    const ids = cookies.map((c) => crypto.createHash('sha256').update(/guichet_sid=([^;]+)/.exec(c)![1]).digest('hex'));
    const seen = async (id: string) => (await t.db.selectFrom('sessions').select('last_seen_at').where('id', '=', id).executeTakeFirstOrThrow()).last_seen_at.getTime();
    const old = new Date(Date.now() - 120_000);
    await t.db.updateTable('sessions').set({ last_seen_at: old }).where('id', 'in', ids).execute();
    forgetSessions(t.db);
    // not written by the request itself: it waits for the process's next write (at most a second)
    assert.equal((await t.app.inject({ url: '/en/staff', headers: { cookie: cookies[0] } })).statusCode, 200);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await seen(ids[0]), old.getTime(), 'not written yet');
    assert.equal((await t.app.inject({ url: '/en/staff', headers: { cookie: cookies[1] } })).statusCode, 200);
    // meanwhile the second session was seen elsewhere, later than this process saw it: that time stays
    const later = new Date(Date.now() + 60_000);
    await t.db.updateTable('sessions').set({ last_seen_at: later }).where('id', '=', ids[1]).execute();
    await flushTouches(t.db);
    assert.ok((await seen(ids[0])) > Date.now() - 10_000, 'the first session written');
    assert.equal(await seen(ids[1]), later.getTime(), 'the later time kept');
  });

  it('spreads the activity writes of sessions started together: each waits its own 60 to 90 s', () => {
    const ids = Array.from({ length: 1000 }, () => crypto.createHash('sha256').update(crypto.randomBytes(32)).digest('hex'));
    const delays = ids.map(touchAfterMs);
    assert.ok(delays.every((d) => d >= 60_000 && d < 90_000));
    assert.deepEqual(ids.map(touchAfterMs), delays, 'the same delay for the same session every time');
    const seconds = new Map<number, number>();
    for (const d of delays) seconds.set(Math.floor(d / 1000), (seconds.get(Math.floor(d / 1000)) ?? 0) + 1);
    assert.equal(seconds.size, 30, 'all 30 seconds of the range are used');
    assert.ok(Math.max(...seconds.values()) < 70, 'no second gets many more than 1,000 / 30');
  });

  it('has every message in both languages', () => {
    const en = Object.keys(allMessages.en).sort();
    const fr = Object.keys(allMessages.fr).sort();
    assert.deepEqual(en.filter((k) => !fr.includes(k)), [], 'keys missing in French');
    assert.deepEqual(fr.filter((k) => !en.includes(k)), [], 'keys missing in English');
  });
});
