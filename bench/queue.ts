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
 * Environment: BENCH_TICKETS (100000), BENCH_OFFICES (50), BENCH_COUNTERS (20), BENCH_DAY_SECONDS (960), BENCH_SERVERS (2),
 * BENCH_CONNECTIONS (64, the HTTP keep-alive sockets of the load generator), BENCH_BASELINE_SECONDS (10), BENCH_POOL (6 connections per server process: docs/counters.md, fifth session),
 * BENCH_HISTORY_DAYS (10: previous days of done tickets loaded before the day, see loadHistory).
 * Last line: bench:queue tickets=<n> call_next_p99_ms=<x> rps=<x> baseline_rps=<x> ratio=<x> pooled_wait_gain=<x>
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { benchReplica, benchServer, percentile, sha256 } from './support';

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

/** A further server process over the database the first one prepared (BENCH_ROLE=replica, BENCH_DB=<url>). */
async function replica(): Promise<void> {
  const { database, app } = await benchReplica(process.env.BENCH_DB!, POOL);
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.send!({ type: 'ready', port: (app.server.address() as { port: number }).port });
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'cpu') process.send!({ type: 'cpu', cpu: process.cpuUsage() });
    if (m.type === 'stop') {
      await app.close();
      await database.close();
      process.exit(0);
    }
  });
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
  const { database, config, app, db } = await benchServer(POOL);
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
    await db.insertInto('agent_profiles').values(staff.map((s) => ({ staff_id: s.id, skills: [], languages: ['en', 'fr'], lent_to_org_id: null }))).execute();
    const counters = await db.insertInto('counters').values(staff.map((s, c) => ({ office_id: id, label: String(c + 1), org_id: null, agent_id: s.id, opened_at: new Date() }))).returning(['id', 'agent_id']).execute();
    const entry: Fixture['offices'][number] = { id, counters: [] };
    for (const c of counters) {
      const token = crypto.randomBytes(32).toString('base64url');
      const csrf = crypto.randomBytes(24).toString('base64url');
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
    if (m.type === 'cpu') process.send!({ type: 'cpu', cpu: process.cpuUsage() });
    if (m.type === 'stop') {
      // the day's tickets only (the history's days are two days back or more)
      const today = sql<boolean>`day >= current_date - 1`;
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
function post(port: number, url: string, cookie: string, csrf: string, body?: unknown): Promise<{ status: number; json: any; ms: number }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: url, method: 'POST', agent, headers: { cookie, 'x-csrf-token': csrf, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: data ? JSON.parse(data) : null, ms: performance.now() - t0 }));
    });
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** p as a fraction (0.99), of unsorted values */
const pct = (xs: number[], p: number): number => percentile([...xs].sort((a, b) => a - b), p * 100) || 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

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

  const child = fork(process.argv[1], [], { env: { ...process.env, BENCH_ROLE: 'server', NODE_ENV: 'test' }, execArgv: process.execArgv, stdio: 'inherit' });
  const fixture: Fixture = await new Promise((resolve, reject) => {
    child.once('message', (m: { type: string; fixture: Fixture }) => (m.type === 'ready' ? resolve(m.fixture) : reject(new Error('bad message'))));
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const children = [child];
  for (let i = 1; i < SERVERS; i++) {
    const r = fork(process.argv[1], [], { env: { ...process.env, BENCH_ROLE: 'replica', BENCH_DB: fixture.databaseUrl, NODE_ENV: 'test' }, execArgv: process.execArgv, stdio: 'inherit' });
    fixture.ports.push(
      await new Promise<number>((resolve, reject) => {
        r.once('message', (m: { type: string; port: number }) => resolve(m.port));
        r.once('exit', (code) => reject(new Error(`server ${i} exited ${code}`)));
      }),
    );
    children.push(r);
  }
  const port = fixture.port;
  // each office is served by one process (as a load balancer with office affinity would do); any would do, the
  // state is in the database
  const portOf = (o: number) => fixture.ports[o % fixture.ports.length];

  // The day: arrivals per office at their own times, hour by hour after the scenario's profile.
  const profile: number[] = scenario.services.reduce((acc: number[], s: { arrivalsPerHour: number[] }) => s.arrivalsPerHour.map((r, h) => (acc[h] ?? 0) + r), []);
  const total = profile.reduce((a, b) => a + b, 0);
  const hourMs = (DAY_SECONDS * 1000) / profile.length;
  const arrivals: Array<{ at: number; office: number; service: string; lang: string }> = [];
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
  // with nobody waiting, an agent looks again after about one mean service time
  const idleRecheckMs = meanServiceMs;
  console.log(
    `${fixture.ports.length} server process(es) ready on :${fixture.ports.join(', :')}: ${fixture.offices.length} offices × ${COUNTERS} counters; ${TICKETS} tickets over ${DAY_SECONDS} s ` +
      `(${(TICKETS / DAY_SECONDS).toFixed(0)} arrivals/s on average, busiest hour ${((TICKETS * Math.max(...profile)) / total / (hourMs / 1000)).toFixed(0)}/s); ` +
      `mean service ${meanServiceMs.toFixed(0)} ms (compressed); simulated mean wait separate ${sep.meanWaitMin.toFixed(2)} min, pooled ${pool.meanWaitMin.toFixed(2)} min`,
  );

  const cpuOf = (c: ChildProcess) =>
    new Promise<number>((resolve) => {
      const on = (m: { type: string; cpu: NodeJS.CpuUsage }) => {
        if (m.type === 'cpu') {
          c.off('message', on);
          resolve((m.cpu.user + m.cpu.system) / 1e6);
        }
      };
      c.on('message', on);
      c.send({ type: 'cpu' });
    });
  /** CPU seconds used so far by every server process */
  const cpu = async () => (await Promise.all(children.map(cpuOf))).reduce((a, b) => a + b, 0);
  // Warm-up (not measured): every server process creates, calls and completes tickets of the warm-up office.
  const w = fixture.warmUp!;
  for (const p of fixture.ports) {
    await Promise.all(
      w.counters.slice(0, 4).map(async (k) => {
        for (let i = 0; i < 100; i++) {
          await post(p, `/api/v1/offices/${w.id}/tickets`, k.cookie, k.csrf, { services: [SERVICES[i % SERVICES.length]], language: 'en' });
          const r = await post(p, `/api/v1/offices/${w.id}/counters/${k.id}/call-next`, k.cookie, k.csrf);
          if (r.json?.ticket) await post(p, `/api/v1/offices/${w.id}/tickets/${r.json.ticket.id}/complete`, k.cookie, k.csrf, {});
        }
      }),
    );
  }
  const cpuBefore = await cpu();
  const callMs: number[] = [];
  const createMs: number[] = [];
  const completeMs: number[] = [];
  let emptyCalls = 0;
  let requests = 0;
  let errors = 0;
  let created = 0;
  let served = 0;
  const started = performance.now();
  const dayEnd = DAY_SECONDS * 1000;
  const now = () => performance.now() - started;
  const expo = (mean: number) => -Math.log(1 - Math.random()) * mean;

  // Kiosks and greeters: open loop, each arrival at its time whatever the answers' speed.
  const pendingCreates = new Set<Promise<void>>();
  const arrive = async () => {
    for (const a of arrivals) {
      const wait = a.at - now();
      if (wait > 1) await sleep(wait);
      const office = fixture.offices[a.office];
      const greeter = office.counters[0];
      const p = post(portOf(a.office), `/api/v1/offices/${office.id}/tickets`, greeter.cookie, greeter.csrf, { services: [a.service], language: a.lang }).then(
        (r) => {
          requests++;
          createMs.push(r.ms);
          if (r.status !== 201) errors++;
          else created++;
        },
        () => {
          errors++;
        },
      );
      pendingCreates.add(p);
      void p.finally(() => pendingCreates.delete(p));
    }
    await Promise.all(pendingCreates);
  };
  let arrivalsDone = false;
  /** call-next answers slower than 20 ms, per second of the day: shows whether slow answers come in bursts */
  const slowBySecond = new Map<number, number>();
  const dayStart = performance.now();
  const counter = async (o: number, c: number) => {
    const office = fixture.offices[o];
    const k = office.counters[c];
    await sleep(Math.random() * idleRecheckMs); // agents do not all start on the same millisecond
    let emptyAfterDay = 0;
    for (;;) {
      const r = await post(portOf(o), `/api/v1/offices/${office.id}/counters/${k.id}/call-next`, k.cookie, k.csrf).catch(() => null);
      requests++;
      if (!r || r.status !== 200) {
        errors++;
        if (errors <= 5) console.log(`  call-next answered ${r?.status ?? 'no response'}: ${JSON.stringify(r?.json)}`);
        if (arrivalsDone) return;
        await sleep(idleRecheckMs);
        continue;
      }
      callMs.push(r.ms);
      if (r.ms > 20) {
        const second = Math.floor((performance.now() - dayStart) / 1000);
        slowBySecond.set(second, (slowBySecond.get(second) ?? 0) + 1);
      }
      if (!r.json.ticket) {
        emptyCalls++;
        if (arrivalsDone && ++emptyAfterDay >= 2) return; // the office is empty at the end of the day
        await sleep(idleRecheckMs);
        continue;
      }
      emptyAfterDay = 0;
      await sleep(expo(meanServiceMs));
      const d = await post(portOf(o), `/api/v1/offices/${office.id}/tickets/${r.json.ticket.id}/complete`, k.cookie, k.csrf, {}).catch(() => null);
      requests++;
      if (!d || d.status !== 200) {
        errors++;
        if (errors <= 5) console.log(`  complete answered ${d?.status ?? 'no response'}: ${JSON.stringify(d?.json)}`);
      } else {
        served++;
        completeMs.push(d.ms);
      }
    }
  };
  const progress = setInterval(() => {
    const t = now() / 1000;
    console.log(`  ${t.toFixed(0)} s: ${created} tickets created, ${served} served, ${(requests / t).toFixed(0)} req/s, call-next p99 ${pct(callMs.slice(-5000), 0.99).toFixed(1)} ms (last 5,000)`);
  }, 30_000);
  const counters = fixture.offices.flatMap((office, o) => office.counters.map((_, c) => counter(o, c)));
  await arrive();
  arrivalsDone = true;
  await Promise.all(counters);
  clearInterval(progress);
  const cpuAfter = await cpu();
  const elapsed = (performance.now() - started) / 1000;
  const rps = requests / elapsed;
  const p99 = pct(callMs, 0.99);

  // The server's own view (Prometheus /metrics): time from request to reply per route, and event-loop lag.
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
  const serverView = (route: string) => {
    const lines = metrics.split('\n').filter((l) => l.startsWith('guichet_http_request_duration_seconds_bucket') && l.includes(`route="${route}"`) && l.includes('status="200"'));
    const byLe = new Map<string, number>();
    for (const l of lines) {
      const le = /le="([^"]+)"/.exec(l)?.[1];
      if (le) byLe.set(le, (byLe.get(le) ?? 0) + Number(l.split(' ').pop()));
    }
    const all = byLe.get('+Inf') ?? 0;
    return ['0.005', '0.01', '0.025', '0.05', '0.1'].map((le) => `≤${Number(le) * 1000} ms ${all ? ((100 * (byLe.get(le) ?? 0)) / all).toFixed(1) : '0'} %`).join(', ');
  };
  const lag = (name: string) => Math.max(...[...metrics.matchAll(new RegExp(`^guichet_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'gm'))].map((m) => Number(m[1])));
  console.log(`server-side call-next (Fastify, request to reply): ${serverView('/api/v1/offices/:officeId/counters/:counterId/call-next')}`);
  console.log(`server event-loop lag: p99 ${(lag('p99') * 1000).toFixed(1)} ms, max ${(lag('max') * 1000).toFixed(1)} ms`);

  // the same server processes, all at once
  const baselines = await Promise.all(
    fixture.ports.map((p) => autocannon({ url: `http://127.0.0.1:${p}/healthz`, connections: Math.ceil(CONNECTIONS / fixture.ports.length), duration: BASELINE_SECONDS })),
  );
  const baselineRps = baselines.reduce((a, b) => a + b.requests.average, 0);
  // The other server processes first: the first one drops the database, which would cut their connections.
  const replicas = children.slice(1);
  const replicasExited = replicas.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r))));
  for (const c of replicas) c.send({ type: 'stop' });
  await Promise.all(replicasExited);
  const stopped: { notDone: number; total: number } = await new Promise((resolve) => {
    child.on('message', (m: { type: string; notDone: number; total: number }) => m.type === 'stopped' && resolve(m));
    child.send({ type: 'stop' });
  });
  agent.destroy();
  console.log(`day ${dayEnd / 1000} s compressed, ${elapsed.toFixed(1)} s with the end-of-day drain; ${requests} requests (${rps.toFixed(0)}/s), ${errors} errors`);
  const serverCpuS = cpuAfter - cpuBefore;
  console.log(`server processes' CPU: ${serverCpuS.toFixed(1)} s (${((serverCpuS / elapsed) * 100).toFixed(0)} % of one core), ${((serverCpuS * 1000) / requests).toFixed(3)} ms per request`);
  console.log(`tickets: ${arrivals.length} arrived, ${created} created, ${served} served, ${stopped.total} in the database, ${stopped.notDone} not done`);
  console.log(`create p50 ${pct(createMs, 0.5).toFixed(1)} ms p99 ${pct(createMs, 0.99).toFixed(1)} ms; complete p50 ${pct(completeMs, 0.5).toFixed(1)} ms p99 ${pct(completeMs, 0.99).toFixed(1)} ms`);
  console.log(`call-next p50 ${pct(callMs, 0.5).toFixed(1)} ms p90 ${pct(callMs, 0.9).toFixed(1)} ms p99 ${p99.toFixed(1)} ms max ${pct(callMs, 1).toFixed(1)} ms (${callMs.length} calls, ${emptyCalls} with nobody waiting)`);
  const slowTotal = [...slowBySecond.values()].reduce((a, b) => a + b, 0);
  const worst = [...slowBySecond].sort((a, b) => b[1] - a[1]).slice(0, 5);
  console.log(
    `call-next over 20 ms: ${slowTotal} in ${slowBySecond.size} of the day's seconds; most in second ` +
      worst.map(([sec, n]) => `${sec} (${n}, ${new Date(Date.now() - (performance.now() - dayStart) + sec * 1000).toISOString().slice(11, 19)} UTC)`).join(', '),
  );
  console.log(`bench:queue tickets=${served} call_next_p99_ms=${p99.toFixed(1)} rps=${rps.toFixed(0)} baseline_rps=${baselineRps.toFixed(0)} ratio=${(rps / baselineRps).toFixed(3)} pooled_wait_gain=${gain.toFixed(2)}`);
}

if (process.env.BENCH_ROLE === 'server') await server();
else if (process.env.BENCH_ROLE === 'replica') await replica();
else await main();
