/**
 * Tell Us Once tables: partner subscriptions, partner API keys, declarations, one notice per (declaration, recipient),
 * delivery attempts, and staff alerts (dead letters).
 */
import type { ColumnType, Generated } from 'kysely';

type Json<T> = ColumnType<T, string, string>;
type TextArray = ColumnType<string[], string[], string[]>;

export type NoticeStatus = 'pending' | 'delivered' | 'acknowledged' | 'rejected' | 'failed';
export type DeliveryMode = 'webhook' | 'pull';

/** A partner program's subscription: which event types, which exact fields, on what legal basis, delivered how. */
export interface NoticeSubscriptionsTable {
  id: string; // slug
  org_id: string;
  program_en: string;
  program_fr: string;
  /** Plain-language explanation of why the program is told, shown to clients. */
  purpose_en: string;
  purpose_fr: string;
  service_id: string | null;
  event_types: TextArray;
  fields: TextArray;
  legal_basis: 'consent' | 'law';
  law_reference: string | null;
  delivery: DeliveryMode;
  webhook_url: string | null;
  /** HMAC-SHA256 key used to sign webhook payloads (the partner holds the same secret). */
  signing_secret: string | null;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  is_demo: ColumnType<boolean, boolean | undefined, boolean>;
  created_by: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** Per-organisation API keys for the pull feed and acknowledgements; only the SHA-256 of the key is stored. */
export interface PartnerApiKeysTable {
  id: string;
  org_id: string;
  key_hash: string;
  prefix: string; // first characters, to recognise a key in lists
  label: string;
  created_by: string | null;
  created_at: Generated<Date>;
  revoked_at: Date | null;
}

/** What the client declared once. `data` holds the declared items (source for notices added later). */
export interface DeclarationsTable {
  id: string;
  client_id: string;
  event_type: string;
  data: Json<Record<string, unknown>>;
  created_at: Generated<Date>;
  /** The person who declared for a business they represent (migration 002); null when the client declared. */
  declared_by: ColumnType<string | null, string | null | undefined, string | null>;
  /** The one-time token of the check page's form that sent it (migration 003): a form is sent once; null from the API. */
  form_token: ColumnType<string | null, string | null | undefined, string | null>;
}

/** One discrete notice per recipient program, carrying only its entitled fields. */
export interface NoticesTable {
  id: string; // uuid, also the Idempotency-Key and the SET jti
  seq: Generated<number>; // feed cursor
  declaration_id: string;
  subscription_id: string;
  org_id: string;
  client_id: string;
  event_type: string;
  fields: TextArray;
  payload: Json<Record<string, unknown>>;
  consent_id: string | null;
  delivery: DeliveryMode;
  status: NoticeStatus;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  /** The partner's reason when rejected (plain language, shown to the client). */
  reason: string | null;
  created_at: Generated<Date>;
  first_attempt_at: Date | null;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  acknowledged_at: Date | null;
  rejected_at: Date | null;
  failed_at: Date | null;
}

export interface NoticeAttemptsTable {
  id: Generated<number>;
  notice_id: string;
  at: Generated<Date>;
  http_status: number | null;
  outcome: 'delivered' | 'rejected' | 'retry' | 'failed';
  error: string | null;
  duration_ms: number;
}

/** Alerts for one-stop staff (e.g. a notice that failed after 72 hours of retries). */
export interface NoticeAlertsTable {
  id: Generated<number>;
  notice_id: string | null;
  org_id: string | null;
  kind: string; // 'dead-letter'
  message: string;
  created_at: Generated<Date>;
  resolved_at: Date | null;
  resolved_by: string | null;
}

/** Outbox of alert e-mails to one-stop staff: one row per dead-lettered notice (migration 002). */
export interface NoticeAlertMailsTable {
  id: Generated<number>;
  alert_id: number;
  notice_id: string;
  status: ColumnType<'pending' | 'sending' | 'sent' | 'failed', 'pending' | undefined, 'pending' | 'sending' | 'sent' | 'failed'>;
  attempts: ColumnType<number, number | undefined, number>;
  to_addresses: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  claimed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Generated<Date>;
  sent_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface NoticesTables {
  notice_alert_mails: NoticeAlertMailsTable;
  notice_subscriptions: NoticeSubscriptionsTable;
  partner_api_keys: PartnerApiKeysTable;
  declarations: DeclarationsTable;
  notices: NoticesTable;
  notice_attempts: NoticeAttemptsTable;
  notice_alerts: NoticeAlertsTable;
}
