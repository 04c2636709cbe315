import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../http/deps';

/** Routes of catalogue/portal. */
export async function portalRoutes(_app: FastifyInstance, _deps: AppDeps): Promise<void> {}
