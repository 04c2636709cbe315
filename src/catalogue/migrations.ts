import { sql, type Kysely, type Migration } from 'kysely';
import { migrations as search } from './search/migrations';
import { migrations as cpsv } from './cpsv/migrations';
import { migrations as portal } from './portal/migrations';
import { migrations as editor } from './editor/migrations';

/** Migrations of the catalogue capability, by name (ordered alphabetically within the capability). */
const core: Record<string, Migration> = {
  '001_init': {
    async up(db: Kysely<any>) {
      await sql`
        create table organisations (
          id text primary key,
          name_en text not null,
          name_fr text not null,
          acronym_en text,
          acronym_fr text,
          level text not null check (level in ('federal','provincial','municipal','indigenous','ngo')),
          jurisdiction text not null,
          parent_id text references organisations(id),
          logo_url text,
          website_en text,
          website_fr text,
          phone text,
          email text,
          is_demo boolean not null default false,
          source text not null,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        );
        create table services (
          id text primary key,
          source text not null,
          identifier text not null,
          owner_org_id text not null references organisations(id),
          title_en text not null,
          title_fr text not null,
          description_en text not null default '',
          description_fr text not null default '',
          keywords_en text[] not null default '{}',
          keywords_fr text[] not null default '{}',
          service_type text,
          audiences text[] not null default '{}',
          thematic_areas text[] not null default '{}',
          program_id text,
          program_name_en text,
          program_name_fr text,
          fee_applies boolean,
          online_status jsonb not null default '{}',
          url_en text,
          url_fr text,
          fiscal_year text,
          last_review_fy text,
          status text not null check (status in ('draft','in_review','published','withdrawn')),
          version integer not null default 1,
          content_hash text,
          is_demo boolean not null default false,
          agent_notes_en text,
          agent_notes_fr text,
          guarantee_days integer check (guarantee_days is null or guarantee_days > 0),
          reviewed_at timestamptz,
          published_at timestamptz,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          unique (source, identifier)
        );
        create index services_owner_idx on services(owner_org_id);
        create index services_status_idx on services(status);
        create table service_delivering_orgs (
          service_id text not null references services(id) on delete cascade,
          org_id text not null references organisations(id),
          primary key (service_id, org_id)
        );
        create table service_channels (
          id serial primary key,
          service_id text not null references services(id) on delete cascade,
          channel text not null check (channel in ('online','phone','in_person','mail','email','fax','kiosk')),
          url_en text, url_fr text, phone text, email text, notes_en text, notes_fr text,
          unique (service_id, channel)
        );
        create table service_volumes (
          service_id text not null references services(id) on delete cascade,
          fiscal_year text not null,
          metric text not null,
          value bigint,
          missing_reason text check (missing_reason in ('NA','ND')),
          primary key (service_id, fiscal_year, metric),
          check ((value is null) = (missing_reason is not null))
        );
        create table service_standards (
          id text primary key,
          source_id text not null,
          service_id text not null references services(id) on delete cascade,
          fiscal_year text not null,
          text_en text not null,
          text_fr text not null,
          type text, channel text,
          target double precision,
          volume_meeting_target bigint,
          total_volume bigint,
          performance double precision,
          target_met boolean,
          missing jsonb not null default '{}',
          duration_value integer,
          duration_unit text,
          standard_url_en text, standard_url_fr text, results_url_en text, results_url_fr text
        );
        create index service_standards_service_idx on service_standards(service_id);
        create table service_requirements (
          id serial primary key,
          service_id text not null references services(id) on delete cascade,
          position integer not null,
          name_en text not null, name_fr text not null,
          description_en text, description_fr text
        );
        create table service_costs (
          id serial primary key,
          service_id text not null references services(id) on delete cascade,
          amount_cents bigint not null check (amount_cents >= 0),
          currency text not null default 'CAD',
          description_en text not null, description_fr text not null
        );
        create table service_outputs (
          id serial primary key,
          service_id text not null references services(id) on delete cascade,
          name_en text not null, name_fr text not null
        );
        create table service_versions (
          id serial primary key,
          service_id text not null references services(id) on delete cascade,
          version integer not null,
          status text not null,
          snapshot jsonb not null,
          changed_by text,
          comment text,
          created_at timestamptz not null default now(),
          unique (service_id, version, status)
        );
        create table events (
          id text primary key,
          kind text not null check (kind in ('life','business')),
          title_en text not null, title_fr text not null,
          description_en text not null default '', description_fr text not null default '',
          position integer not null default 0
        );
        create table event_steps (
          id serial primary key,
          event_id text not null references events(id) on delete cascade,
          position integer not null,
          title_en text not null, title_fr text not null,
          description_en text, description_fr text,
          service_id text references services(id) on delete set null,
          org_id text references organisations(id)
        );
        create table offices (
          id text primary key,
          name_en text not null, name_fr text not null,
          collaboration_model text not null check (collaboration_model in ('independent','side_by_side','one_office_two_counters','one_office_one_counter')),
          address text not null, city text not null, province text not null, postal_code text not null,
          latitude double precision not null, longitude double precision not null,
          timezone text not null,
          phone text,
          is_demo boolean not null default false,
          created_at timestamptz not null default now()
        );
        create table office_organisations (
          office_id text not null references offices(id) on delete cascade,
          org_id text not null references organisations(id),
          primary key (office_id, org_id)
        );
        create table office_hours (
          office_id text not null references offices(id) on delete cascade,
          weekday integer not null check (weekday between 0 and 6),
          opens text not null, closes text not null,
          primary key (office_id, weekday, opens)
        );
        create table office_hours_exceptions (
          office_id text not null references offices(id) on delete cascade,
          date date not null,
          closed boolean not null,
          opens text, closes text, reason_en text, reason_fr text,
          primary key (office_id, date)
        );
        create table office_services (
          office_id text not null references offices(id) on delete cascade,
          service_id text not null references services(id) on delete cascade,
          primary key (office_id, service_id)
        );
        create table postal_areas (
          fsa text primary key,
          latitude double precision not null,
          longitude double precision not null,
          place text not null
        );
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      for (const t of [
        'postal_areas', 'office_services', 'office_hours_exceptions', 'office_hours', 'office_organisations', 'offices',
        'event_steps', 'events', 'service_versions', 'service_outputs', 'service_costs', 'service_requirements',
        'service_standards', 'service_volumes', 'service_channels', 'service_delivering_orgs', 'services', 'organisations',
      ]) {
        await sql`drop table if exists ${sql.table(t)} cascade`.execute(db);
      }
    },
  },
};

/** Core first, then the sub-modules' migrations (each named '<submodule>_NNN_...', so they sort after '001_init'). */
export const migrations: Record<string, Migration> = { ...core, ...search, ...cpsv, ...portal, ...editor };
