/** Tables of the agreements capability: agreements and their versions, fee schedules, remittance switches, intake. */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export type AgreementStatus = 'draft' | 'submitted' | 'approved' | 'active' | 'expired' | 'terminated';
export type IntegrationLevel = 'complete' | 'partial' | 'co_location';
export type RemittanceFrequency = 'daily' | 'weekly' | 'monthly';
export type RefundBearerRule = 'partner' | 'one_stop_own_delay';
export type VersionStatus = 'draft' | 'submitted' | 'approved' | 'accepted' | 'withdrawn';

export interface AgreementsTable {
  id: Generated<string>;
  number: Generated<string>;
  partner_org_id: string;
  one_stop_org_id: Generated<string>;
  master_id: string | null;
  is_master: ColumnType<boolean, boolean | undefined, boolean>;
  status: ColumnType<AgreementStatus, AgreementStatus | undefined, AgreementStatus>;
  version: ColumnType<number, number | undefined, number>;
  title_en: string;
  title_fr: string;
  summary_en: ColumnType<string, string | undefined, string>;
  summary_fr: ColumnType<string, string | undefined, string>;
  integration_level: IntegrationLevel;
  term_start: string;
  term_end: string;
  renewal: ColumnType<'none' | 'annual_review' | 'automatic', string | undefined, string>;
  /** How long each automatic renewal extends the term (1..60 months, default 12). */
  renewal_months: ColumnType<number, number | undefined, number>;
  refund_bearer: ColumnType<RefundBearerRule, RefundBearerRule | undefined, RefundBearerRule>;
  show_partner_name: ColumnType<boolean, boolean | undefined, boolean>;
  show_partner_logo: ColumnType<boolean, boolean | undefined, boolean>;
  visibility_channels: ColumnType<string[], string[] | undefined, string[]>;
  convenience_fee_legal_basis_en: string | null;
  convenience_fee_legal_basis_fr: string | null;
  hold_business_days: ColumnType<number, number | undefined, number>;
  remittance_frequency: ColumnType<RemittanceFrequency, RemittanceFrequency | undefined, RemittanceFrequency>;
  net_invoices: ColumnType<boolean, boolean | undefined, boolean>;
  payment_due_days: ColumnType<number, number | undefined, number>;
  decision_date: string | null;
  decision_reference: string | null;
  approved_by: string | null;
  submitted_at: Timestamp | null;
  submitted_by: string | null;
  accepted_at: Timestamp | null;
  accepted_by: string | null;
  ended_at: Timestamp | null;
  end_reason: string | null;
  created_by: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AgreementServicesTable {
  agreement_id: string;
  service_id: string;
  channels: ColumnType<string[], string[], string[]>;
}

export interface AgreementServiceLevelsTable {
  agreement_id: string;
  standard_id: string;
  target: number;
}

export interface AgreementVersionsTable {
  agreement_id: string;
  version: number;
  status: VersionStatus;
  snapshot: Json<unknown>;
  base: Json<unknown> | null;
  note: string | null;
  decision_date: string | null;
  decision_reference: string | null;
  approved_by: string | null;
  accepted_by: string | null;
  created_by: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AgreementEventsTable {
  id: Generated<number>;
  agreement_id: string;
  version: number | null;
  action: string;
  staff_id: string | null;
  detail: string | null;
  at: Generated<Date>;
}

export interface AgreementRemindersTable {
  agreement_id: string;
  term_end: string;
  days_before: number;
  sent_at: Generated<Date>;
}

export interface FeeVersionsTable {
  id: Generated<string>;
  service_id: string;
  channel: string;
  valid_from: string;
  valid_to: string | null;
  agreement_id: string | null;
  statutory_cents: number;
  statutory_payee_org_id: string;
  service_fee_basis: ColumnType<'none' | 'fixed' | 'bps', 'none' | 'fixed' | 'bps' | undefined, 'none' | 'fixed' | 'bps'>;
  service_fee_value: ColumnType<number, number | undefined, number>;
  service_fee_mode: ColumnType<'included' | 'on_top', 'included' | 'on_top' | undefined, 'included' | 'on_top'>;
  service_fee_payee_org_id: ColumnType<string, string | undefined, string>;
  card_recovery_cents: ColumnType<number, number | undefined, number>;
  card_recovery_payee_org_id: string | null;
  tax_bps: ColumnType<number, number | undefined, number>;
  tax_payee_org_id: string | null;
  note_en: string | null;
  note_fr: string | null;
  created_by: string | null;
  created_at: Generated<Date>;
}

export interface RemittancePausesTable {
  org_id: string;
  reason: string | null;
  paused_by: string | null;
  paused_at: Generated<Date>;
}

export interface AgreementsIdempotencyTable {
  caller: string;
  key: string;
  request_hash: string;
  status: number;
  response: Json<unknown>;
  created_at: Generated<Date>;
}

export interface ServiceProposalsTable {
  id: Generated<string>;
  partner_org_id: string;
  title_en: string;
  title_fr: string;
  business_case_en: string;
  business_case_fr: string;
  status: ColumnType<'proposed' | 'scored' | 'approved' | 'rejected' | 'reevaluation', string | undefined, string>;
  score_value: number | null;
  score_resources: number | null;
  score_total: number | null;
  scores: Json<Record<string, number>> | null;
  scored_by: string | null;
  scored_at: Timestamp | null;
  decision_date: string | null;
  decision_reference: string | null;
  decided_by: string | null;
  reevaluation_reason: string | null;
  service_id: string | null;
  agreement_id: string | null;
  amendment_version: number | null;
  proposed_by: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AgreementsTables {
  agreements: AgreementsTable;
  agreement_services: AgreementServicesTable;
  agreement_service_levels: AgreementServiceLevelsTable;
  agreement_versions: AgreementVersionsTable;
  agreement_events: AgreementEventsTable;
  agreement_reminders: AgreementRemindersTable;
  fee_versions: FeeVersionsTable;
  remittance_pauses: RemittancePausesTable;
  agreements_idempotency: AgreementsIdempotencyTable;
  service_proposals: ServiceProposalsTable;
}
