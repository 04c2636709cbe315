/**
 * Whose data each catalogue editing route touches (src/http/ownership.ts): a service belongs to its owning
 * organisation (owner_org_id, the competent authority); its editors edit it. The one-stop organisation's reviewers
 * review and publish every organisation's services (the editorial workflow); no other organisation may touch them.
 */
import type { FastifyRequest } from 'fastify';
import type { Database } from '../../db/database';
import { textId, type Owner } from '../../http/ownership';

export function serviceOwner(db: Database, roles: readonly string[] = ['editor', 'reviewer']): { owner: Owner } {
  return {
    owner: {
      whose: 'the service’s owning organisation',
      org: async (request: FastifyRequest) => {
        const id = textId((request.params as { id?: unknown } | undefined)?.id);
        if (!id) return null;
        const s = await db.selectFrom('services').select('owner_org_id').where('id', '=', id).executeTakeFirst();
        return s?.owner_org_id ?? null;
      },
      roles,
      oneStop: { may: 'act', roles: ['reviewer'] },
      notFound: 'SERVICE_NOT_FOUND',
    },
  };
}
