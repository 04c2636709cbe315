/**
 * What the queue's hot paths read (queue.ts): call-next's round trips (one read, then one claim), and the mean
 * service times that wait estimates use (per service, over the office's most recent served visits of the last
 * 30 days, at most MEAN_SERVICE_SAMPLE of them).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql, type KyselyPlugin } from 'kysely';
import { createTestDb, type TestDatabase } from '../../test/support/db';
import { DEMO_OFFICE } from './demo';
import { MEAN_SERVICE_SAMPLE, callNext, createTicket, meanServiceMinutes, openCounter } from './queue';

let d: TestDatabase;
before(async () => {
  d = await createTestDb({ catalogue: true });
});
after(async () => {
  await d?.cleanup();
});

/** `n` visits of one service at the demo office, the i-th queued `startMin + i` minutes ago. */
async function visits(service: string, n: number, startMin: number, seconds: number, outcome = 'served') {
  await sql`
    insert into ticket_visits (ticket_id, office_id, service_id, org_id, queued_at, done_at, outcome, service_seconds)
    select t.id, t.office_id, ${service}, t.org_id, now() - make_interval(mins => ${startMin}::int + i), now() - make_interval(mins => ${startMin}::int + i), ${outcome}, ${seconds}::float8
    from tickets t, generate_series(1, ${n}::int) as i where t.number = 'Z001'`.execute(d.db);
}

test('mean service minutes: per service, over the most recent served visits only', async () => {
  assert.equal(MEAN_SERVICE_SAMPLE, 1000);
  await sql`
    insert into tickets (office_id, day, seq, number, service_id, org_id, language, priority, status, queued_at, waiting_since, arrived_at, channel)
    select ${DEMO_OFFICE}, current_date, 999, 'Z001', id, owner_org_id, 'en', 'none', 'done', now(), now(), now(), 'kiosk'
    from services where id = 'demo-health-card'`.execute(d.db);
  await visits('demo-health-card', 600, 0, 120); // the 600 newest: 2 min each
  await visits('demo-health-card', 50, 0, 9999, 'no_show'); // not served: never counted
  await visits('demo-driver-licence', 400, 600, 600); // the next 400: 10 min each (1,000 served in all)
  await visits('demo-health-card', 300, 2000, 3000); // older than the newest 1,000: outside the sample
  await visits('demo-dog-licence', 10, 31 * 24 * 60, 60); // older than 30 days

  const means = await meanServiceMinutes(d.db, DEMO_OFFICE);
  // over all 30 days the health card would average (600 × 120 + 300 × 3000) / 900 s = 18 min
  assert.deepEqual(Object.fromEntries(means), { 'demo-health-card': 2, 'demo-driver-licence': 10 });
});

test('call next: one statement when nobody waits and in the usual case; with a priority waiting, the read and the claim', async () => {
  const counter = await sql<{ id: string }>`insert into counters (office_id, label, org_id) values (${DEMO_OFFICE}, 'RT1', null) returning id`.execute(d.db);
  const counterId = counter.rows[0].id;
  await openCounter(d.db, DEMO_OFFICE, counterId, 'staff-agent');
  await sql`update tickets set status = 'done' where office_id = ${DEMO_OFFICE} and status = 'waiting'`.execute(d.db);
  let statements = 0;
  // counted as executed (a query compiled once, src/db/compiled.ts, is built on its first call only)
  const counting: KyselyPlugin = { transformQuery: (a) => a.node, transformResult: async (a) => (statements++, a.result) };
  const db = d.db.withPlugin(counting);

  const none = await callNext(db, DEMO_OFFICE, counterId, 'staff-agent');
  assert.deepEqual([none.ticket, statements], [null, 1]);

  const t = await createTicket(d.db, DEMO_OFFICE, { services: ['demo-health-card'], language: 'en', channel: 'kiosk' });
  statements = 0;
  const called = await callNext(db, DEMO_OFFICE, counterId, 'staff-agent');
  assert.equal(called.ticket?.id, t.id);
  assert.equal(called.ticket?.status, 'called');
  assert.equal(statements, 1, 'the usual case (nothing special waits): one statement reads, claims and logs');
  await sql`update tickets set status = 'done' where id = ${t.id}`.execute(d.db);

  // an accessibility ticket behind a regular one: the policy's order is not arrival order, so the line is read and
  // ranked (the general path), and the accessibility ticket is called first
  const regular = await createTicket(d.db, DEMO_OFFICE, { services: ['demo-health-card'], language: 'en', channel: 'kiosk' });
  const access = await createTicket(d.db, DEMO_OFFICE, { services: ['demo-health-card'], language: 'en', accessibility: true, channel: 'kiosk' });
  statements = 0;
  const ranked = await callNext(db, DEMO_OFFICE, counterId, 'staff-agent');
  assert.equal(ranked.ticket?.id, access.id);
  assert.equal(statements, 3, 'the usual statement (which claims nothing), the read of the line, the claim');
  await sql`update tickets set status = 'done' where id = ${access.id}`.execute(d.db);
  statements = 0;
  assert.equal((await callNext(db, DEMO_OFFICE, counterId, 'staff-agent')).ticket?.id, regular.id);
  assert.equal(statements, 1);
});
