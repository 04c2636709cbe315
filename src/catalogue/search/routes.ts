import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../http/deps';

/** Routes of catalogue/search. */
export async function searchRoutes(_app: FastifyInstance, _deps: AppDeps): Promise<void> {}
