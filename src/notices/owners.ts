/**
 * Whose data each Tell Us Once route touches (src/http/ownership.ts).
 * - A partner API key reads its organisation's notice feed (names, birth dates, addresses): only an admin or manager
 *   of THAT organisation creates one. The one-stop organisation may not create keys for others.
 * - A subscription decides what a partner receives and where (webhook URL): an admin or manager of the partner's own
 *   organisation registers and changes it; the one-stop organisation's admins may too (they onboard partners that
 *   have no staff on Guichet yet); a subscription never moves to another organisation.
 * - Delivery alerts (dead letters) belong to the recipient organisation; the one-stop organisation's admins and
 *   managers run delivery (they receive the alert e-mails) and see and resolve every organisation's alerts.
 */
import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/database';
import { serialId } from '../db/ids';
import { ONE_STOP_ORG, textId, type Owner } from '../http/ownership';

export const NOTICE_ADMIN_ROLES = ['admin', 'manager'];

const bodyOrg = (request: FastifyRequest) => {
  const o = (request.body as { orgId?: unknown } | undefined)?.orgId;
  return typeof o === 'string' && o ? o : null;
};
const idParam = (request: FastifyRequest) => (request.params as { id?: unknown } | undefined)?.id;

export function noticeOwners(db: Database) {
  const subscriptionOrg = async (request: FastifyRequest) => {
    const id = textId(idParam(request));
    if (!id) return null;
    const s = await db.selectFrom('notice_subscriptions').select('org_id').where('id', '=', id).executeTakeFirst();
    if (!s) return null;
    const moved = bodyOrg(request);
    return moved && moved !== s.org_id ? [s.org_id, moved] : [s.org_id];
  };
  const alertOrg = async (request: FastifyRequest) => {
    const id = serialId(String(idParam(request) ?? ''));
    if (id === null) return null;
    const a = await db.selectFrom('notice_alerts').select('org_id').where('id', '=', id).executeTakeFirst();
    return a ? a.org_id ?? ONE_STOP_ORG : null;
  };
  const o = (x: Owner) => ({ owner: x });
  return {
    none: o('none'),
    client: o('client'),
    partnerKey: o('partner-key'),
    /** The Tell Us Once staff page: the caller's organisation's subscriptions and alerts (the one-stop's: all). */
    staffPage: o({ whose: 'the caller’s organisation’s subscriptions and alerts (every organisation’s for one-stop admins and managers)', org: 'caller', roles: NOTICE_ADMIN_ROLES, oneStop: { may: 'read', roles: NOTICE_ADMIN_ROLES } }),
    apiKey: o({ whose: 'the organisation named in the body (orgId), whose notice feed the key reads', org: bodyOrg, roles: NOTICE_ADMIN_ROLES, oneStop: { may: 'none' } }),
    newSubscription: o({ whose: 'the partner organisation named in the body (orgId)', org: bodyOrg, roles: NOTICE_ADMIN_ROLES, oneStop: { may: 'act', roles: ['admin'] } }),
    subscription: o({ whose: 'the subscription’s organisation (and the one a body names: it must be the same)', org: subscriptionOrg, every: true, roles: NOTICE_ADMIN_ROLES, oneStop: { may: 'act', roles: ['admin'] }, notFound: 'SUBSCRIPTION_NOT_FOUND' }),
    alert: o({ whose: 'the organisation the failed notice was for', org: alertOrg, roles: NOTICE_ADMIN_ROLES, oneStop: { may: 'act', roles: NOTICE_ADMIN_ROLES } }),
  };
}
