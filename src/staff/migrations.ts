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
  '002_sessions_notify': {
    // A staff account changed (deactivated, roles, organisation, name, e-mail) or deleted: every process forgets the
    // sessions of that account it keeps (src/http/session.ts; the function is the platform's, 050_platform_003).
    async up(db: Kysely<any>) {
      await sql`
        create trigger staff_users_sessions after update on staff_users for each row
          when (old.active is distinct from new.active or old.roles is distinct from new.roles or old.org_id is distinct from new.org_id
                or old.name is distinct from new.name or old.email is distinct from new.email or old.id is distinct from new.id)
          execute function guichet_session_changed();
        create trigger staff_users_sessions_deleted after delete on staff_users for each row execute function guichet_session_changed();
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop trigger staff_users_sessions on staff_users; drop trigger staff_users_sessions_deleted on staff_users`.execute(db);
    },
  },
};
