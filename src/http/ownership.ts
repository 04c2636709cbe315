/**
 * "Ownership is declared, not remembered." Every route states, in its Fastify route options
 * (`config: { owner: ... }`), whose data it touches; one preHandler hook (installOwnership) checks the declaration
 * for every staff caller before the handler runs, and test/ownership.test.ts fails for any registered route without
 * one. The handler keeps its own checks (scoping its queries); the hook is the floor no route can forget.
 *
 * Declarations:
 * - 'none': no organisation's data (public catalogue and pages, sign-in, health, assets).
 * - 'client': only the signed-in client's own data (or a business they represent); staff get nothing through it.
 * - 'staff-self': the signed-in staff member's own session or work list, nothing of another organisation.
 * - 'partner-key': a partner organisation's data, reached with that organisation's API key (the handler matches the
 *   key's organisation to the path and answers 404 for any other); staff sessions get nothing through it.
 * - an OrgOwner: data of one or more organisations, resolved from the path, the body or the row it loads.
 *
 * The hook, for a signed-in staff member on an OrgOwner route:
 * 1. roles: the staff member must hold one of `roles` (else 403 FORBIDDEN);
 * 2. organisation: `org` gives the owning organisation(s) ('caller' means the staff member's own organisation, every
 *    query being scoped by it); the staff member's organisation must be one of them, or `actsFor` (a capability's
 *    function, e.g. an agent lent to that organisation at this office) must say yes;
 * 3. the one-stop organisation (ONE_STOP_ORG_ID): its staff holding one of `oneStop.roles` may go past step 2 as
 *    `oneStop.may` says: 'act' (read and write), 'read' (GET only), or 'serving' (the handler lets them act only for
 *    clients who gave the one-stop access, e.g. with a one-time code). `may: 'none'`: like any other organisation.
 * Any other organisation gets `notFound` (404, the same answer as for a row that does not exist). When the resolver
 * finds no row (null), the hook lets the handler answer its own 404. Anonymous callers and clients pass the hook:
 * the handler decides (401, a redirect to sign in, or the client's own data).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from './errors';
import { routeInfo } from './route-info';

/** The one-stop organisation (demo and production id). */
export const ONE_STOP_ORG = 'guichet';

type OrgIds = string | readonly string[] | null | undefined;

export interface OrgOwner {
  /** Whose data, in words (for readers and test failure messages). */
  whose: string;
  /** 'caller': the staff member's own organisation; or the owning organisation(s) from the path, body or row. */
  org: 'caller' | ((request: FastifyRequest) => OrgIds | Promise<OrgIds>);
  /** Roles of that organisation that may act; 'any': every staff role (the handler may narrow). */
  roles: readonly string[] | 'any';
  /** What one-stop staff may do on other organisations' data. */
  oneStop: { may: 'none' | 'read' | 'act' | 'serving'; roles?: readonly string[] };
  /** Another way to belong: e.g. lent to one of the owning organisations at this office. */
  actsFor?: (request: FastifyRequest, orgs: readonly string[]) => boolean | Promise<boolean>;
  /** The staff member must belong to EVERY organisation resolved (e.g. a row and the organisation a body moves it
   * to), not just one of them. */
  every?: boolean;
  /** The 404 code for another organisation's row (default NOT_FOUND). */
  notFound?: string;
}

export type Owner = 'none' | 'client' | 'staff-self' | 'partner-key' | OrgOwner;

declare module 'fastify' {
  interface FastifyContextConfig {
    owner?: Owner;
    csrf?: boolean;
  }
}

/** A text id from a path or body that may be queried: a string of 1 to 200 characters without a NUL byte (which
 * PostgreSQL refuses in text, a 500), else null. */
export const textId = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 && v.length <= 200 && !v.includes('\u0000') ? v : null);

export const ownerOf = (config: unknown): Owner | undefined => (config as { owner?: Owner } | undefined)?.owner;

const hasRole = (roles: readonly string[], allowed: readonly string[] | 'any') => allowed === 'any' || roles.some((r) => allowed.includes(r));

/** Is this staff member allowed by the declaration? 'ok', 'forbidden' (403) or 'hidden' (404). */
export async function checkOwner(request: FastifyRequest, owner: OrgOwner): Promise<'ok' | 'forbidden' | 'hidden'> {
  const staff = request.staff!;
  const oneStopPowers = staff.orgId === ONE_STOP_ORG && owner.oneStop.may !== 'none' && hasRole(staff.roles, owner.oneStop.roles ?? owner.roles);
  // roles first, as requireStaff does: a role that may never act here is told so (403) before any row is read
  if (!hasRole(staff.roles, owner.roles) && !oneStopPowers) return 'forbidden';
  if (owner.org === 'caller') return 'ok';
  const resolved = await owner.org(request);
  if (resolved === null || resolved === undefined) return 'ok';
  const orgs = typeof resolved === 'string' ? [resolved] : resolved;
  const member = owner.every
    ? orgs.every((o) => o === staff.orgId)
    : orgs.includes(staff.orgId) || (owner.actsFor ? await owner.actsFor(request, orgs) : false);
  if (member) return hasRole(staff.roles, owner.roles) ? 'ok' : 'forbidden';
  if (oneStopPowers) {
    const may = owner.oneStop.may;
    if (may === 'act' || may === 'serving' || (may === 'read' && (request.method === 'GET' || request.method === 'HEAD'))) return 'ok';
    if (may === 'read') return 'forbidden';
  }
  return 'hidden';
}

/** The one hook: every staff request on a route with an organisation owner is checked before its handler. */
export function installOwnership(app: FastifyInstance) {
  app.addHook('preHandler', (request, _reply, done) => {
    if (!request.staff) return done();
    const owner = ownerOf(routeInfo(request).config);
    if (!owner || typeof owner === 'string') return done();
    checkOwner(request, owner).then((verdict) => {
      if (verdict === 'forbidden') done(new AppError(403, 'FORBIDDEN'));
      else if (verdict === 'hidden') done(new AppError(404, owner.notFound ?? 'NOT_FOUND'));
      else done();
    }, done);
  });
}

/** Shorthands for declarations: each is a route's `config` (spread it to add other config). */
export const own = {
  none: { owner: 'none' } as { owner: Owner },
  client: { owner: 'client' } as { owner: Owner },
  staffSelf: { owner: 'staff-self' } as { owner: Owner },
  partnerKey: { owner: 'partner-key' } as { owner: Owner },
  /** Data of the caller's own organisation: every query is scoped by the staff member's organisation. */
  caller: (whose: string, roles: readonly string[] | 'any' = 'any'): { owner: Owner } => ({ owner: { whose, org: 'caller', roles, oneStop: { may: 'none' } } }),
  org: (o: OrgOwner): { owner: Owner } => ({ owner: o }),
};
