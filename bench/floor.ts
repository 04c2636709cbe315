/**
 * npm run bench:floor
 *
 * The floor under bench:cases: what this machine does with the same load shape when the server does almost
 * nothing. Same set-up as bench:cases (BENCH_SERVERS Fastify processes sharing one port, a pg pool of BENCH_POOL per
 * process with prepared statements, PostgreSQL from DATABASE_URL, autocannon in this process with BENCH_AGENTS
 * connections and no think time, a warm-up of BENCH_WARMUP_SECONDS), and the same mix of four steps per agent: one
 * answered without the database (as the information bank search is), then three that each commit one INSERT of
 * BENCH_FLOOR_ROWS rows into a table of its own (as opening a case, logging an interaction and referring do, with
 * far more work: sessions, access rules, several tables, HTML).
 *
 * It is a yardstick, not a feature: Guichet's figures in bench:cases are read against it. The table is created in
 * the database of DATABASE_URL and dropped at the end.
 * Environment: BENCH_AGENTS (200), BENCH_SECONDS (30), BENCH_POOL (20), BENCH_SERVERS (2), BENCH_WARMUP_SECONDS (5),
 * BENCH_FLOOR_ROWS (1).
 * Last line: bench:floor agents=<n> rows=<n> rps=<x> mean_ms=<x> p99_ms=<x> errors=<n>
 */
import cluster from 'node:cluster';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { cpuSplit, freePort, postgresCpuMs, processCpuMs, run } from './support';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const POOL = Number(process.env.BENCH_POOL ?? 20);
const SERVERS = Math.max(1, Number(process.env.BENCH_SERVERS ?? 2));
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const ROWS = Math.max(1, Number(process.env.BENCH_FLOOR_ROWS ?? 1));
const DATABASE_URL = process.env.DATABASE_URL;
const TABLE = `bench_floor_${process.env.BENCH_FLOOR_TABLE ?? process.pid}`;

async function worker(): Promise<void> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: POOL });
  const app = Fastify({ logger: false });
  const insert = { name: 'bench-floor-insert', text: `insert into ${TABLE} (step) select $1 from generate_series(1, $2::int) returning id` };
  app.get('/search', async () => ({ results: [{ id: 'demo-birth-certificate', title: 'Birth certificate' }] }));
  app.post(
    '/write',
    { schema: { body: { type: 'object', properties: { step: { type: 'string', maxLength: 40 } }, required: ['step'] } } },
    async (request, reply) => {
      const { rows } = await pool.query({ ...insert, values: [(request.body as { step: string }).step, ROWS] });
      return reply.code(201).send({ id: rows[0].id });
    },
  );
  await app.listen({ port: Number(process.env.BENCH_PORT), host: '127.0.0.1' });
  process.on('SIGTERM', () => void pool.end().then(() => process.exit(0)));
  process.send!('listening');
}

async function main(): Promise<void> {
  if (!DATABASE_URL) {
    console.error('bench:floor needs PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:55432/postgres)');
    process.exit(2);
  }
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`create table ${TABLE} (id bigint generated always as identity primary key, step text not null, at timestamptz not null default now())`);
  const port = await freePort();
  const workers = Array.from({ length: SERVERS }, () => cluster.fork({ BENCH_ROLE: 'floor-worker', BENCH_PORT: String(port), BENCH_FLOOR_TABLE: String(process.pid) }));
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => (w.once('message', () => resolve()), w.once('exit', () => reject(new Error('a server process ended')))))));
    const json = { 'content-type': 'application/json' };
    const requests = [
      { method: 'GET' as const, path: '/search' },
      { method: 'POST' as const, path: '/write', headers: json, body: '{"step":"open"}' },
      { method: 'POST' as const, path: '/write', headers: json, body: '{"step":"interaction"}' },
      { method: 'POST' as const, path: '/write', headers: json, body: '{"step":"refer"}' },
    ];
    const url = `http://127.0.0.1:${port}`;
    console.log(`bench:floor: ${SERVERS} process(es) on ${url}, pool ${POOL} each, ${AGENTS} agents, ${ROWS} row(s) per write, ${SECONDS}s`);
    const warm = await autocannon({ url, connections: AGENTS, duration: WARMUP_SECONDS, requests });
    const pids = new Set(workers.map((w) => w.process.pid));
    const serverBefore = processCpuMs((_name, pid) => pids.has(pid));
    const pgBefore = postgresCpuMs();
    const selfBefore = process.cpuUsage();
    const r = await autocannon({ url, connections: AGENTS, duration: SECONDS, requests });
    const self = process.cpuUsage(selfBefore);
    const parts = { server: processCpuMs((_name, pid) => pids.has(pid)) - serverBefore, postgres: postgresCpuMs() - pgBefore, autocannon: (self.user + self.system) / 1000 };
    const errors = r.errors + r.timeouts + r.non2xx + warm.errors + warm.timeouts + warm.non2xx;
    const { rows } = await admin.query<{ n: string }>(`select count(*) as n from ${TABLE}`);
    console.log(`requests: total=${r.requests.total} avg_rps=${r.requests.average.toFixed(1)} latency mean=${r.latency.average}ms p50=${r.latency.p50}ms p90=${r.latency.p90}ms p99=${r.latency.p99}ms max=${r.latency.max}ms; rows written (with the warm-up): ${rows[0].n}`);
    console.log(cpuSplit(parts.postgres > 0 ? parts : { server: parts.server, autocannon: parts.autocannon }, r.requests.total));
    console.log(`bench:floor agents=${AGENTS} rows=${ROWS} rps=${r.requests.average.toFixed(1)} mean_ms=${r.latency.average} p99_ms=${r.latency.p99} errors=${errors}`);
  } finally {
    for (const w of workers) w.kill();
    await admin.query(`drop table if exists ${TABLE}`);
    await admin.end();
  }
}

if (process.env.BENCH_ROLE === 'floor-worker') run(worker);
else run(main);
