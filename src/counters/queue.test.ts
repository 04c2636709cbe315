/**
 * Walk-in queue and appointments over HTTP: triage, call next by the routing policy, transfer, hold/recall, no-show,
 * several services, outcomes and measurements; e-mail through a real SMTP server; two app instances (two connection
 * pools on PostgreSQL) calling at the same time never get the same ticket; a restart loses no ticket; slots never
 * overbook under concurrent bookings; the board streams server-sent events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from '../../test/support/app';
import { openAllDay } from '../../test/support/counters';
import { clientCookie, createTestClient } from '../../test/support/clients';
import { buildApp, type App } from '../http/app';
import { openDatabase, type OpenedDatabase } from '../db/database';
import { book, cancel, checkIn, listSlots, walkInStatus } from './appointments';
import { boardState, closeCounter, createTicket, estimateFor, openCounter } from './queue';
import { addCounter } from './team';
import { DEMO_OFFICE } from './demo';
import { localParts } from './time';
import { createNotifier } from './notify';
import { sendAppointmentReminders } from './reminders';
import { capabilities } from '../capabilities';

const OFFICE = DEMO_OFFICE;
const mails: Array<{ to: string; raw: string }> = [];
let smtp: SMTPServer;

async function startSmtp(): Promise<number> {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), raw });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  return (smtp.server.address() as { port: number }).port;
}

async function waitFor<T>(f: () => T | undefined | null | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function decodeParts(raw: string): string {
  // decode base64 and quoted-printable bodies so assertions can read them
  let out = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  for (const m of raw.matchAll(/\r?\n\r?\n([A-Za-z0-9+/=\r\n]{40,})(\r?\n--|$)/g)) {
    try {
      out += '\n' + Buffer.from(m[1].replace(/\s+/g, ''), 'base64').toString('utf8');
    } catch {
      /* not base64 */
    }
  }
  return out;
}

describe('counters: queue and appointments', () => {
  let t: TestApp;
  let agent: string; // staff-agent (one-stop organisation), counter 1 (shared)
  let city: string; // staff-ottawa-editor (City of Ottawa), counter 3 (city counter), skills: city services + health card
  let counters: Record<string, string>;

  const api = (cookie: string | null, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, app: App = t.app) =>
    app.inject({ method, url, payload: payload as any, headers: cookie ? { cookie, 'x-csrf-token': csrfFrom(cookie) } : {} });

  before(async () => {
    const port = await startSmtp();
    process.env.SMTP_URL = `smtp://127.0.0.1:${port}`;
    process.env.COUNTERS_BOARD_POLL_MS = '100';
    t = await createTestApp({ catalogue: true });
    agent = await staffCookie(t.app, 'staff-agent');
    city = await staffCookie(t.app, 'staff-ottawa-editor');
    const res = await api(agent, 'GET', `/api/v1/offices/${OFFICE}/counters`);
    assert.equal(res.statusCode, 200, res.body);
    counters = Object.fromEntries(res.json().counters.map((c: { label: string; id: string }) => [c.label, c.id]));
    assert.equal(Object.keys(counters).length, 4, 'demo counters seeded');
  });
  after(async () => {
    await t?.close();
    await new Promise<void>((r) => smtp.close(() => r()));
    delete process.env.SMTP_URL;
  });

  it('rejects bad tickets with field codes in the request language, and unknown offices with 404', async () => {
    const r1 = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets?lang=fr`, { services: [], language: 'en' });
    assert.equal(r1.statusCode, 400);
    assert.equal(r1.json().error.code, 'VALIDATION_ERROR');
    assert.equal(r1.json().error.details[0].field, 'services');
    const r2 = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets?lang=fr`, { services: ['gc-1097'], language: 'en' });
    assert.equal(r2.statusCode, 400);
    assert.deepEqual(r2.json().error.details.map((d: { field: string; code: string }) => [d.field, d.code]), [['services.0', 'notOffered']]);
    assert.match(r2.json().error.details[0].message, /n’est pas offert/);
    const r3 = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets`, { services: ['demo-dog-licence'], language: 'en', email: 'not-an-email' });
    assert.equal(r3.json().error.details[0].field, 'email');
    const r4 = await api(agent, 'POST', `/api/v1/offices/nowhere/tickets`, { services: ['demo-dog-licence'], language: 'en' });
    assert.equal(r4.statusCode, 404);
    const r5 = await api(null, 'POST', `/api/v1/offices/${OFFICE}/tickets`, { services: ['demo-dog-licence'], language: 'en' });
    assert.equal(r5.statusCode, 401);
    const cra = await staffCookie(t.app, 'staff-cra-partner'); // CRA is not hosted at this office
    const r6 = await api(cra, 'POST', `/api/v1/offices/${OFFICE}/tickets`, { services: ['demo-dog-licence'], language: 'en' });
    assert.equal(r6.statusCode, 404);
    assert.equal(await t.db.selectFrom('tickets').select('id').executeTakeFirst(), undefined, 'nothing half-written');
  });

  it('answers ids that cannot be a counter, ticket or shift with 404, not an error (36 dashes were a 500)', async () => {
    const manager = await staffCookie(t.app, 'staff-reviewer');
    for (const id of ['-'.repeat(36), 'not-an-id', '00000000-0000-4000-8000-000000000000']) {
      for (const [cookie, method, url, code] of [
        [agent, 'POST', `/api/v1/offices/${OFFICE}/counters/${id}/open`, 'COUNTER_NOT_FOUND'],
        [agent, 'POST', `/api/v1/offices/${OFFICE}/counters/${id}/call-next`, 'COUNTER_NOT_FOUND'],
        [agent, 'GET', `/api/v1/offices/${OFFICE}/tickets/${id}`, 'TICKET_NOT_FOUND'],
        [manager, 'PATCH', `/api/v1/offices/${OFFICE}/counters/${id}`, 'COUNTER_NOT_FOUND'],
        [manager, 'DELETE', `/api/v1/offices/${OFFICE}/shifts/${id}`, 'SHIFT_NOT_FOUND'],
      ] as const) {
        const body = method === 'PATCH' ? { label: 'Z9' } : undefined;
        const r = await t.app.inject({ method, url, payload: body, headers: { cookie, 'x-csrf-token': csrfFrom(cookie) } });
        assert.equal(r.statusCode, 404, `${method} ${url}: ${r.body}`);
        assert.equal(r.json().error.code, code);
      }
    }
  });

  it('runs a morning: triage, call next by skills and language, transfer keeping the place, hold/recall, no-show, several services', async () => {
    assert.equal((await api(agent, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['1']}/open`)).statusCode, 200);
    assert.equal((await api(city, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['3']}/open`)).statusCode, 200);
    const taken = await api(city, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['1']}/open`);
    assert.equal(taken.statusCode, 409);
    assert.equal(taken.json().error.code, 'COUNTER_TAKEN');

    const mk = async (services: string[], extra: Record<string, unknown> = {}) => {
      const r = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets`, { services, language: 'en', ...extra });
      assert.equal(r.statusCode, 201, r.body);
      return r.json();
    };
    const licence = await mk(['demo-driver-licence']); // provincial: only the one-stop agent is trained
    const dog = await mk(['demo-dog-licence', 'demo-health-card'], { email: 'client1@example.org' }); // two services in one visit
    const fr = await mk(['demo-property-tax-address'], { language: 'fr', accessibility: true });
    assert.match(licence.number, /^A\d{3}$/);
    assert.ok(licence.estimate && licence.estimate.position >= 1 && licence.estimate.waitMinutes >= 0);

    // the city agent (skills: city services + health card) never gets the driver's licence; accessibility goes first
    const c1 = await api(city, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['3']}/call-next`);
    assert.equal(c1.json().ticket.id, fr.id, 'accessibility priority');
    const busy = await api(city, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['3']}/call-next`);
    assert.equal(busy.statusCode, 409);
    assert.equal(busy.json().error.code, 'COUNTER_BUSY');
    // someone else's counter
    const notYours = await api(city, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['1']}/call-next`);
    assert.equal(notYours.json().error.code, 'COUNTER_NOT_YOURS');

    const c2 = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['1']}/call-next`);
    assert.equal(c2.json().ticket.id, licence.id, 'longest wait first');
    // hold and recall
    const held = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets/${licence.id}/hold`);
    assert.equal(held.statusCode, 200, held.body);
    assert.equal(held.json().status, 'held');
    const c3 = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['1']}/call-next`);
    assert.equal(c3.json().ticket.id, dog.id);
    // transfer the dog licence client to the city counter: keeps their place (queued_at), goes to counter 3 only
    const tr = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets/${dog.id}/transfer`, { counterId: counters['3'] });
    assert.equal(tr.statusCode, 200, tr.body);
    assert.equal(tr.json().status, 'waiting');
    const bad = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets/${dog.id}/transfer`, { serviceId: 'demo-health-card' });
    assert.equal(bad.statusCode, 409, 'cannot transfer a ticket that is not at your counter');
    const recall = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets/${licence.id}/recall`);
    assert.equal(recall.json().status, 'called');
    assert.equal(recall.json().recalls, 1);
    assert.equal((await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets/${licence.id}/serve`)).json().status, 'serving');
    const done = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets/${licence.id}/complete`, { result: 'licence renewed', caseId: 'CASE-42' });
    assert.equal(done.json().status, 'done');
    assert.equal(done.json().caseId, 'CASE-42');

    // the city agent finishes the accessibility client, then gets the transferred dog ticket
    await api(city, 'POST', `/api/v1/offices/${OFFICE}/tickets/${fr.id}/complete`, {});
    const later = await mk(['demo-dog-licence']);
    const c4 = await api(city, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['3']}/call-next`);
    assert.equal(c4.json().ticket.id, dog.id, 'transferred client kept their place ahead of later arrivals');
    const next = await api(city, 'POST', `/api/v1/offices/${OFFICE}/tickets/${dog.id}/complete`, { result: 'dog licensed' });
    assert.equal(next.json().status, 'waiting', 'second service of the visit');
    assert.equal(next.json().serviceId, 'demo-health-card');
    const c5 = await api(city, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['3']}/call-next`);
    assert.equal(c5.json().ticket.id, dog.id, 'the second service keeps the place of the visit');
    await api(city, 'POST', `/api/v1/offices/${OFFICE}/tickets/${dog.id}/complete`, {});
    // no-show
    const c6 = await api(city, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['3']}/call-next`);
    assert.equal(c6.json().ticket.id, later.id);
    assert.equal((await api(city, 'POST', `/api/v1/offices/${OFFICE}/tickets/${later.id}/no-show`)).json().status, 'no_show');
    const empty = await api(city, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['3']}/call-next`);
    assert.equal(empty.json().ticket, null);

    // outcomes recorded per service of each visit, and measurements
    const visits = await t.db.selectFrom('ticket_visits').selectAll().where('ticket_id', '=', dog.id).orderBy('done_at').execute();
    assert.deepEqual(visits.map((v) => [v.service_id, v.outcome]), [['demo-dog-licence', 'transferred'], ['demo-dog-licence', 'served'], ['demo-health-card', 'served']]);
    assert.ok(visits.every((v) => v.wait_seconds !== null && v.wait_seconds >= 0));
    const events = await t.db.selectFrom('ticket_events').select('kind').where('ticket_id', '=', licence.id).orderBy('id').execute();
    assert.deepEqual(events.map((e) => e.kind), ['created', 'called', 'hold', 'recall', 'serving', 'complete']);
    const stats = await api(agent, 'GET', `/api/v1/offices/${OFFICE}/wait-stats`);
    assert.equal(stats.statusCode, 200, stats.body);
    const s = stats.json();
    assert.equal(s.office.served, 4); // licence, accessibility client, and the two services of the dog-licence visit
    assert.equal(s.office.noShows, 1);
    assert.ok(s.byService.some((r: { key: string; served: number }) => r.key === 'demo-dog-licence' && r.served === 1));
    assert.ok(s.byOrganisation.some((r: { key: string }) => r.key === 'ottawa'));
    assert.ok(s.byHour.length >= 1);
  });

  it('tells a client by e-mail when their turn is near', async () => {
    mails.length = 0;
    const a = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets`, { services: ['demo-health-card'], language: 'en' });
    const b = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets`, { services: ['demo-health-card'], language: 'fr', email: 'near@example.org' });
    const c = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['1']}/call-next`);
    assert.equal(c.json().ticket.id, a.json().id);
    const mail = await waitFor(() => mails.find((m) => m.to === 'near@example.org'));
    assert.match(decodeParts(mail.raw), new RegExp(`Billet ${b.json().number}`));
    await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets/${a.json().id}/complete`, {});
    // not told twice
    await api(agent, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['1']}/call-next`);
    await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets/${b.json().id}/complete`, {});
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(mails.filter((m) => m.to === 'near@example.org').length, 1);
  });

  it('never gives the same ticket to two counters of two app instances calling at once, and loses nothing on restart', async () => {
    // 8 agents on 8 counters; 4 on this instance, 4 on a second instance with its own connection pool
    const ids = Array.from({ length: 8 }, (_, i) => `staff-load-${i}`);
    await t.db.insertInto('staff_users').values(ids.map((id) => ({ id, email: `${id}@guichet.example`, name: id, org_id: 'guichet', roles: ['agent'], oidc_subject: null }))).execute();
    const labels = ids.map((_, i) => `L${i}`);
    const newCounters = await t.db.insertInto('counters').values(labels.map((label) => ({ office_id: OFFICE, label, org_id: null, agent_id: null, opened_at: null }))).returning(['id', 'label']).execute();
    let second: OpenedDatabase | null = null;
    let app2: App = t.app;
    if (t.database.kind === 'postgres') {
      second = await openDatabase({ databaseUrl: t.database.url!, poolSize: 5 });
      app2 = await buildApp({ config: t.config, database: second, logger: false, capabilities });
      await app2.ready();
    }
    try {
      const cookies = await Promise.all(ids.map((id, i) => staffCookie(i % 2 ? app2 : t.app, id)));
      for (let i = 0; i < 8; i++) {
        const r = await api(cookies[i], 'POST', `/api/v1/offices/${OFFICE}/counters/${newCounters[i].id}/open`, undefined, i % 2 ? app2 : t.app);
        assert.equal(r.statusCode, 200, r.body);
      }
      const N = 60;
      const mine = new Set<string>();
      for (let i = 0; i < N; i++) {
        const r = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets`, { services: ['gc-1292'], language: i % 3 ? 'en' : 'fr' });
        assert.equal(r.statusCode, 201);
        mine.add(r.json().id);
      }
      const calledBy = new Map<string, number>();
      let rounds = 0;
      for (;;) {
        rounds++;
        const results = await Promise.all(
          cookies.map(async (ck, i) => {
            const app = i % 2 ? app2 : t.app;
            const r = await api(ck, 'POST', `/api/v1/offices/${OFFICE}/counters/${newCounters[i].id}/call-next`, undefined, app);
            assert.equal(r.statusCode, 200, r.body);
            const tk = r.json().ticket;
            if (!tk) return null;
            calledBy.set(tk.id, (calledBy.get(tk.id) ?? 0) + 1);
            const d = await api(ck, 'POST', `/api/v1/offices/${OFFICE}/tickets/${tk.id}/complete`, {}, app);
            assert.equal(d.statusCode, 200, d.body);
            return tk.id;
          }),
        );
        if (results.every((x) => x === null)) break;
        assert.ok(rounds < 40);
        if (rounds === 3) {
          // "restart": a fresh app on a fresh connection to the same database picks up where the first left off
          const waitingBefore = await t.db.selectFrom('tickets').select('id').where('status', '=', 'waiting').where('service_id', '=', 'gc-1292').execute();
          if (second) {
            await app2.close();
            await second.close();
            second = await openDatabase({ databaseUrl: t.database.url!, poolSize: 5 });
            app2 = await buildApp({ config: t.config, database: second, logger: false, capabilities });
            await app2.ready();
          }
          const waitingAfter = await (second ?? t.database).db.selectFrom('tickets').select('id').where('status', '=', 'waiting').where('service_id', '=', 'gc-1292').execute();
          assert.deepEqual(waitingAfter.map((x) => x.id).sort(), waitingBefore.map((x) => x.id).sort());
        }
      }
      assert.ok([...mine].every((id) => calledBy.get(id) === 1), 'every ticket called once');
      assert.ok([...calledBy.values()].every((n) => n === 1), 'no ticket called twice');
    } finally {
      if (second) {
        await app2.close();
        await second.close();
      }
    }
  });

  it('books appointments from slots derived from shifts and skills, never overbooks under concurrency, e-mails an .ics', async () => {
    const office = await t.db.selectFrom('offices').select('timezone').where('id', '=', OFFICE).executeTakeFirstOrThrow();
    // next weekday at least 2 days ahead (demo shifts cover three weeks of opening hours)
    let d = new Date(Date.now() + 2 * 86400_000);
    while ([0, 6].includes(localParts(d, office.timezone).weekday)) d = new Date(d.getTime() + 86400_000);
    const date = localParts(d, office.timezone).date;
    const slotsRes = await api(null, 'GET', `/api/v1/offices/${OFFICE}/slots?serviceId=demo-dog-licence&date=${date}`);
    assert.equal(slotsRes.statusCode, 200, slotsRes.body);
    const slots = slotsRes.json().slots;
    assert.equal(slots[0].time, '08:30');
    assert.equal(slots[0].capacity, 2, 'two agents on shift can serve dog licences');
    const provincial = (await api(null, 'GET', `/api/v1/offices/${OFFICE}/slots?serviceId=demo-driver-licence&date=${date}`)).json().slots;
    assert.equal(provincial[0].capacity, 1, 'only one scheduled agent is trained for driver licences');
    const badDate = await api(null, 'GET', `/api/v1/offices/${OFFICE}/slots?serviceId=demo-dog-licence&date=2026-13-45`);
    assert.equal(badDate.statusCode, 400);

    mails.length = 0;
    const slot = slots[2];
    const concurrent = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api(null, 'POST', `/api/v1/offices/${OFFICE}/appointments`, { serviceId: 'demo-dog-licence', startsAt: slot.startsAt, name: `Client ${i}`, email: `c${i}@example.org`, language: i % 2 ? 'fr' : 'en' }),
      ),
    );
    const ok = concurrent.filter((r) => r.statusCode === 201);
    assert.equal(ok.length, 2, `booked ${ok.length}: ${concurrent.map((r) => r.statusCode).join(',')}`);
    assert.ok(concurrent.filter((r) => r.statusCode !== 201).every((r) => r.statusCode === 409 && r.json().error.code === 'SLOT_FULL'));
    const row = await t.db.selectFrom('appointment_slots').select('booked').where('office_id', '=', OFFICE).where('starts_at', '=', new Date(slot.startsAt)).executeTakeFirstOrThrow();
    assert.equal(row.booked, 2);
    const mail = await waitFor(() => mails.find((m) => m.to === `c${ok[0].json().name.split(' ')[1]}@example.org`));
    const text = decodeParts(mail.raw);
    assert.match(mail.raw, /text\/calendar/);
    assert.match(text, /BEGIN:VCALENDAR/);
    assert.match(text, /METHOD:REQUEST/);
    assert.match(text, new RegExp(ok[0].json().reference));

    // not a slot, bad input
    const off = await api(null, 'POST', `/api/v1/offices/${OFFICE}/appointments`, { serviceId: 'demo-dog-licence', startsAt: new Date(new Date(slot.startsAt).getTime() + 60_000).toISOString(), name: 'X', email: 'x@example.org', language: 'en' });
    assert.equal(off.json().error.details[0].code, 'notASlot');
    const noContact = await api(null, 'POST', `/api/v1/offices/${OFFICE}/appointments?lang=fr`, { serviceId: 'demo-dog-licence', startsAt: slot.startsAt, name: 'X', language: 'en' });
    assert.equal(noContact.statusCode, 400);
    assert.equal(noContact.json().error.details[0].field, 'email');

    // reschedule frees the old place; cancel frees the new one
    const ref = ok[0].json().reference;
    const moved = await api(null, 'POST', `/api/v1/appointments/${ref}/reschedule`, { startsAt: slots[4].startsAt });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.equal(moved.json().startsAt, slots[4].startsAt);
    const again = await api(null, 'POST', `/api/v1/offices/${OFFICE}/appointments`, { serviceId: 'demo-dog-licence', startsAt: slot.startsAt, name: 'Late', email: 'late@example.org', language: 'en' });
    assert.equal(again.statusCode, 201);
    const cancelled = await api(null, 'POST', `/api/v1/appointments/${ref}/cancel`);
    assert.equal(cancelled.json().status, 'cancelled');
    assert.equal((await api(null, 'POST', `/api/v1/appointments/${ref}/cancel`)).statusCode, 409);
    const early = await api(agent, 'POST', `/api/v1/offices/${OFFICE}/appointments/${again.json().reference}/check-in`);
    assert.equal(early.statusCode, 409);
    assert.equal(early.json().error.code, 'CHECKIN_TOO_EARLY');

    // reminders: claimed once, sent with the calendar invitation
    mails.length = 0;
    // as the reminders job does: the counters' own notifier over the test's SMTP server (the app's routes plugin keeps
    // its notifier to itself)
    const notifier = createNotifier(undefined, process.env);
    const remind = () => sendAppointmentReminders(t.db, notifier, t.config.publicBaseUrl, new Date(new Date(slot.startsAt).getTime() - 3600_000));
    const sent = await remind();
    assert.ok(sent >= 2);
    assert.equal(await remind(), 0);
    await waitFor(() => mails.find((m) => m.to === 'late@example.org'));
  });

  it('checks an appointment in at appointment priority, ahead of walk-ins once due', async () => {
    const office = await t.db.selectFrom('offices').select('timezone').where('id', '=', OFFICE).executeTakeFirstOrThrow();
    let d = new Date(Date.now() + 3 * 86400_000);
    while ([0, 6].includes(localParts(d, office.timezone).weekday)) d = new Date(d.getTime() + 86400_000);
    const slots = await listSlots(t.db, OFFICE, 'demo-health-card', localParts(d, office.timezone).date);
    const slot = slots.find((s) => s.available > 0)!;
    const appt = await book(t.db, OFFICE, { serviceId: 'demo-health-card', startsAt: slot.startsAt, name: 'Ann', email: 'ann@example.org', language: 'en', channel: 'phone', bookedBy: 'staff-agent' });
    const at = new Date(new Date(slot.startsAt).getTime() - 10 * 60_000); // arrives 10 minutes early
    const { ticket } = await checkIn(t.db, OFFICE, appt.reference.toLowerCase(), at);
    assert.equal(ticket.priority, 'appointment');
    assert.match(ticket.number, /^R\d{3}$/);
    const after = await t.db.selectFrom('appointments').select(['status', 'ticket_id']).where('id', '=', appt.id).executeTakeFirstOrThrow();
    assert.deepEqual(after, { status: 'checked_in', ticket_id: ticket.id });
    await assert.rejects(checkIn(t.db, OFFICE, appt.reference, at), /APPOINTMENT_STATE/);
  });

  it('lists a signed-in client\'s own appointments in My file (upcoming and past), no-store, and only theirs', async () => {
    const office = await t.db.selectFrom('offices').select('timezone').where('id', '=', OFFICE).executeTakeFirstOrThrow();
    let d = new Date(Date.now() + 4 * 86400_000);
    while ([0, 6].includes(localParts(d, office.timezone).weekday)) d = new Date(d.getTime() + 86400_000);
    const free = (await listSlots(t.db, OFFICE, 'demo-health-card', localParts(d, office.timezone).date)).filter((s) => s.available > 0);
    const [slot, slot2] = [free[0], free[free.length - 1]];
    const clientId = await createTestClient(t.db);
    const cookie = await clientCookie(t.app, t.db, clientId);
    const mine = await book(t.db, OFFICE, { serviceId: 'demo-health-card', startsAt: slot.startsAt, name: 'Camille', email: 'camille@example.org', language: 'fr', channel: 'online', clientId });
    const other = await book(t.db, OFFICE, { serviceId: 'demo-health-card', startsAt: slot2.startsAt, name: 'Other', email: 'other@example.org', language: 'en', channel: 'online', clientId: await createTestClient(t.db) });
    const page = await t.app.inject({ url: '/fr/mon-dossier/rendez-vous', headers: { cookie } });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(page.body, /Mes rendez-vous/);
    assert.match(page.body, new RegExp(`id="upcoming-appointments"[\\s\\S]*href="/fr/rendez-vous/${mine.reference}"`));
    assert.doesNotMatch(page.body, new RegExp(other.reference));
    const en = await t.app.inject({ url: '/en/my-file/appointments', headers: { cookie } });
    assert.match(en.body, /Coming up/);
    // My file links to it instead of "Coming soon"
    const file = await t.app.inject({ url: '/en/my-file', headers: { cookie } });
    assert.match(file.body, /href="\/en\/my-file\/appointments">My appointments/);
    assert.doesNotMatch(file.body, /Coming soon/);
    // signed out: to sign-in, and back here after
    const out = await t.app.inject({ url: '/en/my-file/appointments' });
    assert.equal(out.statusCode, 303);
    assert.equal(out.headers.location, '/en/sign-in?returnTo=%2Fen%2Fmy-file%2Fappointments');
    await cancel(t.db, mine.reference);
    const after = await t.app.inject({ url: '/en/my-file/appointments', headers: { cookie } });
    assert.match(after.body, /id="no-upcoming"/);
    assert.match(after.body, new RegExp(`id="past-appointments"[\\s\\S]*${mine.reference}`));
  });

  it('gives the ticket and the board the same estimate (one function), names every service of a visit, and no minutes without an open counter', async () => {
    const office = 'ottawa-ben-franklin';
    // no counter open: the position, no minutes, on the ticket and on the board alike
    const open = await t.db.selectFrom('counters').select('id').where('office_id', '=', office).where('agent_id', 'is not', null).execute();
    const tk0 = await createTicket(t.db, office, { services: ['demo-health-card'], language: 'en', channel: 'api' });
    let two: Awaited<ReturnType<typeof createTicket>> | undefined;
    try {
    // the board's figure for a service is the estimate of the last ticket in line for it (by place in line)
    const lastInLine = async (serviceId: string) => t.db.selectFrom('tickets').selectAll().where('office_id', '=', office).where('status', '=', 'waiting')
      .where('service_id', '=', serviceId).orderBy('queued_at', 'desc').limit(1).executeTakeFirstOrThrow();
    const e0 = await estimateFor(t.db, await lastInLine('demo-health-card'));
    const b0 = await boardState(t.db, office);
    const row0 = b0.services.find((s) => s.serviceId === 'demo-health-card')!;
    assert.ok(e0 && row0);
    if (!open.length) {
      assert.equal(e0.waitMinutes, null);
      assert.equal(row0.estimatedWaitMin, null);
    }
    assert.equal(row0.estimatedWaitMin, e0.waitMinutes, 'board and ticket agree for the last ticket in line');
    // with a counter open (the city agent serves the health card), and a ticket for two services
    await api(city, 'POST', `/api/v1/offices/${office}/counters/${counters['3']}/open`);
    two = await createTicket(t.db, office, { services: ['demo-health-card', 'demo-dog-licence'], language: 'en', channel: 'kiosk' });
    // no wait: the estimate's open counters are kept 10–15 s per office, but a counter opened by this process is
    // seen at once (forgetOpenCounters; tested on an office of its own in the next test)
    const e1 = await estimateFor(t.db, await lastInLine('demo-health-card'));
    const b1 = await boardState(t.db, office);
    const health = b1.services.find((s) => s.serviceId === 'demo-health-card')!;
    assert.ok(e1 && typeof e1.waitMinutes === 'number', JSON.stringify(e1));
    assert.equal(health.estimatedWaitMin, e1.waitMinutes, 'the same ticket: the same minutes on the ticket and on the board');
    assert.ok(health.waiting >= 2);
    const dog = b1.services.find((s) => s.serviceId === 'demo-dog-licence');
    assert.ok(dog && dog.later >= 1, 'the second service of the visit is on the board too');
    // the API answers the same estimate as the ticket page
    const viaApi = await api(agent, 'GET', `/api/v1/offices/${office}/tickets/${two.id}`);
    assert.deepEqual(viaApi.json().estimate, await estimateFor(t.db, two));
    // called: the board names both services
    const called = await api(city, 'POST', `/api/v1/offices/${office}/counters/${counters['3']}/call-next`);
    assert.equal(called.statusCode, 200, called.body);
    const b2 = await boardState(t.db, office);
    const twoCalled = b2.called.find((c) => c.number === two!.number);
    if (twoCalled) assert.deepEqual(twoCalled.services.map((s) => s.serviceId), ['demo-health-card', 'demo-dog-licence']);
    } finally {
      // tidy: the city counter closed, this test's tickets out of the line
      for (const id of [tk0.id, two?.id].filter(Boolean) as string[]) await t.db.updateTable('tickets').set({ status: 'abandoned', counter_id: null }).where('id', '=', id).execute();
      await api(city, 'POST', `/api/v1/offices/${office}/counters/${counters['3']}/close`);
    }
  });

  it('sees a counter this process opens or closes at once in the next estimate (the open counters are otherwise kept 10–15 s)', async () => {
    // an office of its own, with no counter open: no minutes are promised
    const tpl = await t.db.selectFrom('offices').selectAll().where('id', '=', 'ottawa-ben-franklin').executeTakeFirstOrThrow();
    const office = 'estimate-forget-office';
    await t.db.insertInto('offices').values({ ...tpl, id: office, name_en: 'Estimate office', name_fr: 'Bureau d’estimation', created_at: undefined as any }).execute();
    await t.db.insertInto('office_services').values({ office_id: office, service_id: 'demo-health-card' }).execute();
    await t.db.insertInto('office_organisations').values({ office_id: office, org_id: 'guichet' }).execute();
    await t.db.insertInto('staff_users').values({ id: 'estimate-agent', email: 'estimate-agent@guichet.example', name: 'Estimate agent', org_id: 'guichet', roles: ['agent'], oidc_subject: null }).execute();
    await t.db.insertInto('agent_profiles').values({ staff_id: 'estimate-agent', skills: [], languages: ['en', 'fr'] }).execute();
    const first = await addCounter(t.db, office, { label: '1', orgId: null });
    const waiting = await createTicket(t.db, office, { services: ['demo-health-card'], language: 'en', channel: 'api' });
    const minutes = async () => (await estimateFor(t.db, waiting))!.waitMinutes;
    assert.equal(await minutes(), null, 'no open counter: no minutes (and the open counters are now kept by this process)');
    await openCounter(t.db, office, first.id, 'estimate-agent');
    assert.equal(typeof (await minutes()), 'number', 'the counter just opened is seen without waiting for the copy to expire');
    await closeCounter(t.db, office, first.id, 'estimate-agent');
    assert.equal(await minutes(), null, 'and its closing too');
    await t.db.updateTable('tickets').set({ status: 'abandoned' }).where('id', '=', waiting.id).execute();
  });

  it('tells whether the office takes walk-ins now: hours (exceptions first) and counters', async () => {
    const office = 'ottawa-ben-franklin';
    const hours = await t.db.selectFrom('office_hours').selectAll().where('office_id', '=', office).execute();
    assert.ok(hours.length);
    const tz = (await t.db.selectFrom('offices').select('timezone').where('id', '=', office).executeTakeFirstOrThrow()).timezone;
    // a weekday with hours 08:30–17:00 style: 22:45 local is closed, mid-opening is open
    const h = hours[0];
    const { zonedTime } = await import('./time');
    // the next date with that weekday, without an exception
    let date = '';
    for (let d = 2; d < 10 && !date; d++) {
      const day = new Date(Date.now() + d * 86400_000);
      const p = (await import('./time')).localParts(day, tz);
      if (p.weekday === h.weekday) date = p.date;
    }
    const late = await walkInStatus(t.db, office, tz, zonedTime(date, '22:45', tz));
    assert.equal(late.open, false);
    assert.equal(late.reason, 'hours');
    const mid = Math.floor((Number(h.opens.slice(0, 2)) + Number(h.closes.slice(0, 2))) / 2);
    const during = await walkInStatus(t.db, office, tz, zonedTime(date, `${String(mid).padStart(2, '0')}:00`, tz));
    assert.equal(during.open, true, JSON.stringify(during));
    // an office without any counter gives no ticket even within its hours
    const other = await t.db.selectFrom('offices').select(['id', 'timezone']).where('id', '!=', office)
      .where('id', 'not in', t.db.selectFrom('counters').select('office_id')).executeTakeFirst();
    if (other) {
      await openAllDay(t.db, other.id);
      const none = await walkInStatus(t.db, other.id, other.timezone);
      assert.equal(none.open, false);
      assert.equal(none.reason, 'noCounters');
    }
  });

  it('streams the display board as server-sent events and serves the pages in both languages', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.server.address() as { port: number }).port;
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/offices/${OFFICE}/board/events`, { signal: ac.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    let buf = '';
    const readUntil = async (re: RegExp) => {
      const end = Date.now() + 5000;
      while (!re.test(buf)) {
        if (Date.now() > end) throw new Error(`no match for ${re} in ${buf.slice(-500)}`);
        const { value } = await reader.read();
        buf += new TextDecoder().decode(value);
      }
    };
    await readUntil(/event: board/);
    const tk = (await api(agent, 'POST', `/api/v1/offices/${OFFICE}/tickets`, { services: ['demo-outdoors-card'], language: 'en' })).json();
    await api(agent, 'POST', `/api/v1/offices/${OFFICE}/counters/${counters['1']}/call-next`);
    await readUntil(new RegExp(`"number":"${tk.number}","counter":"1"`));
    ac.abort();

    const board = await t.app.inject({ url: `/fr/bureaux/${OFFICE}/tableau` });
    assert.equal(board.statusCode, 200);
    assert.match(board.body, /aria-live="assertive"/);
    assert.match(board.body, /http-equiv="refresh"/);
    assert.match(board.body, new RegExp(tk.number));
    for (const url of [`/en/staff/offices/${OFFICE}/reception`, `/fr/personnel/bureaux/${OFFICE}/comptoir`, `/en/staff/offices/${OFFICE}/waits`, `/fr/personnel/bureaux/${OFFICE}/effectifs?arrivals=20,40&meanServiceMin=6`, `/en/staff/counters`]) {
      const r = await t.app.inject({ url, headers: { cookie: agent } });
      assert.equal(r.statusCode, 200, `${url}: ${r.body.slice(0, 300)}`);
    }
    const staffing = await t.app.inject({ url: `/en/staff/offices/${OFFICE}/staffing?arrivals=40&meanServiceMin=6&share=80&withinMin=15`, headers: { cookie: agent } });
    assert.match(staffing.body, /<td class="govuk-table__cell govuk-table__cell--numeric">5<\/td>/);
    const badStaffing = await t.app.inject({ url: `/en/staff/offices/${OFFICE}/staffing?arrivals=abc`, headers: { cookie: agent } });
    assert.equal(badStaffing.statusCode, 400);
    const apiStaffing = await api(null, 'GET', '/api/v1/counters/staffing?arrivals=40,80&meanServiceMin=6');
    const needed = apiStaffing.json().hours.map((h: { counters: number }) => h.counters);
    assert.equal(needed[0], 5);
    assert.ok(needed[1] > needed[0] && needed[1] <= 10, String(needed));

    // kiosk without JavaScript: form post with CSRF, redirect to the ticket page
    await openAllDay(t.db, OFFICE); // the kiosk gives tickets within opening hours only; tests run at any hour
    const kiosk = await t.app.inject({ url: `/en/offices/${OFFICE}/kiosk` });
    assert.doesNotMatch(kiosk.body, /guichet-nav|\/en\/sign-in/, 'the kiosk shows only itself: no site menu, no sign-in link');
    const csrf = kiosk.cookies.find((c) => c.name === 'guichet_csrf')!.value;
    const bad = await t.app.inject({ method: 'POST', url: `/en/offices/${OFFICE}/kiosk`, payload: { _csrf: csrf, language: 'en' }, headers: { cookie: `guichet_csrf=${csrf}`, accept: 'text/html' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /govuk-error-summary/);
    // a sentence the person can read, on the form (summary and beside the services), not "Services: Enter this information."
    assert.match(bad.body, /<a href="#f-services">Choose at least one service\.<\/a>/);
    assert.match(bad.body, /id="services-error"/);
    assert.doesNotMatch(bad.body, /Enter this information/);
    const post = await t.app.inject({ method: 'POST', url: `/fr/bureaux/${OFFICE}/borne`, payload: `_csrf=${csrf}&language=fr&services=demo-health-card&services=demo-dog-licence`, headers: { cookie: `guichet_csrf=${csrf}`, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(post.statusCode, 303);
    const page = await t.app.inject({ url: post.headers.location as string });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Attente estimée|Aucun comptoir n’est encore ouvert/);
    // a ticket for two services names both
    const services = /id="ticket-services">([^<]*)<br>([^<]*)<\/div>/.exec(page.body);
    assert.ok(services, page.body.slice(0, 2000));
    const titles = (await t.db.selectFrom('services').select(['id', 'title_fr']).where('id', 'in', ['demo-health-card', 'demo-dog-licence']).execute()).map((r) => r.title_fr);
    for (const title of titles) assert.ok(services.slice(1).some((x) => x.includes(title.replace(/’/g, '&#39;')) || x.includes(title)), `${title} on the ticket: ${services[0]}`);

    // outside the opening hours: the kiosk says it is closed, in both languages, and gives no ticket
    await t.db.updateTable('office_hours_exceptions').set({ closed: true, opens: null, closes: null }).where('office_id', '=', OFFICE).execute();
    const closedEn = await t.app.inject({ url: `/en/offices/${OFFICE}/kiosk` });
    assert.match(closedEn.body, /No tickets now/);
    assert.match(closedEn.body, /closed today/);
    assert.doesNotMatch(closedEn.body, /take-ticket/);
    const closedFr = await t.app.inject({ url: `/fr/bureaux/${OFFICE}/borne` });
    assert.match(closedFr.body, /Pas de billets maintenant/);
    const before = await t.db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).where('office_id', '=', OFFICE).executeTakeFirstOrThrow();
    const refused = await t.app.inject({ method: 'POST', url: `/en/offices/${OFFICE}/kiosk`, payload: `_csrf=${csrf}&language=en&services=demo-health-card`, headers: { cookie: `guichet_csrf=${csrf}`, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(refused.statusCode, 409);
    assert.match(refused.body, /No tickets now/);
    const afterCount = await t.db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).where('office_id', '=', OFFICE).executeTakeFirstOrThrow();
    assert.equal(Number(afterCount.n), Number(before.n));
    await openAllDay(t.db, OFFICE);
    const noCsrf = await t.app.inject({ method: 'POST', url: `/en/offices/${OFFICE}/kiosk`, payload: { language: 'en', services: 'demo-health-card' } });
    assert.equal(noCsrf.statusCode, 403);
  });
});
