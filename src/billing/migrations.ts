/** Migrations of the billing capability (group 650_billing, after agreements). Never edit one that has shipped. */
import { sql, type Kysely, type Migration } from 'kysely';

export const migrations: Record<string, Migration> = {
  '001_tables': {
    async up(db: Kysely<any>) {
      await sql`
        create table billing_terms (
          agreement_id uuid primary key references agreements(id),
          partner_org_id text not null references organisations(id),
          model text not null check (model in ('per_interaction','per_transaction','fixed_yearly')),
          frequency text not null check (frequency in ('daily','monthly')),
          info_only_cents bigint not null default 0 check (info_only_cents between 0 and 10000000),
          transaction_cents bigint not null default 0 check (transaction_cents between 0 and 10000000),
          yearly_cents bigint not null default 0 check (yearly_cents between 0 and 100000000000),
          valid_from date not null,
          valid_to date,
          service_ids text[],
          updated_by text not null,
          updated_at timestamptz not null default now(),
          check (valid_to is null or valid_to >= valid_from),
          check (model <> 'fixed_yearly' or frequency = 'monthly')
        );
        create index billing_terms_partner on billing_terms(partner_org_id);
        create table billing_channel_rates (
          agreement_id uuid not null references billing_terms(agreement_id) on delete cascade,
          channel text not null check (channel in ('web','phone','counter','kiosk','mail','email')),
          cents bigint not null check (cents between 0 and 10000000),
          primary key (agreement_id, channel)
        );
        create table billing_invoice_counters (
          year integer primary key,
          last_number integer not null
        );
        create table billing_invoices (
          id bigserial primary key,
          agreement_id uuid not null references billing_terms(agreement_id),
          partner_org_id text not null references organisations(id),
          period_start date not null,
          period_end date not null,
          year integer not null,
          number integer,
          issued_on date not null,
          due_on date not null,
          total_cents bigint not null default 0,
          netted_cents bigint not null default 0,
          status text not null default 'open' check (status in ('open','netted')),
          created_at timestamptz not null default now(),
          unique (agreement_id, period_start),
          unique (year, number),
          check (period_end > period_start),
          check (netted_cents between 0 and greatest(total_cents, 0))
        );
        create index billing_invoices_partner on billing_invoices(partner_org_id, period_start desc);
        create table billing_invoice_lines (
          id bigserial primary key,
          invoice_id bigint not null references billing_invoices(id) on delete cascade,
          source_kind text not null,
          channel text not null,
          info_only boolean not null,
          unit_cents bigint not null,
          quantity bigint not null,
          amount_cents bigint not null,
          unique (invoice_id, source_kind, channel, info_only, unit_cents),
          check (amount_cents = quantity * unit_cents)
        );
        -- The gate that bills each record at most once: a record belongs to exactly one block (its kind, the partner
        -- that owns its service, its local day), all fixed when it is written; a block is claimed by one invoice only.
        create table billing_claims (
          source_kind text not null,
          partner_org_id text not null,
          day date not null,
          invoice_id bigint not null references billing_invoices(id) on delete cascade,
          primary key (source_kind, partner_org_id, day)
        );
        create index billing_claims_invoice on billing_claims(invoice_id);
        -- The records each line counts, per day and service: their ids (source_ids) and how many. Lines are the sums of these rows.
        create table billed_items (
          invoice_id bigint not null references billing_invoices(id) on delete cascade,
          source_kind text not null,
          service_id text not null, -- '' for questions and fixed amounts
          channel text not null,
          info_only boolean not null,
          unit_cents bigint not null,
          day date not null,
          quantity bigint not null check (quantity = cardinality(source_ids)),
          source_ids text[] not null,
          primary key (invoice_id, source_kind, channel, info_only, unit_cents, day, service_id)
        );
        create table billing_disputes (
          id bigserial primary key,
          invoice_id bigint not null references billing_invoices(id),
          line_id bigint not null references billing_invoice_lines(id),
          partner_org_id text not null references organisations(id),
          reason text not null check (length(reason) between 1 and 2000),
          raised_by text not null,
          status text not null default 'open' check (status in ('open','upheld','rejected')),
          resolution text,
          resolved_by text,
          raised_at timestamptz not null default now(),
          resolved_at timestamptz
        );
        create unique index billing_disputes_open on billing_disputes(line_id) where status = 'open';
        create table billing_nettings (
          invoice_id bigint not null references billing_invoices(id),
          remittance_ref text not null,
          amount_cents bigint not null check (amount_cents > 0),
          at timestamptz not null default now(),
          primary key (invoice_id, remittance_ref)
        );
        create table billing_subscriptions (
          id bigserial primary key,
          business_id text not null references clients(id),
          status text not null check (status in ('active','lapsed','cancelled')),
          yearly_cents bigint not null check (yearly_cents between 0 and 10000000),
          minimum_cents bigint not null check (minimum_cents between 0 and 10000000),
          starts_on date not null,
          ends_on date not null,
          auto_renew boolean not null default true,
          cancelled_at timestamptz,
          created_at timestamptz not null default now(),
          check (ends_on > starts_on)
        );
        create unique index billing_subscriptions_live on billing_subscriptions(business_id) where status = 'active';
        create table billing_account_charges (
          id bigserial primary key,
          subscription_id bigint not null references billing_subscriptions(id),
          business_id text not null references clients(id),
          basket_ref text not null,
          amount_cents bigint not null check (amount_cents > 0 and amount_cents <= 100000000),
          kind text not null check (kind in ('transaction','subscription_fee')),
          charged_at timestamptz not null default now(),
          statement_id bigint,
          unique (business_id, basket_ref)
        );
        create index billing_account_charges_open on billing_account_charges(business_id, charged_at) where statement_id is null;
        create table billing_statements (
          id bigserial primary key,
          business_id text not null references clients(id),
          subscription_id bigint not null references billing_subscriptions(id),
          month date not null,
          charges_cents bigint not null,
          carried_in_cents bigint not null,
          total_cents bigint not null,
          status text not null check (status in ('issued','carried')),
          due_on date,
          created_at timestamptz not null default now(),
          unique (business_id, month),
          check (total_cents = charges_cents + carried_in_cents)
        );
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table billing_statements; drop table billing_account_charges; drop table billing_subscriptions;
        drop table billing_nettings; drop table billing_disputes; drop table billed_items; drop table billing_claims; drop table billing_invoice_lines;
        drop table billing_invoices; drop table billing_invoice_counters; drop table billing_channel_rates; drop table billing_terms;`.execute(db);
    },
  },
  // The ids of the counted records in their own types (issue 17, 5,000,000-interaction benchmark): case interactions'
  // bigint ids and counter visits' uuids were collected as text (the number or uuid printed for each record, then a
  // copy of each string in the array, then the arrays compressed when written). Typed arrays are collected without
  // a copy per record and are 2–3 times smaller; they are stored without compression (STORAGE EXTERNAL: ids do not
  // compress much and compressing them cost more than writing them). Exactly one of the three arrays is set.
  '002_typed_ids': {
    async up(db: Kysely<any>) {
      await sql`
        alter table billed_items
          add column source_nums bigint[],
          add column source_uuids uuid[],
          alter column source_ids drop not null;
        alter table billed_items drop constraint billed_items_check;
        alter table billed_items add constraint billed_items_ids check (
          num_nonnulls(source_ids, source_nums, source_uuids) = 1
          and quantity = coalesce(cardinality(source_ids), 0) + coalesce(cardinality(source_nums), 0) + coalesce(cardinality(source_uuids), 0));
        alter table billed_items
          alter column source_ids set storage external,
          alter column source_nums set storage external,
          alter column source_uuids set storage external;
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        alter table billed_items drop constraint billed_items_ids;
        update billed_items set source_ids = coalesce(source_ids, source_nums::text[], source_uuids::text[]);
        alter table billed_items drop column source_nums, drop column source_uuids, alter column source_ids set not null,
          alter column source_ids set storage extended;
        alter table billed_items add constraint billed_items_check check (quantity = cardinality(source_ids));
      `.execute(db);
    },
  },
  '003_parallel_count': {
    async up(db: Kysely<any>) {
      await sql.raw(PARALLEL_COUNT_UP).execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop function billing_grouped(timestamptz, timestamptz, date, timestamptz[], text, text[]); drop aggregate billing_concat(anycompatiblearray);`.execute(db);
    },
  },
};

/**
 * 003_parallel_count (docs/billing.md, "The run"): the run's grouping of the recorded activity as a plain SELECT that
 * PostgreSQL may run in parallel, called by the run's INSERT (an INSERT … SELECT never runs in parallel on
 * PostgreSQL 15, and array_agg has no partial form before 16).
 *  - billing_concat: concatenates the id arrays of one key made by several parts (array_cat as an aggregate);
 *  - billing_grouped(from, to, first day, day bounds, information-only outcome, outcomes that are not contacts): one
 *    row per (kind, partner, service, channel, information only, completed transaction, local day) with the ids of
 *    its records (ids text, nums bigint, uuids uuid: one of the three). The two large sources (counter visits, case
 *    interactions) are each read as PARTS ranges of their pages (TID range scans: [0, b1), [b1, b2), …, [bn, ∞), a
 *    partition of the table whatever its size, so every row is read by exactly one part); each part is grouped whole
 *    by one process, the parts side by side (Parallel Append under a Gather: two workers and the leader), then the
 *    parts' arrays of one key are concatenated. The settings of the function make that plan the planner's choice:
 *    no parallel scan of a table (each part is one process's), and no cost for starting workers or passing rows
 *    (it guesses millions of groups; there are a few thousand). In one process (PGlite, or no worker free) it is
 *    the same grouping, one part after the other. The case's service and its owner are joined first (cases ×
 *    services, as written: join_collapse_limit = 1) and looked up once per interaction, not twice.
 */
const PARTS = 3;
const parts = (table: string, alias: string) =>
  Array.from({ length: PARTS }, (_, k) => {
    const lo = k === 0 ? '' : `${alias}.ctid >= ${table}_b[${k}]`;
    const hi = k === PARTS - 1 ? '' : `${alias}.ctid < ${table}_b[${k + 1}]`;
    return [lo, hi].filter(Boolean).join(' and ');
  });
const PARALLEL_COUNT_UP = `
create aggregate billing_concat(anycompatiblearray) (sfunc = array_cat, stype = anycompatiblearray, parallel = safe);

create function billing_grouped(p_from timestamptz, p_to timestamptz, p_first date, p_bounds timestamptz[], p_info text, p_not_contacts text[])
returns table (kind text, org_id text, service_id text, channel text, info boolean, tx boolean, day date, ids text[], nums bigint[], uuids uuid[])
language plpgsql stable
set parallel_setup_cost = 0 set parallel_tuple_cost = 0 set min_parallel_table_scan_size = '1TB' set join_collapse_limit = 1
as $fn$
#variable_conflict use_column
declare
  -- the page at which each part after the first begins
  ticket_visits_b tid[] := array(select format('(%s,0)', pg_relation_size('ticket_visits') / current_setting('block_size')::bigint * k / ${PARTS})::tid
                                   from generate_series(1, ${PARTS - 1}) k);
  case_interactions_b tid[] := array(select format('(%s,0)', pg_relation_size('case_interactions') / current_setting('block_size')::bigint * k / ${PARTS})::tid
                                       from generate_series(1, ${PARTS - 1}) k);
begin
  return query
  select g.kind, g.org_id, g.service_id, g.channel, g.info, g.tx, g.day, billing_concat(g.ids), billing_concat(g.nums), billing_concat(g.uuids)
    from (
${parts('ticket_visits', 'v').map((part) => `      select 'counter_visit'::text as kind, v.org_id, v.service_id, 'counter'::text as channel, coalesce(v.result = p_info, false) as info,
             not coalesce(v.result = p_info, false) as tx, p_first + width_bucket(v.done_at, p_bounds) as day, null::text[] as ids, null::bigint[] as nums, array_agg(v.id) as uuids
        from ticket_visits v
       where v.outcome = 'served' and v.done_at >= p_from and v.done_at < p_to and ${part}
       group by 2, 3, 5, 6, 7`).join('\n      union all\n')}
      union all
${parts('case_interactions', 'ci').map((part) => `      select 'case_interaction', s.owner_org_id, c.service_id, ci.channel, ci.outcome = p_info, false, p_first + width_bucket(ci.at, p_bounds), null, array_agg(ci.id), null
        from case_interactions ci
        join (cases c join services s on s.id = c.service_id) on c.id = ci.case_id
       where ci.actor_kind = 'staff' and ci.at >= p_from and ci.at < p_to and ${part}
         and ci.outcome <> all(p_not_contacts) and ci.org_id is distinct from s.owner_org_id
       group by 2, 3, 4, 5, 7`).join('\n      union all\n')}
      union all
      select 'question', q.to_org_id, '', q.channel, true, false, p_first + width_bucket(q.created_at, p_bounds), array_agg(q.id), null, null
        from case_questions q
       where q.created_at >= p_from and q.created_at < p_to and q.from_org_id <> q.to_org_id
       group by 2, 4, 7
      union all
      select 'online_form', s.owner_org_id, c.service_id, 'web', false, true, p_first + width_bucket(c.submitted_at, p_bounds), array_agg(c.id), null, null
        from cases c join services s on s.id = c.service_id
       where c.form_version is not null and c.created_by_kind = 'client' and c.submitted_at >= p_from and c.submitted_at < p_to
       group by 2, 3, 7
    ) g
   group by 1, 2, 3, 4, 5, 6, 7;
end
$fn$;
`;
