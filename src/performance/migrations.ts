import { sql, type Kysely, type Migration } from 'kysely';

/** Migrations of the performance capability (group 800_performance). */
export const migrations: Record<string, Migration> = {
  '001_events_rollups_surveys': {
    async up(db: Kysely<any>) {
      await sql`
        create table perf_events (
          id bigserial primary key,
          source text not null,
          source_id text not null,
          kind text not null,
          channel text not null check (channel in ('web','phone','counter','kiosk','mail','email','chat')),
          service_id text,
          owner_org_id text,
          delivering_org_id text,
          office_id text,
          outcome text not null check (outcome in ('information','completed','not_eligible','abandoned','referred','failed')),
          occurred_at timestamptz not null,
          day date not null,
          wait_s integer check (wait_s >= 0),
          handle_s integer check (handle_s >= 0),
          decision_s integer check (decision_s >= 0),
          no_repeat boolean,
          within_standard boolean,
          amount_cents bigint,
          recorded_at timestamptz not null default now(),
          unique (source, source_id, kind)
        );
        create table perf_daily (
          day date not null,
          service_id text not null,
          owner_org_id text not null,
          delivering_org_id text not null,
          office_id text not null,
          channel text not null,
          outcome text not null,
          events bigint not null default 0,
          wait_n bigint not null default 0,
          wait_sum bigint not null default 0,
          handle_n bigint not null default 0,
          handle_sum bigint not null default 0,
          decision_n bigint not null default 0,
          decision_sum bigint not null default 0,
          no_repeat_n bigint not null default 0,
          no_repeat_yes bigint not null default 0,
          standard_n bigint not null default 0,
          standard_met bigint not null default 0,
          amount_cents bigint not null default 0,
          primary key (day, service_id, owner_org_id, delivering_org_id, office_id, channel, outcome)
        );
        create index perf_daily_owner on perf_daily (owner_org_id, day);
        create index perf_daily_service on perf_daily (service_id, day);
        create table perf_monthly (
          month date not null,
          service_id text not null,
          owner_org_id text not null,
          office_id text not null,
          channel text not null,
          outcome text not null,
          events bigint not null default 0,
          wait_n bigint not null default 0,
          wait_sum bigint not null default 0,
          standard_n bigint not null default 0,
          standard_met bigint not null default 0,
          primary key (month, service_id, owner_org_id, office_id, channel, outcome)
        );
        create index perf_monthly_service on perf_monthly (service_id, month);
        create index perf_monthly_owner on perf_monthly (owner_org_id, month);
        create table perf_monthly_org (
          month date not null,
          owner_org_id text not null,
          office_id text not null,
          channel text not null,
          outcome text not null,
          events bigint not null default 0,
          wait_n bigint not null default 0,
          wait_sum bigint not null default 0,
          handle_n bigint not null default 0,
          handle_sum bigint not null default 0,
          decision_n bigint not null default 0,
          decision_sum bigint not null default 0,
          no_repeat_n bigint not null default 0,
          no_repeat_yes bigint not null default 0,
          standard_n bigint not null default 0,
          standard_met bigint not null default 0,
          amount_cents bigint not null default 0,
          primary key (month, owner_org_id, office_id, channel, outcome)
        );
        create table perf_hist_monthly (
          month date not null,
          owner_org_id text not null,
          office_id text not null,
          channel text not null,
          measure text not null,
          bucket smallint not null,
          n bigint not null,
          primary key (month, owner_org_id, office_id, channel, measure, bucket)
        );
        create table perf_hist (
          day date not null,
          service_id text not null,
          owner_org_id text not null,
          office_id text not null,
          channel text not null,
          measure text not null,
          bucket smallint not null,
          n bigint not null,
          primary key (day, service_id, owner_org_id, office_id, channel, measure, bucket)
        );
        create table perf_cursors (
          source text primary key,
          mark_at timestamptz not null,
          mark_id text not null,
          updated_at timestamptz not null default now()
        );
        create table perf_partner_volumes (
          id bigserial primary key,
          org_id text not null references organisations(id),
          service_id text not null references services(id),
          channel text not null check (channel in ('web','phone','counter','kiosk','mail','email','chat')),
          period_start date not null,
          period_end date not null,
          transactions bigint not null check (transactions >= 0),
          source text not null,
          created_at timestamptz not null default now(),
          check (period_end >= period_start),
          unique (service_id, channel, period_start)
        );
        create index perf_partner_volumes_org on perf_partner_volumes (org_id, period_start);
        create table perf_unit_costs (
          channel text primary key check (channel in ('web','phone','counter','kiosk','mail','email','chat')),
          cost_cents integer not null check (cost_cents >= 0),
          updated_by text,
          updated_at timestamptz not null default now()
        );
        insert into perf_unit_costs (channel, cost_cents) values ('counter', 4050), ('phone', 1100), ('web', 65);
        create table perf_campaigns (
          id bigserial primary key,
          day date not null,
          label_en text not null,
          label_fr text not null,
          service_id text,
          created_by text
        );
        create table perf_survey_tokens (
          token_hash text primary key,
          ref text unique,
          service_id text,
          org_id text,
          office_id text,
          channel text not null,
          expires_at timestamptz not null,
          used_at timestamptz,
          created_at timestamptz not null default now()
        );
        create table perf_survey_responses (
          id bigserial primary key,
          day date not null,
          service_id text,
          org_id text,
          office_id text,
          channel text not null,
          score smallint check (score between 1 and 5),
          comment text check (char_length(comment) <= 1200),
          lang text not null,
          created_at timestamptz not null default now()
        );
        create index perf_survey_responses_org on perf_survey_responses (org_id, day);
        create index perf_survey_responses_service on perf_survey_responses (service_id, day);
        create table perf_survey_mails (
          event_id bigint primary key references perf_events(id),
          to_address text not null,
          lang text not null,
          status text not null default 'pending',
          attempts integer not null default 0,
          created_at timestamptz not null default now(),
          sent_at timestamptz
        );
        create table perf_reports (
          org_id text not null,
          month text not null,
          data jsonb not null,
          created_at timestamptz not null default now(),
          mailed_at timestamptz,
          primary key (org_id, month)
        );
      `.execute(db);
    },
  },
  /*
   * Set-based rollups (issue 19, second pass). Events are inserted on their own; the rollup job then adds new events
   * to every rollup by batch, one INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE per table, from a watermark on
   * (xid, id): `xid` is the inserting transaction's id (64-bit, never wraps), so rows are read in commit-safe order (see
   * events.ts). The per-service histogram is monthly; the monthly rollups drop the dimensions no page reads, and two
   * small ones (per partner, per office, in all) serve the dashboard. Existing rollups are rebuilt from perf_events here.
   */
  '002_setbased_rollups': {
    async up(db: Kysely<any>) {
      const sums = `events bigint not null default 0, wait_n bigint not null default 0, wait_sum bigint not null default 0,
          handle_n bigint not null default 0, handle_sum bigint not null default 0, decision_n bigint not null default 0,
          decision_sum bigint not null default 0, no_repeat_n bigint not null default 0, no_repeat_yes bigint not null default 0,
          standard_n bigint not null default 0, standard_met bigint not null default 0, amount_cents bigint not null default 0`;
      await sql`
        alter table perf_events add column xid bigint not null default 0;
        alter table perf_events alter column xid set default (pg_current_xact_id()::text::bigint);
        create index perf_events_xid on perf_events (xid, id);
        drop index perf_daily_owner, perf_daily_service;
        drop table perf_hist, perf_monthly, perf_hist_monthly;
        create table perf_monthly (
          service_id text not null, month date not null, owner_org_id text not null, channel text not null, outcome text not null,
          ${sql.raw(sums)},
          primary key (service_id, month, owner_org_id, channel, outcome)
        );
        create table perf_monthly_owner (
          month date not null, owner_org_id text not null, channel text not null, outcome text not null,
          ${sql.raw(sums)},
          primary key (month, owner_org_id, channel, outcome)
        );
        create table perf_monthly_office (
          month date not null, office_id text not null, channel text not null, outcome text not null,
          ${sql.raw(sums)},
          primary key (month, office_id, channel, outcome)
        );
        create table perf_monthly_total (
          month date not null, channel text not null, outcome text not null,
          ${sql.raw(sums)},
          primary key (month, channel, outcome)
        );
        create table perf_hist_monthly (
          month date not null, owner_org_id text not null, measure text not null, bucket smallint not null, n bigint not null,
          primary key (month, owner_org_id, measure, bucket)
        );
        create table perf_hist_total (
          month date not null, measure text not null, bucket smallint not null, n bigint not null,
          primary key (month, measure, bucket)
        );
        create table perf_hist_service (
          service_id text not null, month date not null, measure text not null, bucket smallint not null, n bigint not null,
          primary key (service_id, month, measure, bucket)
        );
        create table perf_rollup_cursor (
          name text primary key,
          mark_xid bigint not null,
          mark_id bigint not null,
          updated_at timestamptz not null default now()
        );
      `.execute(db);
      const { rebuildRollups } = await import('./events');
      await rebuildRollups(db as never, { without: ['perf_monthly_owner_summary'] }); // 003 adds that one
    },
  },
  /*
   * The dashboard's partners side by side (issue 19, third pass): a monthly summary per partner (month × owner) with
   * the outcome classes precomputed, about 60 rows a month instead of grouping some 2,700 rows a month of
   * perf_monthly_owner (month × owner × channel × outcome) on every view. Kept by the rollup job like the others
   * (events.ts ROLLUPS, from the batch's per-partner aggregate). Filled here from perf_monthly_owner, which holds
   * exactly the events below the watermark: the cursor row is locked first, so no rollup batch runs in between.
   */
  '003_monthly_owner_summary': {
    async up(db: Kysely<any>) {
      const { fillFromParentSql } = await import('./events');
      await sql`
        create table perf_monthly_owner_summary (
          month date not null, owner_org_id text not null,
          events bigint not null default 0, wait_n bigint not null default 0, wait_sum bigint not null default 0,
          handle_n bigint not null default 0, handle_sum bigint not null default 0, decision_n bigint not null default 0,
          decision_sum bigint not null default 0, no_repeat_n bigint not null default 0, no_repeat_yes bigint not null default 0,
          standard_n bigint not null default 0, standard_met bigint not null default 0, amount_cents bigint not null default 0,
          transactions bigint not null default 0, started bigint not null default 0, web_transactions bigint not null default 0,
          primary key (month, owner_org_id)
        )`.execute(db);
      await sql`select 1 from perf_rollup_cursor for update`.execute(db);
      await sql.raw(fillFromParentSql('perf_monthly_owner_summary')).execute(db);
    },
  },
};
