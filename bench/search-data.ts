/** Queries and the 50x synthetic scale-up shared by bench/search.ts and bench/search-profile.ts. */
import { sql } from 'kysely';
import type { TestApp } from '../test/support/app';
import { invalidateSearchIndex } from '../src/catalogue/search/index';
import { RELEVANCE_SET } from '../src/catalogue/search/relevance-set';

export const COPIES = Number(process.env.BENCH_COPIES ?? 49); // 1 real + 49 variants = 50x

export type Q = { q: string; lang: 'en' | 'fr' };
const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 3 : 1) : 'n/a');

/** The relevance set plus two- and three-word queries taken deterministically from real titles. */
export async function buildQueries(ctx: TestApp): Promise<Q[]> {
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

/** 49 deterministic variants of every real service: place-named titles, rotated descriptions, same channels. */
export async function scaleUp(ctx: TestApp, opts: { fts?: boolean } = {}) {
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
  if (opts.fts === false) {
    // In-process engine only (profiling): PostgreSQL FTS documents and indexes are not rebuilt.
    console.log(`scale-up: ${COPIES} variants per real service inserted in ${fmt((t1 - t0) / 1000)} s (no FTS documents)`);
    invalidateSearchIndex();
    return;
  }
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

