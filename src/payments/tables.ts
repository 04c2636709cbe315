/**
 * Tables of the payments capability: the double-entry ledger (accounts, entries, legs), baskets with their lines and
 * per-payee components, payments, refunds (split per component), provider events (webhook dedupe), idempotency keys,
 * and remittance runs, batches, items and nettings.
 */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json = ColumnType<unknown, string, string>;

export type AccountKind =
  | 'clearing' | 'bank' | 'payable' | 'fee_revenue' | 'card_costs' | 'refunds'
  | 'receivable_invoice' | 'receivable_statement' | 'cash' | 'refunds_owed';
export type LedgerEvent = 'payment' | 'refund' | 'remittance' | 'remittance_return' | 'invoice' | 'statement' | 'settlement' | 'correction';
export type BasketChannel = 'web' | 'counter' | 'kiosk' | 'account';
export type PaymentMethod = 'card' | 'cash' | 'debit' | 'cheque' | 'account';
export type PaymentStatus = 'created' | 'pending' | 'succeeded' | 'failed' | 'cancelled';
export type FeeComponentKind = 'statutory' | 'service_fee' | 'card_recovery' | 'tax';

export interface LedgerAccountsTable {
  id: string;
  kind: AccountKind;
  org_id: string | null;
  office_id: string | null;
  business_id: string | null;
  created_at: Generated<Date>;
}
export interface LedgerBalancesTable {
  account_id: string;
  shard: number;
  balance_cents: Generated<number>;
  postings: Generated<number>;
}
export interface LedgerAccountBalancesView {
  id: string;
  kind: AccountKind;
  org_id: string | null;
  office_id: string | null;
  business_id: string | null;
  balance_cents: number;
  postings: number;
}
export interface JournalEntriesTable {
  id: Generated<number>;
  event: LedgerEvent;
  event_ref: string;
  effective_date: string;
  written_at: Generated<Date>;
  memo: Generated<string>;
  reverses_entry_id: number | null;
  posting_key: string;
  /** The writing transaction's id (migration 006): legs may be added to an entry only by that transaction. */
  written_txid: Generated<string | null>;
}
export interface JournalLegsTable {
  id: Generated<number>;
  entry_id: number;
  account_id: string;
  amount_cents: number;
}
export interface PaymentIdempotencyTable {
  scope: string;
  key: string;
  request_hash: string;
  status_code: number;
  response: Json;
  created_at: Generated<Date>;
}
export interface PaymentBasketsTable {
  id: Generated<string>;
  reference: string;
  channel: BasketChannel;
  client_id: string | null;
  business_id: string | null;
  staff_id: string | null;
  office_id: string | null;
  email: string | null;
  lang: 'en' | 'fr';
  total_cents: number;
  status: Generated<'open' | 'paid' | 'cancelled'>;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  paid_at: NullableTimestamp;
}
export interface BasketLinesTable {
  id: Generated<number>;
  basket_id: string;
  service_id: string;
  fee_version_id: string;
  agreement_id: string | null;
  case_id: string | null;
  total_cents: number;
}
export interface BasketComponentsTable {
  id: Generated<number>;
  basket_id: string;
  line_id: number;
  kind: FeeComponentKind;
  payee_org_id: string;
  account_id: string;
  amount_cents: number;
}
export interface PaymentsTable {
  id: Generated<string>;
  basket_id: string;
  reference: string;
  provider: string;
  provider_ref: string | null;
  method: PaymentMethod;
  amount_cents: number;
  status: Generated<PaymentStatus>;
  failure_code: string | null;
  next_url: string | null;
  return_url: string | null;
  debit_account_id: string;
  staff_id: string | null;
  entry_id: number | null;
  created_at: Generated<Date>;
  confirmed_at: NullableTimestamp;
  settles_on: string | null;
  receipt_sent_at?: NullableTimestamp;
}
export interface RefundsTable {
  id: Generated<string>;
  payment_id: string;
  amount_cents: number;
  kind: 'refund' | 'guarantee';
  reason: Generated<string>;
  status: Generated<'submitted' | 'succeeded' | 'failed' | 'owed_cash'>;
  provider_refund_ref: string | null;
  guarantee_refund_id: number | null;
  bearer: 'payees' | 'partner' | 'one_stop';
  staff_id: string | null;
  entry_id: number | null;
  created_at: Generated<Date>;
  settled_at: NullableTimestamp;
}
export interface RefundComponentsTable {
  id: Generated<number>;
  refund_id: string;
  component_id: number;
  account_id: string;
  amount_cents: number;
}
export interface ProviderEventsTable {
  provider: string;
  event_id: string;
  type: string;
  payment_id: string | null;
  outcome: string;
  received_at: Generated<Date>;
}
export interface RemittanceRunsTable {
  id: Generated<string>;
  run_key: string;
  cutoff_date: string;
  started_at: Generated<Date>;
  batches: Generated<number>;
  skipped_paused: Generated<number>;
}
export interface RemittanceBatchesTable {
  id: Generated<string>;
  run_id: string;
  org_id: string;
  agreement_id: string | null;
  gross_cents: number;
  netted_cents: Generated<number>;
  total_cents: number;
  items: number;
  status: Generated<'sent' | 'acknowledged' | 'paid' | 'returned'>;
  message_id: string;
  bank_reference: string | null;
  entry_id: number | null;
  return_entry_id: number | null;
  created_at: Generated<Date>;
  status_at: Generated<Date>;
}
export interface RemittanceItemsTable {
  id: Generated<number>;
  batch_id: string;
  org_id: string;
  payment_id: string;
  component_id: number | null;
  refund_component_id: number | null;
  amount_cents: number;
  returned: Generated<boolean>;
}
export interface RemittanceNettingsTable {
  batch_id: string;
  invoice_id: string;
  amount_cents: number;
}

export interface PaymentsTables {
  ledger_accounts: LedgerAccountsTable;
  ledger_balances: LedgerBalancesTable;
  ledger_account_balances: LedgerAccountBalancesView;
  journal_entries: JournalEntriesTable;
  journal_legs: JournalLegsTable;
  payment_idempotency: PaymentIdempotencyTable;
  payment_baskets: PaymentBasketsTable;
  basket_lines: BasketLinesTable;
  basket_components: BasketComponentsTable;
  payments: PaymentsTable;
  refunds: RefundsTable;
  refund_components: RefundComponentsTable;
  provider_events: ProviderEventsTable;
  remittance_runs: RemittanceRunsTable;
  remittance_batches: RemittanceBatchesTable;
  remittance_items: RemittanceItemsTable;
  remittance_nettings: RemittanceNettingsTable;
}
