/**
 * Tables of the billing capability: rates per agreement (billing_terms, billing_channel_rates), invoices with their
 * lines, the counted records behind each line (billed_items), disputes, netting against remittances, and business
 * subscribers (subscriptions, charges on account, monthly statements).
 */
import type { ColumnType, Generated } from 'kysely';

type Ts = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTs = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type RateModel = 'per_interaction' | 'per_transaction' | 'fixed_yearly';
export type BillingFrequency = 'daily' | 'monthly';
export type SourceKind = 'counter_visit' | 'case_interaction' | 'question' | 'online_form' | 'fixed_fee';

export interface BillingTermsTable {
  /** The agreement (src/agreements) these rates belong to. */
  agreement_id: string;
  partner_org_id: string;
  model: RateModel;
  frequency: BillingFrequency;
  info_only_cents: number;
  transaction_cents: number;
  yearly_cents: number;
  valid_from: string;
  valid_to: string | null;
  /** Services the agreement covers; null = every service of the partner. */
  service_ids: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  updated_by: string;
  updated_at: Ts;
}

export interface BillingChannelRatesTable {
  agreement_id: string;
  channel: string;
  cents: number;
}

export interface BillingInvoiceCountersTable {
  year: number;
  last_number: number;
}

export interface BillingInvoicesTable {
  id: Generated<number>;
  agreement_id: string;
  partner_org_id: string;
  period_start: string;
  period_end: string; // exclusive
  year: number;
  number: number | null;
  issued_on: string;
  due_on: string;
  total_cents: ColumnType<number, number | undefined, number>;
  netted_cents: ColumnType<number, number | undefined, number>;
  status: ColumnType<'open' | 'netted', 'open' | 'netted' | undefined, 'open' | 'netted'>;
  created_at: Generated<Date>;
}

export interface BillingInvoiceLinesTable {
  id: Generated<number>;
  invoice_id: number;
  source_kind: SourceKind;
  channel: string;
  info_only: boolean;
  unit_cents: number;
  quantity: number;
  amount_cents: number;
}

/** The gate: one invoice per block (kind, partner, local day); a record belongs to one block. */
export interface BillingClaimsTable {
  source_kind: SourceKind;
  partner_org_id: string;
  day: string;
  invoice_id: number;
}

/** The records a line counts on one day: their ids. */
export interface BilledItemsTable {
  invoice_id: number;
  source_kind: SourceKind;
  /** '' for questions and fixed amounts. */
  service_id: string;
  channel: string;
  info_only: boolean;
  unit_cents: number;
  day: string;
  quantity: number;
  /** The ids of the records counted, in one of three arrays by their type (exactly one is set; billedIds() reads them
   * as text): text ids (questions, online forms, fixed amounts), bigint ids (case interactions), uuids (visits). */
  source_ids: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  source_nums: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  source_uuids: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
}

export interface BillingDisputesTable {
  id: Generated<number>;
  invoice_id: number;
  line_id: number;
  partner_org_id: string;
  reason: string;
  raised_by: string;
  status: ColumnType<'open' | 'upheld' | 'rejected', 'open' | undefined, 'open' | 'upheld' | 'rejected'>;
  resolution: string | null;
  resolved_by: string | null;
  raised_at: Generated<Date>;
  resolved_at: NullableTs;
}

export interface BillingNettingsTable {
  invoice_id: number;
  remittance_ref: string;
  amount_cents: number;
  at: Generated<Date>;
}

export type SubscriptionStatus = 'active' | 'lapsed' | 'cancelled';

export interface BillingSubscriptionsTable {
  id: Generated<number>;
  business_id: string;
  status: SubscriptionStatus;
  yearly_cents: number;
  minimum_cents: number;
  starts_on: string;
  ends_on: string; // exclusive
  auto_renew: boolean;
  cancelled_at: NullableTs;
  created_at: Generated<Date>;
}

export interface BillingAccountChargesTable {
  id: Generated<number>;
  subscription_id: number;
  business_id: string;
  basket_ref: string;
  amount_cents: number;
  kind: 'transaction' | 'subscription_fee';
  charged_at: Ts;
  statement_id: number | null;
}

export interface BillingStatementsTable {
  id: Generated<number>;
  business_id: string;
  subscription_id: number;
  month: string; // first day of the month
  charges_cents: number;
  carried_in_cents: number;
  total_cents: number;
  /** issued: due; carried: under the minimum, added to the next month's statement. */
  status: 'issued' | 'carried';
  due_on: string | null;
  created_at: Generated<Date>;
}

export interface BillingTables {
  billing_terms: BillingTermsTable;
  billing_channel_rates: BillingChannelRatesTable;
  billing_invoice_counters: BillingInvoiceCountersTable;
  billing_invoices: BillingInvoicesTable;
  billing_invoice_lines: BillingInvoiceLinesTable;
  billing_claims: BillingClaimsTable;
  billed_items: BilledItemsTable;
  billing_disputes: BillingDisputesTable;
  billing_nettings: BillingNettingsTable;
  billing_subscriptions: BillingSubscriptionsTable;
  billing_account_charges: BillingAccountChargesTable;
  billing_statements: BillingStatementsTable;
}
