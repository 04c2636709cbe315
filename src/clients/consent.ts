/**
 * Consent register: for each recipient organisation and purpose, which fields it may receive, since when, until when,
 * and on what legal basis ('consent' given by the client, or 'law' with the law the partner cites). Withdrawal is
 * recorded (withdrawn_at), never deleted. A consent is active when not withdrawn and not past valid_until.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { AppError, type FieldError } from '../http/errors';
import type { ConsentsTable } from './tables';

export type LegalBasis = ConsentsTable['legal_basis'];

export interface GrantConsentInput {
  clientId: string;
  orgId: string;
  /** e.g. 'tell-us-once:change-of-address', 'agent-access', 'form-prefill' */
  purpose: string;
  fields: string[];
  legalBasis: LegalBasis;
  /** Required when legalBasis = 'law': the law the partner cites. */
  lawReference?: string | null;
  validUntil?: Date | null;
  /** Who recorded the decision: 'client:<id>', 'staff:<id>', 'partner:<org>' ... (default 'client:<clientId>'). */
  grantedBy?: string;
}

export interface ConsentRow {
  id: string;
  client_id: string;
  org_id: string;
  purpose: string;
  fields: string[];
  legal_basis: LegalBasis;
  law_reference: string | null;
  granted_at: Date;
  valid_until: Date | null;
  withdrawn_at: Date | null;
  granted_by: string | null;
  withdrawn_by: string | null;
}

const FIELD_RE = /^[a-z][a-zA-Z0-9_.-]{0,63}$/;
const PURPOSE_RE = /^[a-z][a-z0-9_.:-]{0,99}$/;

function validate(input: GrantConsentInput): FieldError[] {
  const errors: FieldError[] = [];
  if (!input.orgId) errors.push({ field: 'orgId', code: 'required' });
  if (!input.purpose) errors.push({ field: 'purpose', code: 'required' });
  else if (!PURPOSE_RE.test(input.purpose)) errors.push({ field: 'purpose', code: 'invalid' });
  if (!Array.isArray(input.fields) || input.fields.length === 0) errors.push({ field: 'fields', code: 'required' });
  else if (input.fields.length > 100) errors.push({ field: 'fields', code: 'tooLong' });
  else if (input.fields.some((f) => typeof f !== 'string' || !FIELD_RE.test(f))) errors.push({ field: 'fields', code: 'invalid' });
  if (input.legalBasis !== 'consent' && input.legalBasis !== 'law') errors.push({ field: 'legalBasis', code: 'notAllowed' });
  if (input.legalBasis === 'law' && !input.lawReference?.trim()) errors.push({ field: 'lawReference', code: 'required' });
  if (input.lawReference && input.lawReference.length > 500) errors.push({ field: 'lawReference', code: 'tooLong' });
  if (input.validUntil) {
    if (!(input.validUntil instanceof Date) || Number.isNaN(input.validUntil.getTime())) errors.push({ field: 'validUntil', code: 'invalid' });
    else if (input.validUntil.getTime() <= Date.now()) errors.push({ field: 'validUntil', code: 'past' });
  }
  return errors;
}

/**
 * Record a consent (or a legal basis) and return its id. Pass a transaction to make it part of a larger command.
 * Throws 400 VALIDATION_ERROR (field codes) for bad input, 404 CLIENT_NOT_FOUND / 400 on an unknown organisation.
 */
export async function grantConsent(db: Database, input: GrantConsentInput): Promise<string> {
  const { clientId, ...rest } = input;
  return (await grantConsents(db, clientId, [rest]))[0];
}

/**
 * Several consents of one client in three round trips whatever their number (the client, the organisations, one
 * INSERT): a Tell Us Once declaration records one per recipient program. Same checks and errors as grantConsent;
 * returns the ids in the order given.
 */
export async function grantConsents(db: Database, clientId: string, inputs: Array<Omit<GrantConsentInput, 'clientId'>>): Promise<string[]> {
  if (!inputs.length) return [];
  const all = inputs.map((i) => ({ ...i, clientId }));
  for (const input of all) {
    const errors = validate(input);
    if (errors.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, errors);
  }
  const orgIds = [...new Set(all.map((i) => i.orgId))];
  const [client, orgs] = await Promise.all([
    db.selectFrom('clients').select('id').where('id', '=', clientId).executeTakeFirst(),
    db.selectFrom('organisations').select('id').where('id', 'in', orgIds).execute(),
  ]);
  if (!client) throw new AppError(404, 'CLIENT_NOT_FOUND');
  if (orgs.length !== orgIds.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'orgId', code: 'unknown' }]);
  const rows = all.map((input) => ({
    id: crypto.randomUUID(),
    client_id: clientId,
    org_id: input.orgId,
    purpose: input.purpose,
    fields: [...new Set(input.fields)],
    legal_basis: input.legalBasis,
    law_reference: input.legalBasis === 'law' ? input.lawReference!.trim() : input.lawReference?.trim() || null,
    valid_until: input.validUntil ?? null,
    withdrawn_at: null,
    granted_by: (input.grantedBy ?? `client:${clientId}`).slice(0, 200),
  }));
  await db.insertInto('consents').values(rows).execute();
  return rows.map((r) => r.id);
}

/**
 * The client withdraws one of their consents (recorded with the time; the row stays in the register).
 * 404 CONSENT_NOT_FOUND when it is not theirs or already withdrawn. Consents on a legal basis ('law') cannot be
 * withdrawn by the client: 409 CONSENT_IS_LAW.
 */
export async function withdrawConsent(db: Database, clientId: string, consentId: string, by = `client:${clientId}`): Promise<void> {
  const row = await db
    .selectFrom('consents')
    .select(['id', 'legal_basis', 'withdrawn_at'])
    .where('id', '=', consentId)
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  if (!row || row.withdrawn_at) throw new AppError(404, 'CONSENT_NOT_FOUND');
  if (row.legal_basis === 'law') throw new AppError(409, 'CONSENT_IS_LAW');
  await db
    .updateTable('consents')
    .set({ withdrawn_at: new Date(), withdrawn_by: by.slice(0, 200) })
    .where('id', '=', consentId)
    .where('client_id', '=', clientId)
    .where('withdrawn_at', 'is', null)
    .execute();
}

/** Active consents of a client (not withdrawn, not expired), newest first. */
export async function activeConsents(db: Database, clientId: string): Promise<ConsentRow[]> {
  return (await db
    .selectFrom('consents')
    .selectAll()
    .where('client_id', '=', clientId)
    .where('withdrawn_at', 'is', null)
    .where((eb) => eb.or([eb('valid_until', 'is', null), eb('valid_until', '>', sql<Date>`now()`)]))
    .orderBy('granted_at', 'desc')
    .execute()) as ConsentRow[];
}

/** Every consent of a client, including withdrawn and expired ones (the register as the client sees it). */
export async function allConsents(db: Database, clientId: string) {
  return db
    .selectFrom('consents')
    .innerJoin('organisations', 'organisations.id', 'consents.org_id')
    .selectAll('consents')
    .select(['organisations.name_en as org_name_en', 'organisations.name_fr as org_name_fr'])
    .where('consents.client_id', '=', clientId)
    .orderBy('consents.granted_at', 'desc')
    .execute();
}

export interface ConsentQuery {
  clientId: string;
  orgId: string;
  purpose: string;
  fields: string[];
}

/** Active consents (or legal bases) of this organisation for this purpose, covering every requested field. */
export async function findCoveringConsents(db: Database, q: ConsentQuery): Promise<ConsentRow[]> {
  const rows = (await db
    .selectFrom('consents')
    .selectAll()
    .where('client_id', '=', q.clientId)
    .where('org_id', '=', q.orgId)
    .where('purpose', '=', q.purpose)
    .where('withdrawn_at', 'is', null)
    .where((eb) => eb.or([eb('valid_until', 'is', null), eb('valid_until', '>', sql<Date>`now()`)]))
    .execute()) as ConsentRow[];
  const covered = new Set(rows.flatMap((r) => r.fields));
  return q.fields.every((f) => covered.has(f)) ? rows : [];
}

/**
 * True when the organisation may receive every one of `fields` for `purpose`: the union of its active consents
 * (and legal bases) for that exact purpose covers them. No fields requested → true only if one active consent exists.
 */
export async function hasConsent(db: Database, q: ConsentQuery): Promise<boolean> {
  const rows = await findCoveringConsents(db, q);
  return rows.length > 0;
}
