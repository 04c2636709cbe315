import { sql, type Kysely, type Migration } from 'kysely';

/** Platform tables shared by every capability: sessions, idempotency keys, rate-limit counters. */
export const migrations: Record<string, Migration> = {
  '001_sessions': {
    async up(db: Kysely<any>) {
      await sql`
        create table sessions (
          id text primary key,
          kind text not null check (kind in ('staff','client')),
          subject_id text not null,
          data jsonb not null default '{}',
          created_at timestamptz not null default now(),
          last_seen_at timestamptz not null default now(),
          expires_at timestamptz not null,
          revoked_at timestamptz
        );
        create index sessions_subject_idx on sessions(kind, subject_id);
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table sessions`.execute(db);
    },
  },
  '002_idempotency_keys': {
    // The answers of creating calls, by the caller's Idempotency-Key (src/http/idempotency.ts), kept 24 hours.
    async up(db: Kysely<any>) {
      await sql`
        create table idempotency_keys (
          scope text not null,
          route text not null,
          key text not null,
          request_hash text not null,
          status integer,
          content_type text,
          response text,
          created_at timestamptz not null default now(),
          primary key (scope, route, key)
        );
        create index idempotency_keys_created on idempotency_keys(created_at);
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table idempotency_keys`.execute(db);
    },
  },
  // Rate-limit counters shared by every server process (src/http/rate-limit.ts): one row per policy and caller, a
  // fixed window. UNLOGGED: counters are worth no WAL; after a crash PostgreSQL empties the table, which only
  // forgives the callers of the current window.
  '003_rate_limits': {
    async up(db: Kysely<any>) {
      await sql`
        create unlogged table rate_limits (
          key text primary key,
          hits integer not null,
          resets_at timestamptz not null
        );
        create index rate_limits_resets_idx on rate_limits(resets_at);
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table rate_limits`.execute(db);
    },
  },
  '003_sessions_notify': {
    // A session revoked, deleted or changed tells every process at once (NOTIFY guichet_sessions, payload: the
    // session's id), so each may keep the sessions it read longer (src/http/session.ts). The function also serves
    // the staff capability's trigger on staff_users (payload `staff:<id>`). last_seen_at (activity) notifies nothing.
    async up(db: Kysely<any>) {
      await sql`
        create function guichet_session_changed() returns trigger language plpgsql as $$
        begin
          perform pg_notify('guichet_sessions', case when tg_table_name = 'sessions' then old.id else 'staff:' || old.id end);
          return null;
        end $$;
        create trigger sessions_changed after update on sessions for each row
          when (old.revoked_at is distinct from new.revoked_at or old.expires_at is distinct from new.expires_at or old.data is distinct from new.data
                or old.kind is distinct from new.kind or old.subject_id is distinct from new.subject_id or old.id is distinct from new.id)
          execute function guichet_session_changed();
        create trigger sessions_deleted after delete on sessions for each row execute function guichet_session_changed();
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop trigger sessions_changed on sessions; drop trigger sessions_deleted on sessions; drop function guichet_session_changed()`.execute(db);
    },
  },
  '004_time_ordered_uuid': {
    // uuid_time_ordered(): a version 7 UUID (RFC 9562): 48 bits of Unix time in milliseconds, then 74 random bits
    // (from gen_random_uuid). For the ids of tables written all day long (a capability sets it as its column's
    // default): new keys go to the right-hand end of the primary key's B-tree instead of a random page of it, so a
    // busy table's index stays in few hot pages and the write-ahead log carries fewer full-page images after each
    // checkpoint. Still unguessable (74 random bits); it tells when the row was made, which such rows show anyway.
    // PostgreSQL 18 has uuidv7(); this function gives the same on 15 (CI) and on PGlite alike.
    async up(db: Kysely<any>) {
      await sql`
        create or replace function uuid_time_ordered() returns uuid language sql volatile parallel safe as $$
          select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
            placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid
        $$`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop function if exists uuid_time_ordered()`.execute(db);
    },
  },
};

export interface IdempotencyKeysTable {
  scope: string;
  route: string;
  key: string;
  request_hash: string;
  /** null while the first request is being answered */
  status: number | null;
  content_type: string | null;
  response: string | null;
  created_at: import('kysely').Generated<Date>;
}

export interface RateLimitsTable {
  key: string;
  hits: number;
  resets_at: Date;
}

export interface SessionsTable {
  id: string;
  kind: 'staff' | 'client';
  subject_id: string;
  data: import('kysely').ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: import('kysely').Generated<Date>;
  last_seen_at: import('kysely').ColumnType<Date, Date | undefined, Date>;
  expires_at: import('kysely').ColumnType<Date, Date, Date>;
  revoked_at: Date | null;
}
