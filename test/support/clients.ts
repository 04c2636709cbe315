/**
 * Test helpers for client accounts.
 *
 * - `createTestClient(db, overrides?)`: a valid person (or business) with a current address; returns its id.
 * - `clientCookie(app, db, clientId?)`: a signed-in client session (cookie header `guichet_csrf=…; guichet_sid=…`,
 *   use `csrfFrom(cookie)` for forms). It writes the session exactly as startSession() does (hashed token, same
 *   lifetime), so it is fast and needs no identity provider. The real OpenID Connect code flow against the
 *   development provider is exercised end to end by `oidcSignIn()` below and src/clients/oidc.test.ts.
 */
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Config } from '../../src/config';
import type { App } from '../../src/http/app';
import type { Database } from '../../src/db/database';
import { ABSOLUTE_MS, CSRF_COOKIE, csrfTokenFor, SESSION_COOKIE } from '../../src/http/session';
import { createClient, type CreateClientInput } from '../../src/clients/accounts';

let counter = 0;

export async function createTestClient(db: Database, overrides: Partial<CreateClientInput> = {}): Promise<string> {
  counter++;
  const business = overrides.kind === 'business';
  return createClient(db, {
    kind: 'person',
    givenName: business ? undefined : 'Camille',
    familyName: business ? undefined : `Tremblay${counter}`,
    businessName: business ? `Boulangerie ${counter} inc.` : undefined,
    businessNumber: business ? String(100000000 + counter) : undefined,
    birthDate: business ? undefined : '1985-04-12',
    email: `client${counter}.${crypto.randomBytes(3).toString('hex')}@example.ca`,
    preferredLang: 'fr',
    contactPreferences: { email: true },
    address: { line1: '110 Laurier Avenue West', city: 'Ottawa', province: 'ON', postalCode: 'K1P 1J1', validFrom: '2020-01-01' },
    ...overrides,
  });
}

/** Sign a client in (creating one when no id is given); returns the cookie header to send. */
export async function clientCookie(_app: App, db: Database, clientId?: string): Promise<string> {
  const id = clientId ?? (await createTestClient(db));
  const token = crypto.randomBytes(32).toString('base64url');
  const csrf = csrfTokenFor(token); // bound to the session (src/http/session.ts)
  await db
    .insertInto('sessions')
    .values({
      id: crypto.createHash('sha256').update(token).digest('hex'),
      kind: 'client',
      subject_id: id,
      data: JSON.stringify({ via: 'test' }),
      expires_at: new Date(Date.now() + ABSOLUTE_MS),
    })
    .execute();
  return `${CSRF_COOKIE}=${csrf}; ${SESSION_COOKIE}=${token}`;
}

/** A minimal cookie jar for following redirects across two origins (Guichet and the identity provider). */
export class CookieJar {
  private jar = new Map<string, Map<string, string>>();
  store(url: string, res: Response) {
    const host = new URL(url).host;
    const m = this.jar.get(host) ?? new Map<string, string>();
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') m.delete(name);
      else m.set(name, value);
    }
    this.jar.set(host, m);
  }
  header(url: string): string {
    const m = this.jar.get(new URL(url).host);
    return m ? [...m].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }
  get(url: string, name: string): string | undefined {
    return this.jar.get(new URL(url).host)?.get(name);
  }
}

/** fetch with the jar, following redirects by hand (so cookies of every hop are kept). Returns the last response. */
export async function browse(jar: CookieJar, url: string, init: RequestInit = {}, maxHops = 15): Promise<{ res: Response; url: string; body: string }> {
  let current = url;
  let opts: RequestInit = init;
  for (let i = 0; i < maxHops; i++) {
    const headers = new Headers(opts.headers);
    const cookie = jar.header(current);
    if (cookie) headers.set('cookie', cookie);
    if (!headers.has('accept')) headers.set('accept', 'text/html');
    const res = await fetch(current, { ...opts, headers, redirect: 'manual' });
    jar.store(current, res);
    const loc = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && loc) {
      await res.arrayBuffer();
      current = new URL(loc, current).toString();
      opts = {};
      continue;
    }
    return { res, url: current, body: await res.text() };
  }
  throw new Error(`too many redirects from ${url}`);
}

/** Extract the value of a hidden input from an HTML page. */
export function hiddenInput(html: string, name: string): string | undefined {
  const re = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`, 'i');
  const alt = new RegExp(`<input[^>]*value="([^"]*)"[^>]*name="${name}"`, 'i');
  return (re.exec(html) ?? alt.exec(html))?.[1];
}

/**
 * Serve a test app over real HTTP on 127.0.0.1 (port 0; kept if it already listens, e.g. a browser test env) and start the development OpenID provider (port 0) for it;
 * config.publicBaseUrl and config.oidc are pointed at them. Call close() before the app's own close().
 */
export async function withDevOidc(t: { app: App; config: Config }): Promise<{ baseUrl: string; issuer: string; close(): Promise<void> }> {
  if (!t.app.server.listening) await t.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (t.app.server.address() as AddressInfo).port;
  t.config.publicBaseUrl = `http://127.0.0.1:${port}`;
  const { startDevProvider } = await import('../../src/clients/dev-oidc-provider');
  const dev = await startDevProvider({ port: 0, redirectUris: [`${t.config.publicBaseUrl}/auth/callback`] });
  Object.assign(t.config.oidc, { issuer: dev.issuer, clientId: dev.clientId, clientSecret: dev.clientSecret });
  return { baseUrl: t.config.publicBaseUrl, issuer: dev.issuer, close: () => dev.close() };
}

/**
 * The real OpenID Connect code flow, as a browser does it: Guichet's sign-in form → identity provider → choose the
 * identity `sub` on the provider's page → back to /auth/callback → signed in. Returns the final page.
 */
export async function oidcSignIn(jar: CookieJar, baseUrl: string, sub: string, opts: { kind?: 'client' | 'staff'; lang?: 'en' | 'fr'; returnTo?: string } = {}) {
  const lang = opts.lang ?? 'en';
  const path = opts.kind === 'staff' ? (lang === 'fr' ? '/fr/personnel/se-connecter' : '/en/staff/sign-in') : lang === 'fr' ? '/fr/connexion' : '/en/sign-in';
  const form = await browse(jar, `${baseUrl}${path}`);
  const csrf = hiddenInput(form.body, '_csrf');
  if (!csrf) throw new Error(`no sign-in form at ${path}: ${form.res.status}`);
  const body = new URLSearchParams({ _csrf: csrf, ...(opts.returnTo ? { returnTo: opts.returnTo } : {}) });
  const idp = await browse(jar, `${baseUrl}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const action = /<form method="post" action="([^"]+)"/.exec(idp.body)?.[1];
  if (!action) throw new Error(`no identity provider form (${idp.res.status} ${idp.url}): ${idp.body.slice(0, 300)}`);
  return browse(jar, new URL(action, idp.url).toString(), {
    method: 'POST',
    body: new URLSearchParams({ sub }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

/** Minimal shape of a playwright Page used below (keeps playwright out of this module's imports). */
interface BrowserPage {
  goto(url: string): Promise<unknown>;
  click(selector: string): Promise<void>;
  check(selector: string): Promise<void>;
  waitForURL(url: RegExp): Promise<void>;
}

/**
 * In a real browser (playwright page, JavaScript on or off): sign in as `sub` through Guichet's sign-in page and the
 * development provider's page. Needs withDevOidc() on the app first. Ends on My file (or `returnTo`).
 */
export async function signInClientInBrowser(page: BrowserPage, baseUrl: string, sub = 'demo-camille', opts: { lang?: 'en' | 'fr'; returnTo?: string } = {}) {
  const lang = opts.lang ?? 'en';
  const path = lang === 'fr' ? '/fr/connexion' : '/en/sign-in';
  await page.goto(`${baseUrl}${path}${opts.returnTo ? `?returnTo=${encodeURIComponent(opts.returnTo)}` : ''}`);
  await page.click('#sign-in');
  await page.check(`input[name="sub"][value="${sub}"]`);
  await page.click('button[type="submit"]');
  const target = opts.returnTo ?? (lang === 'fr' ? '/fr/mon-dossier' : '/en/my-file');
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await page.waitForURL(new RegExp(`^${esc(baseUrl)}${esc(target)}([?#].*)?$`));
}
