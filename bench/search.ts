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
import { sql } from 'kysely';
import { Worker } from 'node:worker_threads';
import { createTestApp, type TestApp } from '../test/support/app';
import { invalidateSearchIndex, searchIndexStats, searchServices } from '../src/catalogue/search/index';
import { searchServicesFts } from '../src/catalogue/search/fts';
import { RELEVANCE_SET } from '../src/catalogue/search/relevance-set';

const COPIES = Number(process.env.BENCH_COPIES ?? 49); // 1 real + 49 variants = 50x
const HTTP_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

type Q = { q: string; lang: 'en' | 'fr' };

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 3 : 1) : 'n/a');

/** The relevance set plus two- and three-word queries taken deterministically from real titles. */
async function buildQueries(ctx: TestApp): Promise<Q[]> {
  const rows = await ctx.db.selectFrom('services').select(['title_en', 'title_fr']).where('source', '=', 'gc-inventory').orderBy('id').execute();
  const out: Q[] = RELEVANCE_SET.map((c) => ({ q: c.q, lang: c.lang }));
  for (let i = 0; i < rows.length; i += 13) {
    const en = rows[i].title_en.split(/\s+/).filter((w) => w.length > 3);
    const fr = rows[i].title_fr.split(/\s+/).filter((w) => w.length > 3);
    if (en.length >= 2) out.push({ q: en.slice(0, 2 + (i % 2)).join(' ').toLowerCase(), lang: 'en' });
    if (fr.length >= 2) out.push({ q: fr.slice(-2).join(' '), lang: 'fr' });
  }
  return out;
}

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

/** 49 deterministic variants of every real service: place-named titles, rotated descriptions, same channels. */
async function scaleUp(ctx: TestApp) {
  const places = [
    'Ottawa', 'Toronto', 'Montréal', 'Québec', 'Vancouver', 'Calgary', 'Edmonton', 'Winnipeg', 'Halifax', 'Regina', 'Saskatoon', 'Victoria',
    'Moncton', 'Fredericton', 'Charlottetown', 'St. John’s', 'Whitehorse', 'Yellowknife', 'Iqaluit', 'Gatineau', 'Sherbrooke', 'Laval',
    'Hamilton', 'London', 'Kingston', 'Sudbury', 'Thunder Bay', 'Windsor', 'Kelowna', 'Kamloops', 'Prince George', 'Nanaimo', 'Red Deer',
    'Lethbridge', 'Brandon', 'Saguenay', 'Trois-Rivières', 'Rimouski', 'Gaspé', 'Sydney', 'Truro', 'Bathurst', 'Corner Brook',
    'Happy Valley-Goose Bay', 'Inuvik', 'Rankin Inlet', 'Timmins', 'Sault Ste. Marie', 'Cornwall',
  ];
  const t0 = performance.now();
  // Bulk load: the search_documents trigger and GIN indexes are set aside, then filled in one statement each.
  await sql`drop index if exists search_documents_en_idx`.execute(ctx.db);
  await sql`drop index if exists search_documents_fr_idx`.execute(ctx.db);
  await sql`alter table services disable trigger search_documents_sync`.execute(ctx.db);
  for (let k = 1; k <= COPIES; k++) {
    const place = places[(k - 1) % places.length];
    const edition = Math.floor((k - 1) / places.length) + 1;
    const suffix = edition > 1 ? `${place} ${edition}` : place;
    await ctx.db.transaction().execute(async (trx) => {
      await sql`
        insert into services (id, source, identifier, owner_org_id, title_en, title_fr, description_en, description_fr, keywords_en, keywords_fr,
          service_type, audiences, thematic_areas, program_id, program_name_en, program_name_fr, fee_applies, online_status, url_en, url_fr,
          fiscal_year, status, is_demo, published_at)
        select 'syn' || ${k}::int || '-' || s.id, 'synthetic', s.identifier || '-' || ${k}::int, s.owner_org_id,
          s.title_en || ' (' || ${suffix}::text || ')', s.title_fr || ' (' || ${suffix}::text || ')',
          substr(s.description_en, p.en) || ' ' || substr(s.description_en, 1, p.en - 1) || ' Offered in ' || ${place}::text || '.',
          substr(s.description_fr, p.fr) || ' ' || substr(s.description_fr, 1, p.fr - 1) || ' Offert à ' || ${place}::text || '.',
          s.keywords_en, s.keywords_fr, s.service_type, s.audiences, s.thematic_areas, s.program_id, s.program_name_en, s.program_name_fr,
          s.fee_applies, s.online_status, s.url_en, s.url_fr, s.fiscal_year, 'published', true, now()
        from services s,
          lateral (select 1 + coalesce(nullif(strpos(substr(s.description_en, 1 + (${k}::int * 37) % greatest(1, length(s.description_en))), '. '), 0)
                      + (${k}::int * 37) % greatest(1, length(s.description_en)) + 1, 0) as en,
                          1 + coalesce(nullif(strpos(substr(s.description_fr, 1 + (${k}::int * 37) % greatest(1, length(s.description_fr))), '. '), 0)
                      + (${k}::int * 37) % greatest(1, length(s.description_fr)) + 1, 0) as fr) p
        where s.source = 'gc-inventory'`.execute(trx);
      await sql`
        insert into service_channels (service_id, channel, url_en, url_fr, phone, email)
        select 'syn' || ${k}::int || '-' || c.service_id, c.channel, c.url_en, c.url_fr, c.phone, c.email
        from service_channels c join services s on s.id = c.service_id where s.source = 'gc-inventory'`.execute(trx);
    });
    if (k % 10 === 0) console.log(`  ${k}/${COPIES} variants inserted (${fmt((performance.now() - t0) / 1000)} s)`);
  }
  await sql`alter table services enable trigger search_documents_sync`.execute(ctx.db);
  const t1 = performance.now();
  await sql`
    insert into search_documents (service_id, published, tsv_en, tsv_fr)
    select id, status = 'published', search_tsv_en(title_en, keywords_en, description_en), search_tsv_fr(title_fr, keywords_fr, description_fr)
    from services where source = 'synthetic'`.execute(ctx.db);
  // Same definitions as search_001_fulltext (created after the bulk insert: faster than maintaining them row by row).
  await sql`create index search_documents_en_idx on search_documents using gin (tsv_en) where published`.execute(ctx.db);
  await sql`create index search_documents_fr_idx on search_documents using gin (tsv_fr) where published`.execute(ctx.db);
  await sql`analyze services`.execute(ctx.db);
  await sql`analyze search_documents`.execute(ctx.db);
  console.log(`scale-up: ${COPIES} variants per real service inserted in ${fmt((t1 - t0) / 1000)} s, tsvectors and GIN indexes built in ${fmt((performance.now() - t1) / 1000)} s`);
  invalidateSearchIndex();
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
      `bench:search docs=${big.docs} p99_ms=${big.p99.toFixed(3)} rps=${big.rps.toFixed(0)} baseline_rps=${big.baseline.toFixed(0)} ratio=${(big.rps / big.baseline).toFixed(2)}`,
    );
  } finally {
    await ctx.close();
  }
}

await main();
