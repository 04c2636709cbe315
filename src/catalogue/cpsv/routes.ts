import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from '../../http/deps';
import { AppError } from '../../http/errors';
import { requireStaff } from '../../http/session';
import { exportCatalogue } from './export';
import { importCpsv } from './import';
import { ONE_STOP_ORG, own } from '../../http/ownership';

/** Largest JSON-LD file the import API accepts (the full catalogue export is about 11 MB). */
export const IMPORT_BODY_LIMIT = 64 * 1024 * 1024;

const ImportReport = Type.Object({
  services: Type.Object({ inserted: Type.Integer(), updated: Type.Integer() }),
  organisations: Type.Object({ inserted: Type.Integer(), updated: Type.Integer() }),
  events: Type.Object({ inserted: Type.Integer(), updated: Type.Integer() }),
  channels: Type.Integer(),
  costs: Type.Integer(),
  requirements: Type.Integer(),
  outputs: Type.Integer(),
  standards: Type.Integer(),
  triples: Type.Integer(),
  warnings: Type.Array(Type.String()),
  durationMs: Type.Integer(),
});

/** Routes of catalogue/cpsv: the CPSV-AP 3.2.0 export (public) and import (staff with role admin). */
export async function cpsvRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get(
    '/api/v1/catalogue.jsonld',
    {
      config: own.none,
      schema: {
        tags: ['catalogue'],
        summary: 'The published catalogue as CPSV-AP 3.2.0 JSON-LD',
        description:
          'Every published service with its competent authority, delivering organisations, channels, costs, requirements and evidence, outputs, ' +
          'service standards (Guichet extension) and life / business events, as one JSON-LD document (`application/ld+json`, inline context) ' +
          'that validates against the official CPSV-AP 3.2.0 SHACL shapes. Supports `If-None-Match` (ETag). Mapping: docs/cpsv-ap.md.',
      },
    },
    async (request, reply) => {
      const out = await exportCatalogue(deps.db, deps.config.publicBaseUrl);
      reply.header('etag', out.etag).header('cache-control', 'public, max-age=0, must-revalidate').header('x-guichet-services', String(out.services));
      const inm = request.headers['if-none-match'];
      if (inm && (inm.trim() === '*' || inm.split(',').some((x) => x.trim().replace(/^W\//, '') === out.etag))) return reply.status(304).send();
      return reply.type('application/ld+json; charset=utf-8').send(out.body);
    },
  );

  await app.register(async (scope) => {
    const parseJson = (_req: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
      try {
        done(null, JSON.parse(typeof body === 'string' ? body : body.toString('utf8')));
      } catch {
        done(new AppError(400, 'INVALID_JSON'));
      }
    };
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser(['application/json', 'application/ld+json'], { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, parseJson);

    scope.post(
      '/api/v1/catalogue.jsonld',
      {
        // An import writes every organisation's services: the one-stop organisation's admins only.
        config: own.org({ whose: 'the whole catalogue (every organisation’s services): the one-stop organisation’s', org: () => ONE_STOP_ORG, roles: ['admin'], oneStop: { may: 'none' } }),
        bodyLimit: IMPORT_BODY_LIMIT,
        schema: {
          tags: ['catalogue'],
          summary: 'Import a CPSV-AP 3.2.0 JSON-LD catalogue (admin)',
          description:
            'Staff with the admin role. The body is a JSON-LD document (`application/ld+json` or `application/json`) with an inline context. ' +
            'It is validated against the CPSV-AP 3.2.0 SHACL shapes and written in one transaction: services, organisations and events are ' +
            'created or updated by identifier. Invalid JSON-LD: 400 `CPSV_INVALID_JSONLD`; shape violations: 422 `CPSV_SHAPES_VIOLATION` ' +
            'with one detail per violation; other problems: 422 `CPSV_INVALID`. Nothing is written when the file is rejected.',
          consumes: ['application/ld+json', 'application/json'],
          response: { 200: ImportReport },
        },
      },
      async (request) => {
        const staff = requireStaff(request, ['admin']);
        return importCpsv(deps.db, request.body, { file: 'request', changedBy: staff.id });
      },
    );
  });
}
