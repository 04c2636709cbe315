/**
 * Browser-test harness (reused by every test/browser/*.test.ts).
 *
 *   import { startBrowserEnv, checkA11y, assertNoA11yViolations, signInStaff } from './support/browser';
 *
 *   let env: BrowserEnv;
 *   before(async () => { env = await startBrowserEnv(); });
 *   after(async () => { await env?.close(); });
 *
 *   test('home is accessible', async () => {
 *     const page = await env.newPage();                        // JavaScript on (default)
 *     await page.goto(env.url('/en'));
 *     await assertNoA11yViolations(page);                      // throws, listing the violations, if any
 *     const noJs = await env.newPage({ javaScriptEnabled: false });
 *     await signInStaff(noJs, env, 'staff-reviewer');          // dev login through the /en/staff/login form
 *   });
 *
 * What it does:
 * - starts a Guichet server over real HTTP on 127.0.0.1, port 0 (a free port), on a fresh test database with the
 *   seeded catalogue: createTestApp({ catalogue: true }) from test/support/app.ts (PGlite, or PostgreSQL when
 *   DATABASE_URL is set). `env.app`, `env.db` give direct access for setting up data or checking results.
 * - launches Debian's Chromium (/usr/bin/chromium, override with CHROMIUM_PATH) headless through playwright-core.
 *   One browser per test file; each `newPage()` is a new, isolated browser context (own cookies), closed by
 *   `env.close()`.
 * - `checkA11y(page)` injects node_modules/axe-core/axe.min.js and runs axe with the WCAG 2.0/2.1 A and AA rule
 *   tags; it returns the violations of impact serious or critical (the ones that fail a test), and
 *   `assertNoA11yViolations(page)` fails with a readable list of them (rule, impact, help, selectors, HTML).
 *   Pages send a strict Content-Security-Policy; axe is injected through the DevTools protocol
 *   (`page.evaluate`), which CSP does not block.
 * - `newPage({ javaScriptEnabled: false })` turns page scripts off through the DevTools protocol (see
 *   disableScripts: with playwright's own option axe cannot run); `scriptsDisabled(page)` tells which mode.
 * - `signInStaff(page, env, staffId, lang?)` signs a seeded staff member in through the development login form
 *   (staff ids: see STAFF in src/catalogue/demo-data.ts, e.g. 'staff-reviewer', 'staff-agent', 'staff-admin').
 *   Works with JavaScript on or off (it only fills the form and presses the button).
 *
 * Run: node scripts/test.mjs browser test/browser/<file>.test.ts (test concurrency 1: one Chromium at a time).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type CDPSession, type Page } from 'playwright-core';
import { createTestApp, type TestApp } from '../../support/app';
import { withDevOidc } from '../../support/clients';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const AXE_SOURCE = fs.readFileSync(path.join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface NewPageOptions extends BrowserContextOptions {
  /** Default true. false = the page works as for a visitor with JavaScript turned off. */
  javaScriptEnabled?: boolean;
}

export interface BrowserEnv {
  /** Base URL of the running server, e.g. http://127.0.0.1:43121 */
  baseUrl: string;
  /** Absolute URL for a path: env.url('/en/search?q=passport'). */
  url(p: string): string;
  testApp: TestApp;
  app: TestApp['app'];
  db: TestApp['db'];
  browser: Browser;
  /** A page in a fresh, isolated browser context (its own cookies). Pages follow `lang` of the URL they open. */
  newPage(opts?: NewPageOptions): Promise<Page>;
  /** Close every context, the browser, the server and the test database. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Extra environment for the app config (see test/support/app.ts). */
  env?: Record<string, string>;
  /** Seeded catalogue (GC inventory + demo set); default true. */
  catalogue?: boolean;
  /** Start the development OpenID provider for client sign-in (closed with the env). */
  oidc?: boolean;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export async function startBrowserEnv(opts: StartOptions = {}): Promise<BrowserEnv> {
  const testApp = await createTestApp({ catalogue: opts.catalogue ?? true, env: opts.env });
  let browser: Browser | undefined;
  let oidc: { close(): Promise<void> } | undefined;
  try {
    await testApp.app.listen({ host: '127.0.0.1', port: 0 });
    const address = testApp.app.server.address();
    if (!address || typeof address === 'string') throw new Error('server did not listen on a TCP port');
    const baseUrl = `http://127.0.0.1:${address.port}`;
    if (opts.oidc) oidc = await withDevOidc({ app: testApp.app, config: testApp.config });
    browser = await launchChromium();
    const contexts: BrowserContext[] = [];
    const b = browser;
    return {
      baseUrl,
      url: (p: string) => new URL(p, baseUrl).toString(),
      testApp,
      app: testApp.app,
      db: testApp.db,
      browser: b,
      async newPage(o: NewPageOptions = {}) {
        const { javaScriptEnabled = true, ...rest } = o;
        const context = await b.newContext({ baseURL: baseUrl, ...rest, javaScriptEnabled: true });
        // Generous: the machine running the tests may be busy, and the first request builds the search index.
        context.setDefaultTimeout(30_000);
        context.setDefaultNavigationTimeout(60_000);
        contexts.push(context);
        const page = await context.newPage();
        if (!javaScriptEnabled) await disableScripts(page);
        return page;
      },
      async close() {
        for (const c of contexts) await c.close().catch(() => {});
        await b.close().catch(() => {});
        await oidc?.close().catch(() => {});
        await testApp.close();
      },
    };
  } catch (err) {
    await browser?.close().catch(() => {});
    await oidc?.close().catch(() => {});
    await testApp.close().catch(() => {});
    throw err;
  }
}

/**
 * JavaScript off, the way a visitor without JavaScript gets the page: page scripts never run (inline, module or
 * external), across navigations and form submissions. We use the DevTools protocol
 * (Emulation.setScriptExecutionDisabled) rather than the context option `javaScriptEnabled: false` because with
 * the latter axe-core cannot run at all (its timers never fire); checkA11y turns scripts on only while axe runs,
 * which does not re-run the page's own scripts.
 */
const noScriptSessions = new WeakMap<Page, CDPSession>();

export async function disableScripts(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
  noScriptSessions.set(page, cdp);
}

/** True when the page was opened with newPage({ javaScriptEnabled: false }). */
export function scriptsDisabled(page: Page): boolean {
  return noScriptSessions.has(page);
}

export interface A11yViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: string[]; html: string; failureSummary?: string }[];
}

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * Run axe-core (WCAG 2.0/2.1 A + AA) on the page as it is now. Returns the violations of impact serious or
 * critical (pass { all: true } for every impact). Works on pages opened with JavaScript disabled (see
 * disableScripts).
 */
export async function checkA11y(page: Page, opts: { all?: boolean; exclude?: string[] } = {}): Promise<A11yViolation[]> {
  const cdp = noScriptSessions.get(page);
  if (cdp) await cdp.send('Emulation.setScriptExecutionDisabled', { value: false });
  try {
    return await runAxe(page, opts);
  } finally {
    if (cdp) await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
  }
}

async function runAxe(page: Page, opts: { all?: boolean; exclude?: string[] }): Promise<A11yViolation[]> {
  const already = await page.evaluate(() => typeof (window as any).axe !== 'undefined');
  if (!already) await page.evaluate(AXE_SOURCE);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`axe did not finish within 60 s on ${page.url()}`)), 60_000);
  });
  const run = page.evaluate(
    async ({ tags, exclude }) => {
      const ctx = exclude.length ? { exclude: exclude.map((s: string) => [s]) } : document;
      const r = await (window as any).axe.run(ctx, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      return r.violations.map((v: any) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n: any) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
      }));
    },
    { tags: AXE_TAGS, exclude: opts.exclude ?? [] },
  ) as Promise<A11yViolation[]>;
  const violations = await Promise.race([run, timeout]).finally(() => clearTimeout(timer));
  return opts.all ? violations : violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function formatViolations(violations: A11yViolation[]): string {
  return violations
    .map(
      (v) =>
        `- [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
        v.nodes
          .slice(0, 5)
          .map((n) => `    at ${n.target.join(' ')}\n      ${n.html.slice(0, 200)}\n      ${(n.failureSummary ?? '').replace(/\n/g, '\n      ')}`)
          .join('\n'),
    )
    .join('\n');
}

/** Assert zero serious/critical WCAG 2.1 AA violations; the failure message lists them. */
export async function assertNoA11yViolations(page: Page, opts: { exclude?: string[] } = {}): Promise<void> {
  const violations = await checkA11y(page, opts);
  if (violations.length) {
    const msg = `axe found ${violations.length} serious/critical violation(s) on ${page.url()}:\n${formatViolations(violations)}`;
    console.error(msg);
    assert.fail(msg);
  }
}

/**
 * Sign a seeded staff member in through the development login form (/en/staff/login or /fr/personnel/connexion).
 * Leaves the page on the staff home page. Throws if the sign-in did not land there.
 */
export async function signInStaff(page: Page, env: Pick<BrowserEnv, 'url'>, staffId: string, lang: 'en' | 'fr' = 'en'): Promise<void> {
  await page.goto(env.url(lang === 'fr' ? '/fr/personnel/connexion' : '/en/staff/login'));
  await page.locator(`input[name="staffId"][value="${staffId}"]`).check();
  await Promise.all([
    page.waitForURL((u) => u.pathname === (lang === 'fr' ? '/fr/personnel' : '/en/staff')),
    page.locator('form:has(input[name="staffId"]) button').first().click(),
  ]);
}

/** Forget the browser context's session (staff or client): clears its cookies. */
export async function clearSession(page: Page): Promise<void> {
  await page.context().clearCookies();
}

/** Response status of a navigation (throws when there was no response). */
export async function gotoStatus(page: Page, url: string): Promise<number> {
  const res = await page.goto(url);
  if (!res) throw new Error(`no response for ${url}`);
  return res.status();
}
