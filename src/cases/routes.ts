import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../http/deps';

/** API routes and pages of the cases capability. */
export async function routes(_app: FastifyInstance, _deps: AppDeps): Promise<void> {}
