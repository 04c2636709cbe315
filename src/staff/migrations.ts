import { sql, type Kysely, type Migration } from 'kysely';

/** Migrations of the staff capability. */
export const migrations: Record<string, Migration> = {
  '001_staff_users': {
    async up(db: Kysely<any>) {
      await sql`
        create table staff_users (
          id text primary key,
          email text not null unique,
          name text not null,
          org_id text not null references organisations(id),
          roles text[] not null,
          oidc_subject text unique,
          active boolean not null default true,
          is_demo boolean not null default false,
          created_at timestamptz not null default now()
        );
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table staff_users`.execute(db);
    },
  },
};
