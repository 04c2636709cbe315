import { sql, type Kysely, type Migration } from 'kysely';

/** Migrations of the cases capability, by name (ordered alphabetically within the capability). */
export const migrations: Record<string, Migration> = {
  '001_cases': {
    async up(db: Kysely<any>) {
      await sql`
        create table cases (
          id text primary key,
          reference text not null unique,
          client_id text not null references clients(id),
          service_id text not null references services(id),
          origin_channel text not null check (origin_channel in ('web','phone','counter','kiosk','mail','email')),
          status text not null default 'submitted'
            check (status in ('submitted','in_progress','waiting_client','decided','closed','withdrawn')),
          responsible_org_id text not null references organisations(id),
          assigned_team text,
          assigned_staff_id text references staff_users(id),
          summary text not null,
          decision text,
          submitted_at timestamptz not null default now(),
          due_date date,
          due_rule jsonb,
          guarantee_due_date date,
          guarantee_breached_at timestamptz,
          waiting_since timestamptz,
          decided_at timestamptz,
          closed_at timestamptz,
          latitude double precision,
          longitude double precision,
          address_string text,
          contact_email text,
          created_by_kind text not null check (created_by_kind in ('client','staff','partner')),
          created_by_id text not null,
          version integer not null default 1,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        );
        create index cases_client_idx on cases(client_id, created_at desc);
        create index cases_org_idx on cases(responsible_org_id, status, due_date);
        create index cases_service_idx on cases(service_id, submitted_at desc);
        create sequence case_reference_seq;

        create table case_status_history (
          id bigserial primary key,
          case_id text not null references cases(id) on delete cascade,
          from_status text,
          to_status text not null,
          actor_kind text not null,
          actor_id text not null,
          note text,
          at timestamptz not null default now()
        );
        create index case_status_history_case_idx on case_status_history(case_id, id);

        create table case_interactions (
          id bigserial primary key,
          case_id text not null references cases(id) on delete cascade,
          channel text not null check (channel in ('web','phone','counter','kiosk','mail','email')),
          actor_kind text not null check (actor_kind in ('client','staff','system','partner')),
          actor_id text not null,
          org_id text references organisations(id),
          outcome text not null,
          note text,
          at timestamptz not null default now()
        );
        create index case_interactions_case_idx on case_interactions(case_id, id);

        create table case_messages (
          id bigserial primary key,
          case_id text not null references cases(id) on delete cascade,
          sender_kind text not null check (sender_kind in ('client','staff')),
          sender_id text not null,
          org_id text references organisations(id),
          body text not null,
          at timestamptz not null default now()
        );
        create index case_messages_case_idx on case_messages(case_id, id);

        create table case_referrals (
          id text primary key,
          case_id text not null references cases(id) on delete cascade,
          from_org_id text not null references organisations(id),
          to_org_id text not null references organisations(id),
          referred_by text not null,
          summary text not null,
          consent_id text not null references consents(id),
          status text not null default 'pending' check (status in ('pending','accepted','declined')),
          accepted_by text,
          accepted_at timestamptz,
          no_repeat boolean,
          created_at timestamptz not null default now()
        );
        create index case_referrals_case_idx on case_referrals(case_id);
        create index case_referrals_to_idx on case_referrals(to_org_id, status);

        create table case_notifications (
          id bigserial primary key,
          case_id text not null references cases(id) on delete cascade,
          to_address text not null,
          lang text not null,
          subject text not null,
          body text not null,
          status text not null default 'pending' check (status in ('pending','sent','failed')),
          attempts integer not null default 0,
          last_error text,
          created_at timestamptz not null default now(),
          sent_at timestamptz
        );
        create index case_notifications_pending_idx on case_notifications(status) where status <> 'sent';

        create table guarantee_refunds (
          id bigserial primary key,
          case_id text not null unique references cases(id),
          service_id text not null references services(id),
          client_id text not null references clients(id),
          org_id text not null references organisations(id),
          guarantee_days integer not null,
          guarantee_due_date date not null,
          amount_cents bigint not null,
          currency text not null default 'CAD',
          status text not null default 'owed' check (status in ('owed','settled','cancelled')),
          detected_at timestamptz not null default now(),
          settled_at timestamptz,
          settlement_ref text
        );

        create table agent_access_codes (
          code_hash text primary key,
          client_id text not null references clients(id) on delete cascade,
          expires_at timestamptz not null,
          used_at timestamptz,
          used_by text,
          created_at timestamptz not null default now()
        );
        create index agent_access_codes_client_idx on agent_access_codes(client_id);

        create table case_documents (
          id text primary key,
          case_id text not null references cases(id) on delete cascade,
          filename text not null,
          content_type text not null,
          size_bytes integer not null,
          sha256 text not null,
          content bytea not null,
          uploaded_by_kind text not null check (uploaded_by_kind in ('client','staff')),
          uploaded_by_id text not null,
          created_at timestamptz not null default now()
        );
        create index case_documents_case_idx on case_documents(case_id);

        create table open311_keys (
          key_hash text primary key,
          org_id text not null references organisations(id),
          label text not null,
          created_at timestamptz not null default now(),
          revoked_at timestamptz
        );
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        drop table open311_keys; drop table case_documents; drop table agent_access_codes; drop table guarantee_refunds;
        drop table case_notifications; drop table case_referrals; drop table case_messages; drop table case_interactions;
        drop table case_status_history; drop table cases; drop sequence case_reference_seq;
      `.execute(db);
    },
  },
  '002_one_pending_referral': {
    async up(db: Kysely<any>) {
      await sql`create unique index case_referrals_one_pending on case_referrals(case_id) where status = 'pending'`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index case_referrals_one_pending`.execute(db);
    },
  },
  '003_forms': {
    async up(db: Kysely<any>) {
      await sql`
        create table case_forms (
          service_id text not null references services(id),
          version integer not null,
          definition jsonb not null,
          webhook_url text,
          signing_secret text,
          created_by text not null,
          created_at timestamptz not null default now(),
          primary key (service_id, version)
        );
        create table case_form_drafts (
          id text primary key,
          client_id text not null references clients(id) on delete cascade,
          service_id text not null,
          form_version integer not null,
          data jsonb not null default '{}',
          prefill_consent_id text references consents(id),
          submitted_case_id text references cases(id),
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          foreign key (service_id, form_version) references case_forms(service_id, version)
        );
        create index case_form_drafts_client_idx on case_form_drafts(client_id, service_id);
        alter table cases add column form_version integer, add column form_data jsonb;
        create table case_deliveries (
          case_id text primary key references cases(id) on delete cascade,
          org_id text not null references organisations(id),
          url text not null,
          status text not null default 'pending' check (status in ('pending','delivered','rejected','failed')),
          attempts integer not null default 0,
          last_status integer,
          last_error text,
          delivered_at timestamptz,
          created_at timestamptz not null default now()
        );
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        drop table case_deliveries; alter table cases drop column form_version, drop column form_data;
        drop table case_form_drafts; drop table case_forms;
      `.execute(db);
    },
  },
  '004_drop_agent_access_codes': {
    // One-time codes moved to the clients capability (client_access_codes); this table never held live data.
    async up(db: Kysely<any>) {
      await sql`drop table if exists agent_access_codes`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        create table agent_access_codes (
          code_hash text primary key, client_id text not null references clients(id) on delete cascade,
          expires_at timestamptz not null, used_at timestamptz, used_by text, created_at timestamptz not null default now()
        )
      `.execute(db);
    },
  },
  '005_questions_and_assisted_forms': {
    // Warm referral of a question (no case yet), and the agent who helped fill in a client's online form.
    async up(db: Kysely<any>) {
      await sql`
        create table case_questions (
          id text primary key,
          client_id text not null references clients(id) on delete cascade,
          from_org_id text not null references organisations(id),
          to_org_id text not null references organisations(id),
          referred_by text not null references staff_users(id),
          channel text not null check (channel in ('web','phone','counter','kiosk','mail','email')),
          question text not null,
          summary text not null,
          consent_id text not null references consents(id),
          status text not null default 'pending' check (status in ('pending','answered','declined','converted')),
          answer text,
          answered_by text references staff_users(id),
          answered_at timestamptz,
          no_repeat boolean,
          case_id text references cases(id),
          created_at timestamptz not null default now(),
          check (from_org_id <> to_org_id),
          check (status = 'pending' or answered_at is not null),
          check (status <> 'converted' or case_id is not null)
        );
        create index case_questions_to_idx on case_questions(to_org_id, status, created_at desc);
        create index case_questions_client_idx on case_questions(client_id, created_at desc);
        alter table case_form_drafts add column assisted_by text references staff_users(id);
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`alter table case_form_drafts drop column assisted_by; drop table case_questions;`.execute(db);
    },
  },
  '009_access_check_index': {
    // The cases' access check (src/cases/integration.ts servingConsents) looks up the one-time code behind a
    // consent on every staff command: index it, so it stays one index probe however many codes were ever issued.
    async up(db: Kysely<any>) {
      await sql`create index if not exists client_access_codes_consent_idx on client_access_codes(consent_id)`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index if exists client_access_codes_consent_idx`.execute(db);
    },
  },
  '010_question_answer_mail': {
    // The client is e-mailed when a question handed to another organisation is answered: the outbox row belongs to
    // a case or to a question.
    async up(db: Kysely<any>) {
      await sql`
        alter table case_notifications alter column case_id drop not null;
        alter table case_notifications add column question_id text references case_questions(id) on delete cascade;
        alter table case_notifications add constraint case_notifications_case_or_question check (case_id is not null or question_id is not null);
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        delete from case_notifications where case_id is null;
        alter table case_notifications drop constraint case_notifications_case_or_question;
        alter table case_notifications drop column question_id;
        alter table case_notifications alter column case_id set not null;
      `.execute(db);
    },
  },
};
