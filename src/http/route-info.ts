/**
 * The matched route's config and URL, read once per request. Fastify's `request.routeOptions` builds a new object of
 * a dozen fields on every read, and the plumbing's hooks (session, ownership, idempotency, metrics) each read it: on a
 * queue request that was four objects for two fields (bench:queue, nineteenth session).
 */
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';

export interface RouteInfo {
  config: FastifyContextConfig | undefined;
  /** The route's URL pattern; undefined when no route matched (a 404). */
  url: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    routeInfo: RouteInfo | null;
  }
}

export function installRouteInfo(app: FastifyInstance): void {
  app.decorateRequest('routeInfo', null);
}

export function routeInfo(request: FastifyRequest): RouteInfo {
  let r = request.routeInfo;
  if (!r) {
    const o = request.routeOptions;
    r = request.routeInfo = { config: o.config, url: o.url };
  }
  return r;
}
