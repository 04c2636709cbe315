/**
 * Staff access to a client's file. Staff see a client's data only when the client consented (purpose
 * 'agent-access', or the purpose of the work at hand) for the staff member's organisation, or when that organisation
 * holds a legal basis (a 'law' entry in the consent register). Every granted access is written to the client's
 * access log in the same transaction as the check; without consent or legal basis the answer is 404, exactly as for
 * a client that does not exist.
 *
 * One-time codes: on "My file" the client generates an 8-digit code (valid 10 minutes, single use) and reads it out
 * to an agent at a counter or on the phone; the agent enters it and gets a time-limited 'agent-access' consent
 * (2 hours) for their organisation. Only the SHA-256 of a code is stored; agents' attempts are throttled.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { AppError } from '../http/errors';
import type { StaffPrincipal } from '../http/session';
import { recordAccess } from './access-log';
import { grantConsent, type ConsentRow } from './consent';

export const AGENT_ACCESS_PURPOSE = 'agent-access';
/** The fields of the client's profile, as named in consents and in the access log. */
export const PROFILE_FIELDS = [
  'given_name',
  'family_name',
  'business_name',
  'business_number',
  'birth_date',
  'address',
  'email',
  'phone',
  'preferred_lang',
  'contact_preferences',
  'accessibility_needs',
] as const;
export const CODE_DIGITS = 8;
export const CODE_TTL_MS = 10 * 60 * 1000;
export const AGENT_ACCESS_TTL_MS = 2 * 60 * 60 * 1000;
export const MAX_FAILED_ATTEMPTS = 10;
export const ATTEMPT_WINDOW_MS = 15 * 60 * 1000;

export interface ClientAccessGrant {
  consentId: string;
  legalBasis: 'consent' | 'law';
  lawReference: string | null;
  fields: string[];
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const UUIDISH = /^[A-Za-z0-9-]{1,64}$/;

async function findGrant(db: Database, staff: StaffPrincipal, clientId: string, purpose: string, fields?: string[]): Promise<ConsentRow | undefined> {
  const rows = (await db
    .selectFrom('consents')
    .selectAll()
    .where('client_id', '=', clientId)
    .where('org_id', '=', staff.orgId)
    .where('purpose', 'in', [...new Set([AGENT_ACCESS_PURPOSE, purpose])])
    .where('withdrawn_at', 'is', null)
    .where((eb) => eb.or([eb('valid_until', 'is', null), eb('valid_until', '>', sql<Date>`now()`)]))
    .orderBy('granted_at', 'desc')
    .execute()) as ConsentRow[];
  if (!fields?.length) return rows[0];
  return rows.find((r) => fields.every((f) => r.fields.includes(f)));
}

/**
 * Check that `staff` may see client `clientId` for `purpose`, and log the access (action 'read' of `fields`,
 * default: every field the consent covers). Throws 404 CLIENT_NOT_FOUND when there is no such client, no active
 * consent or legal basis for the staff member's organisation, or the consent does not cover the fields.
 */
export async function requireClientAccess(
  db: Database,
  staff: StaffPrincipal,
  clientId: string,
  purpose: string,
  opts: { fields?: string[]; action?: string } = {},
): Promise<ClientAccessGrant> {
  if (typeof clientId !== 'string' || !UUIDISH.test(clientId)) throw new AppError(404, 'CLIENT_NOT_FOUND');
  const run = async (trx: Database) => {
    const grant = await findGrant(trx, staff, clientId, purpose, opts.fields);
    if (!grant) throw new AppError(404, 'CLIENT_NOT_FOUND');
    const fields = opts.fields?.length ? opts.fields : grant.fields;
    await recordAccess(trx, {
      clientId,
      actorKind: 'staff',
      actorId: staff.id,
      orgId: staff.orgId,
      action: opts.action ?? 'read',
      fields,
      purpose,
      legalBasis: grant.legal_basis === 'law' ? `law: ${grant.law_reference ?? ''}`.trim() : 'consent',
    });
    return { consentId: grant.id, legalBasis: grant.legal_basis, lawReference: grant.law_reference, fields };
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/**
 * Create a one-time code for the client (any earlier unused code stops working). Returns the code in clear: show it
 * once, it is not stored.
 */
export async function createAgentAccessCode(db: Database, clientId: string): Promise<{ code: string; expiresAt: Date }> {
  const expiresAt = new Date(Date.now() + CODE_TTL_MS);
  return db.transaction().execute(async (trx) => {
    const client = await trx.selectFrom('clients').select('id').where('id', '=', clientId).executeTakeFirst();
    if (!client) throw new AppError(404, 'CLIENT_NOT_FOUND');
    await trx
      .updateTable('client_access_codes')
      .set({ expires_at: new Date() })
      .where('client_id', '=', clientId)
      .where('used_at', 'is', null)
      .where('expires_at', '>', new Date())
      .execute();
    for (let i = 0; i < 10; i++) {
      const code = String(crypto.randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
      const hash = sha256(code);
      const clash = await trx
        .selectFrom('client_access_codes')
        .select('id')
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', new Date())
        .executeTakeFirst();
      if (clash) continue;
      await trx.insertInto('client_access_codes').values({ id: crypto.randomUUID(), client_id: clientId, code_hash: hash, expires_at: expiresAt, used_at: null, used_by: null, consent_id: null }).execute();
      return { code, expiresAt };
    }
    throw new Error('could not draw a free access code');
  });
}

/**
 * An agent enters the code the client read out. On success: the code is spent, a consent 'agent-access' for the
 * agent's organisation (every profile field, 2 hours) is recorded, and the client id is returned.
 * 400 VALIDATION_ERROR (code: invalid format), 400 AGENT_CODE_INVALID (unknown, used or expired: one answer for
 * all), 429 TOO_MANY_ATTEMPTS after 10 failures in 15 minutes by the same agent.
 */
export async function redeemAgentAccessCode(db: Database, staff: StaffPrincipal, rawCode: unknown): Promise<{ clientId: string; consentId: string; validUntil: Date }> {
  const code = typeof rawCode === 'string' ? rawCode.replace(/[\s-]/g, '') : '';
  if (!new RegExp(`^\\d{${CODE_DIGITS}}$`).test(code)) {
    throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'code', code: code ? 'accessCode' : 'required' }]);
  }
  const failures = await db
    .selectFrom('agent_code_attempts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('staff_id', '=', staff.id)
    .where('ok', '=', false)
    .where('at', '>', new Date(Date.now() - ATTEMPT_WINDOW_MS))
    .executeTakeFirstOrThrow();
  if (Number(failures.n) >= MAX_FAILED_ATTEMPTS) throw new AppError(429, 'TOO_MANY_ATTEMPTS');
  const validUntil = new Date(Date.now() + AGENT_ACCESS_TTL_MS);
  const result = await db.transaction().execute(async (trx) => {
    const spent = await trx
      .updateTable('client_access_codes')
      .set({ used_at: new Date(), used_by: staff.id })
      .where('code_hash', '=', sha256(code))
      .where('used_at', 'is', null)
      .where('expires_at', '>', new Date())
      .returning(['id', 'client_id'])
      .executeTakeFirst();
    if (!spent) return undefined;
    const consentId = await grantConsent(trx, {
      clientId: spent.client_id,
      orgId: staff.orgId,
      purpose: AGENT_ACCESS_PURPOSE,
      fields: [...PROFILE_FIELDS],
      legalBasis: 'consent',
      validUntil,
      grantedBy: `client:${spent.client_id} (one-time code, staff:${staff.id})`,
    });
    await trx.updateTable('client_access_codes').set({ consent_id: consentId }).where('id', '=', spent.id).execute();
    await trx.insertInto('agent_code_attempts').values({ staff_id: staff.id, ok: true }).execute();
    return { clientId: spent.client_id, consentId, validUntil };
  });
  if (!result) {
    await db.insertInto('agent_code_attempts').values({ staff_id: staff.id, ok: false }).execute();
    throw new AppError(400, 'AGENT_CODE_INVALID');
  }
  return result;
}
