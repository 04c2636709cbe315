import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../http/deps';

/** Routes of catalogue/editor. */
export async function editorRoutes(_app: FastifyInstance, _deps: AppDeps): Promise<void> {}
