/**
 * Whose data each counters route touches (src/http/ownership.ts). An office's queue, counters, team and figures
 * belong to the organisations the office hosts: their staff act there; an agent lent to one of them AT THIS OFFICE
 * (agent_loans, per office) acts there too. The one-stop organisation's admins may act at every office (they run the
 * shared centres); no other organisation's admin may.
 */
import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/database';
import { ttlCache } from '../db/ttl-cache';
import { textId, type Owner } from '../http/ownership';

export const AGENT_ROLES = ['agent', 'manager', 'admin'];
export const MANAGER_ROLES = ['manager', 'admin'];

/**
 * An office's hosted organisations, reused 5 s per process (changes when an office's partners change). A request in
 * a copy's last half second reads it again in the background (refreshAhead): at a busy office no request waits for it, and
 * no copy older than 5 s is used.
 */
const hostedCache = ttlCache<string, string[] | null>(5_000, { refreshAhead: 0.1 });
/** Whether a staff member is lent at an office to one of its organisations, reused 5 s (as the office check). */
const loanCache = ttlCache<string, string | null>(5_000, { refreshAhead: 0.1 });

export async function officeOrgs(db: Database, officeId: unknown): Promise<string[] | null> {
  // (a NUL byte or an over-long id is no office)
  if (!textId(officeId) || (officeId as string).length > 100) return null;
  const id = officeId as string;
  return hostedCache(db, id, async () => {
    const rows = await db
      .selectFrom('offices')
      .leftJoin('office_organisations', 'office_organisations.office_id', 'offices.id')
      .select('office_organisations.org_id')
      .where('offices.id', '=', id)
      .execute();
    return rows.length ? rows.map((r) => r.org_id).filter((x): x is string => Boolean(x)) : null;
  });
}

/** The organisation a staff member is lent to at this office (null if none). */
export async function loanAt(db: Database, staffId: string, officeId: string): Promise<string | null> {
  return loanCache(db, `${staffId}|${officeId}`, async () => {
    const r = await db.selectFrom('agent_loans').select('lent_to_org_id').where('staff_id', '=', staffId).where('office_id', '=', officeId).executeTakeFirst();
    return r?.lent_to_org_id ?? null;
  });
}

export function officeOwner(db: Database, roles: readonly string[] = AGENT_ROLES): { owner: Owner } {
  const officeId = (request: FastifyRequest) => (request.params as { officeId?: unknown } | undefined)?.officeId;
  return {
    owner: {
      whose: 'the organisations the office hosts (and agents lent to one of them at this office)',
      org: (request) => officeOrgs(db, officeId(request)),
      roles,
      oneStop: { may: 'act', roles: ['admin'] },
      actsFor: async (request, orgs) => {
        const id = officeId(request);
        if (!textId(id) || !request.staff) return false;
        const lent = await loanAt(db, request.staff.id, id as string);
        return lent !== null && orgs.includes(lent);
      },
      notFound: 'OFFICE_NOT_FOUND',
    },
  };
}

export const callerOffices: { owner: Owner } = {
  owner: { whose: 'the offices that host the caller’s organisation', org: 'caller', roles: 'any', oneStop: { may: 'read', roles: ['admin'] } },
};
export const publicRoute: { owner: Owner } = { owner: 'none' };

/** Forget cached loans (after a loan changes in this process). */
export function forgetLoans(db: Database) {
  loanCache.forget(db);
}
