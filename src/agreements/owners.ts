/**
 * Whose data each agreements route touches (src/http/ownership.ts), mirroring the rules of service.ts and intake.ts
 * (docs/agreements.md, "Who may do what"):
 * - an agreement, its versions, history and fee versions belong to its partner organisation: the partner's staff with
 *   role `partner` read and accept it; the one-stop's managers (drafting, amending, fees, terminating) and its board
 *   (reading, approving, sending back) act on every agreement, as each route below says;
 * - a proposal belongs to the partner organisation that proposed it: its `partner` staff read it and ask for
 *   re-evaluation; the one-stop's managers score and its board decides;
 * - the lists are the caller's organisation's (the one-stop's managers and board: every partner's).
 * The handlers keep their own checks (agreementFor / proposalFor scope every query, requireManager, isBoard); the hook
 * is the floor: staff of any other organisation get 404 (AGREEMENT_NOT_FOUND / PROPOSAL_NOT_FOUND), a role that may
 * never act here 403.
 */
import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/database';
import { isUuid } from '../db/ids';
import { textId, type Owner } from '../http/ownership';

/** The partner's role in agreements and proposals. */
const PARTNER = ['partner'] as const;
type OneStop = { may: 'none' | 'read' | 'act'; roles?: readonly string[] };

const idOf = (request: FastifyRequest) => {
  const id = textId((request.params as { id?: unknown } | undefined)?.id);
  return id && isUuid(id) ? id : null;
};

async function agreementPartner(db: Database, request: FastifyRequest): Promise<string | null> {
  const id = idOf(request);
  if (!id) return null;
  const a = await db.selectFrom('agreements').select('partner_org_id').where('id', '=', id).executeTakeFirst();
  return a?.partner_org_id ?? null;
}

async function proposalPartner(db: Database, request: FastifyRequest): Promise<string | null> {
  const id = idOf(request);
  if (!id) return null;
  const p = await db.selectFrom('service_proposals').select('partner_org_id').where('id', '=', id).executeTakeFirst();
  return p?.partner_org_id ?? null;
}

export function agreementOwners(db: Database) {
  const agreement = (oneStop: OneStop, what: string): { owner: Owner } => ({
    owner: { whose: `an agreement of its partner organisation (${what})`, org: (r) => agreementPartner(db, r), roles: PARTNER, oneStop, notFound: 'AGREEMENT_NOT_FOUND' },
  });
  const proposal = (oneStop: OneStop, what: string): { owner: Owner } => ({
    owner: { whose: `a proposal of the partner organisation that made it (${what})`, org: (r) => proposalPartner(db, r), roles: PARTNER, oneStop, notFound: 'PROPOSAL_NOT_FOUND' },
  });
  return {
    /** read an agreement: its partner's `partner` staff; the one-stop's managers and board */
    agreementRead: agreement({ may: 'read', roles: ['manager', 'board'] }, 'read by the partner; the one-stop’s managers and board read all'),
    /** draft, edit, submit, recall, amend, discard, terminate, fees: the one-stop's managers only (the handler refuses the partner) */
    agreementManage: agreement({ may: 'act', roles: ['manager'] }, 'managed by the one-stop’s managers'),
    /** approve, send back: the one-stop's board only */
    agreementDecide: agreement({ may: 'act', roles: ['board'] }, 'decided by the one-stop’s governance board'),
    /** accept: the partner's own `partner` staff only; the one-stop has no power here */
    agreementAccept: agreement({ may: 'none' }, 'accepted by the partner’s own staff only'),
    /** a new agreement: for the partner named in the body; drafted by the one-stop's managers */
    agreementCreate: {
      owner: {
        whose: 'a new agreement of the partner organisation named in the body (drafted by the one-stop’s managers)',
        org: (r: FastifyRequest) => textId((r.body as { partner_org_id?: unknown } | undefined)?.partner_org_id),
        roles: PARTNER, oneStop: { may: 'act', roles: ['manager'] }, notFound: 'AGREEMENT_NOT_FOUND',
      },
    } as { owner: Owner },
    /** the new-agreement form: no organisation's data yet; one-stop managers only (the handler says so) */
    agreementForm: { owner: { whose: 'the new-agreement form of the one-stop’s managers', org: 'caller', roles: ['manager'], oneStop: { may: 'none' } } } as { owner: Owner },
    /** the agreements list: the caller's organisation's; the one-stop's managers and board see every partner's */
    agreementList: { owner: { whose: 'the agreements of the caller’s organisation (the one-stop’s managers and board: every partner’s)', org: 'caller', roles: PARTNER, oneStop: { may: 'read', roles: ['manager', 'board'] } } } as { owner: Owner },
    /** pausing remittance to a payee organisation: that organisation's money, paused by the one-stop's managers */
    remittancePause: {
      owner: {
        whose: 'the remittance of the payee organisation in the path (paused by the one-stop’s managers)',
        org: (r: FastifyRequest) => textId((r.params as { orgId?: unknown } | undefined)?.orgId),
        roles: ['manager'], oneStop: { may: 'act', roles: ['manager'] },
      },
    } as { owner: Owner },
    proposalRead: proposal({ may: 'read', roles: ['manager', 'board'] }, 'read by the partner; the one-stop’s managers and board read all'),
    proposalScore: proposal({ may: 'act', roles: ['manager'] }, 'scored by the one-stop’s managers'),
    proposalDecide: proposal({ may: 'act', roles: ['board'] }, 'decided by the one-stop’s governance board'),
    proposalReevaluate: proposal({ may: 'none' }, 're-evaluation asked by the partner’s own staff only'),
    /** the ranked backlog: the caller's organisation's proposals; the one-stop's managers and board see all */
    proposalList: { owner: { whose: 'the proposals of the caller’s organisation (the one-stop’s managers and board: every partner’s)', org: 'caller', roles: PARTNER, oneStop: { may: 'read', roles: ['manager', 'board'] } } } as { owner: Owner },
    /** proposing: in the caller's own organisation's name (a partner's staff) */
    proposalCreate: { owner: { whose: 'a proposal in the caller’s own organisation’s name', org: 'caller', roles: PARTNER, oneStop: { may: 'none' } } } as { owner: Owner },
  };
}
