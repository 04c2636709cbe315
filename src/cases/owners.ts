/**
 * Whose data each cases route touches (src/http/ownership.ts): the resolvers read the owning organisations from the
 * row a route loads. The handlers keep their finer rules (accessTo: a referral sees but does not act; the one-stop
 * acts only for a client it is serving).
 */
import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/database';
import { isUuid } from '../db/ids';
import { textId, type OrgOwner, type Owner } from '../http/ownership';
import { CASE_ROLES } from './service';

const param = (request: FastifyRequest, name: string) => (request.params as Record<string, unknown> | undefined)?.[name];

export function caseOwners(db: Database) {
  /** A case: its responsible organisation and every organisation it was referred to (not declined). */
  const caseOrgs = async (request: FastifyRequest) => {
    const id = param(request, 'id');
    if (typeof id !== 'string' || !isUuid(id)) return null;
    const rows = await db
      .selectFrom('cases')
      .leftJoin('case_referrals', (j) => j.onRef('case_referrals.case_id', '=', 'cases.id').on('case_referrals.status', '<>', 'declined'))
      .select(['cases.responsible_org_id', 'case_referrals.to_org_id'])
      .where('cases.id', '=', id)
      .execute();
    if (!rows.length) return null;
    return [...new Set(rows.flatMap((r) => [r.responsible_org_id, r.to_org_id].filter((x): x is string => Boolean(x))))];
  };
  /** A question handed from one organisation to another: both. */
  const questionOrgs = async (request: FastifyRequest) => {
    const id = param(request, 'id');
    if (typeof id !== 'string' || !isUuid(id)) return null;
    const q = await db.selectFrom('case_questions').select(['from_org_id', 'to_org_id']).where('id', '=', id).executeTakeFirst();
    return q ? [q.from_org_id, q.to_org_id] : null;
  };
  const theCase: OrgOwner = {
    whose: 'the case’s responsible organisation and the organisations it was referred to',
    org: caseOrgs,
    roles: CASE_ROLES,
    oneStop: { may: 'serving', roles: CASE_ROLES },
    notFound: 'CASE_NOT_FOUND',
  };
  const question: OrgOwner = {
    whose: 'the organisation that handed the question and the one it was handed to',
    org: questionOrgs,
    roles: CASE_ROLES,
    oneStop: { may: 'serving', roles: CASE_ROLES },
    notFound: 'QUESTION_NOT_FOUND',
  };
  const caller = (whose: string, roles: readonly string[] | 'any' = CASE_ROLES): OrgOwner => ({ whose, org: 'caller', roles, oneStop: { may: 'none' } });
  return {
    theCase: { owner: theCase as Owner },
    question: { owner: question as Owner },
    caller: (whose: string, roles: readonly string[] | 'any' = CASE_ROLES) => ({ owner: caller(whose, roles) as Owner }),
    client: { owner: 'client' as Owner },
    none: { owner: 'none' as Owner },
    partnerKey: { owner: 'partner-key' as Owner },
  };
}

/** A service's form: the service's owning organisation (publishing a new version is theirs). */
export function serviceFormOwner(db: Database): { owner: Owner } {
  return {
    owner: {
      whose: 'the service’s owning organisation',
      org: async (request) => {
        const id = textId(param(request, 'serviceId'));
        if (!id) return null;
        const s = await db.selectFrom('services').select('owner_org_id').where('id', '=', id).executeTakeFirst();
        return s?.owner_org_id ?? null;
      },
      roles: 'any',
      oneStop: { may: 'none' },
    },
  };
}
