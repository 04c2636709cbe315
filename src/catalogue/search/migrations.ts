import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Migrations of catalogue/search (names must start with 'search').
 *
 * search_001_fulltext: the PostgreSQL full-text search used as the second approach (benchmark, fallback):
 * accent folding and weighted tsvectors (title A, keywords B, description C) as IMMUTABLE SQL functions, stored in
 * search_documents (one row per service, kept in step by a trigger on services, so that ranking reads stored vectors
 * instead of recomputing them) with partial GIN indexes. No extension needed (works on PostgreSQL 15 and PGlite).
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
        create table search_documents (
          service_id text primary key references services(id) on delete cascade,
          published boolean not null,
          tsv_en tsvector not null,
          tsv_fr tsvector not null
        );
        create index search_documents_en_idx on search_documents using gin (tsv_en) where published;
        create index search_documents_fr_idx on search_documents using gin (tsv_fr) where published;
        create function search_documents_sync() returns trigger language plpgsql as $$
        begin
          insert into search_documents (service_id, published, tsv_en, tsv_fr)
          values (new.id, new.status = 'published',
            search_tsv_en(new.title_en, new.keywords_en, new.description_en),
            search_tsv_fr(new.title_fr, new.keywords_fr, new.description_fr))
          on conflict (service_id) do update
            set published = excluded.published, tsv_en = excluded.tsv_en, tsv_fr = excluded.tsv_fr;
          return null;
        end
        $$;
        create trigger search_documents_sync after insert or update of status, title_en, title_fr, description_en, description_fr, keywords_en, keywords_fr
          on services for each row execute function search_documents_sync();
        insert into search_documents (service_id, published, tsv_en, tsv_fr)
          select id, status = 'published', search_tsv_en(title_en, keywords_en, description_en), search_tsv_fr(title_fr, keywords_fr, description_fr)
          from services;
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        drop trigger if exists search_documents_sync on services;
        drop function if exists search_documents_sync();
        drop table if exists search_documents;
        drop function if exists search_tsv_en(text, text[], text);
        drop function if exists search_tsv_fr(text, text[], text);
        drop function if exists search_fold(text);
      `.execute(db);
    },
  },
};
