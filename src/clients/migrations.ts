import { sql, type Kysely, type Migration } from 'kysely';

/** Migrations of the clients capability. */
export const migrations: Record<string, Migration> = {
  '001_clients': {
    async up(db: Kysely<any>) {
      await sql`
        create table clients (
          id text primary key,
          kind text not null check (kind in ('person','business')),
          oidc_subject text unique,
          given_name text, family_name text,
          business_name text, business_number text,
          birth_date date,
          email text, phone text,
          preferred_lang text not null default 'en' check (preferred_lang in ('en','fr')),
          contact_preferences jsonb not null default '{}',
          accessibility_needs text,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        );
        create table client_addresses (
          id serial primary key,
          client_id text not null references clients(id) on delete cascade,
          line1 text not null, line2 text, city text not null, province text not null, postal_code text not null,
          country text not null default 'CA',
          valid_from date not null, valid_to date,
          created_at timestamptz not null default now()
        );
        create index client_addresses_client_idx on client_addresses(client_id);
        create table business_representatives (
          business_id text not null references clients(id) on delete cascade,
          person_id text not null references clients(id) on delete cascade,
          role text not null,
          created_at timestamptz not null default now(),
          primary key (business_id, person_id)
        );
        create table consents (
          id text primary key,
          client_id text not null references clients(id) on delete cascade,
          org_id text not null references organisations(id),
          purpose text not null,
          fields text[] not null,
          legal_basis text not null check (legal_basis in ('consent','law')),
          law_reference text,
          granted_at timestamptz not null default now(),
          valid_until timestamptz,
          withdrawn_at timestamptz
        );
        create index consents_client_idx on consents(client_id, org_id);
        create table access_log (
          seq bigserial primary key,
          client_id text not null,
          at timestamptz not null default now(),
          actor_kind text not null check (actor_kind in ('staff','partner','system','client')),
          actor_id text not null,
          org_id text,
          action text not null,
          fields text[] not null default '{}',
          purpose text not null,
          legal_basis text,
          prev_hash text not null,
          hash text not null unique
        );
        create index access_log_client_idx on access_log(client_id, seq);
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table access_log; drop table consents; drop table business_representatives; drop table client_addresses; drop table clients;`.execute(db);
    },
  },
  '002_identity_privacy': {
    async up(db: Kysely<any>) {
      await sql`
        -- the access log is append-only: no UPDATE, DELETE or TRUNCATE (tampering needs a superuser disabling this)
        create function access_log_append_only() returns trigger language plpgsql as $$
        begin
          raise exception 'access_log is append-only';
        end;
        $$;
        create trigger access_log_no_update before update or delete on access_log
          for each row execute function access_log_append_only();
        create trigger access_log_no_truncate before truncate on access_log
          for each statement execute function access_log_append_only();

        -- one-time codes a client reads out to an agent (only the SHA-256 of the code is kept)
        create table client_access_codes (
          id text primary key,
          client_id text not null references clients(id) on delete cascade,
          code_hash text not null,
          created_at timestamptz not null default now(),
          expires_at timestamptz not null,
          used_at timestamptz,
          used_by text,
          consent_id text references consents(id)
        );
        create index client_access_codes_hash_idx on client_access_codes(code_hash);
        create index client_access_codes_client_idx on client_access_codes(client_id);
        create table agent_code_attempts (
          id serial primary key,
          staff_id text not null,
          at timestamptz not null default now(),
          ok boolean not null
        );
        create index agent_code_attempts_staff_idx on agent_code_attempts(staff_id, at);

        -- pending OpenID Connect sign-ins (state -> PKCE verifier, nonce), deleted when used or stale
        create table oidc_logins (
          state text primary key,
          kind text not null check (kind in ('client','staff')),
          code_verifier text not null,
          nonce text not null,
          return_to text,
          lang text not null default 'en',
          created_at timestamptz not null default now()
        );

        alter table consents add column granted_by text;
        alter table consents add column withdrawn_by text;
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        alter table consents drop column withdrawn_by; alter table consents drop column granted_by;
        drop table oidc_logins; drop table agent_code_attempts; drop table client_access_codes;
        drop trigger access_log_no_truncate on access_log; drop trigger access_log_no_update on access_log;
        drop function access_log_append_only();
      `.execute(db);
    },
  },
};
