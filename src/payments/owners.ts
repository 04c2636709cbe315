/**
 * Whose data each payments route touches (src/http/ownership.ts).
 * - A basket and its payments are the one-stop's: it collects the money for every payee. The client who owns the
 *   basket, or whoever holds the unguessable id of a basket without a client, reaches it (the handler decides);
 *   among staff only the one-stop organisation's staff do (a payee organisation sees its money on the partner page
 *   and in its remittance batches, never the client's basket).
 * - A counter basket is made at an office: by staff of the organisations the office hosts, or an agent lent to one
 *   of them at this office (as the counters capability decides); the one-stop's admins at every office.
 * - A remittance batch belongs to the partner it pays; the one-stop's staff (partner, manager or admin) may read it.
 * - The ledger, balances, batches of every partner and the reconciliation are the one-stop's managers'.
 */
import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/database';
import { isUuid } from '../db/ids';
import { ONE_STOP_ORG, type Owner } from '../http/ownership';
import { loanAt, officeOrgs } from '../counters/owners';

export const MONEY_ROLES = ['manager', 'admin', 'agent'];
export const LEDGER_ROLES = ['manager', 'admin'];
export const PARTNER_PAGE_ROLES = ['partner', 'manager', 'admin'];

const idParam = (request: FastifyRequest) => (request.params as { id?: unknown } | undefined)?.id;

/** A basket (path :id): the one-stop's, when the basket exists. */
export function basketOwner(db: Database): { owner: Owner } {
  return {
    owner: {
      whose: 'a basket the one-stop collects for its payees (and its client)',
      org: async (request) => {
        const id = idParam(request);
        if (typeof id !== 'string' || !isUuid(id)) return null;
        const b = await db.selectFrom('payment_baskets').select('id').where('id', '=', id).executeTakeFirst();
        return b ? ONE_STOP_ORG : null;
      },
      roles: 'any',
      oneStop: { may: 'none' },
      notFound: 'BASKET_NOT_FOUND',
    },
  };
}

/** A payment (path :id): the one-stop's, when the payment exists. */
export function paymentOwner(db: Database, roles: readonly string[] | 'any' = 'any'): { owner: Owner } {
  return {
    owner: {
      whose: 'a payment the one-stop collected for its payees (and its client)',
      org: async (request) => {
        const id = idParam(request);
        if (typeof id !== 'string' || !isUuid(id)) return null;
        const p = await db.selectFrom('payments').select('id').where('id', '=', id).executeTakeFirst();
        return p ? ONE_STOP_ORG : null;
      },
      roles,
      oneStop: { may: 'none' },
      notFound: 'PAYMENT_NOT_FOUND',
    },
  };
}

/** Creating a basket: a counter basket (body officeId) is the office's organisations'; any other is the caller's
 * (anonymous or client: the handler decides). */
export function newBasketOwner(db: Database): { owner: Owner } {
  const officeId = (request: FastifyRequest) => (request.body as { officeId?: unknown } | undefined)?.officeId;
  return {
    owner: {
      whose: 'a counter basket: the organisations the office hosts (and agents lent to one of them at this office)',
      org: async (request) => (officeId(request) === undefined ? null : (await officeOrgs(db, officeId(request))) ?? null),
      roles: 'any',
      oneStop: { may: 'act', roles: ['admin'] },
      actsFor: async (request, orgs) => {
        const id = officeId(request);
        if (typeof id !== 'string' || !request.staff) return false;
        const lent = await loanAt(db, request.staff.id, id);
        return lent !== null && orgs.includes(lent);
      },
      notFound: 'OFFICE_NOT_FOUND',
    },
  };
}

/** The ledger, balances, every partner's batches and the reconciliation: the one-stop's managers. */
export const ledgerOwner: { owner: Owner } = {
  owner: { whose: 'the one-stop’s ledger (every account’s balance, batches, reconciliation)', org: () => ONE_STOP_ORG, roles: LEDGER_ROLES, oneStop: { may: 'none' } },
};

/** A partner's money page: the caller's organisation; one-stop staff may name another (?org=), read only. */
export const partnerPageOwner: { owner: Owner } = {
  owner: { whose: 'the caller’s organisation’s money (one-stop staff may name a partner with ?org=, read only)', org: 'caller', roles: PARTNER_PAGE_ROLES, oneStop: { may: 'read' } },
};

/** A remittance batch (path :id): the partner it pays; one-stop partner staff, managers and admins read it. */
export function batchOwner(db: Database): { owner: Owner } {
  return {
    owner: {
      whose: 'the partner a remittance batch pays',
      org: async (request) => {
        const id = idParam(request);
        if (typeof id !== 'string' || !isUuid(id)) return null;
        const b = await db.selectFrom('remittance_batches').select('org_id').where('id', '=', id).executeTakeFirst();
        return b?.org_id ?? null;
      },
      roles: PARTNER_PAGE_ROLES,
      oneStop: { may: 'read' },
      notFound: 'BATCH_NOT_FOUND',
    },
  };
}
