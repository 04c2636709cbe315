/**
 * Builds the Fastify application: plumbing (logs, errors, metrics, sessions, OpenAPI, static assets) and the routes
 * of the capabilities it is given (src/capabilities.ts), each registered as its own Fastify plugin.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../config';
import type { OpenedDatabase } from '../db/database';
import { isLang, langFromHeader } from '../i18n/index';
import { installErrorHandlers } from './errors';
import { installMetrics } from './metrics';
import { installSessions } from './session';
import { installPages, renderErrorPage } from '../web/render';
import { ensureAssets } from '../web/assets';
import type { AppDeps } from './deps';
import { routes as platformRoutes } from './platform-routes';
import type { Capability } from './capability';
import { installMessages } from '../i18n/index';

const here = path.dirname(fileURLToPath(import.meta.url));

export type App = FastifyInstance;

/** A route as registered: its method(s) and URL pattern (`:param` for parameters). */
export interface RegisteredRoute {
  method: string;
  url: string;
}
const registered = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route of an app built by buildApp, pages and API alike (for sweeps over all routes in tests). */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return registered.get(app) ?? [];
}

export interface BuildOptions {
  config: Config;
  database: OpenedDatabase;
  /** Set once the catalogue is seeded; /healthz answers 503 until then. */
  ready?: () => boolean;
  logger?: boolean | object;
  /** The capabilities whose routes to serve (src/capabilities.ts), each as its own encapsulated plugin. */
  capabilities: readonly Capability[];
}

export async function buildApp(opts: BuildOptions): Promise<App> {
  const { config, database } = opts;
  installMessages(opts.capabilities.flatMap((c) => c.messages));
  const app = Fastify({
    logger: opts.logger ?? { level: config.logLevel },
    bodyLimit: 1024 * 1024,
    trustProxy: true,
    // per-request log lines off in tests (what the deprecated top-level disableRequestLogging did)
    logController: new LogController({ disableRequestLogging: config.env === 'test' }),
    ajv: { customOptions: { allErrors: false, coerceTypes: 'array', removeAdditional: false, useDefaults: true, allowUnionTypes: true } },
    routerOptions: { maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const deps: AppDeps = { config, database, db: database.db, ready: opts.ready ?? (() => true) };

  const routeList: RegisteredRoute[] = [];
  registered.set(app, routeList);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routeList.push({ method, url: route.url });
  });

  app.decorateRequest('lang', 'en');
  app.addHook('onRequest', async (request) => {
    const seg = request.url.slice(1, 3);
    const next = request.url.charAt(3);
    if ((seg === 'fr' || seg === 'en') && (next === '' || next === '/' || next === '?')) request.lang = seg;
    else {
      const q = request.query as Record<string, unknown> | undefined;
      const qlang = q && typeof q === 'object' ? q.lang : undefined;
      request.lang = isLang(qlang) ? qlang : langFromHeader(request.headers['accept-language']);
    }
  });

  // Nothing personal stays in a browser's or a proxy's cache (issue 16: Back after sign-out showed the previous
  // person's file). ONE rule for every answer: `Cache-Control: no-store`, except static assets (/assets/, which set
  // their own max-age) and an answer whose route set its own Cache-Control for a caller WITHOUT a session or an
  // Authorization header (the public CPSV-AP export's ETag). An answer to a request with a session or a key is always
  // no-store, whatever the route said: the layout of every page names the person signed in. test/no-store.test.ts
  // checks every registered route. (docs/architecture.md, "Caching")
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/assets/')) return payload;
    if (request.session || request.headers.authorization || request.headers.cookie?.includes('guichet_sid=') || !reply.hasHeader('cache-control')) {
      reply.header('Cache-Control', 'no-store');
    }
    return payload;
  });

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 256 * 1024 });
  installPages(app);
  installErrorHandlers(app, renderErrorPage);
  installMetrics(app);
  installSessions(app, database.db, { secureCookies: config.publicBaseUrl.startsWith('https://') });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Guichet API',
        description: 'Integrated service delivery platform: catalogue, accounts, tell us once, cases, counters. Errors are JSON `{ error: { code, message, details? } }` in the language of `lang` or Accept-Language.',
        version: '1.0.0',
      },
      servers: [{ url: config.publicBaseUrl }],
      components: {
        securitySchemes: {
          partnerKey: { type: 'http', scheme: 'bearer', description: 'Partner API key (per organisation)' },
        },
      },
    },
    hideUntagged: true,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true }, staticCSP: false });

  const assetsDir = await ensureAssets();
  await app.register(fastifyStatic, { root: assetsDir, prefix: '/assets/', decorateReply: false, maxAge: '1h' });
  await app.register(fastifyStatic, {
    root: path.resolve(here, '../../node_modules/govuk-frontend/dist/govuk/assets/images'),
    prefix: '/assets/govuk/images/',
    decorateReply: false,
  });

  await platformRoutes(app, deps);
  for (const capability of opts.capabilities) {
    const routes = capability.routes;
    // one plugin per capability: its hooks and decorators stay inside it (Fastify encapsulation)
    if (routes) await app.register(async (scope) => routes(scope as unknown as FastifyInstance, deps));
  }

  return app;
}
