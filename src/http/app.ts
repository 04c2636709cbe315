/**
 * Builds the Fastify application: plumbing (logs, errors, metrics, sessions, OpenAPI, static assets) and the routes
 * of the capabilities it is given (src/capabilities.ts), each registered as its own Fastify plugin.
 */
import fs from 'node:fs';
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
import { installOwnership, ownerOf, type Owner } from './ownership';
import { installIdempotency } from './idempotency';
import { installInputChecks } from './input';
import { loggerOptions } from './logging';
import { installRateLimits } from './rate-limit';
import { installRouteInfo } from './route-info';
import { installPages, renderErrorPage } from '../web/render';
import { ensureAssets } from '../web/assets';
import type { AppDeps } from './deps';
import { routes as platformRoutes } from './platform-routes';
import type { Capability } from './capability';
import { staffLinksOf } from './staff-links';
import { installMessages } from '../i18n/index';

const here = path.dirname(fileURLToPath(import.meta.url));

export type App = FastifyInstance;

/** A route as registered: its method(s) and URL pattern (`:param` for parameters). */
export interface RegisteredRoute {
  method: string;
  url: string;
  /** Whose data the route touches (src/http/ownership.ts); undefined when the route declares nothing. */
  owner?: Owner;
  /** The route's schema declares a 201 answer: it creates something. */
  creates: boolean;
  /** How it takes an Idempotency-Key (src/http/idempotency.ts): the plumbing's hook, or the command itself. */
  idempotent?: true | 'command';
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

const FAVICON = fs.readFileSync(path.resolve(here, '../web/assets/favicon.svg'));
/** The /docs header: Guichet's name beside its mark, white on the brand colour. */
const DOCS_LOGO = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 180 32" width="180" height="32"><rect width="32" height="32" rx="6" fill="#fff"/><path d="M8 25V13a8 8 0 0 1 16 0v12z" fill="#0b4f6c"/><rect x="5" y="24" width="22" height="4" rx="1" fill="#f2b705"/><text x="42" y="24" font-family="system-ui, Arial, sans-serif" font-size="22" font-weight="700" fill="#fff">Guichet API</text></svg>',
);
const DOCS_CSS = `
.swagger-ui .topbar { background: #0b4f6c; border-bottom: 8px solid #f2b705; padding: 10px 0; }
.swagger-ui .topbar .download-url-wrapper { display: none; }
.swagger-ui, .swagger-ui .info .title, .swagger-ui .opblock-tag { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif; }
.swagger-ui .info .title { color: #0b4f6c; }
.swagger-ui a, .swagger-ui .info a { color: #0b5d80; }
.swagger-ui .btn.authorize { color: #0b4f6c; border-color: #0b4f6c; }
.swagger-ui .btn.authorize svg { fill: #0b4f6c; }
`;

/** Trust the nearest `hops` proxies (what Fastify does with a number, typed as a function). */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

export async function buildApp(opts: BuildOptions): Promise<App> {
  const { config, database } = opts;
  installMessages(opts.capabilities.flatMap((c) => c.messages));
  const app = Fastify({
    // redaction and scrubbing serializers always (src/http/logging.ts); a test may add a stream or a level
    logger: opts.logger === false ? false : { ...loggerOptions(config.logLevel), ...(typeof opts.logger === 'object' ? opts.logger : {}) },
    bodyLimit: 1024 * 1024,
    // who may say who the client is (GUICHET_TRUST_PROXY; none by default, so X-Forwarded-For cannot pick the
    // address a rate limit counts)
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    // per-request log lines off in tests (what the deprecated top-level disableRequestLogging did)
    logController: new LogController({ disableRequestLogging: config.env === 'test' }),
    ajv: { customOptions: { allErrors: false, coerceTypes: 'array', removeAdditional: false, useDefaults: true, allowUnionTypes: true } },
    routerOptions: { maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const routeList: RegisteredRoute[] = [];
  registered.set(app, routeList);
  // the staff home's links are shown by the linked pages' own owner declarations
  const staffLinks = staffLinksOf(app, opts.capabilities.flatMap((c) => c.staffLinks ?? []), routeList);
  const deps: AppDeps = { config, database, db: database.db, ready: opts.ready ?? (() => true), staffLinks };
  app.addHook('onRoute', (route) => {
    // the plumbing's plugins (API docs, static assets) serve no organisation's data
    if (/^\/(docs|assets)(\/|$)/.test(route.url) && !ownerOf(route.config)) route.config = { ...(route.config ?? {}), owner: 'none' };
    const creates = Boolean((route.schema?.response as Record<string, unknown> | undefined)?.['201']);
    const idempotent = (route.config as { idempotent?: true | 'command' } | undefined)?.idempotent;
    for (const method of [route.method].flat()) routeList.push({ method, url: route.url, owner: ownerOf(route.config), creates, idempotent });
  });

  app.decorateRequest('lang', 'en');
  installRouteInfo(app);
  // The plumbing's hooks that finish at once are written with `done` rather than `async`: an async hook costs a
  // promise and a turn of the microtask queue on every request, whether it does anything or not (docs/architecture.md).
  app.addHook('onRequest', (request, _reply, done) => {
    const seg = request.url.slice(1, 3);
    const next = request.url.charAt(3);
    if ((seg === 'fr' || seg === 'en') && (next === '' || next === '/' || next === '?')) request.lang = seg;
    else {
      const q = request.query as Record<string, unknown> | undefined;
      const qlang = q && typeof q === 'object' ? q.lang : undefined;
      request.lang = isLang(qlang) ? qlang : langFromHeader(request.headers['accept-language']);
    }
    done();
  });

  // Nothing personal stays in a browser's or a proxy's cache (issue 16: Back after sign-out showed the previous
  // person's file). ONE rule for every answer: `Cache-Control: no-store`, except static assets (/assets/, which set
  // their own max-age) and an answer whose route set its own Cache-Control for a caller WITHOUT a session or an
  // Authorization header (the public CPSV-AP export's ETag). An answer to a request with a session or a key is always
  // no-store, whatever the route said: the layout of every page names the person signed in. test/no-store.test.ts
  // checks every registered route. (docs/architecture.md, "Caching")
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!request.url.startsWith('/assets/') && (request.session || request.headers.authorization || request.headers.cookie?.includes('guichet_sid=') || !reply.hasHeader('cache-control'))) {
      reply.header('Cache-Control', 'no-store');
    }
    done(null, payload);
  });

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 256 * 1024 });
  installPages(app);
  installErrorHandlers(app, renderErrorPage);
  installMetrics(app, { token: config.metricsToken });
  if (config.publicBaseUrl.startsWith('https://')) {
    // behind https, browsers keep to https for a year (HSTS); not on plain http, where it would be ignored anyway
    app.addHook('onSend', (_request, reply, payload, done) => {
      reply.header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
      done(null, payload);
    });
  }
  installInputChecks(app);
  installSessions(app, database.db, { secureCookies: config.publicBaseUrl.startsWith('https://'), listen: database.listen });
  installOwnership(app);
  installIdempotency(app, database.db);
  await installRateLimits(app, database.db, config.rateLimit);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Guichet API',
        description: [
          '**English.** Guichet, one door to public services: catalogue, client accounts, Tell Us Once, cases, counters.',
          'Errors are JSON `{ error: { code, message, details? } }` in the language of the `lang` parameter or of Accept-Language (en, fr).',
          '',
          '**Français.** Guichet, une seule porte vers les services publics : catalogue, comptes clients, Dites-le-nous une fois, demandes, comptoirs.',
          'Les erreurs sont en JSON `{ error: { code, message, details? } }` dans la langue du paramètre `lang` ou d’Accept-Language (en, fr).',
        ].join('\n'),
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
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true },
    staticCSP: false,
    theme: { title: 'Guichet API – documentation / documentation de l’API', css: [{ filename: 'guichet-docs.css', content: DOCS_CSS }], favicon: [{ filename: 'favicon.svg', rel: 'icon', sizes: 'any', type: 'image/svg+xml', content: FAVICON }] },
    logo: { type: 'image/svg+xml', content: DOCS_LOGO, href: '/', target: '_self' },
    // The documentation pages get a policy of their own: Swagger UI's scripts from this server and its inline
    // blocks by hash (swaggerCSP), never framed (issue 14).
    uiHooks: {
      onRequest: (_request, reply, done) => {
        const csp = app.swaggerCSP;
        // Styles: Swagger UI also inserts <style> elements while it runs (one was refused in Chromium), so the
        // documentation pages allow inline styles (which run no code); scripts stay limited to this server and
        // the plugin's hashed inline blocks.
        reply.header('Content-Security-Policy', `default-src 'self'; script-src 'self' ${csp.script.join(' ')}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'`);
        reply.header('X-Frame-Options', 'DENY');
        done();
      },
    },
  });
  app.get('/favicon.ico', { config: { owner: 'none' }, schema: { hide: true } }, (_request, reply) => reply.redirect('/assets/favicon.svg', 301));

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
