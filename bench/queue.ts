/**
 * npm run bench:queue
 *
 * 50 offices × 20 counters (shared counters, one agent each), one compressed day of 100,000 walk-in tickets driven
 * over HTTP on PostgreSQL (DATABASE_URL; required), open loop, as the day happens:
 *   - arrivals: each ticket is created (POST /tickets, the greeter's or kiosk's call) at its own time, following the
 *     hourly arrival profile of the shared-office scenario (busy hours denser), whatever the server's speed;
 *   - counters: each of the 1,000 agents calls the next client (POST /call-next: routing policy + SKIP LOCKED),
 *     serves them for a random service time (exponential, the same for every office, chosen so that the busiest hour
 *     keeps the counters 85 % busy), completes the ticket (POST /complete), and calls again; with nobody waiting,
 *     the agent looks again after one mean service time.
 * The day (8 opening hours) is compressed into BENCH_DAY_SECONDS (default 960 s: one hour in two minutes, 30× faster
 * than real time), so the server sees in two minutes the calls of one hour of a 1,000-counter network (60×, 480 s,
 * asks for more than the 2 cores of the reference machine give the servers, PostgreSQL and the load generator
 * together: the queue of requests then grows all day and the figure measures that backlog).
 * Then the same server's /healthz throughput with the same number of connections.
 * pooled_wait_gain: simulated mean wait with separate queues per organisation / with the pooled shared counter, on
 * the same arrivals (src/counters/scenarios/shared-office.json, production routing code).
 *
 * The servers run in child processes (BENCH_SERVERS, default 2: one per core, as production runs Node; both over
 * the same database, each office's calls going to one of them); the load generator runs here.
 *
 * The floor (issue 20): in the same invocation, the same day (the same arrivals, the same agents' behaviour) also runs
 * against a floor server: BENCH_SERVERS processes of Fastify with a pg pool of BENCH_POOL each, over the same
 * PostgreSQL database, tables and indexes, whose create is ONE INSERT into tickets, whose call-next is ONE
 * `UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`, and whose complete is one UPDATE: no
 * session, no routing, no events, no visits, no notification (its waiting agents are woken in memory by the creates
 * of their own process, which office affinity makes exact). call_next_p99_ms / floor_p99_ms is the ratio.
 * In turn, slice by slice (docs/decisions/0014): the day is cut into slices of BENCH_SLICE_SECONDS (120) of its time, and
 * each slice's arrivals run against the floor and then Guichet, or Guichet and then the floor (each first in half of
 * the slices), each until every ticket of the slice is served; a target's p99 is over all its slices. Both thus run
 * in the same minutes of the machine's weather, which a floor's whole day followed by Guichet's did not give (on one
 * commit the quarter day's ratio moved from 1.10 to 3.69 within an hour). Before each slice the target's agents sit
 * down (one call-next each, not measured, over 2 s): their sockets and sessions were idle for the other target's
 * slice. Each slice's line and each target's summary also give the machine's busy and stolen (steal: taken by the
 * hypervisor) shares of CPU, from /proc/stat (bench/support.ts, machineCpu). Both sets of server processes live all day;
 * each target's CPU while the other runs is printed (its background work). A night (VACUUM ANALYZE and a checkpoint,
 * as after the history) comes before the day. BENCH_SLICE_SECONDS=0: the old order, the floor's whole day, a night,
 * then Guichet's.
 *
 * Waiting agents (issue 20): an agent with nobody to call asks call-next with `?wait=BENCH_WAIT` (55 s): the server
 * holds the answer until a ticket comes (woken) or the wait ends (then the agent asks again with the answer's cursor,
 * which skips the queue read). call-next times are those of answers that read the queue, minus the time held
 * (Server-Timing `hold`). idle_polls: queue reads that found nobody made by an agent already told nobody was there
 * (after a wake-up that another counter beat, or a cursor refused), plus the servers' safety sweeps. BENCH_WAIT=0
 * gives the old behaviour (look again after one mean service time), where every such look counts.
 *
 * Environment: BENCH_TICKETS (100000), BENCH_OFFICES (50), BENCH_COUNTERS (20), BENCH_DAY_SECONDS (960), BENCH_SERVERS (2),
 * BENCH_CONNECTIONS (64, the HTTP keep-alive sockets of the load generator), BENCH_BASELINE_SECONDS (10), BENCH_POOL (6 connections per server process: docs/counters.md, fifth session),
 * BENCH_HISTORY_DAYS (10: previous days of done tickets loaded before the day, see loadHistory), BENCH_WAIT (55),
 * BENCH_FLOOR (1; 0 skips the floor run, and floor_p99_ms and p99_ratio print as NaN), BENCH_SLICE_SECONDS (120), BENCH_PROFILE_DIR (unset; a folder
 * where each server process writes a V8 CPU profile when it stops: <dir>/floor/, <dir>/guichet/), BENCH_HEAP_PROFILE_DIR (unset; a
 * folder where each server process writes a sampling heap profile of what outlived the young generation; with
 * BENCH_HEAP_ALL=1, of everything allocated, the young generation's garbage included),
 * BENCH_SERVER_FLAGS (Node/V8 flags for every server process, floor and Guichet alike), BENCH_CALM_STEAL (10: the
 * steal share, in %, under which a second counts as calm; see below), BENCH_DUMP_DIR (unset; a folder where every measured
 * call-next answer is written to calls.csv: target, slice start, answer time (epoch ms), duration, server read).
 * Calm seconds (docs/decisions/0015): the machine's steal is read every second; each target's summary and a line
 * before the last also give the call-next p99 over the answers of calm seconds only. The hypervisor's bursts of steal
 * (up to 35 % of the 2 cores for 10–30 s) decided whole runs; this figure shows the code's gap without them. It is
 * not the issue's figure: the last line's p99s are over every answer.
 * Last line: bench:queue tickets=<n> call_next_p99_ms=<x> floor_p99_ms=<x> p99_ratio=<x> idle_polls=<n> rps=<x> baseline_rps=<x> pooled_wait_gain=<x>
 * (rps: requests per second of Guichet's day, drain included; baseline_rps: /healthz of the same processes.)
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { benchReplica, benchServer, machineCpu, machineShare, percentile, sha256, stealBySecond } from './support';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 100_000);
const OFFICES = Number(process.env.BENCH_OFFICES ?? 50);
const COUNTERS = Number(process.env.BENCH_COUNTERS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const DAY_SECONDS = Number(process.env.BENCH_DAY_SECONDS ?? 960);
/** Server processes over the same database (Node uses one core per process; production runs one per core). */
const SERVERS = Math.max(1, Number(process.env.BENCH_SERVERS ?? 2));
const BASELINE_SECONDS = Number(process.env.BENCH_BASELINE_SECONDS ?? 10);
const POOL = Number(process.env.BENCH_POOL ?? 6);
const HISTORY_DAYS = Math.max(0, Number(process.env.BENCH_HISTORY_DAYS ?? 10));
const WAIT = Math.max(0, Math.min(55, Number(process.env.BENCH_WAIT ?? 55)));
const FLOOR = process.env.BENCH_FLOOR !== '0';
/** The day in slices of this many seconds, each run against the floor and Guichet in turn (0: the floor's whole day, then Guichet's). */
const SLICE_SECONDS = Math.max(0, Number(process.env.BENCH_SLICE_SECONDS ?? 120));
const SLICES = FLOOR && SLICE_SECONDS > 0 ? Math.max(1, Math.round(DAY_SECONDS / SLICE_SECONDS)) : 1;
/** BENCH_DUMP_DIR: a folder where every measured call-next answer is written (calls.csv; see runSlice). */
const DUMP_DIR = process.env.BENCH_DUMP_DIR;
/** A second is calm when the hypervisor took less than this share of the machine in it (docs/decisions/0015). */
const CALM_STEAL = Math.max(0, Number(process.env.BENCH_CALM_STEAL ?? 10)) / 100;
const here = path.dirname(fileURLToPath(import.meta.url));
const SERVICES = ['demo-dog-licence', 'demo-property-tax-address', 'demo-driver-licence', 'demo-health-card', 'gc-1292'];

interface Fixture {
  port: number;
  /** every server process's port (the first one set the database up); offices are spread over them */
  ports: number[];
  databaseUrl: string;
  /** an office outside the day, for warming the server processes up (JIT, lazy imports, connection pools) */
  warmUp?: { id: string; counters: Array<{ id: string; cookie: string; csrf: string }> };
  offices: Array<{ id: string; counters: Array<{ id: string; cookie: string; csrf: string }> }>;
}

/**
 * Garbage collection in a server process (floor or Guichet): pauses, their total and the longest since the last
 * question (perf_hooks 'gc' entries), sent with the CPU answer.
 */
const gcSeen = { n: 0, ms: 0, max: 0, over5: 0, majorN: 0, majorMs: 0, majorOver5: 0, heapMb: 0 };
async function observeGc(): Promise<void> {
  const heapDir = process.env.BENCH_HEAP_PROFILE_DIR;
  if (heapDir) {
    // what outlives a scavenge: allocations sampled, those freed by a young-generation collection left out; written
    // when the process exits (<dir>/<role>-<pid>.heapprofile, for Chrome DevTools' Memory tab)
    const inspector = await import('node:inspector');
    const session = new inspector.Session();
    session.connect();
    session.post('HeapProfiler.enable');
    session.post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.BENCH_HEAP_ALL === '1' });
    process.on('exit', () => {
      // the in-process session answers synchronously
      session.post('HeapProfiler.stopSampling', (err, r) => {
        if (err || !r) return;
        fs.mkdirSync(heapDir, { recursive: true });
        fs.writeFileSync(path.join(heapDir, `${process.env.BENCH_ROLE ?? 'main'}-${process.pid}.heapprofile`), JSON.stringify(r.profile));
      });
    });
  }
  const { PerformanceObserver, constants } = await import('node:perf_hooks');
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcSeen.n++;
      gcSeen.ms += e.duration;
      if (e.duration > gcSeen.max) gcSeen.max = e.duration;
      if (e.duration > 5) gcSeen.over5++;
      // a full (mark-compact) collection, as against a scavenge of the young generation
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        gcSeen.majorN++;
        gcSeen.majorMs += e.duration;
        if (e.duration > 5) gcSeen.majorOver5++;
      }
    }
  }).observe({ entryTypes: ['gc'] });
}
/** The CPU answer of a server process: its CPU so far and its garbage collection (the longest pause since the last answer). */
function cpuAnswer(): { type: 'cpu'; cpu: NodeJS.CpuUsage; gc: typeof gcSeen } {
  const gc = { ...gcSeen, heapMb: process.memoryUsage().heapUsed / 2 ** 20 };
  gcSeen.max = 0;
  return { type: 'cpu', cpu: process.cpuUsage(), gc };
}

/** A further server process over the database the first one prepared (BENCH_ROLE=replica, BENCH_DB=<url>). */
async function replica(): Promise<void> {
  await observeGc();
  const { database, app } = await benchReplica(process.env.BENCH_DB!, POOL);
  await serveChild(app, () => database.close());
}
/** A child server process: tell the parent its port, answer CPU questions, stop on request. */
async function serveChild(app: { listen(o: { port: number; host: string }): Promise<unknown>; server: { address(): unknown }; close(): Promise<unknown> }, closeDb: () => Promise<unknown>): Promise<void> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.send!({ type: 'ready', port: (app.server.address() as { port: number }).port });
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'cpu') process.send!(cpuAnswer());
    if (m.type === 'stop') {
      await app.close();
      await closeDb();
      process.exit(0);
    }
  });
}


/**
 * The floor server (BENCH_ROLE=floor, BENCH_DB=<url>, BENCH_FLOOR_INDEX=<i>): the least work each request of the day
 * could need, on the same tables and indexes. Its waiting agents are woken in memory by creates in this process.
 */
async function floor(): Promise<void> {
  await observeGc();
  const { default: Fastify } = await import('fastify');
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({ connectionString: process.env.BENCH_DB, max: POOL, min: POOL, idleTimeoutMillis: 300_000 });
  await Promise.all(Array.from({ length: POOL }, async () => (await pool.connect()).release()));
  const orgs = new Map((await pool.query<{ id: string; owner_org_id: string }>('select id, owner_org_id from services where id = any($1)', [SERVICES])).rows.map((r) => [r.id, r.owner_org_id]));
  // numbers of the day: per office, above anything Guichet's servers draw (each office is served by one process)
  const seqBase = 10_000_000 * (Number(process.env.BENCH_FLOOR_INDEX ?? 0) + 1);
  const seqs = new Map<string, number>();
  const waiting = new Map<string, Set<(woken: boolean) => void>>();
  /** creates per office in this process: a create during an empty read answers woken at once (no ticket left behind) */
  const creates = new Map<string, number>();
  const app = Fastify({ logger: false });
  app.post('/floor/offices/:officeId/tickets', async (request, reply) => {
    const { officeId } = request.params as { officeId: string };
    const b = request.body as { services: string[]; language: string };
    const seq = (seqs.get(officeId) ?? seqBase) + 1;
    seqs.set(officeId, seq);
    const { rows } = await pool.query({
      name: 'floor-create',
      text: `insert into tickets (office_id, day, seq, number, service_id, org_id, language, priority, status, queued_at, waiting_since, arrived_at, channel)
             values ($1, (now() at time zone 'America/Toronto')::date, $2, $3, $4, $5, $6, 'none', 'waiting', now(), now(), now(), 'floor') returning id`,
      values: [officeId, seq, `F${seq}`, b.services[0], orgs.get(b.services[0]), b.language],
    });
    creates.set(officeId, (creates.get(officeId) ?? 0) + 1);
    const ws = waiting.get(officeId);
    if (ws?.size) {
      const [w] = ws;
      ws.delete(w);
      w(true);
    }
    return reply.code(201).send({ id: rows[0].id });
  });
  app.post('/floor/offices/:officeId/counters/:counterId/call-next', async (request, reply) => {
    const { officeId, counterId } = request.params as { officeId: string; counterId: string };
    const wait = Number((request.query as { wait?: string }).wait ?? 0);
    const t0 = performance.now();
    const seen = creates.get(officeId) ?? 0;
    const { rows } = await pool.query({
      name: 'floor-call',
      text: `update tickets set status = 'called', called_at = now(), counter_id = $2, updated_at = now()
             where id = (select id from tickets where office_id = $1 and status = 'waiting' order by queued_at limit 1 for update skip locked)
             returning id`,
      values: [officeId, counterId],
    });
    const read = performance.now() - t0;
    if (rows[0] || !wait || (creates.get(officeId) ?? 0) !== seen) {
      reply.header('server-timing', `read;dur=${read.toFixed(1)}`);
      return { ticket: rows[0] ? { id: rows[0].id } : null, ...(rows[0] || !wait ? {} : { woken: true }) };
    }
    const t1 = performance.now();
    const woken = await new Promise<boolean>((resolve) => {
      let ws = waiting.get(officeId);
      if (!ws) waiting.set(officeId, (ws = new Set()));
      const set = ws;
      const done = (w: boolean) => {
        set.delete(done);
        clearTimeout(timer);
        reply.raw.off('close', gone);
        resolve(w);
      };
      const gone = () => done(false);
      const timer = setTimeout(() => done(false), wait * 1000);
      reply.raw.once('close', gone);
      set.add(done);
    });
    reply.header('server-timing', `read;dur=${read.toFixed(1)}, hold;dur=${(performance.now() - t1).toFixed(1)}`);
    return { ticket: null, woken };
  });
  app.post('/floor/offices/:officeId/tickets/:ticketId/complete', async (request) => {
    const { ticketId } = request.params as { ticketId: string };
    const { rows } = await pool.query({
      name: 'floor-complete',
      text: `update tickets set status = 'done', done_at = now(), updated_at = now() where id = $1 and status in ('called', 'serving') returning id`,
      values: [ticketId],
    });
    if (!rows[0]) throw new Error('not called');
    return { id: rows[0].id };
  });
  await serveChild(app, () => pool.end());
}

/**
 * The previous days (BENCH_HISTORY_DAYS, default 10): a network that has been open for a while, not a new database.
 * Each office gets, for each of those days, as many done tickets as it gets today, with their three events and their
 * visit, then VACUUM ANALYZE and a checkpoint, as PostgreSQL's own maintenance leaves a database overnight.
 * Why it matters: PostgreSQL's autovacuum acts when a table has changed by a share of its size (10 % for ANALYZE,
 * 20 % for VACUUM), and wakes once a minute of real time. Empty at the start, the ticket tables grow by far more than
 * 10 % between two wake-ups all day, so every minute of the compressed day analyses and vacuums them (about 1 s of
 * CPU, in one burst, a burst a production network would see far less often).
 */
async function loadHistory(db: import('../src/db/database').Database): Promise<void> {
  const t0 = performance.now();
  const perDay = Math.round(TICKETS / OFFICES);
  // days two or more back: today's office-local day (Toronto) is current_date or, just after midnight UTC, the day before
  await sql`
    insert into tickets (office_id, day, seq, number, service_id, org_id, language, priority, status, queued_at, waiting_since, arrived_at,
                         called_at, served_at, done_at, agent_id, channel, updated_at)
    select o.id, dd.day, s, 'A' || lpad(s::text, 4, '0'), sv.id, sv.org_id, case when s % 3 = 0 then 'fr' else 'en' end, 'none', 'done',
           t.arr, t.arr, t.arr, t.arr + t.w, t.arr + t.w, t.arr + t.w + interval '6 minutes', o.id || '-agent', 'kiosk', t.arr + t.w + interval '6 minutes'
    from offices o
    cross join generate_series(2, ${HISTORY_DAYS + 1}) d
    cross join lateral (select (current_date - d) as day) dd
    cross join generate_series(1, ${perDay}) s
    join (select id, owner_org_id as org_id, (row_number() over (order by id) - 1)::int as k from services where id in (${sql.join(SERVICES)})) sv on sv.k = s % ${SERVICES.length}
    cross join lateral (select ((dd.day + time '08:30') at time zone 'America/Toronto') + s * interval '8 hours' / ${perDay} as arr,
                               ((s * 7919) % 900) * interval '1 second' as w) t
    where o.id like 'bench-office-%' and o.id <> 'bench-office-warm-up'`.execute(db);
  await sql`
    insert into ticket_events (ticket_id, office_id, kind, at, agent_id, detail)
    select id, office_id, k.kind, case k.kind when 'created' then arrived_at when 'called' then called_at else done_at end, agent_id, '{}'::jsonb
    from tickets cross join (values ('created'), ('called'), ('complete')) k(kind) where day < current_date - 1`.execute(db);
  await sql`
    insert into ticket_visits (ticket_id, office_id, service_id, org_id, agent_id, queued_at, called_at, served_at, done_at, outcome, wait_seconds, service_seconds)
    select id, office_id, service_id, org_id, agent_id, waiting_since, called_at, served_at, done_at, 'served',
           extract(epoch from called_at - waiting_since), extract(epoch from done_at - served_at)
    from tickets where day < current_date - 1`.execute(db);
  await sql`insert into ticket_sequences (office_id, day, last_seq) select office_id, day, max(seq) from tickets where day < current_date - 1 group by 1, 2`.execute(db);
  await sql`vacuum analyze tickets, ticket_events, ticket_visits, ticket_sequences`.execute(db);
  await sql`checkpoint`.execute(db).catch(() => {}); // needs a superuser or pg_checkpoint; only tidier without
  const n = await sql<{ n: number }>`select count(*)::int as n from tickets`.execute(db);
  console.log(`history: ${HISTORY_DAYS} previous days, ${n.rows[0].n} done tickets with their events and visits, loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

async function server(): Promise<void> {
  await observeGc();
  const { database, config, app, db } = await benchServer(POOL);
  const { csrfTokenFor } = await import('../src/http/session');
  const sha = sha256;
  const tpl = await db.selectFrom('offices').selectAll().where('id', '=', 'ottawa-ben-franklin').executeTakeFirstOrThrow();
  const fixture: Fixture = { port: 0, ports: [], databaseUrl: database.url ?? '', offices: [] };
  const now = Date.now();
  // offices 0..OFFICES-1 live the day; one more office, not counted, warms every server process up first
  for (let o = 0; o <= OFFICES; o++) {
    const id = o === OFFICES ? 'bench-office-warm-up' : `bench-office-${o}`;
    await db.insertInto('offices').values({ ...tpl, id, name_en: `Bench office ${o}`, name_fr: `Bureau d’essai ${o}`, created_at: undefined as any, is_demo: true }).execute();
    await db.insertInto('office_services').values(SERVICES.map((service_id) => ({ office_id: id, service_id }))).execute();
    await db.insertInto('office_organisations').values(['guichet', 'ottawa', 'on-mto', 'on-moh', 'esdc-edsc'].map((org_id) => ({ office_id: id, org_id }))).execute();
    const staff = Array.from({ length: COUNTERS }, (_, c) => ({ id: `bench-${o}-${c}`, email: `bench-${o}-${c}@guichet.example`, name: `Bench agent ${o}/${c}`, org_id: 'guichet', roles: ['agent'], oidc_subject: null }));
    await db.insertInto('staff_users').values(staff).execute();
    await db.insertInto('agent_profiles').values(staff.map((s) => ({ staff_id: s.id, skills: [], languages: ['en', 'fr'] }))).execute();
    const counters = await db.insertInto('counters').values(staff.map((s, c) => ({ office_id: id, label: String(c + 1), org_id: null, agent_id: s.id, opened_at: new Date() }))).returning(['id', 'agent_id']).execute();
    const entry: Fixture['offices'][number] = { id, counters: [] };
    for (const c of counters) {
      const token = crypto.randomBytes(32).toString('base64url');
      const csrf = csrfTokenFor(token); // the CSRF token is bound to the session (src/http/session.ts)
      await db.insertInto('sessions').values({ id: sha(token), kind: 'staff', subject_id: c.agent_id!, data: JSON.stringify({}), expires_at: new Date(now + 6 * 3600_000) }).execute();
      entry.counters.push({ id: c.id, cookie: `guichet_csrf=${csrf}; guichet_sid=${token}`, csrf });
    }
    fixture.offices.push(entry);
  }
  fixture.warmUp = fixture.offices.pop()!;
  if (HISTORY_DAYS > 0) await loadHistory(db);
  await app.listen({ port: 0, host: '127.0.0.1' });
  fixture.port = (app.server.address() as { port: number }).port;
  fixture.ports = [fixture.port];
  process.send!({ type: 'ready', fixture });
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'cpu') process.send!(cpuAnswer());
    if (m.type === 'stop') {
      // the day's tickets only (the history's days are two days back or more)
      const today = sql<boolean>`day >= current_date - 1 and channel <> 'floor'`;
      const left = await db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).where('status', 'not in', ['done']).where('office_id', '<>', 'bench-office-warm-up').where(today).executeTakeFirstOrThrow();
      const total = await db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).where('office_id', '<>', 'bench-office-warm-up').where(today).executeTakeFirstOrThrow();
      process.send!({ type: 'stopped', notDone: Number(left.n), total: Number(total.n) });
      await app.close();
      await database.cleanup();
      process.exit(0);
    }
  });
}

// One socket per agent at most (1,000 counters and the kiosks): requests never wait for a free socket here.
const agent = new http.Agent({ keepAlive: true, maxSockets: 2048 });
interface Answer {
  status: number;
  json: any;
  ms: number;
  /** Server-Timing: the queue read and the time held (ms), when the server says */
  read?: number;
  hold?: number;
}
function post(port: number, url: string, cookie: string, csrf: string, body?: unknown, signal?: AbortSignal): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: url, method: 'POST', agent, signal, headers: { cookie, 'x-csrf-token': csrf, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => {
        const timing = String(res.headers['server-timing'] ?? '');
        const dur = (name: string) => {
          const m = new RegExp(`(?:^|, )${name};dur=([0-9.]+)`).exec(timing);
          return m ? Number(m[1]) : undefined;
        };
        resolve({ status: res.statusCode ?? 0, json: data ? JSON.parse(data) : null, ms: performance.now() - t0, read: dur('read'), hold: dur('hold') });
      });
    });
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** p as a fraction (0.99), of unsorted values */
const pct = (xs: number[], p: number): number => percentile([...xs].sort((a, b) => a - b), p * 100) || 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface Target {
  name: string;
  ports: number[];
  createUrl: (officeId: string) => string;
  callUrl: (officeId: string, counterId: string) => string;
  completeUrl: (officeId: string, ticketId: string) => string;
}
type Arrival = { at: number; office: number; service: string; lang: string };

interface DayResult {
  callMs: number[];
  /** Server-Timing `read` of the same answers (the server's own time for the read and claim) */
  readMs: number[];
  createMs: number[];
  completeMs: number[];
  requests: number;
  errors: number;
  created: number;
  served: number;
  elapsed: number;
  /** call-next answers without a ticket (held answers included) */
  emptyAnswers: number;
  /** queue reads that found nobody, by an agent already told nobody was there */
  idleReads: number;
  /** held answers: woken by a ticket / the wait ended */
  woken: number;
  renewals: number;
  /** call-next answers that read the queue */
  reads: number;
  /** call-next answers over 20 ms, by second of the wall clock (epoch seconds) */
  slowBySecond: Map<number, number>;
  /** the wall-clock time (epoch ms) of each call-next answer in callMs, in the same order (calm seconds, BENCH_DUMP_DIR) */
  callAt: number[];
}

const emptyDay = (): DayResult => ({ callMs: [], readMs: [], createMs: [], completeMs: [], requests: 0, errors: 0, created: 0, served: 0, elapsed: 0, emptyAnswers: 0, idleReads: 0, woken: 0, renewals: 0, reads: 0, slowBySecond: new Map(), callAt: [] });
/** Adds a slice's day to the whole day of the same target. */
function addDay(into: DayResult, d: DayResult): void {
  into.callMs = into.callMs.concat(d.callMs);
  into.callAt = into.callAt.concat(d.callAt);
  into.readMs = into.readMs.concat(d.readMs);
  into.createMs = into.createMs.concat(d.createMs);
  into.completeMs = into.completeMs.concat(d.completeMs);
  for (const k of ['requests', 'errors', 'created', 'served', 'elapsed', 'emptyAnswers', 'idleReads', 'woken', 'renewals', 'reads'] as const) into[k] += d[k];
  for (const [sec, n] of d.slowBySecond) into.slowBySecond.set(sec, (into.slowBySecond.get(sec) ?? 0) + n);
}

/** An agent's call-next held since the sit-down (BENCH_WAIT > 0): the slice goes on from it (docs/decisions/0016). */
interface Seat {
  ac: AbortController;
  answer: Promise<Answer | null>;
}

/**
 * The agents sit down at their counters before a slice (not measured), spread over `ms`, on an empty line (the slice
 * before was served to its last ticket). Between two slices of a target its agents were away for the other target's
 * slice (2–3 minutes): their keep-alive sockets and the server's copies of their sessions and offices had expired, so
 * the first minutes of each slice were a cold start, which a continuous day has once, not at every hour
 * (docs/decisions/0014). With BENCH_WAIT > 0 each one's call-next asks to wait, finds nobody and is held, as an idle
 * agent's is in the middle of a day, and the slice goes on from these held answers (runDay's `seats`; returned once
 * the last one has had time to be read). Before, each asked once without waiting and began the slice with one more
 * read: a thousand reads in the slice's first seconds that a continuous day does not have (docs/decisions/0016).
 * With BENCH_WAIT=0: one plain call-next each.
 */
async function sitDown(target: Target, fixture: Fixture, ms: number): Promise<Map<string, Seat>> {
  const all = fixture.offices.flatMap((office, o) => office.counters.map((k) => ({ office, o, k })));
  const seats = new Map<string, Seat>();
  await Promise.all(
    all.map(async ({ office, o, k }, i) => {
      await sleep((i * ms) / all.length);
      const port = target.ports[o % target.ports.length];
      if (WAIT > 0) {
        const ac = new AbortController();
        seats.set(k.id, { ac, answer: post(port, `${target.callUrl(office.id, k.id)}?wait=${WAIT}`, k.cookie, k.csrf, undefined, ac.signal).catch(() => null) });
        return;
      }
      const x = await post(port, target.callUrl(office.id, k.id), k.cookie, k.csrf).catch(() => null);
      if (x?.json?.ticket) throw new Error(`${target.name}: a ticket was waiting before the slice`);
    }),
  );
  if (WAIT > 0) await sleep(1000); // the last ones read and held
  return seats;
}

/** One open-loop day against a target: the same arrivals, the same agents' behaviour. */
async function runDay(target: Target, fixture: Fixture, arrivals: Arrival[], meanServiceMs: number, seats?: Map<string, Seat>): Promise<DayResult> {
  const portOf = (o: number) => target.ports[o % target.ports.length];
  const idleRecheckMs = meanServiceMs;
  const r = emptyDay();
  const started = performance.now();
  const now = () => performance.now() - started;
  const expo = (mean: number) => -Math.log(1 - Math.random()) * mean;
  const held = new Set<AbortController>();
  let arrivalsDone = false;
  let createsInFlight = 0;
  /** every ticket created is served and no create is in flight: held answers are let go (agents close their consoles) */
  const dayOver = () => arrivalsDone && createsInFlight === 0 && r.served >= r.created;
  const release = () => {
    if (dayOver()) for (const c of held) c.abort();
  };

  const pendingCreates = new Set<Promise<void>>();
  const arrive = async () => {
    for (const a of arrivals) {
      const wait = a.at - now();
      if (wait > 1) await sleep(wait);
      const office = fixture.offices[a.office];
      const greeter = office.counters[0];
      createsInFlight++;
      const p = post(portOf(a.office), target.createUrl(office.id), greeter.cookie, greeter.csrf, { services: [a.service], language: a.lang }).then(
        (x) => {
          r.requests++;
          r.createMs.push(x.ms);
          if (x.status !== 201) {
            r.errors++;
            if (r.errors <= 5) console.log(`  create answered ${x.status}: ${JSON.stringify(x.json)}`);
          } else r.created++;
        },
        (err: unknown) => {
          r.errors++;
          if (r.errors <= 5) console.log(`  create got no answer: ${(err as Error)?.message ?? String(err)}`);
        },
      ).finally(() => createsInFlight--);
      pendingCreates.add(p);
      void p.finally(() => pendingCreates.delete(p));
    }
    await Promise.all(pendingCreates);
  };
  const counter = async (o: number, c: number) => {
    const office = fixture.offices[o];
    const k = office.counters[c];
    // seated: the agent's held call-next from the sit-down is the slice's first answer (its read came before the
    // slice: not measured); otherwise agents do not all start on the same millisecond
    let seat = seats?.get(k.id);
    if (seat) held.add(seat.ac);
    else await sleep(Math.random() * idleRecheckMs);
    let idle = Boolean(seat);
    let cursor = '';
    for (;;) {
      const measured = !seat;
      let ac: AbortController;
      let x: Answer | null;
      if (seat) {
        ac = seat.ac;
        x = await seat.answer;
        seat = undefined;
      } else {
        ac = new AbortController();
        held.add(ac);
        const q = WAIT > 0 ? `?wait=${WAIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}` : '';
        x = await post(portOf(o), target.callUrl(office.id, k.id) + q, k.cookie, k.csrf, undefined, ac.signal).catch(() => null);
      }
      held.delete(ac);
      if (ac.signal.aborted) return; // the day is over
      r.requests++;
      if (!x || x.status !== 200) {
        r.errors++;
        if (r.errors <= 5) console.log(`  call-next answered ${x?.status ?? 'no response'}: ${JSON.stringify(x?.json)}`);
        if (arrivalsDone) return;
        await sleep(idleRecheckMs);
        continue;
      }
      if (measured && x.read !== undefined) {
        r.reads++;
        const ms = x.ms - (x.hold ?? 0);
        const at = Date.now();
        const second = Math.floor(at / 1000);
        r.callMs.push(ms);
        r.callAt.push(at);
        r.readMs.push(x.read);
        if (ms > 20) r.slowBySecond.set(second, (r.slowBySecond.get(second) ?? 0) + 1);
      }
      if (!x.json.ticket) {
        r.emptyAnswers++;
        if (measured && idle && x.read !== undefined) r.idleReads++;
        idle = true;
        if (x.json.woken === true) {
          r.woken++;
          cursor = '';
          continue; // a ticket came: call again at once
        }
        if (x.json.woken === false) {
          r.renewals++;
          cursor = x.json.cursor ?? '';
          if (dayOver()) return;
          continue;
        }
        // no wait asked (BENCH_WAIT=0): look again after one mean service time
        if (dayOver()) return;
        await sleep(idleRecheckMs);
        continue;
      }
      idle = false;
      cursor = '';
      await sleep(expo(meanServiceMs));
      const d = await post(portOf(o), target.completeUrl(office.id, x.json.ticket.id), k.cookie, k.csrf, {}).catch(() => null);
      r.requests++;
      if (!d || d.status !== 200) {
        r.errors++;
        if (r.errors <= 5) console.log(`  complete answered ${d?.status ?? 'no response'}: ${JSON.stringify(d?.json)}`);
      } else {
        r.served++;
        r.completeMs.push(d.ms);
      }
      release();
    }
  };
  const progress = setInterval(() => {
    const t = now() / 1000;
    console.log(`  ${target.name} ${t.toFixed(0)} s: ${r.created} tickets created, ${r.served} served, ${(r.requests / t).toFixed(0)} req/s, call-next p99 ${pct(r.callMs.slice(-5000), 0.99).toFixed(1)} ms (last 5,000), ${held.size} agents waiting`);
  }, 30_000);
  const counters = fixture.offices.flatMap((office, o) => office.counters.map((_, c) => counter(o, c)));
  await arrive();
  arrivalsDone = true;
  release();
  const releaser = setInterval(release, 200);
  await Promise.all(counters);
  clearInterval(releaser);
  clearInterval(progress);
  r.elapsed = (performance.now() - started) / 1000;
  return r;
}

function describeDay(name: string, d: DayResult): void {
  console.log(`${name}: ${d.requests} requests in ${d.elapsed.toFixed(1)} s (${(d.requests / d.elapsed).toFixed(0)}/s), ${d.errors} errors; ${d.created} created, ${d.served} served`);
  console.log(`${name}: create p50 ${pct(d.createMs, 0.5).toFixed(1)} ms p99 ${pct(d.createMs, 0.99).toFixed(1)} ms; complete p50 ${pct(d.completeMs, 0.5).toFixed(1)} ms p99 ${pct(d.completeMs, 0.99).toFixed(1)} ms`);
  console.log(
    `${name}: call-next (answers that read the queue, time held taken off) p50 ${pct(d.callMs, 0.5).toFixed(1)} ms p90 ${pct(d.callMs, 0.9).toFixed(1)} ms p99 ${pct(d.callMs, 0.99).toFixed(1)} ms max ${pct(d.callMs, 1).toFixed(1)} ms; ` +
      `${d.reads} reads, ${d.emptyAnswers} answers without a ticket (${d.woken} woken, ${d.renewals} waits ended), ${d.idleReads} idle reads`,
  );
  // Server-Timing `read`: the server's own time for the queue read and claim (the rest is HTTP, plumbing, waiting for a core)
  console.log(`${name}: call-next read in the server (Server-Timing read) p50 ${pct(d.readMs, 0.5).toFixed(1)} ms p99 ${pct(d.readMs, 0.99).toFixed(1)} ms`);
  const slowTotal = [...d.slowBySecond.values()].reduce((a, b) => a + b, 0);
  const worst = [...d.slowBySecond].sort((a, b) => b[1] - a[1]).slice(0, 5);
  console.log(
    `${name}: call-next over 20 ms: ${slowTotal} in ${d.slowBySecond.size} of the day's seconds; most at ` +
      worst.map(([sec, n]) => `${new Date(sec * 1000).toISOString().slice(11, 19)} UTC (${n})`).join(', '),
  );
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) {
    console.error('bench:queue needs DATABASE_URL (PostgreSQL)');
    process.exit(2);
  }
  // pooled vs separate on the same arrivals, with the production routing code
  const { runScenario } = await import('../src/counters/simulation');
  const scenario = JSON.parse(fs.readFileSync(path.join(here, '../src/counters/scenarios/shared-office.json'), 'utf8'));
  const sim = runScenario({ ...scenario, policies: ['priority'], replications: 10 });
  const sep = sim.results.find((r) => r.model === 'separate')!;
  const pool = sim.results.find((r) => r.model === 'pooled')!;
  const gain = sep.meanWaitMin / pool.meanWaitMin;

  // BENCH_PROFILE_DIR: every server process (floor and Guichet) writes a V8 CPU profile there when it stops (node --cpu-prof)
  // BENCH_SERVER_FLAGS: Node/V8 flags for every server process, floor and Guichet alike (e.g. garbage-collector settings)
  const serverFlags = (process.env.BENCH_SERVER_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const profiled = (who: string) => [...process.execArgv, ...serverFlags, ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.join(process.env.BENCH_PROFILE_DIR, who)}`] : [])];
  const serverArgv = profiled('guichet');
  const child = fork(process.argv[1], [], { env: { ...process.env, BENCH_ROLE: 'server', NODE_ENV: 'test' }, execArgv: serverArgv, stdio: 'inherit' });
  const fixture: Fixture = await new Promise((resolve, reject) => {
    child.once('message', (m: { type: string; fixture: Fixture }) => (m.type === 'ready' ? resolve(m.fixture) : reject(new Error('bad message'))));
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const children = [child];
  const forkServer = async (role: string, extra: Record<string, string> = {}): Promise<{ c: ChildProcess; port: number }> => {
    const c = fork(process.argv[1], [], { env: { ...process.env, BENCH_ROLE: role, BENCH_DB: fixture.databaseUrl, NODE_ENV: 'test', ...extra }, execArgv: role === 'floor' ? profiled('floor') : serverArgv, stdio: 'inherit' });
    const port = await new Promise<number>((resolve, reject) => {
      c.once('message', (m: { type: string; port: number }) => resolve(m.port));
      c.once('exit', (code) => reject(new Error(`${role} exited ${code}`)));
    });
    return { c, port };
  };
  for (let i = 1; i < SERVERS; i++) {
    const r = await forkServer('replica');
    fixture.ports.push(r.port);
    children.push(r.c);
  }

  // The day: arrivals per office at their own times, hour by hour after the scenario's profile (the same for both runs).
  const profile: number[] = scenario.services.reduce((acc: number[], s: { arrivalsPerHour: number[] }) => s.arrivalsPerHour.map((r, h) => (acc[h] ?? 0) + r), []);
  const total = profile.reduce((a, b) => a + b, 0);
  const hourMs = (DAY_SECONDS * 1000) / profile.length;
  const arrivals: Arrival[] = [];
  for (let h = 0; h < profile.length; h++) {
    const n = h === profile.length - 1 ? TICKETS - arrivals.length : Math.round((TICKETS * profile[h]) / total);
    for (let i = 0; i < n; i++) {
      arrivals.push({ at: (h + Math.random()) * hourMs, office: Math.floor(Math.random() * fixture.offices.length), service: SERVICES[Math.floor(Math.random() * SERVICES.length)], lang: Math.random() < 0.35 ? 'fr' : 'en' });
    }
  }
  arrivals.sort((a, b) => a.at - b.at);
  // Mean service time: the busiest hour keeps an office's counters 85 % busy.
  const peakPerOfficeMs = (TICKETS * Math.max(...profile)) / total / fixture.offices.length / hourMs;
  const meanServiceMs = (0.85 * COUNTERS) / peakPerOfficeMs;
  console.log(
    `${fixture.ports.length} server process(es) ready on :${fixture.ports.join(', :')}: ${fixture.offices.length} offices × ${COUNTERS} counters; ${TICKETS} tickets over ${DAY_SECONDS} s ` +
      `(${(TICKETS / DAY_SECONDS).toFixed(0)} arrivals/s on average, busiest hour ${((TICKETS * Math.max(...profile)) / total / (hourMs / 1000)).toFixed(0)}/s); ` +
      `mean service ${meanServiceMs.toFixed(0)} ms (compressed); agents wait ${WAIT ? `in held call-next answers of up to ${WAIT} s` : 'by looking again after one mean service time'}; ` +
      `simulated mean wait separate ${sep.meanWaitMin.toFixed(2)} min, pooled ${pool.meanWaitMin.toFixed(2)} min; ` +
      (SLICES > 1 ? `the day in ${SLICES} slices of ${(DAY_SECONDS / SLICES).toFixed(0)} s, each against the floor and Guichet in turn` : FLOOR ? `the floor's whole day, then Guichet's` : `Guichet's day only`),
  );

  const answerOf = (c: ChildProcess) =>
    new Promise<ReturnType<typeof cpuAnswer>>((resolve) => {
      const on = (m: ReturnType<typeof cpuAnswer>) => {
        if (m.type === 'cpu') {
          c.off('message', on);
          resolve(m);
        }
      };
      c.on('message', on);
      c.send({ type: 'cpu' });
    });
  /** The processes' garbage collection so far (pauses, ms) and the longest pause since the last question. */
  const lastGc = new Map<ChildProcess, typeof gcSeen>();
  /** CPU seconds used so far by these processes (and their garbage collection, kept for describeGc) */
  const cpu = async (cs: ChildProcess[]) =>
    (await Promise.all(cs.map(async (c) => {
      const a = await answerOf(c);
      lastGc.set(c, a.gc);
      return (a.cpu.user + a.cpu.system) / 1e6;
    }))).reduce((a, b) => a + b, 0);
  /** Garbage collection of a target's server processes over its slices of the day. */
  type GcTally = { n: number; ms: number; max: number; over5: number; majorN: number; majorMs: number; majorOver5: number; heaps: string[] };
  /** Adds these processes' garbage collection between two cpu() questions (before: the first one's lastGc copies). */
  const addGc = (into: GcTally, cs: ChildProcess[], before: Map<ChildProcess, typeof gcSeen>) => {
    for (const c of cs) {
      const a = lastGc.get(c)!, b = before.get(c)!;
      into.n += a.n - b.n;
      into.ms += a.ms - b.ms;
      into.over5 += a.over5 - b.over5;
      into.max = Math.max(into.max, a.max);
      into.majorN += a.majorN - b.majorN;
      into.majorMs += a.majorMs - b.majorMs;
      into.majorOver5 += a.majorOver5 - b.majorOver5;
    }
    into.heaps = cs.map((c) => lastGc.get(c)!.heapMb.toFixed(0));
  };
  const describeGc = (name: string, g: GcTally, requests: number) =>
    console.log(`${name}: garbage collection in the server processes: ${g.n} pauses, ${(g.ms / 1000).toFixed(1)} s in all, ${((g.ms * 1000) / requests).toFixed(0)} µs per request, longest ${g.max.toFixed(1)} ms, ${g.over5} over 5 ms; of them full (mark-compact) ${g.majorN}, ${(g.majorMs / 1000).toFixed(1)} s, ${g.majorOver5} over 5 ms; heap used at the end ${g.heaps.join(' and ')} MB`);
  const stopAll = async (cs: ChildProcess[]) => {
    const exited = cs.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r))));
    for (const c of cs) c.send({ type: 'stop' });
    await Promise.all(exited);
  };
  // Warm-up (not measured): every server process creates, calls and completes tickets of the warm-up office.
  const warmUp = async (t: Target) => {
    const w = fixture.warmUp!;
    for (const p of t.ports) {
      await Promise.all(
        w.counters.slice(0, 4).map(async (k) => {
          for (let i = 0; i < 100; i++) {
            await post(p, t.createUrl(w.id), k.cookie, k.csrf, { services: [SERVICES[i % SERVICES.length]], language: 'en' });
            const r = await post(p, t.callUrl(w.id, k.id), k.cookie, k.csrf);
            if (r.json?.ticket) await post(p, t.completeUrl(w.id, r.json.ticket.id), k.cookie, k.csrf, {});
          }
        }),
      );
    }
  };

  /**
   * CPU seconds used so far by PostgreSQL's processes on this machine (/proc, all `postgres` processes, plus what the
   * postmaster's ended children used; clock ticks of 1/100 s), and by this load generator; NaN where /proc is not there
   * or no PostgreSQL process runs on this machine (a database elsewhere). The weather of the
   * machine: how much of the 2 cores each day's database work took, beside the servers' own.
   */
  const pgCpu = (): number => {
    try {
      let ticks = 0;
      let found = false;
      for (const pid of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        let stat: string;
        try {
          stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        } catch {
          continue;
        }
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        if (comm !== 'postgres') continue;
        found = true;
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      }
      return found ? ticks / 100 : NaN;
    } catch {
      return NaN;
    }
  };
  const selfCpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };

  // PostgreSQL's maintenance during the day (autovacuum and autoanalyze runs on the ticket tables, checkpoints), and
  // the night before the day: both targets start on a vacuumed, analysed and checkpointed database. (With one slice,
  // the old order, a night also comes between the floor's day and Guichet's: without it Guichet's day inherited the
  // floor's dead rows and dirty pages, and the autovacuum of the grown tickets table fell inside Guichet's day only:
  // the late stall of the twelfth session's full day, docs/counters.md.)
  const pg = (await import('pg')).default;
  const stats = new pg.Client({ connectionString: fixture.databaseUrl });
  await stats.connect();
  const maintenance = async () => {
    const v = await stats.query<{ n: number }>(`select coalesce(sum(autovacuum_count + autoanalyze_count), 0)::int as n from pg_stat_user_tables where relname in ('tickets', 'ticket_events', 'ticket_visits', 'ticket_sequences')`);
    const c = await stats
      .query<{ n: number }>(`select (checkpoints_timed + checkpoints_req)::int as n from pg_stat_bgwriter`)
      .catch(() => stats.query<{ n: number }>(`select (num_timed + num_requested)::int as n from pg_stat_checkpointer`))
      .catch(() => ({ rows: [{ n: NaN }] }));
    return { autovacuums: v.rows[0].n, checkpoints: c.rows[0].n };
  };
  const night = async () => {
    const t0 = performance.now();
    await stats.query('vacuum analyze tickets, ticket_events, ticket_visits, ticket_sequences');
    await stats.query('checkpoint').catch(() => {}); // needs a superuser or pg_checkpoint
    console.log(`night: vacuum analyze and checkpoint in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  const indexUse = async () =>
    new Map(
      (await stats.query<{ name: string; scans: number; tuples: number }>(`select relname || '.' || indexrelname as name, idx_scan::int as scans, idx_tup_read::bigint as tuples from pg_stat_user_indexes where relname in ('tickets', 'ticket_events', 'ticket_visits', 'ticket_sequences') order by 1`)).rows.map((r) => [r.name, r]),
    );

  /** A target and what its slices of the day added up to. */
  interface Side {
    name: 'floor' | 'guichet';
    target: Target;
    procs: ChildProcess[];
    day: DayResult;
    /** CPU seconds of its server processes during its slices, and during the other target's slices (background work) */
    serverCpu: number;
    idleCpu: number;
    idleSeconds: number;
    /** the machine's CPU ticks during its slices: busy, stolen, all */
    machine: { busy: number; steal: number; all: number };
    pgCpu: number;
    genCpu: number;
    gc: GcTally;
    autovacuums: number;
    checkpoints: number;
  }
  const side = (name: Side['name'], target: Target, procs: ChildProcess[]): Side => ({
    name, target, procs, day: emptyDay(), serverCpu: 0, idleCpu: 0, idleSeconds: 0, pgCpu: 0, genCpu: 0, machine: { busy: 0, steal: 0, all: 0 },
    gc: { n: 0, ms: 0, max: 0, over5: 0, majorN: 0, majorMs: 0, majorOver5: 0, heaps: [] }, autovacuums: 0, checkpoints: 0,
  });
  const guichetSide = side('guichet', {
    name: 'guichet',
    ports: fixture.ports,
    createUrl: (o) => `/api/v1/offices/${o}/tickets`,
    callUrl: (o, c) => `/api/v1/offices/${o}/counters/${c}/call-next`,
    completeUrl: (o, t) => `/api/v1/offices/${o}/tickets/${t}/complete`,
  }, children);
  // The floor: on the same database, with as many processes and the same pool each, alive beside Guichet's all day.
  let floorSide: Side | undefined;
  if (FLOOR) {
    const floors = await Promise.all(Array.from({ length: SERVERS }, (_, i) => forkServer('floor', { BENCH_FLOOR_INDEX: String(i) })));
    floorSide = side('floor', {
      name: 'floor',
      ports: floors.map((f) => f.port),
      createUrl: (o) => `/floor/offices/${o}/tickets`,
      callUrl: (o, c) => `/floor/offices/${o}/counters/${c}/call-next`,
      completeUrl: (o, t) => `/floor/offices/${o}/tickets/${t}/complete`,
    }, floors.map((f) => f.c));
    await warmUp(floorSide.target);
  }
  await warmUp(guichetSide.target);
  await night();

  // The day in slices (BENCH_SLICE_SECONDS of the day each, docs/decisions/0014): each slice's arrivals run against one
  // target and then the other, in the order floor, Guichet / Guichet, floor / floor, Guichet, … (each target first in
  // half of the slices), each slice until every ticket of it is served. Both targets thus run in the same minutes of
  // the machine's weather, in turn; a target's day is the sum of its slices.
  const sliceMs = (DAY_SECONDS * 1000) / SLICES;
  const parts = Array.from({ length: SLICES }, (_, k) =>
    arrivals.filter((a) => a.at >= k * sliceMs && (a.at < (k + 1) * sliceMs || k === SLICES - 1)).map((a) => ({ ...a, at: a.at - k * sliceMs })),
  );
  const indexScans = new Map<string, number>();
  let lastMaintenance = await maintenance();
  const dumpFile = DUMP_DIR ? path.join(DUMP_DIR, 'calls.csv') : null;
  if (dumpFile) {
    fs.mkdirSync(DUMP_DIR!, { recursive: true });
    fs.writeFileSync(dumpFile, ''); // this run's answers only
  }
  let lastSide: Side = guichetSide;
  const runSlice = async (s: Side, other: Side | undefined, part: Arrival[], label: string) => {
    const seats = SLICES > 1 ? await sitDown(s.target, fixture, 2000) : undefined;
    const at = new Date().toISOString().slice(11, 19);
    const a0 = await cpu(s.procs);
    const b0 = other ? await cpu(other.procs) : 0;
    const gcBefore = new Map(lastGc);
    const i0 = s === guichetSide ? await indexUse() : null;
    const m0 = await maintenance();
    // what the statistics showed since the last slice ended (they reach the view up to a second late) goes to that slice
    lastSide.autovacuums += m0.autovacuums - lastMaintenance.autovacuums;
    lastSide.checkpoints += m0.checkpoints - lastMaintenance.checkpoints;
    const [pg0, gen0, m0cpu] = [pgCpu(), selfCpu(), machineCpu()];
    const started = Date.now();
    const d = await runDay(s.target, fixture, part, meanServiceMs, seats);
    const [pg1, gen1, m1cpu] = [pgCpu(), selfCpu(), machineCpu()];
    if (dumpFile) {
      // every measured call-next answer of the slice, for analysis elsewhere: target, slice start and answer time
      // (epoch ms), time as the agent saw it and the server's read (ms); the file is emptied when the run starts
      fs.appendFileSync(dumpFile, d.callMs.map((ms, i) => `${s.name},${started},${d.callAt[i]},${ms.toFixed(2)},${d.readMs[i].toFixed(2)}\n`).join(''));
    }
    if (m0cpu && m1cpu) for (const k of ['busy', 'steal', 'all'] as const) s.machine[k] += m1cpu[k] - m0cpu[k];
    const a1 = await cpu(s.procs);
    const b1 = other ? await cpu(other.procs) : 0;
    addGc(s.gc, s.procs, gcBefore);
    lastMaintenance = await maintenance();
    s.autovacuums += lastMaintenance.autovacuums - m0.autovacuums;
    s.checkpoints += lastMaintenance.checkpoints - m0.checkpoints;
    lastSide = s;
    if (i0) for (const [k, v] of await indexUse()) indexScans.set(k, (indexScans.get(k) ?? 0) + v.scans - (i0.get(k)?.scans ?? 0));
    addDay(s.day, d);
    s.serverCpu += a1 - a0;
    s.pgCpu += pg1 - pg0;
    s.genCpu += gen1 - gen0;
    if (other) {
      other.idleCpu += b1 - b0;
      other.idleSeconds += d.elapsed;
    }
    console.log(
      `  slice ${label} ${s.name} from ${at} UTC: ${d.created} tickets in ${d.elapsed.toFixed(1)} s, call-next p99 ${pct(d.callMs, 0.99).toFixed(1)} ms; per request: server CPU ` +
        `${(((a1 - a0) * 1000) / d.requests).toFixed(3)} ms, PostgreSQL ${(((pg1 - pg0) * 1000) / d.requests).toFixed(3)} ms; load generator ${(gen1 - gen0).toFixed(1)} s; ${machineShare(m0cpu, m1cpu)}`,
    );
  };
  const steal = stealBySecond();
  /** A day's call-next p99 over the answers given in calm seconds only, and how many those were. */
  const calmP99 = (d: DayResult) => {
    const calm = d.callMs.filter((_, i) => steal.calm(Math.floor(d.callAt[i] / 1000), CALM_STEAL));
    return { p99: pct(calm, 0.99), n: calm.length, of: d.callMs.length };
  };
  for (let k = 0; k < SLICES; k++) {
    const order = !floorSide ? [guichetSide] : k % 2 === 0 ? [floorSide, guichetSide] : [guichetSide, floorSide];
    for (const [i, s] of order.entries()) {
      if (SLICES === 1 && i > 0) await night();
      await runSlice(s, order.find((o) => o !== s), parts[k], `${k + 1}/${SLICES}`);
    }
  }
  await sleep(1500); // backends send their statistics at most once a second
  const endMaintenance = await maintenance();
  lastSide.autovacuums += endMaintenance.autovacuums - lastMaintenance.autovacuums;
  lastSide.checkpoints += endMaintenance.checkpoints - lastMaintenance.checkpoints;

  const describeSide = (s: Side) => {
    describeDay(s.name, s.day);
    console.log(`${s.name}: server processes' CPU ${s.serverCpu.toFixed(1)} s (${((s.serverCpu / s.day.elapsed) * 100).toFixed(0)} % of one core), ${((s.serverCpu * 1000) / s.day.requests).toFixed(3)} ms per request` +
      (s.idleSeconds ? `; ${s.idleCpu.toFixed(1)} s (${((s.idleCpu / s.idleSeconds) * 100).toFixed(1)} % of one core) while the other target ran` : ''));
    console.log(`${s.name}: PostgreSQL's CPU ${s.pgCpu.toFixed(1)} s, ${((s.pgCpu * 1000) / s.day.requests).toFixed(3)} ms per request; load generator's CPU ${s.genCpu.toFixed(1)} s; ${machineShare({ busy: 0, steal: 0, all: 0 }, s.machine)}`);
    describeGc(s.name, s.gc, s.day.requests);
    const c = calmP99(s.day);
    console.log(
      `${s.name}: call-next in calm seconds (steal under ${(CALM_STEAL * 100).toFixed(0)} % in the answer's second and the next): p99 ${c.p99.toFixed(1)} ms ` +
        `over ${c.n} of ${c.of} answers (${((100 * c.n) / Math.max(1, c.of)).toFixed(0)} %)`,
    );
    console.log(`${s.name}: PostgreSQL's maintenance during its slices (about: statistics come up to a second late): ${s.autovacuums} autovacuum/autoanalyze runs on the ticket tables, ${s.checkpoints} checkpoints`);
  };
  if (floorSide) {
    describeSide(floorSide);
    await stopAll(floorSide.procs);
  }
  console.log(`index use over Guichet's day (pg_stat_user_indexes, scans): ` + [...indexScans].map(([name, n]) => `${name} ${n}`).join(', '));
  await stats.end();
  const day = guichetSide.day;
  const rps = day.requests / day.elapsed;

  // The server's own view (Prometheus /metrics): time from request to reply per route, event-loop lag, waiting agents.
  const metricsOf = (p: number) =>
    new Promise<string>((resolve, reject) =>
      http.get({ host: '127.0.0.1', port: p, path: '/metrics', agent }, (res) => {
        let t = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve(t));
      }).on('error', reject),
    );
  const metrics = (await Promise.all(fixture.ports.map(metricsOf))).join('\n');
  const sum = (name: string, label = '') =>
    metrics.split('\n').filter((l) => l.startsWith(name) && l.includes(label)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  const lag = (name: string) => Math.max(...[...metrics.matchAll(new RegExp(`^guichet_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'gm'))].map((m) => Number(m[1])));
  console.log(`server event-loop lag: p99 ${(lag('p99') * 1000).toFixed(1)} ms, max ${(lag('max') * 1000).toFixed(1)} ms`);
  const sweeps = sum('guichet_counters_safety_sweeps_total');
  console.log(
    `waiting agents (servers): ${sum('guichet_counters_queue_notifications_total', 'source="notify"')} notifications, ` +
      `${sum('guichet_counters_queue_notifications_total', 'source="sweep"')} announced by ${sweeps} safety sweeps, ` +
      `${sum('guichet_counters_waiters_woken_total', 'reason="ticket"')} agents woken by a ticket, ${sum('guichet_counters_waiters_woken_total', 'reason="check"')} after a gap`,
  );

  // the same server processes, all at once
  const baselines = await Promise.all(
    fixture.ports.map((p) => autocannon({ url: `http://127.0.0.1:${p}/healthz`, connections: Math.ceil(CONNECTIONS / fixture.ports.length), duration: BASELINE_SECONDS })),
  );
  const baselineRps = baselines.reduce((a, b) => a + b.requests.average, 0);
  // The other server processes first: the first one drops the database, which would cut their connections.
  await stopAll(children.slice(1));
  const stopped: { notDone: number; total: number } = await new Promise((resolve) => {
    child.on('message', (m: { type: string; notDone: number; total: number }) => m.type === 'stopped' && resolve(m));
    child.send({ type: 'stop' });
  });
  agent.destroy();
  describeSide(guichetSide);
  console.log(`tickets: ${arrivals.length} arrived, ${day.created} created, ${day.served} served, ${stopped.total} in the database, ${stopped.notDone} not done`);
  const p99 = pct(day.callMs, 0.99);
  const floorP99 = floorSide ? pct(floorSide.day.callMs, 0.99) : NaN;
  const idlePolls = day.idleReads + sweeps;
  steal.stop();
  if (floorSide) {
    const [g, f] = [calmP99(day), calmP99(floorSide.day)];
    console.log(`calm seconds only (not the issue's figure; docs/decisions/0015): call-next p99 ${g.p99.toFixed(1)} / floor ${f.p99.toFixed(1)} ms, ratio ${(g.p99 / f.p99).toFixed(2)}`);
  }
  console.log(`idle polls: ${day.idleReads} queue reads by agents already told nobody was there + ${sweeps} safety sweeps = ${idlePolls}`);
  console.log(
    `bench:queue tickets=${day.served} call_next_p99_ms=${p99.toFixed(1)} floor_p99_ms=${floorP99.toFixed(1)} p99_ratio=${(p99 / floorP99).toFixed(2)} idle_polls=${idlePolls} ` +
      `rps=${rps.toFixed(0)} baseline_rps=${baselineRps.toFixed(0)} pooled_wait_gain=${gain.toFixed(2)}`,
  );
}

if (process.env.BENCH_ROLE === 'server') await server();
else if (process.env.BENCH_ROLE === 'replica') await replica();
else if (process.env.BENCH_ROLE === 'floor') await floor();
else await main();
