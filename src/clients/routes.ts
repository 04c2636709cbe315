/** The clients (accounts, My file) capability's routes: its pages (pages.ts), then its JSON API (api.ts), in that order. */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../http/deps';
import { pageRoutes } from './pages';
import { apiRoutes } from './api';

// what other capabilities use of the clients' pages
export { CLIENT_PATHS, actingForBanner, formErrors } from './pages';

export async function routes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await pageRoutes(app, deps);
  await apiRoutes(app, deps);
}
