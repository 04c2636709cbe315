/** Prometheus metrics: one registry for the platform; capabilities add their own counters to it. */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import client from 'prom-client';
import { AppError } from './errors';
import { routeInfo } from './route-info';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry, prefix: 'guichet_' });

export const httpDuration = new client.Histogram({
  name: 'guichet_http_request_duration_seconds',
  help: 'HTTP request duration by route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export function counter(name: string, help: string, labelNames: string[] = []) {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as client.Counter<string>;
  return new client.Counter({ name, help, labelNames, registers: [registry] });
}

export function gauge(name: string, help: string, labelNames: string[] = []) {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as client.Gauge<string>;
  return new client.Gauge({ name, help, labelNames, registers: [registry] });
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * Who may read /metrics (route names, volumes, process details: not for the public). With GUICHET_METRICS_TOKEN
 * set: whoever sends `Authorization: Bearer <token>`. Without it: a scraper on the machine itself, i.e. a connection
 * from a loopback address that did not come through a proxy (no Forwarded / X-Forwarded-For header; the address
 * is the socket's, not the one `trustProxy` reads from those headers, which anyone can write).
 */
export function mayReadMetrics(request: FastifyRequest, token: string | undefined): boolean {
  if (token) {
    const sent = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const a = crypto.createHash('sha256').update(sent).digest();
    const b = crypto.createHash('sha256').update(token).digest();
    return sent.length > 0 && crypto.timingSafeEqual(a, b);
  }
  const proxied = request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined;
  return !proxied && LOOPBACK.test(request.socket?.remoteAddress ?? '');
}

export function installMetrics(app: FastifyInstance, opts: { token?: string } = {}) {
  app.addHook('onResponse', (request, reply, done) => {
    const route = routeInfo(request).url ?? 'unmatched';
    httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { config: { owner: 'none' }, schema: { hide: true } }, async (request, reply) => {
    if (!mayReadMetrics(request, opts.token)) throw new AppError(403, 'FORBIDDEN');
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
