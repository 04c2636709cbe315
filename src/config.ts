/**
 * Configuration, read only from environment variables (documented in README.md).
 */
import path from 'node:path';
import { rateLimitSettings, type RateLimitSettings } from './http/rate-limit';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** PostgreSQL connections the server process opens at start and keeps (GUICHET_PG_POOL, default 10). */
  pgPoolSize: number;
  publicBaseUrl: string;
  logLevel: string;
  /** 'production' disables development conveniences (dev login, built-in OIDC provider). */
  env: 'development' | 'production' | 'test';
  seedDir: string;
  /**
   * OpenID Connect sign-in (src/clients/oidc.ts). Without OIDC_ISSUER, outside production, `npm start` runs the
   * built-in development provider on 127.0.0.1:OIDC_DEV_PORT and fills issuer/clientId/clientSecret at startup.
   */
  oidc: { issuer: string | undefined; clientId: string; clientSecret: string; devPort: number };
  /** Rate limits (src/http/rate-limit.ts): GUICHET_RATE_LIMIT and GUICHET_RATE_LIMIT_<POLICY>. */
  rateLimit: RateLimitSettings;
  /** Bearer token that opens /metrics to scrapers from other hosts (GUICHET_METRICS_TOKEN); without it, loopback only. */
  metricsToken: string | undefined;
  /**
   * Which proxies may say who the client is with X-Forwarded-For (GUICHET_TRUST_PROXY): unset, none (the socket's
   * address counts; a client cannot choose the address its rate limits count), a number of hops, or a comma-separated
   * list of addresses, CIDR ranges or the names loopback, linklocal and uniquelocal (Fastify's `trustProxy`).
   */
  trustProxy: false | number | string;
}

/** GUICHET_TRUST_PROXY: '' → false; '1' → 1 hop; 'loopback, 10.0.0.0/8' → those proxies. */
export function trustProxySetting(value: string | undefined): false | number | string {
  const v = (value ?? '').trim();
  if (v === '' || v === 'false' || v === 'none') return false;
  if (/^\d+$/.test(v)) return Number(v);
  const names = new Set(['loopback', 'linklocal', 'uniquelocal']);
  const parts = v.split(',').map((p) => p.trim());
  const ok = parts.every((p) => names.has(p) || /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(p));
  if (!ok) throw new Error(`GUICHET_TRUST_PROXY must be a number of hops or a list of proxy addresses, CIDR ranges, loopback, linklocal or uniquelocal, got "${value}"`);
  return parts.join(',');
}

/** The host of the default public address: the listening address, or 127.0.0.1 when listening on every address. */
export function defaultPublicHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer between 0 and 65535, got "${env.PORT}"`);
  }
  const pgPoolSize = Number(env.GUICHET_PG_POOL ?? 10);
  if (!Number.isInteger(pgPoolSize) || pgPoolSize < 1 || pgPoolSize > 1000) {
    throw new Error(`GUICHET_PG_POOL must be an integer between 1 and 1000, got "${env.GUICHET_PG_POOL}"`);
  }
  const mode = env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development';
  const host = env.HOST ?? '127.0.0.1';
  return {
    port,
    host,
    dataDir: path.resolve(env.GUICHET_DATA_DIR ?? './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    pgPoolSize,
    // One host everywhere by default: the address the server listens on (127.0.0.1), which is also where the
    // development OpenID provider runs. A default of localhost while listening on 127.0.0.1 made sign-in fail
    // silently (redirected to another origin, which the page's CSP form-action refused; issue 16).
    publicBaseUrl: (env.PUBLIC_BASE_URL ?? `http://${defaultPublicHost(host)}:${port}`).replace(/\/$/, ''),
    logLevel: env.LOG_LEVEL ?? 'info',
    env: mode,
    seedDir: path.resolve(env.GUICHET_SEED_DIR ?? new URL('../seed', import.meta.url).pathname),
    oidc: {
      issuer: env.OIDC_ISSUER || undefined,
      clientId: env.OIDC_CLIENT_ID ?? 'guichet',
      clientSecret: env.OIDC_CLIENT_SECRET ?? '',
      devPort: Number(env.OIDC_DEV_PORT ?? 3001),
    },
    rateLimit: rateLimitSettings(env, mode),
    metricsToken: env.GUICHET_METRICS_TOKEN || undefined,
    trustProxy: trustProxySetting(env.GUICHET_TRUST_PROXY),
  };
}
