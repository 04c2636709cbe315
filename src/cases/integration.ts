/**
 * Everything the cases capability needs from other capabilities, in one place so that it is easy to rewire:
 * - client access for staff (consent at that moment through the clients' one-time codes, or a recorded legal basis)
 *   + the access log (src/clients);
 * - e-mail (src/mail);
 * - background schedules (src/jobs): until the durable queue exposes schedule(), `startCasesBackground` runs the
 *   cases' recurring work with a timer in the web process (idempotent: every job tolerates being run twice).
 */
import crypto from 'node:crypto';
import type { Database } from '../db/database';
import { sql } from 'kysely';
import { grantConsent } from '../clients/consent';
import { recordAccess } from '../clients/access-log';
import { createMailer, type Mailer } from '../mail/mailer';
import type { StaffPrincipal } from '../http/session';

export const AGENT_ACCESS_PURPOSE = 'agent-access';
export const REFERRAL_PURPOSE = 'case-referral';

/**
 * Is this staff member serving this client right now? Either their organisation holds a recorded legal basis
 * ('law') for agent access, or the client consented at that moment: an active agent-access consent that came from
 * a one-time code THIS agent redeemed (src/clients/access.ts: 8 digits, 10 minutes, single use; the consent lasts
 * 2 hours). Withdrawing the consent ends the access at once.
 */
export async function staffMayServe(db: Database, staff: StaffPrincipal, clientId: string): Promise<boolean> {
  // One round trip.
  const row = await servingConsents(db, staff).where('consents.client_id', '=', clientId).limit(1).executeTakeFirst();
  return Boolean(row);
}

/**
 * The consents that let this staff member serve a client now (same rule as staffMayServe), not yet narrowed to a
 * client: add `where consents.client_id = ...` (one client), or `whereRef(..., 'cases.client_id')` inside an
 * EXISTS to check a case in the same statement as the command that uses it.
 */
export function servingConsents(db: Database, staff: Pick<StaffPrincipal, 'id' | 'orgId'>) {
  return db
    .selectFrom('consents')
    .select('consents.client_id')
    .where('consents.org_id', '=', staff.orgId)
    .where('consents.purpose', '=', AGENT_ACCESS_PURPOSE)
    .where('consents.withdrawn_at', 'is', null)
    .where((eb) => eb.or([eb('consents.valid_until', 'is', null), eb('consents.valid_until', '>', sql<Date>`now()`)]))
    .where((eb) =>
      eb.or([
        eb('consents.legal_basis', '=', 'law'),
        eb.exists(
          eb
            .selectFrom('client_access_codes')
            .select('client_access_codes.id')
            .whereRef('client_access_codes.consent_id', '=', 'consents.id')
            .where('client_access_codes.used_by', '=', staff.id),
        ),
      ]),
    );
}

/** One-time codes are the clients capability's (src/clients/access.ts). */
export { createAgentAccessCode as createAccessCode, redeemAgentAccessCode } from '../clients/access';

/** Record in the client's access log that staff read their cases (in the caller's transaction when given one). */
export async function auditStaffRead(db: Database, staff: StaffPrincipal, clientId: string, fields: string[], purpose: string, legalBasis: string | null) {
  await recordAccess(db, { clientId, actorKind: 'staff', actorId: staff.id, orgId: staff.orgId, action: 'read', fields, purpose, legalBasis });
}

/** What the receiving organisation of a case referral may see (the consent referCase records in its statement). */
export const REFERRAL_FIELDS = ['case', 'profile.contact'];

/** The client agreed (to the referring agent) that the receiving organisation gets their question and the summary. */
export async function grantQuestionReferralConsent(db: Database, clientId: string, toOrgId: string, staff: StaffPrincipal): Promise<string> {
  return grantConsent(db, {
    clientId,
    orgId: toOrgId,
    purpose: REFERRAL_PURPOSE,
    fields: ['question', 'profile.contact'],
    legalBasis: 'consent',
    grantedBy: `client:${clientId} (told staff:${staff.id})`,
  });
}

/**
 * The profile fields the agent may read while serving this client: the fields of the active agent-access consents
 * that let them serve (same rule as staffMayServe). Empty when they do not serve the client.
 */
export async function servingFields(db: Database, staff: StaffPrincipal, clientId: string): Promise<string[]> {
  const rows = await servingConsents(db, staff).clearSelect().select('consents.fields').where('consents.client_id', '=', clientId).execute();
  return [...new Set(rows.flatMap((r) => (r.fields ?? []) as string[]))];
}

let mailer: Mailer | null = null;
export function casesMailer(log?: { info: (o: object, m: string) => void }): Mailer {
  if (!mailer) mailer = createMailer(process.env, log);
  return mailer;
}
export function resetCasesMailer() {
  mailer?.close();
  mailer = null;
}

export const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
