/**
 * The counter page's held wait (issue 20) in Chromium: an agent presses "Call next client" with nobody waiting for
 * their services; the page says so and, with JavaScript, holds a call-next request (`?wait=55`) instead of polling.
 * A client who needs the agent takes a ticket at the kiosk (another browser, no sign-in), and the agent's page, with
 * nobody touching it, reloads showing that client called to the counter, within seconds (the hold lasts 55 s, the
 * safety sweep runs every 30 s). The same in French; without JavaScript the page never starts a held request and
 * the button still calls the next client. Every state of the page is axe-clean.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Counter } from 'prom-client';
import type { Page, Request } from 'playwright-core';
import { assertNoA11yViolations, signInStaff, startBrowserEnv, type BrowserEnv } from './support/browser';
import { openAllDay } from '../support/counters';
import { registry } from '../../src/http/metrics';

const OFFICE = 'ottawa-ben-franklin';
/** Well before the hold's end (55 s) and the safety sweep (30 s): only the ticket's wake-up can be this quick. */
const WOKEN_WITHIN_MS = 10_000;
let env: BrowserEnv;

before(async () => {
  env = await startBrowserEnv();
  await openAllDay(env.db, OFFICE); // the kiosk gives tickets within opening hours only; tests run at any hour
});
after(async () => {
  await env?.close();
});

/** Agents woken by the ticket that arrived (reason 'ticket'), as the server counts them. */
async function wokenByTicket(): Promise<number> {
  const metric = registry.getSingleMetric('guichet_counters_waiters_woken_total') as Counter<string> | undefined;
  if (!metric) return 0;
  return (await metric.get()).values.filter((v) => v.labels.reason === 'ticket').reduce((s, v) => s + v.value, 0);
}

/** A walk-in ticket for one service, taken at the kiosk (JavaScript off, a visitor's own browser context). */
async function takeTicket(kiosk: Page, serviceId: string, lang: 'en' | 'fr' = 'en'): Promise<string> {
  await kiosk.goto(env.url(lang === 'fr' ? `/fr/bureaux/${OFFICE}/borne` : `/en/offices/${OFFICE}/kiosk`));
  await kiosk.check(`#svc-${serviceId}`);
  await kiosk.click('#take-ticket');
  const number = (await kiosk.locator('#ticket-number').innerText()).trim();
  assert.match(number, /^A\d{3}$/);
  return number;
}

const isHeldCall = (r: Request) => r.method() === 'POST' && /\/counters\/[^/]+\/call-next\?wait=55/.test(r.url());

/**
 * The page's held call-next (`sent`: page.waitForRequest(isHeldCall), started before pressing "Call next client"):
 * waits until it has been in flight for a second without an answer (an answer that is not held comes in
 * milliseconds), so that the server holds it when the client arrives.
 */
async function heldRequest(sent: Promise<Request>): Promise<Request> {
  const req = await sent;
  const answered = await Promise.race([req.response().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1000))]);
  assert.equal(answered, false, 'the call-next request is held');
  return req;
}

/** The hold time (ms) the server reports for a held call-next answer (Server-Timing `hold;dur=`). */
async function holdMs(req: Request): Promise<number> {
  const res = await req.response();
  assert.ok(res, 'the held request was answered');
  assert.equal(res.status(), 200);
  const m = /hold;dur=([\d.]+)/.exec(res.headers()['server-timing'] ?? '');
  assert.ok(m, `a held answer: server-timing ${res.headers()['server-timing']}`);
  return Number(m[1]);
}

test('an agent waiting for a client is called to them when they arrive, without touching the page', async () => {
  const kiosk = await env.newPage({ javaScriptEnabled: false });

  // the City of Ottawa's agent at the city counter (dog licences, health cards, property tax), JavaScript on
  const agent = await env.newPage();
  await signInStaff(agent, env, 'staff-ottawa-editor');
  await agent.goto(env.url(`/en/staff/offices/${OFFICE}/counter`));
  await agent.click('#open-3');
  const sent = agent.waitForRequest(isHeldCall, { timeout: 10_000 });
  await agent.click('#call-next');
  assert.equal(await agent.locator('#notice').innerText(), 'Nobody is waiting for the services you provide.');
  const box = agent.locator('#counter-waiting');
  await box.waitFor({ state: 'visible' }); // the script shows it when it starts waiting
  assert.match(await box.innerText(), /the next client who needs your services will be called to your counter as soon as they arrive/);
  assert.equal(await agent.locator('#call-next').count(), 1, 'the agent may still press the button');
  await assertNoA11yViolations(agent);
  const held = await heldRequest(sent);

  // a client the city may not serve (a driver's licence, Ministry of Transportation): the page keeps waiting
  const driverNumber = await takeTicket(kiosk, 'demo-driver-licence');
  // then one it may serve (a dog licence): the agent's page calls them by itself
  const wokenBefore = await wokenByTicket();
  const t0 = Date.now();
  const dogNumber = await takeTicket(kiosk, 'demo-dog-licence');
  await agent.locator('#current-number').filter({ hasText: dogNumber }).waitFor({ timeout: WOKEN_WITHIN_MS });
  const elapsed = Date.now() - t0;
  assert.ok(elapsed < WOKEN_WITHIN_MS, `called ${elapsed} ms after the ticket was taken`);
  assert.notEqual(dogNumber, driverNumber);
  // what the agent sees: the client's number, called, for the dog licence; the waiting message is gone
  assert.match(await agent.locator('#current-ticket h2').innerText(), new RegExp(`^Ticket\\s+${dogNumber}\\s+—\\s+Called$`));
  assert.match(await agent.locator('#current-service').innerText(), /dog/i);
  assert.equal(await agent.locator('#counter-waiting').count(), 0);
  assert.equal(new URL(agent.url()).pathname, `/en/staff/offices/${OFFICE}/counter`);
  await assertNoA11yViolations(agent);
  // how: the held request was answered by the ticket's wake-up, after being held, well before its 55 s
  const hold = await holdMs(held);
  assert.ok(hold >= 900 && hold < WOKEN_WITHIN_MS + 1000, `held ${hold} ms`);
  assert.equal((await wokenByTicket()) - wokenBefore, 1, 'one agent woken by the ticket');
  // the driver's licence client still waits (not this counter's)
  const driver = await env.db.selectFrom('tickets').select('status').where('number', '=', driverNumber).where('office_id', '=', OFFICE).executeTakeFirstOrThrow();
  assert.equal(driver.status, 'waiting');
  console.log(`# held wait (en): ${dogNumber} shown ${elapsed} ms after the kiosk was pressed; the request was held ${hold.toFixed(0)} ms`);

  await agent.fill('#f-result', 'licensed');
  await agent.click('#action-complete');

  // the same in French
  await agent.goto(env.url(`/fr/personnel/bureaux/${OFFICE}/comptoir`));
  const sentFr = agent.waitForRequest(isHeldCall, { timeout: 10_000 });
  await agent.click('#call-next');
  assert.equal(await agent.locator('#notice').innerText(), 'Personne n’attend pour les services que vous offrez.');
  await agent.locator('#counter-waiting').waitFor({ state: 'visible' });
  assert.match(await agent.locator('#counter-waiting').innerText(), /le prochain client qui a besoin de vos services sera appelé à votre comptoir/);
  await assertNoA11yViolations(agent);
  const heldFr = await heldRequest(sentFr);
  const t1 = Date.now();
  const healthNumber = await takeTicket(kiosk, 'demo-health-card', 'fr');
  await agent.locator('#current-number').filter({ hasText: healthNumber }).waitFor({ timeout: WOKEN_WITHIN_MS });
  assert.match(await agent.locator('#current-ticket h2').innerText(), new RegExp(`^Billet\\s+${healthNumber}\\s+—\\s+Appelé$`));
  const holdFr = await holdMs(heldFr);
  console.log(`# held wait (fr): ${healthNumber} shown ${Date.now() - t1} ms after the kiosk was pressed; held ${holdFr.toFixed(0)} ms`);
  await agent.fill('#f-result', 'carte renouvelée');
  await agent.click('#action-complete');

  // without JavaScript: the page says nobody is waiting, starts no held request, and the button calls the next client
  const noJs = await env.newPage({ javaScriptEnabled: false });
  const calls: string[] = [];
  noJs.on('request', (r) => {
    if (/\/call-next/.test(r.url())) calls.push(r.url());
  });
  await signInStaff(noJs, env, 'staff-agent');
  await noJs.goto(env.url(`/en/staff/offices/${OFFICE}/counter`));
  await noJs.click('#open-1');
  await noJs.click('#call-next');
  assert.equal(await noJs.locator('#current-number').innerText(), driverNumber, 'the one-stop agent calls the driver’s licence client');
  await noJs.fill('#f-result', 'renewed');
  await noJs.click('#action-complete');
  await noJs.click('#call-next');
  assert.equal(await noJs.locator('#notice').innerText(), 'Nobody is waiting for the services you provide.');
  assert.equal(await noJs.locator('#counter-waiting').isVisible(), false, 'the waiting message needs the script');
  await assertNoA11yViolations(noJs);
  const nextNumber = await takeTicket(kiosk, 'demo-driver-licence');
  assert.equal(await noJs.locator('#current-number').count(), 0, 'the page does not change by itself');
  await noJs.click('#call-next');
  assert.equal(await noJs.locator('#current-number').innerText(), nextNumber);
  assert.deepEqual(calls, [], 'no call-next request from the page without JavaScript');
});
