/**
 * Client accounts (individuals and businesses), their addresses, consents, and the access log they can read.
 * Privacy: Guichet keeps the client's own profile (the client gave it to Guichet); partner data stays with partners.
 */
import type { ColumnType, Generated } from 'kysely';

type Json<T> = ColumnType<T, string, string>;

export interface ClientsTable {
  id: string; // uuid
  kind: 'person' | 'business';
  oidc_subject: string | null; // subject at the identity provider (unique)
  given_name: string | null;
  family_name: string | null;
  business_name: string | null;
  business_number: string | null; // 9-digit CRA business number
  birth_date: string | null; // 'YYYY-MM-DD'
  email: string | null;
  phone: string | null;
  preferred_lang: 'en' | 'fr';
  contact_preferences: Json<{ email?: boolean; sms?: boolean; mail?: boolean }>;
  accessibility_needs: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** Address history: the current address has valid_to NULL. */
export interface ClientAddressesTable {
  id: Generated<number>;
  client_id: string;
  line1: string;
  line2: string | null;
  city: string;
  province: string;
  postal_code: string;
  country: string;
  valid_from: string; // date
  valid_to: string | null;
  created_at: Generated<Date>;
}

/** People who may act for a business client. */
export interface BusinessRepresentativesTable {
  business_id: string;
  person_id: string;
  role: string; // owner, employee, accountant ...
  created_at: Generated<Date>;
}

/** Consent register: which fields a recipient organisation may receive, for which purpose, and on what basis. */
export interface ConsentsTable {
  id: string; // uuid
  client_id: string;
  org_id: string;
  purpose: string; // e.g. 'tell-us-once:change-of-address', 'agent-access', 'form-prefill'
  fields: ColumnType<string[], string[], string[]>;
  legal_basis: 'consent' | 'law';
  law_reference: string | null; // the law the partner cites when legal_basis = 'law'
  granted_at: Generated<Date>;
  valid_until: Date | null;
  withdrawn_at: Date | null;
  /** Who recorded the decision: 'client:<id>', 'staff:<id>', 'partner:<org>' (migration 002). */
  granted_by: ColumnType<string | null, string | null | undefined, string | null>;
  withdrawn_by: ColumnType<string | null, string | null | undefined, string | null>;
}

/**
 * Access log the client can read: every time staff or a partner read or received the client's data.
 * Append-only and tamper-evident: hash = sha256(prev_hash || canonical entry); verified by `npm run verify:access-log`.
 */
export interface AccessLogTable {
  seq: Generated<number>;
  client_id: string;
  at: Generated<Date>;
  actor_kind: 'staff' | 'partner' | 'system' | 'client';
  actor_id: string;
  org_id: string | null;
  action: string; // 'read', 'received', 'searched', ...
  fields: ColumnType<string[], string[], string[]>;
  purpose: string;
  legal_basis: string | null;
  prev_hash: string;
  hash: string;
}

export interface ClientsTables extends IdentityTables {
  clients: ClientsTable;
  client_addresses: ClientAddressesTable;
  business_representatives: BusinessRepresentativesTable;
  consents: ConsentsTable;
  access_log: AccessLogTable;
}

/** One-time codes a client reads out to an agent to grant time-limited access (only the code's SHA-256 is kept). */
export interface ClientAccessCodesTable {
  id: string;
  client_id: string;
  code_hash: string;
  created_at: Generated<Date>;
  expires_at: Date;
  used_at: Date | null;
  used_by: string | null; // staff id
  consent_id: string | null;
}

/** Code entries by agents (to throttle guessing). */
export interface AgentCodeAttemptsTable {
  id: Generated<number>;
  staff_id: string;
  at: Generated<Date>;
  ok: boolean;
}

/** Pending OpenID Connect sign-ins: state → PKCE verifier and nonce (single use, 10 minutes). */
export interface OidcLoginsTable {
  state: string;
  kind: 'client' | 'staff';
  code_verifier: string;
  nonce: string;
  return_to: string | null;
  lang: 'en' | 'fr';
  created_at: Generated<Date>;
}

export interface IdentityTables {
  client_access_codes: ClientAccessCodesTable;
  agent_code_attempts: AgentCodeAttemptsTable;
  oidc_logins: OidcLoginsTable;
}
