import { sql, type Kysely, type Migration } from 'kysely';

/** Migrations of the notices capability, by name (ordered alphabetically within the capability). */
export const migrations: Record<string, Migration> = {
  '001_tell_us_once': {
    async up(db: Kysely<any>) {
      await sql`
        create table notice_subscriptions (
          id text primary key,
          org_id text not null references organisations(id),
          program_en text not null, program_fr text not null,
          purpose_en text not null, purpose_fr text not null,
          service_id text references services(id) on delete set null,
          event_types text[] not null,
          fields text[] not null,
          legal_basis text not null check (legal_basis in ('consent','law')),
          law_reference text,
          delivery text not null check (delivery in ('webhook','pull')),
          webhook_url text,
          signing_secret text,
          active boolean not null default true,
          is_demo boolean not null default false,
          created_by text,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          check (delivery = 'pull' or (webhook_url is not null and signing_secret is not null)),
          check (legal_basis = 'consent' or law_reference is not null)
        );
        create index notice_subscriptions_org_idx on notice_subscriptions(org_id);
        create table partner_api_keys (
          id text primary key,
          org_id text not null references organisations(id),
          key_hash text not null unique,
          prefix text not null,
          label text not null,
          created_by text,
          created_at timestamptz not null default now(),
          revoked_at timestamptz
        );
        create table declarations (
          id text primary key,
          client_id text not null references clients(id) on delete cascade,
          event_type text not null,
          data jsonb not null,
          created_at timestamptz not null default now()
        );
        create index declarations_client_idx on declarations(client_id, created_at);
        create table notices (
          id text primary key,
          seq bigserial not null unique,
          declaration_id text not null references declarations(id) on delete cascade,
          subscription_id text not null references notice_subscriptions(id),
          org_id text not null references organisations(id),
          client_id text not null references clients(id) on delete cascade,
          event_type text not null,
          fields text[] not null,
          payload jsonb not null,
          consent_id text,
          delivery text not null check (delivery in ('webhook','pull')),
          status text not null default 'pending' check (status in ('pending','delivered','acknowledged','rejected','failed')),
          attempts int not null default 0,
          last_error text,
          reason text,
          created_at timestamptz not null default now(),
          first_attempt_at timestamptz,
          next_attempt_at timestamptz,
          delivered_at timestamptz,
          acknowledged_at timestamptz,
          rejected_at timestamptz,
          failed_at timestamptz,
          unique (declaration_id, subscription_id)
        );
        create index notices_client_idx on notices(client_id, created_at);
        create index notices_feed_idx on notices(org_id, seq) where status in ('pending','delivered');
        create table notice_attempts (
          id bigserial primary key,
          notice_id text not null references notices(id) on delete cascade,
          at timestamptz not null default now(),
          http_status int,
          outcome text not null check (outcome in ('delivered','rejected','retry','failed')),
          error text,
          duration_ms int not null
        );
        create index notice_attempts_notice_idx on notice_attempts(notice_id);
        create table notice_alerts (
          id bigserial primary key,
          notice_id text references notices(id) on delete cascade,
          org_id text,
          kind text not null,
          message text not null,
          created_at timestamptz not null default now(),
          resolved_at timestamptz,
          resolved_by text
        );
        create index notice_alerts_open_idx on notice_alerts(created_at) where resolved_at is null;
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table notice_alerts; drop table notice_attempts; drop table notices; drop table declarations; drop table partner_api_keys; drop table notice_subscriptions;`.execute(db);
    },
  },
  // One alert e-mail per dead-lettered notice (transactional outbox: the row is written with the alert, a job sends
  // it), the representative who made a declaration for a business, and an index for the reconciler's sweep.
  '002_dead_letter_mail_and_reconcile': {
    async up(db: Kysely<any>) {
      await sql`
        create table notice_alert_mails (
          id bigserial primary key,
          alert_id bigint not null references notice_alerts(id) on delete cascade,
          notice_id text not null unique,
          status text not null default 'pending' check (status in ('pending','sending','sent','failed')),
          attempts int not null default 0,
          to_addresses text[],
          last_error text,
          claimed_at timestamptz,
          created_at timestamptz not null default now(),
          sent_at timestamptz
        );
        create index notice_alert_mails_unsent_idx on notice_alert_mails(created_at) where status <> 'sent';
        alter table declarations add column declared_by text;
        create index notices_pending_idx on notices(created_at) where status = 'pending';
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index notices_pending_idx; alter table declarations drop column declared_by; drop table notice_alert_mails;`.execute(db);
    },
  },
  // A declaration form is sent once (issue 16: Back, then "Send the notices" again, made a second declaration): the
  // check page's form carries a one-time token, stored with the declaration, unique per client.
  '003_declaration_form_token': {
    async up(db: Kysely<any>) {
      await sql`
        alter table declarations add column form_token text;
        create unique index declarations_form_token_idx on declarations(client_id, form_token) where form_token is not null;
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index declarations_form_token_idx; alter table declarations drop column form_token;`.execute(db);
    },
  },
};
