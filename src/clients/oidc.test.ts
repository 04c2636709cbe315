/**
 * OpenID Connect sign-in end to end: the real development provider (oidc-provider) on loopback, Guichet served over
 * real HTTP, a browser-like client (fetch + cookie jar) following every redirect of the authorization code flow.
 */
import { forgetSessions } from '../http/session';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../test/support/app';
import { browse, CookieJar, oidcSignIn, withDevOidc } from '../../test/support/clients';
import { startDevIdentityProviderIfNeeded, startDevProvider } from './dev-oidc-provider';

describe('OpenID Connect sign-in (development provider, real code flow)', () => {
  let t: TestApp;
  let oidc: Awaited<ReturnType<typeof withDevOidc>>;
  let base: string;

  before(async () => {
    t = await createTestApp({ catalogue: true });
    oidc = await withDevOidc(t);
    base = oidc.baseUrl;
  });
  after(async () => {
    await oidc?.close();
    await t?.close();
  });

  it('publishes a discovery document with the code flow and S256 PKCE', async () => {
    const res = await fetch(`${oidc.issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const meta = (await res.json()) as Record<string, any>;
    assert.equal(meta.issuer, oidc.issuer);
    assert.ok(meta.response_types_supported.includes('code'));
    assert.ok(meta.code_challenge_methods_supported.includes('S256'));
    // the sign-in page lets its form lead (through Guichet's redirect) to the provider, and nowhere else
    const page = await fetch(`${base}/en/sign-in`);
    assert.match(page.headers.get('content-security-policy') ?? '', new RegExp(`form-action 'self' ${oidc.issuer.replace(/[.]/g, '\\.')};`));
    // opened on another name of the same machine (localhost vs 127.0.0.1): its form may lead to the public address,
    // where sign-in starts (a silent stop in the browser otherwise, issue 16)
    const other = await t.app.inject({ method: 'GET', url: '/en/sign-in', headers: { host: 'localhost:1', accept: 'text/html' } });
    const publicOrigin = new URL(t.config.publicBaseUrl).origin;
    const formAction = /form-action ([^;]*)/.exec(String(other.headers['content-security-policy']))![1].split(' ');
    assert.ok(formAction.includes(publicOrigin) && formAction.includes(new URL(oidc.issuer).origin), formAction.join(' '));
  });

  it('signs a new client in, creates their file from the provider claims, and lands on My file', async () => {
    const jar = new CookieJar();
    const r = await oidcSignIn(jar, base, 'demo-camille');
    assert.equal(r.res.status, 200, r.body.slice(0, 500));
    assert.equal(new URL(r.url).pathname, '/en/my-file');
    assert.match(r.body, /Camille Tremblay/);
    assert.ok(jar.get(base, 'guichet_sid'), 'session cookie set');
    const c = await t.db.selectFrom('clients').selectAll().where('oidc_subject', '=', 'demo-camille').executeTakeFirstOrThrow();
    assert.equal(c.given_name, 'Camille');
    assert.equal(c.family_name, 'Tremblay');
    assert.equal(c.birth_date, '1985-04-12');
    assert.equal(c.email, 'camille.tremblay@example.ca');
    assert.equal(c.preferred_lang, 'fr');
    const addr = await t.db.selectFrom('client_addresses').selectAll().where('client_id', '=', c.id).execute();
    assert.deepEqual(addr.map((x) => [x.line1, x.city, x.province, x.postal_code, x.valid_to]), [['45 rue Laurier', 'Gatineau', 'QC', 'J8X 3V8', null]]);
    const session = await t.db.selectFrom('sessions').selectAll().where('subject_id', '=', c.id).executeTakeFirstOrThrow();
    assert.equal(session.kind, 'client');
    assert.equal((session.data as any).via, 'oidc');
    assert.equal((session.data as any).iss, oidc.issuer);
    // pending sign-in consumed
    assert.equal((await t.db.selectFrom('oidc_logins').selectAll().execute()).length, 0);

    // signing in again (another browser, in French, with a return address) finds the same file
    const jar2 = new CookieJar();
    const r2 = await oidcSignIn(jar2, base, 'demo-camille', { lang: 'fr', returnTo: '/fr/mon-dossier/profil' });
    assert.equal(r2.res.status, 200);
    assert.equal(new URL(r2.url).pathname, '/fr/mon-dossier/profil');
    assert.equal((await t.db.selectFrom('clients').select('id').where('oidc_subject', '=', 'demo-camille').execute()).length, 1);
  });

  /** Run the flow up to (not including) Guichet's callback; returns the callback URL the provider redirects to. */
  async function flowToCallback(jar: CookieJar, sub: string): Promise<string> {
    const form = await browse(jar, `${base}/en/sign-in`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1];
    const idp = await browse(jar, `${base}/en/sign-in`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const action = /<form method="post" action="([^"]+)"/.exec(idp.body)![1];
    let url = new URL(action, idp.url).toString();
    let res = await fetch(url, { method: 'POST', body: new URLSearchParams({ sub }), headers: { cookie: jar.header(url), 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    jar.store(url, res);
    while (res.status >= 300 && res.status < 400 && !res.headers.get('location')!.includes('/auth/callback')) {
      url = new URL(res.headers.get('location')!, url).toString();
      res = await fetch(url, { headers: { cookie: jar.header(url) }, redirect: 'manual' });
      jar.store(url, res);
    }
    const callback = new URL(res.headers.get('location')!, url).toString();
    assert.ok(callback.startsWith(`${base}/auth/callback?`), callback);
    const cb = new URL(callback);
    assert.ok(cb.searchParams.get('code') && cb.searchParams.get('state'));
    return callback;
  }

  it('refuses a callback without the browser binding, and a forged state', async () => {
    const jar = new CookieJar();
    const callback = await flowToCallback(jar, 'demo-jordan');
    // without the state cookie (e.g. a link sent to someone else's browser): refused, and the pending sign-in is burnt
    const noCookie = await fetch(callback, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(noCookie.status, 400);
    assert.match(await noCookie.text(), /expired or was already used/);
    // forged state, with a matching cookie
    const forged = new URL(callback);
    forged.searchParams.set('state', 'forged-state');
    const bad = await fetch(forged, { headers: { accept: 'text/html', cookie: 'guichet_oidc=forged-state' }, redirect: 'manual' });
    assert.equal(bad.status, 400);
    assert.equal(await t.db.selectFrom('clients').select('id').where('oidc_subject', '=', 'demo-jordan').executeTakeFirst(), undefined, 'no account created');
  });

  it('a callback works once; replaying it (same code, same state) is refused', async () => {
    const jar = new CookieJar();
    const callback = await flowToCallback(jar, 'demo-jordan');
    const cookie = jar.header(callback);
    const ok = await fetch(callback, { headers: { accept: 'text/html', cookie }, redirect: 'manual' });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/en/my-file');
    assert.ok(ok.headers.getSetCookie().some((c) => c.startsWith('guichet_sid=')));
    const replay = await fetch(callback, { headers: { accept: 'text/html', cookie }, redirect: 'manual' });
    assert.equal(replay.status, 400);
    assert.ok(!replay.headers.getSetCookie().some((c) => /^guichet_sid=[^;]+/.test(c) && !c.startsWith('guichet_sid=;')));
  });

  it('signs staff in through the same provider, matched by e-mail, and records their subject', async () => {
    const jar = new CookieJar();
    const r = await oidcSignIn(jar, base, 'staff-agent', { kind: 'staff' });
    assert.equal(r.res.status, 200, r.body.slice(0, 300));
    assert.equal(new URL(r.url).pathname, '/en/staff');
    assert.match(r.body, /Alex Agent/);
    const s = await t.db.selectFrom('staff_users').select(['oidc_subject']).where('id', '=', 'staff-agent').executeTakeFirstOrThrow();
    assert.equal(s.oidc_subject, 'staff-agent');
    // a client identity cannot become staff
    const jar2 = new CookieJar();
    const denied = await oidcSignIn(jar2, base, 'demo-jordan', { kind: 'staff' });
    assert.equal(denied.res.status, 403);
    assert.match(denied.body, /No active staff account/);
    assert.equal(jar2.get(base, 'guichet_sid'), undefined);
  });

  it('signs out everywhere: every session of the client ends', async () => {
    const a = new CookieJar();
    const b = new CookieJar();
    await oidcSignIn(a, base, 'demo-marc');
    await oidcSignIn(b, base, 'demo-marc');
    assert.equal((await browse(b, `${base}/en/my-file`)).url, `${base}/en/my-file`);
    const page = await browse(a, `${base}/en/my-file`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1];
    const out = await browse(a, `${base}/en/sign-out`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, everywhere: 'yes' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(new URL(out.url).pathname, '/en');
    const other = await browse(b, `${base}/en/my-file`);
    assert.equal(new URL(other.url).pathname, '/en/sign-in', 'the other browser is signed out too');
  });

  it('ends an idle session after 30 minutes', async () => {
    const jar = new CookieJar();
    await oidcSignIn(jar, base, 'demo-jordan');
    const c = await t.db.selectFrom('clients').select('id').where('oidc_subject', '=', 'demo-jordan').executeTakeFirstOrThrow();
    await t.db.updateTable('sessions').set({ last_seen_at: new Date(Date.now() - 31 * 60_000) }).where('subject_id', '=', c.id).execute();
    forgetSessions(t.db); // 31 minutes later this process's 2-second session cache has long expired
    const r = await browse(jar, `${base}/en/my-file`);
    assert.equal(new URL(r.url).pathname, '/en/sign-in');
  });
});

describe('production mode: no development provider, no bypass', () => {
  it('does not start the development provider and refuses insecure issuers', async () => {
    const cfg = { env: 'production', publicBaseUrl: 'https://guichet.example', oidc: { issuer: undefined, clientId: 'x', clientSecret: 'y', devPort: 0 } };
    assert.equal(await startDevIdentityProviderIfNeeded(cfg), undefined);
    assert.equal(cfg.oidc.issuer, undefined);
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await assert.rejects(startDevProvider({ redirectUris: ['http://127.0.0.1/auth/callback'] }), /not available in production/);
    } finally {
      process.env.NODE_ENV = saved;
    }

    const dev = await startDevProvider({ port: 0, redirectUris: ['http://127.0.0.1:1/auth/callback'] });
    const t = await createTestApp({ env: { NODE_ENV: 'production', OIDC_ISSUER: dev.issuer, OIDC_CLIENT_ID: dev.clientId, OIDC_CLIENT_SECRET: dev.clientSecret } });
    try {
      // the development staff login is gone: it sends staff to OpenID Connect
      const login = await t.app.inject({ method: 'GET', url: '/en/staff/login', headers: { accept: 'text/html' } });
      assert.equal(login.statusCode, 303);
      assert.equal(login.headers.location, '/en/staff/sign-in');
      const post = await t.app.inject({ method: 'POST', url: '/en/staff/login', payload: { staffId: 'staff-admin', _csrf: 'a'.repeat(32) }, headers: { cookie: `guichet_csrf=${'a'.repeat(32)}` } });
      assert.equal(post.statusCode, 404);
      assert.equal(post.cookies.find((c) => c.name === 'guichet_sid'), undefined);
      // an http issuer is refused in production, even on loopback
      const page = await t.app.inject({ method: 'GET', url: '/en/sign-in' });
      const csrf = page.cookies.find((c) => c.name === 'guichet_csrf')!.value;
      const elsewhere = await t.app.inject({ method: 'POST', url: '/en/sign-in', payload: { _csrf: csrf }, headers: { cookie: `guichet_csrf=${csrf}`, host: 'other.example', accept: 'text/html' } });
      assert.equal(elsewhere.statusCode, 303, 'sign-in starts from the public origin');
      assert.equal(elsewhere.headers.location, `${t.config.publicBaseUrl}/en/sign-in`);
      const start = await t.app.inject({ method: 'POST', url: '/en/sign-in', payload: { _csrf: csrf }, headers: { cookie: `guichet_csrf=${csrf}`, host: new URL(t.config.publicBaseUrl).host, accept: 'text/html' } });
      assert.equal(start.statusCode, 503);
      assert.match(start.body, /Sign-in is not available/);
    } finally {
      await t.close();
      await dev.close();
    }
  });
});
