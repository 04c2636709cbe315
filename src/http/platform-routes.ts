import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { AppDeps } from './deps';
import { t } from '../i18n/index';

/** Health and the language chooser at "/". */
export async function routes(app: FastifyInstance, deps: AppDeps) {
  app.get('/healthz', { config: { owner: 'none' }, schema: { hide: true } }, async (_request, reply) => {
    if (!deps.ready()) return reply.status(503).send({ status: 'starting' });
    await sql`select 1`.execute(deps.db);
    return { status: 'ok', database: deps.database.kind };
  });

  app.get('/', { config: { owner: 'none' }, schema: { hide: true } }, async (request, reply) => {
    request.alternateUrl = '/fr';
    return reply.page('choose-language.njk', { title: `${t('en', 'lang.choose.title')} / ${t('fr', 'lang.choose.title')}` });
  });
}
