/** Routes of the agreements capability (one encapsulated plugin): staff pages (pages.ts), JSON API (api.ts), intake (intake-routes.ts). */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../http/deps';
import { agreementsApi } from './api';
import { agreementPages } from './pages';
import { intakeRoutes } from './intake-routes';

export async function routes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await agreementPages(app, deps);
  await agreementsApi(app, deps);
  await intakeRoutes(app, deps);
}
