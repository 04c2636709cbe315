/**
 * npm run bench:cases
 *
 * 200 concurrent contact-centre agents for 60 s against PostgreSQL (DATABASE_URL; required). Each agent serves a
 * client who gave them a one-time code, and loops over: search the information bank (agent console page), open a
 * case on the client's behalf (POST /api/v1/cases, channel phone), log an interaction, and refer the case to
 * another organisation with the client's consent (warm referral). Then the same server's /healthz throughput with
 * the same number of connections, in the same run.
 *
 * The server runs in child processes, BENCH_SERVERS of them (default 2: one per core, as production runs Node), as a
 * node:cluster sharing one port, so autocannon's connections are spread over them; autocannon runs here.
 * Before the measured run, the same mix runs for BENCH_WARMUP_SECONDS (5, not measured) to warm the processes up.
 * Environment: BENCH_AGENTS (200), BENCH_SECONDS (60), BENCH_BASELINE_SECONDS (15), BENCH_POOL (20, per process),
 * BENCH_SERVERS (2), BENCH_WARMUP_SECONDS (5).
 * Prints the latency of each step (search, open, interaction, refer: p50, p90, p99), measured here from the moment a
 * request is built to the moment its response is parsed, beside autocannon's figures for all requests.
 * Last line: bench:cases agents=<n> rps=<x> p99_ms=<x> baseline_rps=<x> ratio=<x> errors=<n>
 */
import cluster from 'node:cluster';
import crypto from 'node:crypto';
import { fork, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { benchReplica, benchServer, cpuSplit, freePort, percentile, postgresCpuMs, processCpuMs, run, sha256 } from './support';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const BASELINE_SECONDS = Number(process.env.BENCH_BASELINE_SECONDS ?? Math.min(SECONDS, 15));
const POOL = Number(process.env.BENCH_POOL ?? 20);
const SERVERS = Math.max(1, Number(process.env.BENCH_SERVERS ?? 2));
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);

interface Fixture {
  port: number;
  agents: Array<{ cookie: string; csrf: string; clientId: string }>;
}

async function server(): Promise<void> {
  const { database, config, app, db } = await benchServer(POOL);
  const sha = sha256;
  const agents: Fixture['agents'] = [];
  const now = new Date();
  const staffRows = [];
  const clientRows = [];
  const consentRows = [];
  const codeRows = [];
  const sessionRows = [];
  for (let i = 0; i < AGENTS; i++) {
    const staffId = `bench-agent-${i}`;
    const clientId = crypto.randomUUID();
    const token = crypto.randomBytes(32).toString('base64url');
    const csrf = crypto.randomBytes(24).toString('base64url');
    staffRows.push({ id: staffId, email: `${staffId}@guichet.example`, name: `Bench Agent ${i}`, org_id: 'guichet', roles: ['agent'], oidc_subject: null });
    clientRows.push({
      id: clientId, kind: 'person' as const, oidc_subject: `bench-${clientId}`, given_name: 'Bench', family_name: `Client ${i}`, business_name: null, business_number: null,
      birth_date: null, email: null, phone: null, preferred_lang: i % 2 ? ('fr' as const) : ('en' as const), contact_preferences: JSON.stringify({ email: false }), accessibility_needs: null,
    });
    // The client read a one-time code to this agent: an agent-access consent and the redeemed code.
    const consentId = crypto.randomUUID();
    consentRows.push({ id: consentId, client_id: clientId, org_id: 'guichet', purpose: 'agent-access', fields: ['profile', 'cases'], legal_basis: 'consent' as const, law_reference: null, valid_until: new Date(now.getTime() + 6 * 3600_000), withdrawn_at: null });
    codeRows.push({ id: crypto.randomUUID(), code_hash: sha(`bench-code-${i}-${clientId}`), client_id: clientId, expires_at: now, used_at: now, used_by: staffId, consent_id: consentId });
    sessionRows.push({ id: sha(token), kind: 'staff' as const, subject_id: staffId, data: JSON.stringify({}), expires_at: new Date(now.getTime() + 6 * 3600_000) });
    agents.push({ cookie: `guichet_csrf=${csrf}; guichet_sid=${token}`, csrf, clientId });
  }
  await db.insertInto('staff_users').values(staffRows).execute();
  await db.insertInto('clients').values(clientRows).execute();
  await db.insertInto('consents').values(consentRows).execute();
  await db.insertInto('client_access_codes').values(codeRows).execute();
  await db.insertInto('sessions').values(sessionRows).execute();
  // The fixture is written; the HTTP servers are cluster workers over the same database, sharing one port.
  await app.close();
  const port = await freePort();
  cluster.setupPrimary({ exec: process.argv[1], execArgv: process.execArgv });
  const workers = Array.from({ length: SERVERS }, () => cluster.fork({ ...process.env, BENCH_ROLE: 'worker', BENCH_DB: database.url ?? '', BENCH_PORT: String(port), NODE_ENV: 'test' }));
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.on('message', (m: { type: string }) => m.type === 'listening' && resolve()))));
  /** CPU time (ms) used so far by the HTTP worker processes */
  const workerPids = new Set(workers.map((w) => w.process.pid));
  const workersCpu = () => processCpuMs((_name, pid) => workerPids.has(pid));
  const counts = async () => {
    const c = await db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const r = await db.selectFrom('case_referrals').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const i = await db.selectFrom('case_interactions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { cases: Number(c.n), referrals: Number(r.n), interactions: Number(i.n) };
  };
  process.send!({ type: 'ready', fixture: { port, agents } satisfies Fixture });
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'counts') process.send!({ type: 'counts', counts: await counts() });
    if (m.type === 'cpu') process.send!({ type: 'cpu', cpu: workersCpu() });
    if (m.type === 'stop') {
      for (const w of workers) w.kill();
      await Promise.all(workers.map((w) => new Promise((r) => (w.isDead() ? r(null) : w.once('exit', r)))));
      await database.cleanup();
      process.exit(0);
    }
  });
}

/** One HTTP server process of the cluster (BENCH_ROLE=worker) over the database the primary prepared. */
async function worker(): Promise<void> {
  const { app } = await benchReplica(process.env.BENCH_DB!, POOL);
  await app.listen({ port: Number(process.env.BENCH_PORT), host: '127.0.0.1' });
  // stopped by the primary: exit normally, so that `node --cpu-prof` writes this process's profile
  process.on('SIGTERM', () => process.exit(0));
  process.send!({ type: 'listening' });
}

function ask<T>(child: ChildProcess, type: string, reply: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: any) => {
      if (m?.type === reply) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    if (type) child.send({ type });
  });
}

async function main() {
  if (!process.env.DATABASE_URL) {
    console.error('bench:cases needs PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:55432/postgres)');
    process.exit(2);
  }
  const child = fork(process.argv[1], [], { env: { ...process.env, BENCH_ROLE: 'server', NODE_ENV: 'test' }, execArgv: process.execArgv, stdio: 'inherit' });
  const { fixture } = await ask<{ fixture: Fixture }>(child, '', 'ready');
  const url = `http://127.0.0.1:${fixture.port}`;
  console.log(`server ready on ${url} (${SERVERS} process(es), one port); ${fixture.agents.length} agents, each serving one client; ${SECONDS}s`);
  const queries = ['birth', 'health card', 'licence', 'passport', 'address', 'permis', 'naissance', 'pension', 'tax', 'dog'];
  const targets = ['on-mto', 'ottawa', 'on-mnr', 'on-pbr']; // never the owner of the two services used
  let next = 0;
  let unexpected: Record<string, number> = {};
  const note = (step: string, status: number) => {
    const k = `${step}:${status}`;
    unexpected[k] = (unexpected[k] ?? 0) + 1;
  };
  // Latency by step, measured here (autocannon reports only all requests together): from the moment autocannon
  // builds a request (just before it writes it) to the moment it hands over the parsed response.
  const stepNames = ['search', 'open', 'interaction', 'refer'] as const;
  let byStep: Record<string, number[]> = {};
  const sent = (ctx: any) => (ctx.sentAt = performance.now());
  const took = (step: string, ctx: any) => (byStep[step] ??= []).push(performance.now() - ctx.sentAt);
  const headersOf = (a: Fixture['agents'][number]) => ({ cookie: a.cookie, 'x-csrf-token': a.csrf, 'content-type': 'application/json', accept: 'application/json' });

  // The four steps of an agent serving a client, in order (each connection is one agent).
  const steps: any[] = [
    {
      // 1. search the information bank (agent console page)
      method: 'GET',
      setupRequest: (req: any, ctx: any) => {
        ctx.agent = fixture.agents[next++ % fixture.agents.length];
        ctx.n = next;
        sent(ctx);
        return { ...req, path: `/en/staff/console?q=${encodeURIComponent(queries[ctx.n % queries.length])}`, headers: { ...headersOf(ctx.agent), accept: 'text/html' } };
      },
      onResponse: (status: number, _body: string, ctx: any) => {
        took('search', ctx);
        if (status !== 200) note('search', status);
      },
    },
    {
      // 2. open a case on the client's behalf
      method: 'POST',
      setupRequest: (req: any, ctx: any) => {
        sent(ctx);
        return {
          ...req,
          path: '/api/v1/cases',
          headers: headersOf(ctx.agent),
          body: JSON.stringify({ serviceId: ctx.n % 2 ? 'demo-birth-certificate' : 'demo-health-card', summary: `Caller ${ctx.n} needs help; identity checked by code`, channel: 'phone', clientId: ctx.agent.clientId }),
        };
      },
      onResponse: (status: number, body: string, ctx: any) => {
        took('open', ctx);
        if (status === 201) ctx.caseId = JSON.parse(body).id;
        else note('open', status);
      },
    },
    {
      // 3. log the interaction
      method: 'POST',
      setupRequest: (req: any, ctx: any) =>
        ctx.caseId && sent(ctx)
          ? { ...req, path: `/api/v1/cases/${ctx.caseId}/interactions`, headers: headersOf(ctx.agent), body: JSON.stringify({ channel: 'phone', outcome: 'information_given', note: 'Explained the steps' }) }
          : null,
      onResponse: (status: number, _body: string, ctx: any) => {
        took('interaction', ctx);
        if (status !== 201) note('interaction', status);
      },
    },
    {
      // 4. warm referral with the client's consent
      method: 'POST',
      setupRequest: (req: any, ctx: any) =>
        ctx.caseId && sent(ctx)
          ? {
              ...req,
              path: `/api/v1/cases/${ctx.caseId}/referrals`,
              headers: headersOf(ctx.agent),
              body: JSON.stringify({ toOrgId: targets[ctx.n % targets.length], summary: 'Client also needs this; context verified, no need to ask again', clientConsent: true, channel: 'phone' }),
            }
          : null,
      onResponse: (status: number, _body: string, ctx: any) => {
        took('refer', ctx);
        if (status !== 201) note('refer', status);
      },
    },
  ];
  // Warm-up (not measured): every worker process compiles its hot paths and fills its pools and caches.
  const warm = await autocannon({ url, connections: AGENTS, duration: WARMUP_SECONDS, timeout: 30, requests: steps });
  const warmErrors = warm.errors + warm.timeouts + warm.non2xx;
  const warmSteps = unexpected;
  unexpected = {};
  byStep = {};
  const countsBefore = (await ask<{ counts: { cases: number; referrals: number; interactions: number } }>(child, 'counts', 'counts')).counts;
  const cpuBefore = (await ask<{ cpu: number }>(child, 'cpu', 'cpu')).cpu;
  const pgBefore = postgresCpuMs();
  const selfBefore = process.cpuUsage();
  const result = await autocannon({
    url,
    connections: AGENTS,
    duration: SECONDS,
    timeout: 30,
    requests: steps,
  });
  const measuredSteps = byStep;
  const self = process.cpuUsage(selfBefore);
  const pgMs = postgresCpuMs() - pgBefore;
  const cpuAfter = (await ask<{ cpu: number }>(child, 'cpu', 'cpu')).cpu;
  const counts = (await ask<{ counts: { cases: number; referrals: number; interactions: number } }>(child, 'counts', 'counts')).counts;
  const baseline = await autocannon({ url: `${url}/healthz`, connections: AGENTS, duration: BASELINE_SECONDS });
  child.send({ type: 'stop' });
  await new Promise((r) => child.once('exit', r));

  const rps = result.requests.average;
  const p99 = result.latency.p99;
  // errors count the warm-up too: nothing may fail, measured or not
  const errors = result.errors + result.timeouts + result.non2xx + warmErrors;
  const baselineRps = baseline.requests.average;
  console.log(`warm-up (${WARMUP_SECONDS} s, not measured): ${warm.requests.total} requests, errors=${warmErrors} ${JSON.stringify(warmSteps)}`);
  console.log(`agents requests: total=${result.requests.total} avg_rps=${rps.toFixed(1)} latency p50=${result.latency.p50}ms p90=${result.latency.p90}ms p99=${p99}ms max=${result.latency.max}ms`);
  console.log(
    `latency by step (ms): ${stepNames
      .map((k) => {
        const xs = (measuredSteps[k] ?? []).sort((a, b) => a - b);
        return `${k} n=${xs.length} p50=${percentile(xs, 50).toFixed(0)} p90=${percentile(xs, 90).toFixed(0)} p99=${percentile(xs, 99).toFixed(0)}`;
      })
      .join('; ')}`,
  );
  // CPU time of the server process per request: independent of what else runs on the machine.
  const serverCpuMs = cpuAfter - cpuBefore;
  console.log(`server processes' CPU: ${(serverCpuMs / result.requests.total).toFixed(3)} ms per request (${(serverCpuMs / 1000).toFixed(1)} s over ${SECONDS} s, ${SERVERS} process(es))`);
  // PostgreSQL's share counts only when it runs on this machine (as in CI and the committed runs)
  const loadMs = (self.user + self.system) / 1000;
  console.log(cpuSplit(pgMs > 0 ? { server: serverCpuMs, postgres: pgMs, autocannon: loadMs } : { server: serverCpuMs, autocannon: loadMs }, result.requests.total));
  console.log(`agents errors: socket=${result.errors} timeouts=${result.timeouts} non2xx=${result.non2xx} by step: ${JSON.stringify(unexpected)}`);
  console.log(
    `written during the measured ${SECONDS} s: cases=${counts.cases - countsBefore.cases} interactions=${counts.interactions - countsBefore.interactions} referrals=${counts.referrals - countsBefore.referrals}`,
  );
  // Closed loop (each agent sends its next request when the last is answered): Little's law fixes the mean latency.
  console.log(
    `closed loop: mean latency = agents / throughput = ${AGENTS} / ${rps.toFixed(0)} req/s = ${((AGENTS / rps) * 1000).toFixed(0)} ms (measured mean ${result.latency.average} ms); p99 cannot be below it`,
  );
  console.log(`/healthz baseline: ${BASELINE_SECONDS}s avg_rps=${baselineRps.toFixed(1)} p99=${baseline.latency.p99}ms errors=${baseline.errors + baseline.non2xx}`);
  console.log(`bench:cases agents=${AGENTS} rps=${rps.toFixed(1)} p99_ms=${p99} baseline_rps=${baselineRps.toFixed(1)} ratio=${(rps / baselineRps).toFixed(3)} errors=${errors}`);
}

if (process.env.BENCH_ROLE === 'worker') run(worker);
else if (process.env.BENCH_ROLE === 'server') run(server);
else run(main);
