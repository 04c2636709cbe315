/**
 * Whose data each billing route touches (src/http/ownership.ts). An invoice, its lines and disputes belong to its
 * partner organisation; an agreement's rates (terms) to the agreement's partner. The partner's staff with the
 * 'partner' or 'manager' role read their own invoices and dispute their lines; the one-stop's managers and admins
 * read every partner's invoices (and may not dispute them: 403), set the rates, settle disputes, run billing and
 * manage business subscriptions, which no other organisation may (403, as the handlers answer). The declarations
 * mirror the handlers' own checks (scope() in invoices.ts, isBillingManager in billing.ts), which stay.
 */
import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/database';
import { isUuid, serialId } from '../db/ids';
import type { Owner } from '../http/ownership';

/** The one-stop's roles that manage billing (isBillingManager). */
export const BILLING_MANAGER_ROLES = ['manager', 'admin'];
/** A partner organisation's roles that read its invoices and dispute them (scope() in invoices.ts). */
export const PARTNER_READER_ROLES = ['partner', 'manager'];

const param = (request: FastifyRequest, name: string): unknown => (request.params as Record<string, unknown> | undefined)?.[name];
const serial = (v: unknown) => (typeof v === 'string' ? serialId(v) : null);

/** The partner organisation of an invoice (null when there is no such invoice: the handler answers 404). */
export async function invoiceOrg(db: Database, id: unknown): Promise<string | null> {
  const n = serial(id);
  if (n == null) return null;
  const r = await db.selectFrom('billing_invoices').select('partner_org_id').where('id', '=', n).executeTakeFirst();
  return r?.partner_org_id ?? null;
}

export async function disputeOrg(db: Database, id: unknown): Promise<string | null> {
  const n = serial(id);
  if (n == null) return null;
  const r = await db.selectFrom('billing_disputes').select('partner_org_id').where('id', '=', n).executeTakeFirst();
  return r?.partner_org_id ?? null;
}

export async function agreementOrg(db: Database, id: unknown): Promise<string | null> {
  if (typeof id !== 'string' || !isUuid(id)) return null;
  const r = await db.selectFrom('agreements').select('partner_org_id').where('id', '=', id).executeTakeFirst();
  return r?.partner_org_id ?? null;
}

export async function termsOrg(db: Database, agreementId: unknown): Promise<string | null> {
  if (typeof agreementId !== 'string' || !isUuid(agreementId)) return null;
  const r = await db.selectFrom('billing_terms').select('partner_org_id').where('agreement_id', '=', agreementId).executeTakeFirst();
  return r?.partner_org_id ?? null;
}

export function billingOwners(db: Database) {
  const invoice = (request: FastifyRequest) => invoiceOrg(db, param(request, 'id'));
  return {
    /** Invoice list: the caller's own organisation's invoices (every partner's for one-stop managers). */
    invoices: { owner: { whose: 'invoices of the caller’s organisation (every partner’s for one-stop managers)', org: 'caller', roles: PARTNER_READER_ROLES, oneStop: { may: 'read', roles: BILLING_MANAGER_ROLES } } } as { owner: Owner },
    /** One invoice (its lines, items, print, CSV): its partner reads it; one-stop managers read every one. */
    invoice: { owner: { whose: 'the invoice’s partner organisation', org: invoice, roles: PARTNER_READER_ROLES, oneStop: { may: 'read', roles: BILLING_MANAGER_ROLES }, notFound: 'INVOICE_NOT_FOUND' } } as { owner: Owner },
    /** Disputing a line: the invoice's partner only; one-stop managers may read the invoice but not dispute it (403). */
    dispute: { owner: { whose: 'the invoice’s partner organisation', org: invoice, roles: PARTNER_READER_ROLES, oneStop: { may: 'read', roles: BILLING_MANAGER_ROLES }, notFound: 'INVOICE_NOT_FOUND' } } as { owner: Owner },
    /** Settling a dispute: the disputing partner's row, settled by one-stop managers only (its partner: 403). */
    resolve: { owner: { whose: 'the disputing partner organisation (settled by one-stop managers only)', org: (request: FastifyRequest) => disputeOrg(db, param(request, 'id')), roles: [], oneStop: { may: 'act', roles: BILLING_MANAGER_ROLES }, notFound: 'DISPUTE_NOT_FOUND' } } as { owner: Owner },
    /** Setting an agreement's rates: the agreement's partner's terms, set by one-stop managers only (the partner: 403). */
    setTerms: { owner: { whose: 'the agreement’s partner organisation (rates set by one-stop managers only)', org: (request: FastifyRequest) => agreementOrg(db, param(request, 'agreementId')), roles: [], oneStop: { may: 'act', roles: BILLING_MANAGER_ROLES }, notFound: 'AGREEMENT_NOT_FOUND' } } as { owner: Owner },
    /** The rates form on the agreement's staff pages (read and set): as setting the rates, one-stop managers only. */
    ratesPage: { owner: { whose: 'the agreement’s partner organisation (rates form of the one-stop managers)', org: (request: FastifyRequest) => agreementOrg(db, param(request, 'id')), roles: [], oneStop: { may: 'act', roles: BILLING_MANAGER_ROLES }, notFound: 'AGREEMENT_NOT_FOUND' } } as { owner: Owner },
    /** Reading an agreement's rates: the partner's own staff (any role), and one-stop managers. */
    terms: { owner: { whose: 'the partner organisation of the agreement’s terms', org: (request: FastifyRequest) => termsOrg(db, param(request, 'agreementId')), roles: 'any', oneStop: { may: 'read', roles: BILLING_MANAGER_ROLES }, notFound: 'TERMS_NOT_FOUND' } } as { owner: Owner },
    /** Billing runs and business subscriptions: no partner organisation's data to act on; one-stop managers only
     * (everyone else 403, as requireManager answers). */
    oneStopOnly: (whose: string) => ({ owner: { whose, org: () => [], roles: [], oneStop: { may: 'act', roles: BILLING_MANAGER_ROLES } } }) as { owner: Owner },
  };
}
