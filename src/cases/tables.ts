/** Tables owned by the cases capability: cases, their history, interactions, messages, referrals, documents, notifications, refunds. */
import type { ColumnType, Generated } from 'kysely';

type Json<T> = ColumnType<T, string | undefined, string>;

export const CASE_STATUSES = ['submitted', 'in_progress', 'waiting_client', 'decided', 'closed', 'withdrawn'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
export const CHANNELS = ['web', 'phone', 'counter', 'kiosk', 'mail', 'email'] as const;
export type CaseChannel = (typeof CHANNELS)[number];

export interface DueRule {
  value: number;
  unit: string;
  jurisdiction: string;
  source: 'standard' | 'guarantee' | 'none';
  standardId?: string | null;
  pausedDays?: number;
}

export interface CasesTable {
  id: string;
  reference: string;
  client_id: string;
  service_id: string;
  origin_channel: CaseChannel;
  status: ColumnType<CaseStatus, CaseStatus | undefined, CaseStatus>;
  responsible_org_id: string;
  assigned_team: string | null;
  assigned_staff_id: string | null;
  summary: string;
  decision: string | null;
  submitted_at: ColumnType<Date, Date | undefined, Date>;
  due_date: string | null;
  due_rule: Json<DueRule | null> | null;
  guarantee_due_date: string | null;
  guarantee_breached_at: Date | null;
  waiting_since: Date | null;
  decided_at: Date | null;
  closed_at: Date | null;
  latitude: number | null;
  longitude: number | null;
  form_version: ColumnType<number | null, number | null | undefined, number | null>;
  form_data: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  address_string: string | null;
  contact_email: string | null;
  created_by_kind: 'client' | 'staff' | 'partner';
  created_by_id: string;
  version: ColumnType<number, number | undefined, number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CaseStatusHistoryTable {
  id: Generated<number>;
  case_id: string;
  from_status: string | null;
  to_status: string;
  actor_kind: string;
  actor_id: string;
  note: string | null;
  at: Generated<Date>;
}

export interface CaseInteractionsTable {
  id: Generated<number>;
  case_id: string;
  channel: CaseChannel;
  actor_kind: 'client' | 'staff' | 'system' | 'partner';
  actor_id: string;
  org_id: string | null;
  outcome: string;
  note: string | null;
  at: Generated<Date>;
}

export interface CaseMessagesTable {
  id: Generated<number>;
  case_id: string;
  sender_kind: 'client' | 'staff';
  sender_id: string;
  org_id: string | null;
  body: string;
  at: Generated<Date>;
}

export interface CaseReferralsTable {
  id: string;
  case_id: string;
  from_org_id: string;
  to_org_id: string;
  referred_by: string;
  summary: string;
  consent_id: string;
  status: ColumnType<'pending' | 'accepted' | 'declined', 'pending' | 'accepted' | 'declined' | undefined, 'pending' | 'accepted' | 'declined'>;
  accepted_by: string | null;
  accepted_at: Date | null;
  no_repeat: boolean | null;
  created_at: Generated<Date>;
}

export interface CaseNotificationsTable {
  id: Generated<number>;
  /** The case, or null for an e-mail about a question (question_id). */
  case_id: string | null;
  question_id: ColumnType<string | null, string | null | undefined, string | null>;
  to_address: string;
  lang: 'en' | 'fr';
  subject: string;
  body: string;
  status: ColumnType<'pending' | 'sent' | 'failed', 'pending' | 'sent' | 'failed' | undefined, 'pending' | 'sent' | 'failed'>;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  created_at: Generated<Date>;
  sent_at: Date | null;
}

export interface GuaranteeRefundsTable {
  id: Generated<number>;
  case_id: string;
  service_id: string;
  client_id: string;
  org_id: string;
  guarantee_days: number;
  guarantee_due_date: string;
  amount_cents: number;
  currency: ColumnType<string, string | undefined, string>;
  status: ColumnType<'owed' | 'settled' | 'cancelled', 'owed' | 'settled' | 'cancelled' | undefined, 'owed' | 'settled' | 'cancelled'>;
  detected_at: Generated<Date>;
  settled_at: Date | null;
  settlement_ref: string | null;
}

export interface CaseDocumentsTable {
  id: string;
  case_id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  content: Buffer;
  uploaded_by_kind: 'client' | 'staff';
  uploaded_by_id: string;
  created_at: Generated<Date>;
}

export interface Open311KeysTable {
  key_hash: string;
  org_id: string;
  label: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
}

export interface CaseFormsTable {
  service_id: string;
  version: number;
  definition: ColumnType<unknown, string, string>;
  webhook_url: string | null;
  signing_secret: string | null;
  created_by: string;
  created_at: Generated<Date>;
}

export interface CaseFormDraftsTable {
  id: string;
  client_id: string;
  service_id: string;
  form_version: number;
  data: ColumnType<Record<string, unknown>, string | undefined, string>;
  prefill_consent_id: string | null;
  submitted_case_id: string | null;
  /** The agent who last filled it in with the client (assisted channel), or null. */
  assisted_by: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CaseDeliveriesTable {
  case_id: string;
  org_id: string;
  url: string;
  status: ColumnType<'pending' | 'delivered' | 'rejected' | 'failed', 'pending' | undefined, 'pending' | 'delivered' | 'rejected' | 'failed'>;
  attempts: ColumnType<number, number | undefined, number>;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Generated<Date>;
}

export type QuestionStatus = 'pending' | 'answered' | 'declined' | 'converted';
/** A client's question handed to another organisation (warm referral without a case). */
export interface CaseQuestionsTable {
  id: string;
  client_id: string;
  from_org_id: string;
  to_org_id: string;
  referred_by: string;
  channel: CaseChannel;
  question: string;
  summary: string;
  consent_id: string;
  status: ColumnType<QuestionStatus, QuestionStatus | undefined, QuestionStatus>;
  answer: string | null;
  answered_by: string | null;
  answered_at: Date | null;
  no_repeat: boolean | null;
  case_id: string | null;
  created_at: Generated<Date>;
}

export interface CasesTables {
  case_questions: CaseQuestionsTable;
  case_forms: CaseFormsTable;
  case_form_drafts: CaseFormDraftsTable;
  case_deliveries: CaseDeliveriesTable;
  cases: CasesTable;
  case_status_history: CaseStatusHistoryTable;
  case_interactions: CaseInteractionsTable;
  case_messages: CaseMessagesTable;
  case_referrals: CaseReferralsTable;
  case_notifications: CaseNotificationsTable;
  guarantee_refunds: GuaranteeRefundsTable;
  case_documents: CaseDocumentsTable;
  open311_keys: Open311KeysTable;
}
