/**
 * npm run bench:search
 *
 * Catalogue search on the real catalogue (GC Service Inventory + demo set) and on a 50x synthetic scale-up
 * (about 85,000 services: 49 deterministic variants of every real service, generated in SQL), on PGlite by default
 * or on DATABASE_URL when set. For each size:
 *   - in-process query latency (p50/p99) of searchServices, result cache off, over the relevance set and queries
 *     drawn from titles, and of the second approach (PostgreSQL full-text search, tsvector + GIN) on the same queries;
 *   - relevance (MRR) of both approaches on the relevance set (real catalogue only: the synthetic variants would
 *     share the right answers);
 *   - HTTP throughput (autocannon, 50 connections, 10 s) of /api/v1/services?q= (rotating over the queries, result
 *     cache off, so every request runs a search) next to the same server's /healthz in the same run.
 * Last line: bench:search docs=<n> p99_ms=<x> rps=<x> baseline_rps=<x> ratio=<x> (at the largest size).
 */
import { Worker } from 'node:worker_threads';
import { createTestApp, type TestApp } from '../test/support/app';
import { searchIndexStats, searchServices } from '../src/catalogue/search/index';
import { searchServicesFts } from '../src/catalogue/search/fts';
import { RELEVANCE_SET } from '../src/catalogue/search/relevance-set';
import { buildQueries, COPIES, scaleUp, type Q } from './search-data';
import { percentile } from './support';

const HTTP_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 3 : 1) : 'n/a');

/** Wall-clock latency per query, and CPU time per query (process.cpuUsage: unaffected by other processes on a busy machine). */
async function latency(queries: Q[], rounds: number, run: (q: Q) => Promise<unknown>) {
  for (const q of queries.slice(0, 20)) await run(q); // warm-up (JIT, index build)
  const times: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const q of queries) {
      const c = process.cpuUsage();
      const t = performance.now();
      await run(q);
      times.push(performance.now() - t);
      const d = process.cpuUsage(c);
      cpu.push((d.user + d.system) / 1000);
    }
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), cpuP50: percentile(cpu, 50), cpuP99: percentile(cpu, 99), n: times.length };
}

async function mrr(run: (q: Q) => Promise<string[]>): Promise<number> {
  let sum = 0;
  for (const c of RELEVANCE_SET) {
    const ids = await run(c);
    const rank = ids.findIndex((id) => c.expected.includes(id)) + 1;
    sum += rank ? 1 / rank : 0;
  }
  return sum / RELEVANCE_SET.length;
}

/** autocannon in a worker thread (its response parsing must not run on the server's event loop). */
function cannon(url: string, paths: string[] | null): Promise<{ rps: number; non2xx: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./search-load.mjs', import.meta.url), { workerData: { url, paths, connections: 50, duration: HTTP_SECONDS } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
  });
}

async function measure(ctx: TestApp, base: string, queries: Q[], label: string, withMrr: boolean, ftsQueries: number) {
  const t0 = performance.now();
  const stats = await searchIndexStats(ctx.db);
  const buildMs = performance.now() - t0;
  console.log(`\n== ${label}: ${stats.services} published services, ${stats.terms} index terms, index build ${fmt(buildMs)} ms`);
  const mem = await latency(queries, ROUNDS, (q) => searchServices(ctx.db, { q: q.q, lang: q.lang, page: 1, pageSize: 10 }, { cache: false }));
  console.log(`in-process index   p50=${fmt(mem.p50)} ms  p99=${fmt(mem.p99)} ms  CPU p50=${fmt(mem.cpuP50)} ms  p99=${fmt(mem.cpuP99)} ms  (${mem.n} queries, facets and total included)`);
  // PostgreSQL FTS is orders of magnitude slower: a deterministic sample of the queries, one round.
  const sample = queries.filter((_, i) => i % Math.max(1, Math.round(queries.length / ftsQueries)) === 0);
  const fts = await latency(sample, 1, (q) => searchServicesFts(ctx.db, { q: q.q, lang: q.lang, limit: 10 }));
  console.log(`PostgreSQL FTS     p50=${fmt(fts.p50)} ms  p99=${fmt(fts.p99)} ms  (${fts.n} queries, top 10 and total, no facets)`);
  if (withMrr) {
    const m1 = await mrr(async (c) => (await searchServices(ctx.db, { q: c.q, lang: c.lang, page: 1, pageSize: 10 })).items.map((i) => i.id));
    const m2 = await mrr(async (c) => (await searchServicesFts(ctx.db, { q: c.q, lang: c.lang, limit: 10 })).ids);
    console.log(`relevance (MRR@10 over ${RELEVANCE_SET.length} queries): in-process index ${m1.toFixed(3)}, PostgreSQL FTS ${m2.toFixed(3)}`);
  }
  const paths = queries.map((q) => `/api/v1/services?q=${encodeURIComponent(q.q)}&lang=${q.lang}`);
  const health = await cannon(`${base}/healthz`, null);
  process.env.GUICHET_SEARCH_CACHE = 'off';
  const search = await cannon(`${base}/api/v1/services`, paths);
  delete process.env.GUICHET_SEARCH_CACHE;
  const cached = await cannon(`${base}/api/v1/services`, paths);
  console.log(`HTTP /healthz                       ${fmt(health.rps)} req/s (non-2xx ${health.non2xx}, errors ${health.errors})`);
  console.log(`HTTP /api/v1/services?q= (no cache) ${fmt(search.rps)} req/s (non-2xx ${search.non2xx}, errors ${search.errors}), ratio ${fmt(search.rps / health.rps)}`);
  console.log(`HTTP /api/v1/services?q= (cache)    ${fmt(cached.rps)} req/s (non-2xx ${cached.non2xx}, errors ${cached.errors})`);
  return { docs: stats.services, p99: mem.p99, rps: search.rps, baseline: health.rps };
}

async function main() {
  const started = performance.now();
  const ctx = await createTestApp({ catalogue: true });
  try {
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = ctx.app.server.address();
    const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    console.log(`bench:search on ${ctx.database.kind}, server ${base}, ${ROUNDS} rounds, autocannon 50 connections x ${HTTP_SECONDS} s`);
    const queries = await buildQueries(ctx);
    console.log(`${queries.length} queries (${RELEVANCE_SET.length} from the relevance set, the rest from real titles)`);
    await measure(ctx, base, queries, 'real catalogue', true, 160);
    await scaleUp(ctx);
    const big = await measure(ctx, base, queries, `${COPIES + 1}x scale-up`, false, 40);
    console.log(`\ntotal ${fmt((performance.now() - started) / 1000)} s`);
    console.log(
      `bench:search docs=${big.docs} p99_ms=${big.p99.toFixed(3)} rps=${big.rps.toFixed(0)} baseline_rps=${big.baseline.toFixed(0)} ratio=${(big.rps / big.baseline).toFixed(3)}`,
    );
  } finally {
    await ctx.close();
  }
}

await main();
