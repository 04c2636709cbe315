import { sql, type Kysely, type Migration } from 'kysely';

/** Platform tables shared by every capability: sessions. */
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
};

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
