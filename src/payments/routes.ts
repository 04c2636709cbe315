/** The payments capability's routes (one encapsulated plugin): JSON API and pages. */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../http/deps';
import { apiRoutes } from './api';
import { pageRoutes } from './pages';

export async function routes(app: FastifyInstance, deps: AppDeps) {
  await apiRoutes(app, deps);
  await pageRoutes(app, deps);
}
