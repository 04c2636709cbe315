import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../http/deps';
import { searchRoutes } from './search/routes';
import { cpsvRoutes } from './cpsv/routes';
import { portalRoutes } from './portal/routes';
import { editorRoutes } from './editor/pages';

/** API routes and pages of the catalogue: search API, CPSV-AP export/import, portal pages, editorial workflow. */
export async function routes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await searchRoutes(app, deps);
  await cpsvRoutes(app, deps);
  await portalRoutes(app, deps);
  await editorRoutes(app, deps);
}
