import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Migrations of the agreements capability (group 600_agreements). btree_gist gives the exclusion constraint that
 * keeps exactly one fee version in force per service, channel and day (PostgreSQL 15 ships it in contrib; PGlite
 * loads it from @electric-sql/pglite/contrib/btree_gist, see src/db/database.ts).
 */
export const migrations: Record<string, Migration> = {
  '001_agreements_fees': {
    async up(db: Kysely<any>) {
      await sql`
        create extension if not exists btree_gist;
        create sequence agreement_numbers;
        create table agreements (
          id uuid primary key default gen_random_uuid(),
          number text not null unique default ('AGR-' || lpad(nextval('agreement_numbers')::text, 4, '0')),
          partner_org_id text not null references organisations(id),
          one_stop_org_id text not null default 'guichet' references organisations(id),
          master_id uuid references agreements(id),
          is_master boolean not null default false,
          status text not null default 'draft' check (status in ('draft','submitted','approved','active','expired','terminated')),
          version integer not null default 1,
          title_en text not null,
          title_fr text not null,
          summary_en text not null default '',
          summary_fr text not null default '',
          integration_level text not null default 'complete' check (integration_level in ('complete','partial','co_location')),
          term_start date not null,
          term_end date not null,
          renewal text not null default 'none' check (renewal in ('none','annual_review','automatic')),
          refund_bearer text not null default 'one_stop_own_delay' check (refund_bearer in ('partner','one_stop_own_delay')),
          show_partner_name boolean not null default true,
          show_partner_logo boolean not null default true,
          visibility_channels text[] not null default '{online,in_person,phone}',
          convenience_fee_legal_basis_en text,
          convenience_fee_legal_basis_fr text,
          hold_business_days integer not null default 3 check (hold_business_days between 0 and 30),
          remittance_frequency text not null default 'daily' check (remittance_frequency in ('daily','weekly','monthly')),
          net_invoices boolean not null default false,
          payment_due_days integer not null default 20 check (payment_due_days between 0 and 120),
          decision_date date,
          decision_reference text,
          approved_by text references staff_users(id),
          submitted_at timestamptz,
          submitted_by text references staff_users(id),
          accepted_at timestamptz,
          accepted_by text references staff_users(id),
          ended_at timestamptz,
          end_reason text,
          created_by text references staff_users(id),
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          check (term_end >= term_start),
          check (master_id is null or not is_master),
          check (master_id is null or master_id <> id)
        );
        create index agreements_partner on agreements(partner_org_id, status);
        create index agreements_master on agreements(master_id) where master_id is not null;

        -- The services an agreement covers, with the channels on which the one-stop delivers each.
        create table agreement_services (
          agreement_id uuid not null references agreements(id) on delete cascade,
          service_id text not null references services(id),
          channels text[] not null,
          primary key (agreement_id, service_id)
        );
        create index agreement_services_service on agreement_services(service_id);

        -- Service levels: the catalogue standards the one-stop commits to, each with its target (0..1).
        create table agreement_service_levels (
          agreement_id uuid not null references agreements(id) on delete cascade,
          standard_id text not null references service_standards(id),
          target numeric not null check (target >= 0 and target <= 1),
          primary key (agreement_id, standard_id)
        );

        -- Every version of an agreement (the first draft and each amendment): the proposed terms as JSON (snapshot),
        -- the terms in force when it was opened (base, for the diff), and its own life cycle.
        create table agreement_versions (
          agreement_id uuid not null references agreements(id) on delete cascade,
          version integer not null,
          status text not null check (status in ('draft','submitted','approved','accepted','withdrawn')),
          snapshot jsonb not null,
          base jsonb,
          note text,
          decision_date date,
          decision_reference text,
          approved_by text references staff_users(id),
          accepted_by text references staff_users(id),
          created_by text references staff_users(id),
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          primary key (agreement_id, version)
        );
        create unique index agreement_versions_one_open on agreement_versions(agreement_id) where status in ('draft','submitted','approved');

        create table agreement_events (
          id bigserial primary key,
          agreement_id uuid not null references agreements(id) on delete cascade,
          version integer,
          action text not null,
          staff_id text references staff_users(id),
          detail text,
          at timestamptz not null default now()
        );
        create index agreement_events_agreement on agreement_events(agreement_id, id);

        -- Expiry reminders sent (90 and 30 days before the end): one row per agreement, term end and threshold.
        create table agreement_reminders (
          agreement_id uuid not null references agreements(id) on delete cascade,
          term_end date not null,
          days_before integer not null,
          sent_at timestamptz not null default now(),
          primary key (agreement_id, term_end, days_before)
        );

        -- Fee schedule versions per service and channel. valid_to is the last day in force (inclusive); null = open.
        create table fee_versions (
          id uuid primary key default gen_random_uuid(),
          service_id text not null references services(id),
          channel text not null check (channel in ('online','phone','in_person','mail','email','fax','kiosk')),
          valid_from date not null,
          valid_to date,
          agreement_id uuid references agreements(id),
          statutory_cents bigint not null check (statutory_cents between 0 and 10000000),
          statutory_payee_org_id text not null references organisations(id),
          service_fee_basis text not null default 'none' check (service_fee_basis in ('none','fixed','bps')),
          service_fee_value bigint not null default 0 check (service_fee_value between 0 and 10000000),
          service_fee_mode text not null default 'included' check (service_fee_mode in ('included','on_top')),
          service_fee_payee_org_id text not null default 'guichet' references organisations(id),
          card_recovery_cents bigint not null default 0 check (card_recovery_cents between 0 and 10000000),
          card_recovery_payee_org_id text references organisations(id),
          tax_bps integer not null default 0 check (tax_bps between 0 and 5000),
          tax_payee_org_id text references organisations(id),
          note_en text,
          note_fr text,
          created_by text references staff_users(id),
          created_at timestamptz not null default now(),
          check (valid_to is null or valid_to >= valid_from),
          check (service_fee_basis <> 'bps' or service_fee_value <= 10000),
          check (service_fee_basis <> 'none' or service_fee_value = 0),
          check (card_recovery_cents = 0 or card_recovery_payee_org_id is not null),
          check (tax_bps = 0 or tax_payee_org_id is not null),
          constraint fee_versions_no_overlap exclude using gist (
            service_id with =, channel with =, daterange(valid_from, valid_to, '[]') with &&
          )
        );
        create index fee_versions_agreement on fee_versions(agreement_id) where agreement_id is not null;

        -- A switch that pauses remittance to a payee organisation (present = paused).
        create table remittance_pauses (
          org_id text primary key references organisations(id),
          reason text,
          paused_by text references staff_users(id),
          paused_at timestamptz not null default now()
        );

        -- Idempotency-Key of the creating API calls (until a shared store exists in src/http): same caller and key
        -- with the same body returns the first answer; with another body, 409.
        create table agreements_idempotency (
          caller text not null,
          key text not null,
          request_hash text not null,
          status integer not null,
          response jsonb not null,
          created_at timestamptz not null default now(),
          primary key (caller, key)
        );

        -- Intake of new services (Maine's pipeline).
        create table service_proposals (
          id uuid primary key default gen_random_uuid(),
          partner_org_id text not null references organisations(id),
          title_en text not null,
          title_fr text not null,
          business_case_en text not null,
          business_case_fr text not null,
          status text not null default 'proposed' check (status in ('proposed','scored','approved','rejected','reevaluation')),
          score_value integer,
          score_resources integer,
          score_total integer,
          scores jsonb,
          scored_by text references staff_users(id),
          scored_at timestamptz,
          decision_date date,
          decision_reference text,
          decided_by text references staff_users(id),
          reevaluation_reason text,
          service_id text references services(id),
          agreement_id uuid references agreements(id),
          amendment_version integer,
          proposed_by text references staff_users(id),
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        );
        create index service_proposals_partner on service_proposals(partner_org_id);
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        drop table service_proposals; drop table agreements_idempotency; drop table remittance_pauses; drop table fee_versions;
        drop table agreement_reminders; drop table agreement_events; drop table agreement_versions;
        drop table agreement_service_levels; drop table agreement_services; drop table agreements; drop sequence agreement_numbers;
      `.execute(db);
    },
  },
  // Renewal that acts: an agreement renewed automatically is extended by renewal_months when its term ends.
  '002_renewal_months': {
    async up(db: Kysely<any>) {
      await sql`alter table agreements add column renewal_months integer not null default 12 check (renewal_months between 1 and 60)`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`alter table agreements drop column renewal_months`.execute(db);
    },
  },
};
