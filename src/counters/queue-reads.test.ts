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
import { CREATED_COLUMNS, MEAN_SERVICE_SAMPLE, boardCalledRead, callNext, callingCounter, createTicket, meanServiceMinutes, openCounter, waitingRead } from './queue';
import { isEligible, poolingFor } from './routing';

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

test("call next, usual case: the statement's eligibility (ELIGIBLE_SQL) is routing.isEligible's, counter by counter", async () => {
  // The usual statement writes the routing rule again in SQL; this checks the two agree on every kind of counter:
  // shared or owned, the agent's own organisation or a loan, skills or none, languages given, empty or unset, and
  // pooled or separate offices. For each, the tickets call-next claims one after another must be exactly those
  // isEligible accepts, in arrival order.
  const services = (await sql<{ id: string; owner_org_id: string }>`
    select id, owner_org_id from services where id in ('demo-health-card', 'demo-driver-licence', 'demo-dog-licence', 'gc-1292') order by id`.execute(d.db)).rows;
  assert.ok(services.length >= 3, 'demo services');
  const orgs = [...new Set(services.map((s) => s.owner_org_id))];
  const agentOrg = (await sql<{ org_id: string }>`select org_id from staff_users where id = 'staff-agent'`.execute(d.db)).rows[0].org_id;
  const office = (await sql<{ collaboration_model: string }>`select collaboration_model from offices where id = ${DEMO_OFFICE}`.execute(d.db)).rows[0];
  const counterId = (await sql<{ id: string }>`insert into counters (office_id, label, org_id) values (${DEMO_OFFICE}, 'EQ1', null) returning id`.execute(d.db)).rows[0].id;
  await openCounter(d.db, DEMO_OFFICE, counterId, 'staff-agent');
  const configs: Array<{ model: string; counterOrg: string | null; loan: string | null; skills: string[]; languages: string[] | null }> = [
    { model: 'side_by_side', counterOrg: null, loan: null, skills: [], languages: null },
    { model: 'side_by_side', counterOrg: orgs[0], loan: null, skills: [], languages: ['en', 'fr'] },
    { model: 'side_by_side', counterOrg: orgs[0], loan: orgs[1] ?? orgs[0], skills: [], languages: ['fr'] },
    { model: 'side_by_side', counterOrg: null, loan: null, skills: [services[0].id, services[2].id], languages: [] },
    { model: 'one_office_one_counter', counterOrg: orgs[0], loan: null, skills: [services[1].id], languages: ['en'] },
  ];
  try {
    for (const [k, cfg] of configs.entries()) {
      await sql`update tickets set status = 'done' where office_id = ${DEMO_OFFICE} and status in ('waiting', 'called', 'serving')`.execute(d.db);
      await sql`update offices set collaboration_model = ${cfg.model} where id = ${DEMO_OFFICE}`.execute(d.db);
      await sql`update counters set org_id = ${cfg.counterOrg} where id = ${counterId}`.execute(d.db);
      await sql`delete from agent_loans where staff_id = 'staff-agent' and office_id = ${DEMO_OFFICE}`.execute(d.db);
      if (cfg.loan) await sql`insert into agent_loans (staff_id, office_id, lent_to_org_id) values ('staff-agent', ${DEMO_OFFICE}, ${cfg.loan})`.execute(d.db);
      await sql`delete from agent_profiles where staff_id = 'staff-agent'`.execute(d.db);
      if (cfg.languages) await sql`insert into agent_profiles (staff_id, skills, languages) values ('staff-agent', ${cfg.skills}, ${cfg.languages})`.execute(d.db);
      else if (cfg.skills.length) await sql`insert into agent_profiles (staff_id, skills) values ('staff-agent', ${cfg.skills})`.execute(d.db);
      // every service in both languages, oldest first
      const made = (await sql<{ id: string; service_id: string; org_id: string; language: string; queued_at: Date }>`
        insert into tickets (office_id, day, seq, number, service_id, org_id, language, priority, status, queued_at, waiting_since, arrived_at, channel)
        select ${DEMO_OFFICE}, current_date, ${6000 + k * 100}::int + row_number() over (), 'E' || (${k * 100}::int + row_number() over ()),
               s.id, s.owner_org_id, l, 'none', 'waiting', now() - make_interval(mins => 100 - (row_number() over ())::int), now(), now(), 'kiosk'
        from services s, unnest(array['en', 'fr']) l where s.id = any(${services.map((s) => s.id)}::text[])
        returning id, service_id, org_id, language, queued_at`.execute(d.db)).rows;
      const languages = cfg.languages ?? (cfg.skills.length ? ['en', 'fr'] : null);
      const calling = callingCounter({ id: counterId, org_id: cfg.counterOrg, agent_org: agentOrg, skills: cfg.skills, languages, lent_to_org_id: cfg.loan });
      const expected = made
        .sort((a, b) => a.queued_at.getTime() - b.queued_at.getTime())
        .filter((t) => isEligible({ id: t.id, serviceId: t.service_id, orgId: t.org_id, language: t.language, priority: 'none', queuedAt: t.queued_at.getTime() }, calling, poolingFor(cfg.model)))
        .map((t) => t.id);
      const claimed: string[] = [];
      for (;;) {
        const r = await callNext(d.db, DEMO_OFFICE, counterId, 'staff-agent');
        if (!r.ticket) break;
        claimed.push(r.ticket.id);
        await sql`update tickets set status = 'done' where id = ${r.ticket.id}`.execute(d.db);
      }
      assert.deepEqual(claimed, expected, `counter ${JSON.stringify(cfg)}`);
      assert.ok(expected.length > 0 && expected.length < made.length || k === 0, `configuration ${k} tells something (${expected.length} of ${made.length})`);
    }
  } finally {
    await sql`update offices set collaboration_model = ${office.collaboration_model} where id = ${DEMO_OFFICE}`.execute(d.db);
    await sql`delete from agent_loans where staff_id = 'staff-agent' and office_id = ${DEMO_OFFICE}`.execute(d.db);
    await sql`update tickets set status = 'done' where office_id = ${DEMO_OFFICE} and status in ('waiting', 'called', 'serving')`.execute(d.db);
  }
});

test('tickets and visits get time-ordered ids (UUID v7), and the waiting line is indexed in call order', async () => {
  const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    ids.push((await createTicket(d.db, DEMO_OFFICE, { services: ['demo-health-card'], language: 'en', channel: 'kiosk' })).id);
    await new Promise((r) => setTimeout(r, 3));
  }
  for (const id of ids) {
    assert.match(id, v7);
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16); // the first 48 bits: Unix time in milliseconds
    assert.ok(Math.abs(ms - Date.now()) < 60_000, `${id}: made about now`);
  }
  assert.deepEqual([...ids].sort(), ids, 'later tickets sort after earlier ones');
  const defaults = await sql<{ table_name: string; column_default: string }>`
    select table_name, column_default from information_schema.columns where column_name = 'id' and table_name in ('tickets', 'ticket_visits') order by 1`.execute(d.db);
  assert.deepEqual(defaults.rows.map((r) => [r.table_name, r.column_default]), [['ticket_visits', 'uuid_time_ordered()'], ['tickets', 'uuid_time_ordered()']]);
  const many = await sql<{ id: string }>`select uuid_time_ordered()::text as id from generate_series(1, 2000)`.execute(d.db);
  assert.equal(new Set(many.rows.map((r) => r.id)).size, 2000, 'no two alike');
  assert.ok(many.rows.every((r) => v7.test(r.id)));
  await sql`update tickets set status = 'done' where id = any(${ids}::uuid[])`.execute(d.db);

  // call-next's shapes read the indexes in order: no sort of the line, and the "anything special waiting?" check
  // reads the partial index of waiting tickets with a priority or a target counter (migration 007)
  const plan = async (q: ReturnType<typeof sql>) =>
    d.db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      return (await sql<Record<string, string>>`explain (costs off) ${q}`.execute(trx)).rows.map((r) => Object.values(r)[0]).join('\n');
    });
  const pick = await plan(sql`select id from tickets where office_id = ${sql.lit(DEMO_OFFICE)} and status = 'waiting' order by queued_at, id limit 1 for update skip locked`);
  assert.match(pick, /tickets_waiting\b/);
  assert.doesNotMatch(pick, /Sort/);
  const special = await plan(sql`select exists (select 1 from tickets s where s.office_id = ${sql.lit(DEMO_OFFICE)} and s.status = 'waiting' and (s.priority <> 'none' or s.target_counter_id is not null))`);
  assert.match(special, /tickets_waiting_special/);
});

test('the line read (ticket page, board) uses the waiting line’s index in a generic plan', async () => {
  // a prepared statement (src/db/database.ts): after five executions PostgreSQL may keep a generic plan, in
  // which the bound office is unknown; a partial index (… where status = 'waiting') serves that plan only if the
  // statement says 'waiting' itself rather than binding it
  const reads = [
    ['waitingRead', waitingRead.bind(d.db, 'default', { officeId: DEMO_OFFICE }), /tickets_waiting\b/],
  ] as const;
  // the board's tickets at counters: statuses as literals too (which index serves it depends on the table's size)
  assert.deepEqual(boardCalledRead.bind(d.db, 'default', { officeId: DEMO_OFFICE, day: '2026-12-03' }).parameters, [DEMO_OFFICE, DEMO_OFFICE, '2026-12-03', 8]);
  for (const [name, q, index] of reads) {
    assert.ok(!q.parameters.some((v) => ['waiting', 'called', 'serving'].includes(v as string)), `${name}: the status is not bound`);
    const plan = await d.db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      await sql`set local plan_cache_mode = force_generic_plan`.execute(trx);
      await sql.raw(`prepare guichet_plan_test as ${q.sql}`).execute(trx);
      try {
        return (await sql<Record<string, string>>`explain (costs off) execute guichet_plan_test(${sql.join(q.parameters.map((v) => sql.lit(v)))})`.execute(trx)).rows.map((r) => Object.values(r)[0]).join('\n');
      } finally {
        await sql`deallocate guichet_plan_test`.execute(trx);
      }
    });
    assert.match(plan, index, `${name}'s generic plan:\n${plan}`);
    assert.doesNotMatch(plan, /Sort/, `${name}'s generic plan:\n${plan}`);
  }
});

test('a create returns the columns its answer, estimate and waiters use, not the whole ticket (contact details stay in the table)', async () => {
  const t = await createTicket(d.db, DEMO_OFFICE, { services: ['demo-health-card'], language: 'en', email: 'camille@example.ca', phone: '613-555-0100', channel: 'kiosk' });
  try {
    assert.deepEqual(Object.keys(t).sort(), [...CREATED_COLUMNS].sort());
    assert.ok(!('email' in t) && !('phone' in t));
    assert.equal(t.status, 'waiting');
    assert.ok(t.queued_at instanceof Date);
  } finally {
    await sql`update tickets set status = 'done' where id = ${t.id}`.execute(d.db);
  }
});
