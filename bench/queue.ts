/**
 * npm run bench:queue
 *
 * 50 offices × 20 counters (shared counters, one agent each), one compressed day of 100,000 walk-in tickets driven
 * over HTTP on PostgreSQL (DATABASE_URL; required): arrivals follow the hourly profile of the shared-office scenario,
 * each one is created (POST /tickets), called by a counter of its office (POST /call-next: routing policy + SKIP
 * LOCKED) and completed. Then the same server's /healthz throughput with the same number of connections.
 * pooled_wait_gain: simulated mean wait with separate queues per organisation / with the pooled shared counter, on
 * the same arrivals (src/counters/scenarios/shared-office.json, production routing code).
 *
 * The server runs in a child process (its own event loop); the load generator runs here.
 * Environment: BENCH_TICKETS (100000), BENCH_OFFICES (50), BENCH_COUNTERS (20), BENCH_CONNECTIONS (64),
 * BENCH_BASELINE_SECONDS (10), BENCH_POOL (20).
 * Last line: bench:queue tickets=<n> call_next_p99_ms=<x> rps=<x> baseline_rps=<x> ratio=<x> pooled_wait_gain=<x>
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { benchServer, sha256 } from './support';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 100_000);
const OFFICES = Number(process.env.BENCH_OFFICES ?? 50);
const COUNTERS = Number(process.env.BENCH_COUNTERS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const BASELINE_SECONDS = Number(process.env.BENCH_BASELINE_SECONDS ?? 10);
const POOL = Number(process.env.BENCH_POOL ?? 20);
const here = path.dirname(fileURLToPath(import.meta.url));
const SERVICES = ['demo-dog-licence', 'demo-property-tax-address', 'demo-driver-licence', 'demo-health-card', 'gc-1292'];

interface Fixture {
  port: number;
  offices: Array<{ id: string; counters: Array<{ id: string; cookie: string; csrf: string }> }>;
}

async function server(): Promise<void> {
  const { database, config, app, db } = await benchServer(POOL);
  const sha = sha256;
  const tpl = await db.selectFrom('offices').selectAll().where('id', '=', 'ottawa-ben-franklin').executeTakeFirstOrThrow();
  const fixture: Fixture = { port: 0, offices: [] };
  const now = Date.now();
  for (let o = 0; o < OFFICES; o++) {
    const id = `bench-office-${o}`;
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
  await app.listen({ port: 0, host: '127.0.0.1' });
  fixture.port = (app.server.address() as { port: number }).port;
  process.send!({ type: 'ready', fixture });
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'stop') {
      const left = await db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).where('status', 'not in', ['done']).executeTakeFirstOrThrow();
      const total = await db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      process.send!({ type: 'stopped', notDone: Number(left.n), total: Number(total.n) });
      await app.close();
      await database.cleanup();
      process.exit(0);
    }
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
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

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? 0;
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

  const child = fork(process.argv[1], [], { env: { ...process.env, BENCH_ROLE: 'server', NODE_ENV: 'test' }, execArgv: process.execArgv, stdio: 'inherit' });
  const fixture: Fixture = await new Promise((resolve, reject) => {
    child.once('message', (m: { type: string; fixture: Fixture }) => (m.type === 'ready' ? resolve(m.fixture) : reject(new Error('bad message'))));
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const port = fixture.port;
  console.log(`server ready on :${port}: ${fixture.offices.length} offices × ${COUNTERS} counters; simulated mean wait separate ${sep.meanWaitMin.toFixed(2)} min, pooled ${pool.meanWaitMin.toFixed(2)} min`);

  // one compressed day: arrivals per office in the order of the scenario's hourly profile (busy hours denser)
  const profile: number[] = scenario.services.reduce((acc: number[], s: { arrivalsPerHour: number[] }) => s.arrivalsPerHour.map((r, h) => (acc[h] ?? 0) + r), []);
  const total = profile.reduce((a, b) => a + b, 0);
  const arrivals: Array<{ office: number; service: string; lang: string }> = [];
  for (let h = 0; h < profile.length; h++) {
    const n = Math.round((TICKETS * profile[h]) / total);
    for (let i = 0; i < n && arrivals.length < TICKETS; i++) arrivals.push({ office: Math.floor(Math.random() * fixture.offices.length), service: SERVICES[Math.floor(Math.random() * SERVICES.length)], lang: Math.random() < 0.35 ? 'fr' : 'en' });
  }
  while (arrivals.length < TICKETS) arrivals.push({ office: Math.floor(Math.random() * fixture.offices.length), service: SERVICES[0], lang: 'en' });

  const callMs: number[] = [];
  let requests = 0;
  let errors = 0;
  let cursor = 0;
  let served = 0;
  const nextCounter = fixture.offices.map(() => 0);
  const started = performance.now();
  let lastLog = started;
  const callAndComplete = async (o: number): Promise<boolean> => {
    const office = fixture.offices[o];
    const c = office.counters[nextCounter[o]++ % office.counters.length];
    const r = await post(port, `/api/v1/offices/${office.id}/counters/${c.id}/call-next`, c.cookie, c.csrf);
    requests++;
    if (r.status === 409) return true; // this counter is still busy with a client called by another worker
    if (r.status !== 200) {
      errors++;
      return false;
    }
    callMs.push(r.ms);
    if (!r.json.ticket) return false;
    const d = await post(port, `/api/v1/offices/${office.id}/tickets/${r.json.ticket.id}/complete`, c.cookie, c.csrf, {});
    requests++;
    if (d.status !== 200) errors++;
    else served++;
    return true;
  };
  const worker = async () => {
    for (;;) {
      const i = cursor++;
      if (i >= arrivals.length) break;
      const a = arrivals[i];
      const office = fixture.offices[a.office];
      const greeter = office.counters[0];
      const r = await post(port, `/api/v1/offices/${office.id}/tickets`, greeter.cookie, greeter.csrf, { services: [a.service], language: a.lang });
      requests++;
      if (r.status !== 201) errors++;
      // counters call at about the arrival rate; a backlog forms in busy hours and drains later
      if (i % 10 !== 0) await callAndComplete(a.office);
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        console.log(`  ${i} tickets, ${served} served, ${(requests / ((lastLog - started) / 1000)).toFixed(0)} req/s, call-next p99 ${pct(callMs.slice(-5000), 0.99).toFixed(1)} ms`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  // end of day: drain every office
  await Promise.all(fixture.offices.map(async (_, o) => {
    let empty = 0;
    while (empty < 3) empty = (await callAndComplete(o)) ? 0 : empty + 1;
  }));
  const elapsed = (performance.now() - started) / 1000;
  const rps = requests / elapsed;
  const p99 = pct(callMs, 0.99);

  const baseline = await autocannon({ url: `http://127.0.0.1:${port}/healthz`, connections: CONNECTIONS, duration: BASELINE_SECONDS });
  const baselineRps = baseline.requests.average;
  const stopped: { notDone: number; total: number } = await new Promise((resolve) => {
    child.on('message', (m: { type: string; notDone: number; total: number }) => m.type === 'stopped' && resolve(m));
    child.send({ type: 'stop' });
  });
  agent.destroy();
  console.log(`${arrivals.length} tickets, ${served} served, ${stopped.total} in the database, ${stopped.notDone} not done, ${errors} errors, ${requests} requests in ${elapsed.toFixed(1)} s; call-next p50 ${pct(callMs, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (${callMs.length} calls)`);
  console.log(`bench:queue tickets=${served} call_next_p99_ms=${p99.toFixed(1)} rps=${rps.toFixed(0)} baseline_rps=${baselineRps.toFixed(0)} ratio=${(rps / baselineRps).toFixed(3)} pooled_wait_gain=${gain.toFixed(2)}`);
}

if (process.env.BENCH_ROLE === 'server') await server();
else await main();
