import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../http/deps';

/** Routes of catalogue/cpsv. */
export async function cpsvRoutes(_app: FastifyInstance, _deps: AppDeps): Promise<void> {}
