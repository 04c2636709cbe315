import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../http/deps';
export async function routes(_app: FastifyInstance, _deps: AppDeps): Promise<void> {}
