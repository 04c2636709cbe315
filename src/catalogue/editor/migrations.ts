import { sql, type Kysely, type Migration } from 'kysely';

/** Migrations of catalogue/editor (names must start with 'editor'). */
export const migrations: Record<string, Migration> = {
  editor_001_workflow: {
    async up(db: Kysely<any>) {
      await sql`
        alter table service_versions add column base jsonb;
        alter table service_versions add column updated_at timestamptz not null default now();
        alter table service_versions add column submitted_by text;
        alter table service_versions add column submitted_at timestamptz;
        alter table service_versions add column reviewed_by text;
        create unique index service_versions_one_open_idx on service_versions(service_id) where status in ('draft','in_review');
        create index service_versions_status_idx on service_versions(status);
        create table service_contacts (
          id serial primary key,
          service_id text not null references services(id) on delete cascade,
          org_id text not null references organisations(id),
          name text not null,
          role_en text not null default '',
          role_fr text not null default '',
          phone text,
          email text,
          created_by text,
          created_at timestamptz not null default now(),
          check (phone is not null or email is not null)
        );
        create index service_contacts_service_idx on service_contacts(service_id);
        create table editor_events (
          id serial primary key,
          service_id text not null references services(id) on delete cascade,
          version integer,
          action text not null check (action in ('created','saved','submitted','recalled','sent_back','published','withdrawn','reviewed','discarded','contact_added','contact_removed')),
          actor_id text,
          comment text,
          created_at timestamptz not null default now()
        );
        create index editor_events_service_idx on editor_events(service_id, id);
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        drop table if exists editor_events;
        drop table if exists service_contacts;
        drop index if exists service_versions_status_idx;
        drop index if exists service_versions_one_open_idx;
        alter table service_versions drop column if exists reviewed_by;
        alter table service_versions drop column if exists submitted_at;
        alter table service_versions drop column if exists submitted_by;
        alter table service_versions drop column if exists updated_at;
        alter table service_versions drop column if exists base;
      `.execute(db);
    },
  },
};
