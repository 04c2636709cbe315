/**
 * Tables of the performance capability: one count of every contact (perf_events), its daily and monthly rollups
 * and time histograms (events.ts ROLLUPS), the ingestion cursors and the rollup watermark, partners' own reported volumes, unit costs per channel, campaign
 * markers, satisfaction survey tokens and responses, and the monthly partner reports.
 *
 * Dependency direction: performance READS the other capabilities' tables (counters, cases, notices, catalogue);
 * none of them reads or writes these tables, except through `recordContactEvent` (events.ts), the seam for
 * capabilities that push their own events (payments, when it lands).
 */
import type { ColumnType, Generated } from 'kysely';

export const CHANNELS = ['web', 'phone', 'counter', 'kiosk', 'mail', 'email', 'chat'] as const;
export type Channel = (typeof CHANNELS)[number];
export const OUTCOMES = ['information', 'completed', 'not_eligible', 'abandoned', 'referred', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const MEASURES = ['wait', 'handle', 'decision'] as const;
/** Channels whose transactions are digital (take-up's numerator). */
export const DIGITAL_CHANNELS = ['web'] as const;
/** Outcomes that finish a transaction (GOV.UK: "not eligible" is a completion). */
export const COMPLETED = ['completed', 'not_eligible'] as const;
/** Outcomes of a started transaction (completed or not). */
export const STARTED = ['completed', 'not_eligible', 'abandoned', 'failed'] as const;
export type Measure = (typeof MEASURES)[number];

export interface PerfEventsTable {
  id: Generated<number>;
  source: string;
  source_id: string;
  kind: string;
  channel: Channel;
  service_id: string | null;
  owner_org_id: string | null;
  delivering_org_id: string | null;
  office_id: string | null;
  outcome: Outcome;
  occurred_at: Date;
  day: string;
  wait_s: number | null;
  handle_s: number | null;
  decision_s: number | null;
  no_repeat: boolean | null;
  /** Decided within the service's standard / served within the counter wait target (null: no standard applies). */
  within_standard: boolean | null;
  amount_cents: number | null;
  recorded_at: Generated<Date>;
  /** Id of the transaction that inserted the event (the rollup watermark's order). */
  xid: Generated<string>;
}

/** Daily rollup: one row per day × service × owner × delivering organisation × office × channel × outcome ('' = none). */
export interface PerfDailyTable {
  day: string;
  service_id: string;
  owner_org_id: string;
  delivering_org_id: string;
  office_id: string;
  channel: string;
  outcome: string;
  events: number;
  wait_n: number;
  wait_sum: number;
  handle_n: number;
  handle_sum: number;
  decision_n: number;
  decision_sum: number;
  no_repeat_n: number;
  no_repeat_yes: number;
  standard_n: number;
  standard_met: number;
  amount_cents: number;
}

/** The sums every count rollup keeps. */
type Sums = Omit<PerfDailyTable, 'day' | 'service_id' | 'owner_org_id' | 'delivering_org_id' | 'office_id' | 'channel' | 'outcome'>;

/** Monthly rollup per service (charter, service page): service × month × owner × channel × outcome. */
export interface PerfMonthlyTable extends Sums {
  service_id: string;
  month: string;
  owner_org_id: string;
  channel: string;
  outcome: string;
}

/** Monthly rollup per partner and office (partner report's offices): month × owner × office × channel × outcome. */
export interface PerfMonthlyOrgTable extends Omit<PerfDailyTable, 'day' | 'service_id' | 'delivering_org_id'> {
  month: string;
}

/** Monthly rollup per partner (dashboard, partner reports): month × owner × channel × outcome. */
export interface PerfMonthlyOwnerTable extends Sums {
  month: string;
  owner_org_id: string;
  channel: string;
  outcome: string;
}

/**
 * Monthly summary per partner (the dashboard's partners side by side): month × owner, every sum of the count rollups
 * plus the outcome classes the side-by-side figures need (transactions = COMPLETED outcomes, started = STARTED
 * outcomes, web transactions = COMPLETED on a DIGITAL channel), so a page groups one row per partner and month.
 */
export interface PerfMonthlyOwnerSummaryTable extends Sums {
  month: string;
  owner_org_id: string;
  transactions: number;
  started: number;
  web_transactions: number;
}

/** Monthly rollup per office (dashboard's offices): month × office × channel × outcome. */
export interface PerfMonthlyOfficeTable extends Sums {
  month: string;
  office_id: string;
  channel: string;
  outcome: string;
}

/** Monthly rollup of everything (dashboard's totals, channels and trend): month × channel × outcome. */
export interface PerfMonthlyTotalTable extends Sums {
  month: string;
  channel: string;
  outcome: string;
}

/** Monthly histogram of all times: bucket b holds seconds s with floor(ln(1+s)/ln(1.2)) = b. */
export interface PerfHistTotalTable {
  month: string;
  measure: string;
  bucket: number;
  n: number;
}

/** Monthly histogram of times per partner. */
export interface PerfHistMonthlyTable {
  month: string;
  owner_org_id: string;
  measure: string;
  bucket: number;
  n: number;
}

/** Monthly histogram of times per service. */
export interface PerfHistServiceTable {
  service_id: string;
  month: string;
  measure: string;
  bucket: number;
  n: number;
}

/** The rollup job's watermark: (transaction id, event id) of the last event rolled up. */
export interface PerfRollupCursorTable {
  name: string;
  mark_xid: string;
  mark_id: string;
  updated_at: Generated<Date>;
}

export interface PerfCursorsTable {
  source: string;
  mark_at: Date;
  mark_id: string;
  updated_at: Generated<Date>;
}

/** Volumes a partner reports for its own channels (API, CSV upload, or the GC inventory for federal services). */
export interface PerfPartnerVolumesTable {
  id: Generated<number>;
  org_id: string;
  service_id: string;
  channel: string;
  period_start: string;
  period_end: string;
  transactions: number;
  source: string; // 'api' | 'csv' | 'gc-inventory'
  created_at: Generated<Date>;
}

export interface PerfUnitCostsTable {
  channel: string;
  cost_cents: number;
  updated_by: string | null;
  updated_at: Generated<Date>;
}

export interface PerfCampaignsTable {
  id: Generated<number>;
  day: string;
  label_en: string;
  label_fr: string;
  service_id: string | null;
  created_by: string | null;
}

/** A survey invitation: only the SHA-256 of the random token is stored; `ref` makes one invitation per interaction. */
export interface PerfSurveyTokensTable {
  token_hash: string;
  ref: string | null;
  service_id: string | null;
  org_id: string | null;
  office_id: string | null;
  channel: string;
  expires_at: Date;
  used_at: Date | null;
  created_at: Generated<Date>;
}

/** An anonymous response: no name, no token, no interaction id; the comment is scrubbed before it is stored. */
export interface PerfSurveyResponsesTable {
  id: Generated<number>;
  day: string;
  service_id: string | null;
  org_id: string | null;
  office_id: string | null;
  channel: string;
  score: number | null; // 1..5, null = does not apply
  comment: string | null;
  lang: string;
  created_at: Generated<Date>;
}

/** Survey e-mails owed after a counter visit or a decided case (one per event; at-least-once sending). */
export interface PerfSurveyMailsTable {
  event_id: number;
  to_address: string;
  lang: string;
  status: string; // pending | sent | failed
  attempts: number;
  created_at: Generated<Date>;
  sent_at: Date | null;
}

/** Monthly partner reports, kept. */
export interface PerfReportsTable {
  org_id: string;
  month: string; // 'YYYY-MM'
  data: ColumnType<Record<string, unknown>, string, string>;
  created_at: Generated<Date>;
  mailed_at: Date | null;
}

export interface PerformanceTables {
  perf_events: PerfEventsTable;
  perf_daily: PerfDailyTable;
  perf_monthly: PerfMonthlyTable;
  perf_monthly_org: PerfMonthlyOrgTable;
  perf_monthly_owner: PerfMonthlyOwnerTable;
  perf_monthly_owner_summary: PerfMonthlyOwnerSummaryTable;
  perf_monthly_office: PerfMonthlyOfficeTable;
  perf_monthly_total: PerfMonthlyTotalTable;
  perf_hist_monthly: PerfHistMonthlyTable;
  perf_hist_total: PerfHistTotalTable;
  perf_hist_service: PerfHistServiceTable;
  perf_rollup_cursor: PerfRollupCursorTable;
  perf_cursors: PerfCursorsTable;
  perf_partner_volumes: PerfPartnerVolumesTable;
  perf_unit_costs: PerfUnitCostsTable;
  perf_campaigns: PerfCampaignsTable;
  perf_survey_tokens: PerfSurveyTokensTable;
  perf_survey_responses: PerfSurveyResponsesTable;
  perf_survey_mails: PerfSurveyMailsTable;
  perf_reports: PerfReportsTable;
}
