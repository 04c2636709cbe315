/**
 * Agents waiting for a client without polling (issue 20, src/counters/waiters.ts): a held call-next is woken by a new
 * ticket it may serve and not by another service's; a ticket created on one server process wakes an agent held on
 * another (PostgreSQL); a ticket whose notification was lost is found by the safety sweep; a lost listening
 * connection wakes the waiting agents to look again (PostgreSQL); the counter page waits with JavaScript and keeps
 * its button without.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from '../../test/support/app';
import { DEMO_OFFICE } from './demo';
import { QueueWaiters } from './waiters';

const OFFICE = DEMO_OFFICE;
const here = path.dirname(fileURLToPath(import.meta.url));

describe('counters: waiting agents are woken, not polling', () => {
  let t: TestApp;
  const agents: Record<string, { cookie: string; counter: string }> = {};

  const call = (who: string, query = '') =>
    t.app.inject({ method: 'POST', url: `/api/v1/offices/${OFFICE}/counters/${agents[who].counter}/call-next${query}`, headers: { cookie: agents[who].cookie, 'x-csrf-token': csrfFrom(agents[who].cookie) } });
  const ticket = async (service: string) => {
    const r = await t.app.inject({ method: 'POST', url: `/api/v1/offices/${OFFICE}/tickets`, payload: { services: [service], language: 'en' }, headers: { cookie: agents.dog.cookie, 'x-csrf-token': csrfFrom(agents.dog.cookie) } });
    assert.equal(r.statusCode, 201, r.body);
    return r.json().id as string;
  };
  /** whether the promise settles within ms */
  const settles = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  const waitingIds = async () => (await t.db.selectFrom('tickets').select('id').where('status', '=', 'waiting').execute()).map((r) => r.id);
  /** serve every waiting ticket (each test starts with an empty queue) */
  const drain = async () => {
    for (const id of await waitingIds()) await t.db.updateTable('tickets').set({ status: 'abandoned', abandoned_at: new Date() }).where('id', '=', id).execute();
  };

  before(async () => {
    t = await createTestApp({ catalogue: true }); // safety sweeps every 30 s: the tests below see notifications only
    // three agents: one trained for dog licences, one for passports (gc-1292), one for both
    for (const [who, skills] of [['dog', ['demo-dog-licence']], ['passport', ['gc-1292']], ['both', ['demo-dog-licence', 'gc-1292']]] as const) {
      const id = `staff-wait-${who}`;
      await t.db.insertInto('staff_users').values({ id, email: `${id}@guichet.example`, name: id, org_id: 'guichet', roles: ['agent'], oidc_subject: null }).execute();
      await t.db.insertInto('agent_profiles').values({ staff_id: id, skills: [...skills], languages: ['en', 'fr'] }).execute();
      const [c] = await t.db.insertInto('counters').values({ office_id: OFFICE, label: `W-${who}`, org_id: null, agent_id: id, opened_at: new Date() }).returning('id').execute();
      agents[who] = { cookie: await staffCookie(t.app, id), counter: c.id };
    }
  });
  after(async () => {
    await t?.close();
  });

  it('holds an agent with nobody to call, wakes it for a ticket of its skill and not for another', async () => {
    await drain();
    const dog = call('dog', '?wait=10');
    assert.equal(await settles(dog, 300), false, 'held while nobody waits');
    const passport = call('passport', '?wait=10');
    await new Promise((r) => setTimeout(r, 100));
    await ticket('gc-1292');
    assert.equal((await passport).json().woken, true, 'the passport agent is woken');
    assert.equal(await settles(dog, 600), false, 'the dog-licence agent is not woken by a passport ticket');
    const id = await ticket('demo-dog-licence');
    const answer = await dog;
    assert.deepEqual(answer.json(), { ticket: null, woken: true });
    assert.match(String(answer.headers['server-timing']), /hold;dur=/);
    const got = await call('dog');
    assert.equal(got.json().ticket.id, id, 'the woken agent calls the new ticket');
    await t.app.inject({ method: 'POST', url: `/api/v1/offices/${OFFICE}/tickets/${id}/complete`, payload: {}, headers: { cookie: agents.dog.cookie, 'x-csrf-token': csrfFrom(agents.dog.cookie) } });
  });

  it('wakes ONE waiting agent per ticket, the one waiting longest, and answers at once when someone waits', async () => {
    await drain();
    const first = call('both', '?wait=10');
    await new Promise((r) => setTimeout(r, 100));
    const second = call('dog', '?wait=2');
    await new Promise((r) => setTimeout(r, 100));
    await ticket('demo-dog-licence');
    assert.equal((await first).json().woken, true);
    assert.equal(await settles(second, 150), false, 'one ticket wakes one agent');
    // someone is waiting: call-next with wait answers at once with the ticket
    const now = await call('both', '?wait=10');
    assert.ok(now.json().ticket, now.body);
    await drain();
    // the second agent's wait ends: no ticket, and a cursor
    const ended = await call('passport', '?wait=1');
    assert.equal(ended.json().woken, false);
    assert.ok(ended.json().cursor);
    await t.db.updateTable('tickets').set({ status: 'done' }).where('status', 'in', ['called', 'serving']).execute();
    await second.then(() => {}, () => {});
  });

  it('skips the queue read when a long poll comes back with a cursor and nothing changed', async () => {
    await drain();
    const first = await call('dog', '?wait=1');
    assert.equal(first.json().woken, false);
    assert.match(String(first.headers['server-timing']), /read;dur=.*hold;dur=/);
    const again = await call('dog', `?wait=1&cursor=${encodeURIComponent(first.json().cursor)}`);
    assert.equal(again.json().woken, false);
    assert.doesNotMatch(String(again.headers['server-timing']), /read;/, 'no queue read');
    // a ticket it may serve announced since the cursor: the cursor is refused and the queue read
    await ticket('demo-dog-licence');
    // (the notification may reach this process a moment after the commit: then the held answer is woken at once)
    let third = await call('dog', `?wait=5&cursor=${encodeURIComponent(again.json().cursor)}`);
    if (third.json().woken) third = await call('dog');
    assert.ok(third.json().ticket, third.body);
    await t.db.updateTable('tickets').set({ status: 'done' }).where('status', 'in', ['called', 'serving']).execute();
    // a cursor of another process (or garbage) is refused: the queue is read
    const other = await call('dog', '?wait=1&cursor=ffffffff.0.1');
    assert.match(String(other.headers['server-timing']), /read;dur=/);
  });

  it('finds a ticket whose notification was lost with the safety sweep', async () => {
    await drain();
    // a process's waiters with a sweep every 200 ms (the app's own sweeps every 30 s)
    const waiters = new QueueWaiters(t.db, 200);
    waiters.start();
    try {
      const dog = { counterId: agents.dog.counter, counterOrgId: null, agentOrgIds: ['guichet'], skills: ['demo-dog-licence'], languages: ['en', 'fr'] };
      const held = waiters.wait(OFFICE, dog, 'separate', 10_000);
      // a waiting ticket written without NOTIFY (as if the notification were lost)
      await sql`
        insert into tickets (office_id, day, seq, number, service_id, org_id, language, priority, status, queued_at, waiting_since, arrived_at, channel)
        select ${OFFICE}, current_date, 9000 + (select count(*) from tickets), 'Z900', 'demo-dog-licence', owner_org_id, 'en', 'none', 'waiting', now(), now(), now(), 'api'
        from services where id = 'demo-dog-licence'`.execute(t.db);
      const t0 = Date.now();
      assert.equal(await held, 'ticket');
      assert.ok(Date.now() - t0 < 1000, 'within a sweep or two');
      // and a waiter for another service is not woken by it
      const passport = waiters.wait(OFFICE, { ...dog, counterId: agents.passport.counter, skills: ['gc-1292'] }, 'separate', 700);
      assert.equal(await passport, 'timeout');
    } finally {
      waiters.close();
    }
    assert.ok((await call('dog')).json().ticket, 'the agent then calls it');
    await t.db.updateTable('tickets').set({ status: 'done' }).where('status', 'in', ['called', 'serving']).execute();
  });

  it('the counter page waits for the next client with JavaScript and keeps its button without', async () => {
    await drain();
    const cookie = agents.dog.cookie;
    const page = await t.app.inject({ method: 'POST', url: `/en/staff/offices/${OFFICE}/counter`, payload: { _csrf: csrfFrom(cookie), action: 'call' }, headers: { cookie } });
    assert.equal(page.statusCode, 200, page.body.slice(0, 500));
    assert.match(page.body, /Nobody is waiting for the services you provide/);
    assert.match(page.body, /id="call-next"/, 'the button stays (no JavaScript)');
    assert.match(page.body, new RegExp(`id="counter-waiting" data-url="/api/v1/offices/${OFFICE}/counters/${agents.dog.counter}/call-next"`));
    assert.match(page.body, /\?wait=55/);
    const fr = await t.app.inject({ method: 'POST', url: `/fr/personnel/bureaux/${OFFICE}/comptoir`, payload: { _csrf: csrfFrom(cookie), action: 'call' }, headers: { cookie } });
    assert.match(fr.body, /le prochain client qui a besoin de vos services sera appelé/);
  });

  it('a ticket created on one server process wakes an agent held on another; a lost listening connection makes waiting agents look again (PostgreSQL)', async (ctx) => {
    if (t.database.kind !== 'postgres') return ctx.skip('two processes need PostgreSQL');
    await drain();
    const child: ChildProcess = fork(path.join(here, '../../test/support/counters-server.ts'), [], { env: { ...process.env, QUEUE_DB: t.database.url! }, execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.once('message', (m: { port: number }) => resolve(m.port));
        child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
      });
      const remote = (who: string, query: string) =>
        fetch(`http://127.0.0.1:${port}/api/v1/offices/${OFFICE}/counters/${agents[who].counter}/call-next${query}`, { method: 'POST', headers: { cookie: agents[who].cookie, 'x-csrf-token': csrfFrom(agents[who].cookie) } }).then(async (r) => ({ status: r.status, body: await r.json() }));
      const held = remote('dog', '?wait=20');
      await new Promise((r) => setTimeout(r, 500));
      const t0 = Date.now();
      await ticket('demo-dog-licence'); // on this process
      const woken = await held;
      assert.equal(woken.status, 200);
      assert.equal(woken.body.woken, true);
      assert.ok(Date.now() - t0 < 5000, `woken by the notification, not the 30 s sweep (${Date.now() - t0} ms)`);
      await drain();
      // the listening connections are cut (as by a PostgreSQL restart): once back, every waiting agent looks again
      const held2 = call('dog', '?wait=20');
      await new Promise((r) => setTimeout(r, 200));
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query = 'listen counters_queue'`.execute(t.db);
      const answer = await held2;
      assert.equal(answer.json().woken, true, 'woken after the gap');
    } finally {
      child.send('stop');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

describe('QueueWaiters', () => {
  it('ignores malformed payloads, wakes by eligibility, and answers everyone on close', async () => {
    const w = new QueueWaiters();
    const counter = { counterId: 'c1', counterOrgId: null, agentOrgIds: ['guichet'], skills: ['s1'], languages: ['en'] };
    const p = w.wait('o1', counter, 'pooled', 5000);
    w.notify('not json');
    const from = (...items: unknown[]) => JSON.stringify({ i: 'another-process', t: items });
    w.notify(from(['o1', 's2', 'guichet', 'en', null])); // another service
    w.notify(from(['o1', 's1', 'guichet', 'fr', null])); // a language the agent does not speak
    w.notify(from(['o2', 's1', 'guichet', 'en', null])); // another office
    w.notify(from(['o1', 's1', 'guichet', 'en', 'c2'])); // sent to another counter
    w.notify(JSON.stringify({ i: w.instance, t: [['o1', 's1', 'guichet', 'en', null]] })); // its own (announced already)
    assert.equal(w.size(), 1);
    w.notify(from(['o1', 's1', 'guichet', 'en', 'c1']));
    assert.equal(await p, 'ticket');
    const q = w.wait('o1', counter, 'pooled', 5000);
    w.close();
    assert.equal(await q, 'closed');
  });

  it("lets an agent who leaves go: the answer's connection closing ends the hold and frees its place", async () => {
    const w = new QueueWaiters();
    const counter = { counterId: 'c1', counterOrgId: null, agentOrgIds: ['guichet'], skills: ['s1'], languages: ['en'] };
    const connection = new EventEmitter();
    const left = w.wait('o1', counter, 'pooled', 5000, connection);
    const stays = w.wait('o1', { ...counter, counterId: 'c2' }, 'pooled', 5000, new EventEmitter());
    assert.equal(w.size(), 2);
    connection.emit('close');
    assert.equal(await left, 'aborted');
    assert.equal(w.size(), 1);
    assert.equal(connection.listenerCount('close'), 0, 'nothing left listening on the connection');
    // the next ticket goes to the agent still there
    w.notify(JSON.stringify({ i: 'another-process', t: [['o1', 's1', 'guichet', 'en', null]] }));
    assert.equal(await stays, 'ticket');
    w.close();
  });
});
