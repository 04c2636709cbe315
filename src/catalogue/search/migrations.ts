import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Migrations of catalogue/search (names must start with 'search').
 *
 * search_001_fulltext: the PostgreSQL full-text search used as the second approach (benchmark, fallback):
 * accent folding and weighted tsvectors (title A, keywords B, description C) as IMMUTABLE SQL functions, and
 * partial GIN expression indexes on published services. No extension needed (works on PostgreSQL 15 and PGlite).
 *
 * Accent folding in SQL is Written out inside each function (no call to another of our functions): since PostgreSQL
 * 17, index maintenance runs with search_path = pg_catalog, so only built-in functions may be referred to unqualified.
 */
const fold = (col: string) =>
  `translate(replace(replace(lower(coalesce(${col}, '')), 'œ', 'oe'), 'æ', 'ae'), 'àâäáãåçéèêëíìîïñóòôöõúùûüýÿ’''', 'aaaaaaceeeeiiiinooooouuuuyy  ')`;

const tsv = (config: 'english' | 'french') => `
  select setweight(to_tsvector('${config}'::regconfig, ${fold('title')}), 'A')
    || setweight(to_tsvector('${config}'::regconfig, ${fold("array_to_string(keywords, ' ')")}), 'B')
    || setweight(to_tsvector('${config}'::regconfig, ${fold('description')}), 'C')`;

export const migrations: Record<string, Migration> = {
  search_001_fulltext: {
    async up(db: Kysely<any>) {
      await sql`
        create function search_fold(t text) returns text language sql immutable parallel safe as $$ select ${sql.raw(fold('t'))} $$;
        create function search_tsv_en(title text, keywords text[], description text) returns tsvector language sql immutable parallel safe
          as $$ ${sql.raw(tsv('english'))} $$;
        create function search_tsv_fr(title text, keywords text[], description text) returns tsvector language sql immutable parallel safe
          as $$ ${sql.raw(tsv('french'))} $$;
        create index services_search_en_idx on services using gin (search_tsv_en(title_en, keywords_en, description_en)) where status = 'published';
        create index services_search_fr_idx on services using gin (search_tsv_fr(title_fr, keywords_fr, description_fr)) where status = 'published';
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        drop index if exists services_search_en_idx;
        drop index if exists services_search_fr_idx;
        drop function if exists search_tsv_en(text, text[], text);
        drop function if exists search_tsv_fr(text, text[], text);
        drop function if exists search_fold(text);
      `.execute(db);
    },
  },
};
