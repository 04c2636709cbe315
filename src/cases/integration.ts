/**
 * Everything the cases capability needs from other capabilities, in one place so that it is easy to rewire:
 * - client access for staff (consent at that moment or a recorded legal basis) + the access log (src/clients);
 * - e-mail (src/mail);
 * - background schedules (src/jobs): until the durable queue exposes schedule(), `startCasesBackground` runs the
 *   cases' recurring work with a timer in the web process (idempotent: every job tolerates being run twice).
 */
import crypto from 'node:crypto';
import type { Database } from '../db/database';
import { findCoveringConsents, grantConsent } from '../clients/consent';
import { recordAccess } from '../clients/access-log';
import { createMailer, type Mailer } from '../mail/mailer';
import type { StaffPrincipal } from '../http/session';

export const AGENT_ACCESS_PURPOSE = 'agent-access';
export const REFERRAL_PURPOSE = 'case-referral';

/** How long a one-time code lets the agent who redeemed it serve the client. */
export const AGENT_ACCESS_MINUTES = 60;

/**
 * Is this staff member serving this client right now? Either their organisation holds a recorded legal basis
 * ('law') for agent access, or the client consented at that moment: an active agent-access consent of the
 * organisation AND a one-time code that this very agent redeemed within the last hour. Withdrawing the consent
 * ends the access at once.
 */
export async function staffMayServe(db: Database, staff: StaffPrincipal, clientId: string): Promise<boolean> {
  const rows = await findCoveringConsents(db, { clientId, orgId: staff.orgId, purpose: AGENT_ACCESS_PURPOSE, fields: [] });
  if (!rows.length) return false;
  if (rows.some((r) => r.legal_basis === 'law')) return true;
  const code = await db
    .selectFrom('agent_access_codes')
    .select('client_id')
    .where('client_id', '=', clientId)
    .where('used_by', '=', staff.id)
    .where('used_at', '>', new Date(Date.now() - AGENT_ACCESS_MINUTES * 60_000))
    .executeTakeFirst();
  return Boolean(code);
}

/** Record in the client's access log that staff read their cases (in the caller's transaction when given one). */
export async function auditStaffRead(db: Database, staff: StaffPrincipal, clientId: string, fields: string[], purpose: string, legalBasis: string | null) {
  await recordAccess(db, { clientId, actorKind: 'staff', actorId: staff.id, orgId: staff.orgId, action: 'read', fields, purpose, legalBasis });
}

/** The client read a code out to an agent: their organisation may serve them for `minutes`. */
export async function grantAgentAccess(db: Database, clientId: string, orgId: string, minutes: number): Promise<string> {
  return grantConsent(db, {
    clientId,
    orgId,
    purpose: AGENT_ACCESS_PURPOSE,
    fields: ['profile', 'cases'],
    legalBasis: 'consent',
    validUntil: new Date(Date.now() + minutes * 60_000),
  });
}

/** The client agreed (to the referring agent) that the receiving organisation gets the case and its summary. */
export async function grantReferralConsent(db: Database, clientId: string, toOrgId: string): Promise<string> {
  return grantConsent(db, { clientId, orgId: toOrgId, purpose: REFERRAL_PURPOSE, fields: ['case', 'profile.contact'], legalBasis: 'consent' });
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
