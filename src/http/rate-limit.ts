/**
 * Rate limits (@fastify/rate-limit) with counters in PostgreSQL, so that every server process counts the same hits.
 *
 * Routes opt in by naming a policy in their route options: `config: { rateLimitPolicy: 'signIn' }` (the plumbing turns the
 * name into the plugin's options; it never imports a capability). A policy allows `max` hits per caller in a fixed
 * window of `windowS` seconds; the caller is the signed-in staff member or client, else the partner key, else the
 * address the request came from. Over the limit: 429 `RATE_LIMITED` (JSON error for the API, the bilingual error page
 * for pages) with `Retry-After`.
 *
 * Settings: `GUICHET_RATE_LIMIT` (`on`/`off`; default `on`, `off` when NODE_ENV=test so that tests and benchmarks are
 * not throttled), and per policy `GUICHET_RATE_LIMIT_<POLICY>=<max>/<seconds>` (e.g. GUICHET_RATE_LIMIT_SIGN_IN=30/60).
 *
 * The store: one statement per hit (an upsert that starts a new window when the old one has ended and returns the
 * count and the time left), on PGlite and PostgreSQL alike; expired rows are deleted now and then.
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimitPlugin, { type FastifyRateLimitOptions, type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { sql } from 'kysely';
import type { Database } from '../db/database';

export interface RateLimitPolicy {
  max: number;
  windowS: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The rate-limit policy of this route (src/http/rate-limit.ts), e.g. `config: { rateLimitPolicy: 'signIn' }`. */
    rateLimitPolicy?: RateLimitPolicyName;
  }
}

/** The policies, their defaults (per caller), and what they cover. */
export const RATE_LIMIT_POLICIES = {
  /** client and staff sign-in (the form that starts it and the provider's callback) */
  signIn: { max: 30, windowS: 300 },
  /** the one-time code: a client drawing one, an agent redeeming one */
  accessCode: { max: 20, windowS: 600 },
  /** booking, moving and cancelling an appointment, signed-in or not */
  booking: { max: 20, windowS: 3600 },
  /** confirmation e-mails to one address (booking): what an anonymous booker can send to someone else's inbox */
  mailPerAddress: { max: 5, windowS: 86_400 },
  /** walk-in tickets (a kiosk is one caller: an office's kiosk takes hundreds a day) */
  ticket: { max: 300, windowS: 600 },
  /** catalogue search (API and page) */
  search: { max: 120, windowS: 60 },
  /** partner feeds (Tell Us Once pull feed, Open311), per key */
  partnerFeed: { max: 600, windowS: 60 },
} satisfies Record<string, RateLimitPolicy>;

export type RateLimitPolicyName = keyof typeof RATE_LIMIT_POLICIES;

export interface RateLimitSettings {
  enabled: boolean;
  policies: Record<RateLimitPolicyName, RateLimitPolicy>;
}

/** 'signIn' → 'SIGN_IN' */
export const policyEnvName = (name: string) => `GUICHET_RATE_LIMIT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** The settings from the environment; a malformed value stops the start. */
export function rateLimitSettings(env: NodeJS.ProcessEnv, mode: 'development' | 'production' | 'test'): RateLimitSettings {
  const switchValue = env.GUICHET_RATE_LIMIT ?? (mode === 'test' ? 'off' : 'on');
  if (switchValue !== 'on' && switchValue !== 'off') throw new Error(`GUICHET_RATE_LIMIT must be "on" or "off", got "${switchValue}"`);
  const policies = {} as Record<RateLimitPolicyName, RateLimitPolicy>;
  for (const [name, fallback] of Object.entries(RATE_LIMIT_POLICIES) as Array<[RateLimitPolicyName, RateLimitPolicy]>) {
    const key = policyEnvName(name);
    const raw = env[key];
    if (raw === undefined || raw === '') {
      policies[name] = { ...fallback };
      continue;
    }
    const m = /^(\d{1,9})\/(\d{1,9})$/.exec(raw.trim());
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new Error(`${key} must be "<max>/<seconds>" (e.g. 30/60), got "${raw}"`);
    policies[name] = { max: Number(m[1]), windowS: Number(m[2]) };
  }
  return { enabled: switchValue === 'on', policies };
}

/**
 * One hit on `key` in a window of `windowMs`: the hits in the current window (this one included) and the
 * milliseconds until it resets. One statement: the row is created, counted, or restarted when its window has ended.
 */
export async function hit(db: Database, key: string, windowMs: number): Promise<{ current: number; ttl: number }> {
  const r = await sql<{ hits: number; ttl: number }>`
    insert into rate_limits as r (key, hits, resets_at) values (${key}, 1, now() + ${windowMs}::integer * interval '1 millisecond')
    on conflict (key) do update set
      hits = case when r.resets_at <= now() then 1 else r.hits + 1 end,
      resets_at = case when r.resets_at <= now() then excluded.resets_at else r.resets_at end
    returning hits, greatest(0, ceil(extract(epoch from (resets_at - now())) * 1000))::integer as ttl`.execute(db);
  const row = r.rows[0]!;
  return { current: Number(row.hits), ttl: Number(row.ttl) };
}

let hitsSinceSweep = 0;
/** Every so many hits, the process deletes rows whose window ended a while ago (they would restart anyway). */
function sweepNowAndThen(db: Database) {
  if (++hitsSinceSweep < 1000) return;
  hitsSinceSweep = 0;
  void sql`delete from rate_limits where resets_at < now() - interval '1 minute'`.execute(db).catch(() => undefined);
}

/** The plugin's store over `rate_limits`: keys are `<policy>:<caller>`. */
function pgStore(db: Database) {
  return class PgRateLimitStore implements FastifyRateLimitStore {
    constructor(private readonly options: FastifyRateLimitOptions & { policy?: string }) {}
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number) {
      sweepNowAndThen(db);
      hit(db, `${this.options.policy ?? 'global'}:${key}`, timeWindow).then((r) => callback(null, r), (err: Error) => callback(err));
    }
    child(routeOptions: FastifyRateLimitOptions & { policy?: string }) {
      return new PgRateLimitStore({ ...this.options, ...routeOptions });
    }
  };
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex').slice(0, 32);

/** Who is counted: the signed-in person, else the bearer key (hashed), else the address. */
export function callerKey(request: FastifyRequest): string {
  if (request.staff) return `staff:${request.staff.id}`;
  if (request.client) return `client:${request.client.id}`;
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.length > 10) return `key:${sha256(auth)}`;
  const q = request.query as Record<string, unknown> | undefined;
  const apiKey = q && typeof q.api_key === 'string' ? q.api_key : undefined; // Open311 keys travel in the query
  if (apiKey) return `key:${sha256(apiKey)}`;
  return `ip:${request.ip}`;
}

/**
 * Count one use of something outside a route's own limit (e.g. e-mails sent to one address): true while within
 * the policy, false once over it. Always true when rate limits are off.
 */
export async function withinLimit(db: Database, settings: RateLimitSettings, policy: RateLimitPolicyName, subject: string): Promise<boolean> {
  if (!settings.enabled) return true;
  const p = settings.policies[policy];
  const r = await hit(db, `${policy}:${sha256(subject)}`, p.windowS * 1000);
  return r.current <= p.max;
}

/** Register the plugin (when on) and turn each route's named policy into its options. */
export async function installRateLimits(app: FastifyInstance, db: Database, settings: RateLimitSettings) {
  // first: the name becomes the plugin's options before the plugin's own onRoute hook reads them
  app.addHook('onRoute', (route) => {
    const config = route.config as { rateLimitPolicy?: unknown; rateLimit?: unknown } | undefined;
    const named = config?.rateLimitPolicy;
    if (named === undefined) return;
    const policy = settings.policies[named as RateLimitPolicyName];
    if (!policy) throw new Error(`unknown rate-limit policy "${String(named)}" on ${route.method} ${route.url}`);
    if (settings.enabled && config) config.rateLimit = { max: policy.max, timeWindow: policy.windowS * 1000, policy: named };
  });
  if (!settings.enabled) return;
  await app.register(rateLimitPlugin, {
    global: false,
    store: pgStore(db) as unknown as FastifyRateLimitStoreCtor,
    // after the session is read (the caller is the signed-in person when there is one)
    hook: 'preValidation',
    keyGenerator: callerKey,
    // a failing store lets the request through (the database error is the request's own problem, not a 429)
    skipOnError: true,
    // an error with status 429: the error handler answers RATE_LIMITED, translated (JSON, or the error page)
    errorResponseBuilder: (_request, context) => Object.assign(new Error('rate limited'), { statusCode: context.statusCode === 403 ? 429 : context.statusCode, retryAfterS: Math.ceil(context.ttl / 1000) }),
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
  });
}
