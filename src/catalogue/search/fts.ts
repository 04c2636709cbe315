/**
 * The second search approach: PostgreSQL full-text search (stored tsvectors in search_documents, GIN indexes, from
 * search_001_fulltext). Kept for comparison in the benchmark and as a database-side fallback; it has accent folding
 * and stemming but no typo tolerance and no synonyms. Any word may match (OR), ranked by ts_rank with the
 * weights title A > keywords B > description C.
 */
import { sql } from 'kysely';
import type { Database } from '../../db/database';
import type { Lang } from '../../i18n/index';

export async function searchServicesFts(db: Database, params: { q: string; lang: Lang; limit?: number }): Promise<{ total: number; ids: string[] }> {
  const limit = Math.max(1, Math.min(100, params.limit ?? 10));
  const q = params.q.slice(0, 256);
  const r =
    params.lang === 'fr'
      ? await sql<{ id: string; total: number }>`
          with q as (select nullif(replace(plainto_tsquery('french'::regconfig, search_fold(${q}))::text, '&', '|'), '')::tsquery as q)
          select d.service_id as id, count(*) over () as total
          from search_documents d, q
          where d.published and d.tsv_fr @@ q.q
          order by ts_rank(d.tsv_fr, q.q) desc, d.service_id
          limit ${limit}`.execute(db)
      : await sql<{ id: string; total: number }>`
          with q as (select nullif(replace(plainto_tsquery('english'::regconfig, search_fold(${q}))::text, '&', '|'), '')::tsquery as q)
          select d.service_id as id, count(*) over () as total
          from search_documents d, q
          where d.published and d.tsv_en @@ q.q
          order by ts_rank(d.tsv_en, q.q) desc, d.service_id
          limit ${limit}`.execute(db);
  return { total: Number(r.rows[0]?.total ?? 0), ids: r.rows.map((x) => x.id) };
}
