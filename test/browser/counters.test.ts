/**
 * A morning at the shared Ben Franklin centre in Chromium: greeter triage (no JavaScript), the waiting-room board
 * updating live (server-sent events, aria-live), two agents of two organisations calling tickets, an appointment
 * check-in, a transfer; every page axe-clean; the simulation report opens and its charts render.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { assertNoA11yViolations, signInStaff, startBrowserEnv, type BrowserEnv } from './support/browser';
import { runScenario } from '../../src/counters/simulation';
import { writeReport } from '../../src/counters/report';
import { openAllDay } from '../support/counters';

const OFFICE = 'ottawa-ben-franklin';
let env: BrowserEnv;
before(async () => {
  process.env.COUNTERS_BOARD_POLL_MS = '300';
  env = await startBrowserEnv();
  await openAllDay(env.db, OFFICE); // the kiosk gives tickets within opening hours only; tests run at any hour
});
after(async () => {
  await env?.close();
});

test('a morning at a shared office', async () => {
  // the waiting-room screen, JavaScript on (live updates)
  const board = await env.newPage();
  await board.goto(env.url(`/en/offices/${OFFICE}/board`));
  await assertNoA11yViolations(board);
  await board.waitForFunction(() => document.getElementById('board-live-status')?.textContent?.includes('live'));

  // greeter triage, JavaScript off
  const greeter = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(greeter, env, 'staff-agent');
  await greeter.goto(env.url(`/en/staff/offices/${OFFICE}/reception`));
  await assertNoA11yViolations(greeter);
  await greeter.click('#create-ticket'); // nothing chosen: an error summary, nothing created
  assert.match(await greeter.locator('.govuk-error-summary').innerText(), /Choose at least one service/);
  await assertNoA11yViolations(greeter);
  await greeter.check('#svc-demo-dog-licence');
  await greeter.check('#lang-fr');
  await greeter.click('#create-ticket');
  const dogNumber = (await greeter.locator('#created-ticket .govuk-panel__title').innerText()).replace(/^Ticket\s+/, '').trim();
  assert.match(dogNumber, /^A\d{3}$/);
  assert.match(await greeter.locator('#created-ticket').innerText(), /Estimated wait/);
  await greeter.check('#svc-demo-driver-licence');
  await greeter.click('#create-ticket');
  const licenceNumber = (await greeter.locator('#created-ticket .govuk-panel__title').innerText()).replace(/^Ticket\s+/, '').trim();

  // agent of the City of Ottawa at the city counter: gets the dog licence (not the driver's licence)
  const cityAgent = await env.newPage();
  await signInStaff(cityAgent, env, 'staff-ottawa-editor');
  await cityAgent.goto(env.url(`/en/staff/offices/${OFFICE}/counter`));
  await assertNoA11yViolations(cityAgent);
  await cityAgent.click('#open-3');
  await assertNoA11yViolations(cityAgent);
  await cityAgent.click('#call-next');
  assert.equal(await cityAgent.locator('#current-number').innerText(), dogNumber);
  await assertNoA11yViolations(cityAgent);

  // the board shows it, and announces it
  await board.waitForFunction((n) => document.getElementById('board-called')?.textContent?.includes(n), dogNumber);
  const announced = await board.locator('#board-announce').innerText();
  assert.match(announced, new RegExp(`${dogNumber}, Counter 3`));

  // an appointment due in two minutes (booked by phone), checked in at reception
  const service = await env.db.selectFrom('services').select('id').where('id', '=', 'demo-health-card').executeTakeFirstOrThrow();
  const starts = new Date(Date.now() + 2 * 60_000);
  await env.db.insertInto('appointments').values({
    reference: 'BRWSR234', office_id: OFFICE, service_id: service.id, starts_at: starts, ends_at: new Date(starts.getTime() + 30 * 60_000), name: 'Ann Client',
    email: null, phone: '613-555-0100', language: 'en', accessibility: false, channel: 'phone', status: 'booked', client_id: null, ticket_id: null, booked_by: 'staff-agent', updated_at: new Date(),
  }).execute();
  await greeter.fill('#f-reference', 'brwsr234');
  await greeter.click('#check-in');
  const apptNumber = (await greeter.locator('#created-ticket .govuk-panel__title').innerText()).replace(/^Ticket\s+/, '').trim();
  assert.match(apptNumber, /^R\d{3}$/);
  assert.equal(await greeter.locator('#waiting-list tbody tr').count(), 2);

  // one-stop agent at a shared counter: the due appointment goes first
  const agent = await env.newPage();
  await signInStaff(agent, env, 'staff-agent');
  await agent.goto(env.url(`/en/staff/offices/${OFFICE}/counter`));
  await agent.click('#open-1');
  await agent.click('#call-next');
  assert.equal(await agent.locator('#current-number').innerText(), apptNumber);
  await agent.click('#action-serve');
  // the client also needs the city: transfer to the city counter, keeping their place
  await agent.selectOption('#f-transferTo', { label: 'Counter 3' });
  await agent.click('#action-transfer');
  await agent.click('#call-next');
  assert.equal(await agent.locator('#current-number').innerText(), licenceNumber);
  await agent.fill('#f-result', 'renewed');
  await agent.click('#action-complete');
  await board.waitForFunction((n) => !document.getElementById('board-called')?.textContent?.includes(n), licenceNumber);

  await cityAgent.fill('#f-result', 'licensed');
  await cityAgent.click('#action-complete');
  await cityAgent.click('#call-next');
  assert.equal(await cityAgent.locator('#current-number').innerText(), apptNumber, 'transferred client called by the city agent');
  await board.waitForFunction((n) => document.getElementById('board-called')?.textContent?.includes(n), apptNumber);

  // measurements and staffing pages
  await agent.goto(env.url(`/en/staff/offices/${OFFICE}/waits`));
  assert.ok(await agent.locator('#by-service').count());
  await assertNoA11yViolations(agent);
  await agent.goto(env.url(`/fr/personnel/bureaux/${OFFICE}/effectifs?arrivals=20,40&meanServiceMin=8`));
  assert.equal(await agent.locator('#staffing-plan tbody tr').count(), 2);
  await assertNoA11yViolations(agent);

  // team page: the agent (not a manager) sees counters, agents and shifts, without forms
  await agent.goto(env.url(`/en/staff/offices/${OFFICE}/team`));
  assert.equal(await agent.locator('#add-counter-form').count(), 0);
  assert.ok(await agent.locator('#team-counters tbody tr').count() >= 4);
  await assertNoA11yViolations(agent);
  // a manager, JavaScript off: an error on the field, then the counter added; an agent's profile form
  const manager = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(manager, env, 'staff-reviewer');
  await manager.goto(env.url(`/fr/personnel/bureaux/${OFFICE}/equipe`));
  await assertNoA11yViolations(manager);
  await manager.fill('#f-label', '1');
  await manager.click('#add-counter');
  assert.match(await manager.locator('.govuk-error-summary').innerText(), /Libellé du comptoir/);
  assert.equal(await manager.locator('.govuk-error-summary a[href="#f-label"]').count(), 1);
  await assertNoA11yViolations(manager);
  await manager.fill('#f-label', 'B');
  await manager.click('#add-counter');
  assert.match(await manager.locator('#team-saved').innerText(), /Comptoir ajouté/);
  // change the new counter's label, then remove it (still without JavaScript)
  const counterRow = (label: string) => manager.locator('#team-counters tbody tr', { has: manager.locator('th', { hasText: new RegExp(`^${label}$`) }) });
  await counterRow('B').locator('a[id^="change-counter-"]').click();
  await assertNoA11yViolations(manager);
  await manager.fill('#f-counterLabel', 'C');
  await manager.click('#save-counter');
  assert.match(await manager.locator('#team-saved').innerText(), /Comptoir modifié/);
  await counterRow('C').locator('button[id^="remove-counter-"]').click();
  assert.match(await manager.locator('#team-saved').innerText(), /Comptoir retiré/);
  assert.equal(await counterRow('C').count(), 0);
  await assertNoA11yViolations(manager);
  await manager.click('#change-staff-agent');
  await assertNoA11yViolations(manager);
  await manager.fill('#f-startTime', '10:00');
  await manager.fill('#f-endTime', '09:00');
  await manager.selectOption('#f-staffId', 'staff-agent');
  await manager.click('#add-shift');
  assert.equal(await manager.locator('.govuk-error-summary a[href="#f-endTime"]').count(), 1);
  await assertNoA11yViolations(manager);
  // a shift added for tomorrow, then changed through its own form (still without JavaScript)
  const tomorrow = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Toronto', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + 86400_000));
  await manager.fill('#f-date', tomorrow);
  await manager.fill('#f-startTime', '09:00');
  await manager.fill('#f-endTime', '12:00');
  await manager.click('#add-shift');
  assert.match(await manager.locator('#team-saved').innerText(), /Quart ajouté/);
  const shiftRow = manager.locator('#team-shifts tbody tr', { has: manager.locator(`time[datetime="${tomorrow}"]`) }).filter({ hasText: '09:00' }).filter({ hasText: '12:00' });
  await shiftRow.locator('a[id^="change-shift-"]').first().click();
  assert.equal(await manager.locator('#shift-form').count(), 1);
  await assertNoA11yViolations(manager);
  await manager.fill('#f-endTime', '12:30');
  await manager.click('#save-shift');
  assert.match(await manager.locator('#team-saved').innerText(), /Quart modifié/);

  // self-service kiosk and ticket page, no JavaScript
  const kiosk = await env.newPage({ javaScriptEnabled: false });
  await kiosk.goto(env.url(`/fr/bureaux/${OFFICE}/borne`));
  await assertNoA11yViolations(kiosk);
  await kiosk.check('#svc-demo-health-card');
  await kiosk.click('#take-ticket');
  assert.match(await kiosk.locator('#ticket-number').innerText(), /^A\d{3}$/);
  assert.match(await kiosk.locator('#ticket-status').innerText(), /Attente estimée|Aucun comptoir n’est encore ouvert/);
  await assertNoA11yViolations(kiosk);

  // appointment booking page (client)
  await kiosk.goto(env.url(`/en/offices/${OFFICE}/appointments`));
  await assertNoA11yViolations(kiosk);
});

test('the simulation report opens and its charts render', async () => {
  const scenario = JSON.parse(fs.readFileSync(path.resolve('src/counters/scenarios/shared-office.json'), 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guichet-sim-'));
  const out = path.join(dir, 'report.html');
  writeReport(runScenario({ ...scenario, replications: 2 }), out);
  const page = await env.newPage();
  await page.goto(`file://${out}`);
  await page.waitForFunction(() => Array.isArray((window as any).charts) && (window as any).charts.length === 3);
  const drawn = await page.evaluate(() =>
    Array.from(document.querySelectorAll('canvas')).map((c) => {
      const ctx = (c as HTMLCanvasElement).getContext('2d')!;
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      let ink = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
      return { w: c.width, ink };
    }),
  );
  assert.equal(drawn.length, 3);
  for (const d of drawn) assert.ok(d.w > 0 && d.ink > 1000, JSON.stringify(d));
  assert.equal(await page.locator('#results tbody tr').count(), 6);
  await assertNoA11yViolations(page);
  fs.rmSync(dir, { recursive: true, force: true });
});
