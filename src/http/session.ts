/**
 * Sessions and CSRF for browser users (staff and clients).
 *
 * - Session cookie `guichet_sid`: random 256-bit token, HttpOnly, SameSite=Lax, Secure behind https; the database
 *   keeps only its SHA-256. Idle timeout 30 minutes, absolute lifetime 12 hours; "sign out everywhere" revokes all
 *   sessions of a subject.
 * - CSRF: signed in, the token is bound to the session: HMAC-SHA256 keyed with the session's secret cookie token
 *   (csrfTokenFor), so a token taken from another session (or planted in the CSRF cookie) never matches. Signed out
 *   (sign-in forms), a double-submit token: cookie `guichet_csrf` (HttpOnly, SameSite=Strict) and the same value in
 *   the form. Forms send it as hidden `_csrf`, API calls as `x-csrf-token`. Every state-changing request that carries
 *   the session cookie must match, whatever other header it has (an `Authorization` header does not exempt it); only
 *   calls WITHOUT a session cookie that authenticate with a bearer key are exempt (browsers never attach those).
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { ttlCache } from '../db/ttl-cache';
import { reusable } from '../db/compiled';
import { AppError } from './errors';
import { routeInfo } from './route-info';

export const SESSION_COOKIE = 'guichet_sid';
export const CSRF_COOKIE = 'guichet_csrf';
export const IDLE_MS = 30 * 60 * 1000;
export const ABSOLUTE_MS = 12 * 60 * 60 * 1000;
const TOUCH_AFTER_MS = 60_000;
const TOUCH_SPREAD_MS = 30_000;
/** How long after its last recorded activity a session records activity again: 60 to 90 s, fixed per session. */
export const touchAfterMs = (sessionId: string) => TOUCH_AFTER_MS + (parseInt(sessionId.slice(0, 8), 16) % TOUCH_SPREAD_MS);

export interface SessionInfo {
  id: string;
  kind: 'staff' | 'client';
  subjectId: string;
  data: Record<string, unknown>;
}

export interface StaffPrincipal {
  id: string;
  name: string;
  email: string;
  orgId: string;
  roles: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    session: SessionInfo | null;
    staff: StaffPrincipal | null;
    client: { id: string } | null;
    /** The CSRF token of this browser: from its cookie, or drawn (and the cookie set) when a page first asks for it. */
    readonly csrfToken: string;
    csrfValue: string;
    /** Set when the browser has no valid CSRF cookie yet: where to set one if the token is asked for. */
    csrfReply: FastifyReply | null;
  }
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** The CSRF token of a session: derived from its secret cookie token, so it is bound to that session. */
export const csrfTokenFor = (sessionToken: string) => crypto.createHmac('sha256', sessionToken).update('guichet-csrf').digest('base64url');

/**
 * A session token's id (SHA-256, what the database keeps) and CSRF token (HMAC), kept per process for the tokens seen
 * lately: the two hashes, computed on every request (three times on a form post), were about 4 % of a queue request's
 * CPU (bench:queue, twelfth session). Bounded: emptied when DERIVED_MAX tokens are kept. It keeps nothing a request
 * does not already carry; a sign-out drops its token.
 */
const DERIVED_MAX = 20_000;
const derivedByToken = new Map<string, { id: string; csrf: string }>();
function derived(token: string): { id: string; csrf: string } {
  let d = derivedByToken.get(token);
  if (!d) {
    if (derivedByToken.size >= DERIVED_MAX) derivedByToken.clear();
    d = { id: sha256(token), csrf: csrfTokenFor(token) };
    derivedByToken.set(token, d);
  }
  return d;
}

/** The CSRF token this request must carry: its session's, or (signed out) its CSRF cookie's; null if none. */
export function expectedCsrf(request: FastifyRequest): string | null {
  const token = request.cookies?.[SESSION_COOKIE];
  if (request.session && token) return derived(token).csrf;
  return request.cookies?.[CSRF_COOKIE] ?? null;
}

/**
 * How long a process reuses a session it read (with the staff account). Each authenticated request used to read its
 * session, the one query every request paid for; within this time a process answers from memory. Signing out or
 * rotating a session in this process forgets it at once. A sign-out, a revocation or a staff account changed through
 * ANOTHER process (or in the database directly) is announced by PostgreSQL (triggers on sessions and staff_users,
 * NOTIFY guichet_sessions: migrations 050_platform_003 and 150_staff_002) and forgotten here as soon as the
 * notification arrives (milliseconds after its commit). While this process listens, it keeps a session up to
 * GUICHET_SESSION_CACHE_LISTENING_MS (default 60000): the bound if a notification were ever missed on a connection
 * whose loss was not noticed. While it does not listen (not started yet, the listening connection lost: everything
 * kept is forgotten then, and again once it listens again), up to GUICHET_SESSION_CACHE_MS (default 2000). 0 turns
 * the cache off. Expiry and idle timeout are checked on every request against the clock, cached or not.
 */
const SESSION_CACHE_MS = Math.max(0, Number(process.env.GUICHET_SESSION_CACHE_MS ?? 2000));
const SESSION_CACHE_LISTENING_MS = SESSION_CACHE_MS === 0 ? 0 : Math.max(0, Number(process.env.GUICHET_SESSION_CACHE_LISTENING_MS ?? 60_000));
/** The channel the session triggers notify on (payload: a session id, or `staff:<staff id>`). */
export const SESSIONS_CHANNEL = 'guichet_sessions';
type SessionRow = Awaited<ReturnType<typeof selectSession>>;
const sessionCache = ttlCache<string, SessionRow>(SESSION_CACHE_MS, { maxEntries: 50_000, refreshAhead: 0.5 });
// Each copy lives 80 to 100 % of the bound, drawn per read: sessions read together (a shift signing in, a process
// starting) are not all read again in the same second, and none is kept longer than the bound. A request in the last
// part of a copy's life (the last half of the short time; the last 15 % of the long one, 7–9 s, longer than an agent
// at work goes between two requests) reads the session again in the background (refreshAhead): an agent at work does
// not wait for that read, and no copy is used past its time.
const listeningCache = ttlCache<string, SessionRow>(SESSION_CACHE_LISTENING_MS * 0.8, { maxEntries: 50_000, spread: 0.25, refreshAhead: 0.15 });
/** The databases whose session changes this process is told of now (and by how many listeners). */
const listening = new WeakMap<object, number>();

/** The session and, for staff, their account: one round trip (compiled once: src/db/compiled.ts). */
const sessionRead = reusable((db, p: { id: string }) =>
  db
    .selectFrom('sessions')
    .leftJoin('staff_users', (j) => j.onRef('staff_users.id', '=', 'sessions.subject_id').on('sessions.kind', '=', 'staff'))
    .select([
      'sessions.kind',
      'sessions.subject_id',
      'sessions.data',
      'sessions.expires_at',
      'sessions.last_seen_at',
      'sessions.revoked_at',
      'staff_users.id as staff_id',
      'staff_users.name as staff_name',
      'staff_users.email as staff_email',
      'staff_users.org_id as staff_org_id',
      'staff_users.roles as staff_roles',
      'staff_users.active as staff_active',
    ])
    .where('sessions.id', '=', p.id),
);

function selectSession(db: Database, id: string) {
  return sessionRead.first(db, 'default', { id });
}

function readSession(db: Database, id: string) {
  if (SESSION_CACHE_MS === 0) return selectSession(db, id);
  return (listening.get(db) ? listeningCache : sessionCache)(db, id, () => selectSession(db, id));
}

/** Forget this process's cached copies of sessions (after a sign-out, a rotation, or a change made in the database). */
export function forgetSessions(db: Database, ids?: string[]): void {
  sessionCache.forget(db, ids);
  listeningCache.forget(db, ids);
}

/** Listens for changes to sessions and staff accounts (see SESSION_CACHE_LISTENING_MS). */
type Listen = (channel: string, onNotify: (payload: string) => void, onGap?: () => void, onLost?: () => void) => Promise<() => Promise<void>>;

/**
 * Keeps this process's session copies in step with the database: a notification forgets the session it names (a
 * staff account's: every copy, as such changes are rare); the listening connection lost: every copy is forgotten and
 * the short time applies until it listens again (then everything is forgotten once more: what changed meanwhile was
 * not announced). Returns a function that stops listening.
 */
export async function listenForSessionChanges(db: Database, listen: Listen, log?: { warn: (o: object, m: string) => void }): Promise<() => Promise<void>> {
  let up = false;
  const setUp = (v: boolean) => {
    if (v === up) return;
    up = v;
    listening.set(db, (listening.get(db) ?? 0) + (v ? 1 : -1));
  };
  let stop: () => Promise<void>;
  try {
    stop = await listen(
      SESSIONS_CHANNEL,
      (payload) => forgetSessions(db, payload && !payload.startsWith('staff:') ? [payload] : undefined),
      () => {
        forgetSessions(db);
        setUp(true);
      },
      () => {
        setUp(false);
        forgetSessions(db);
      },
    );
  } catch (err) {
    log?.warn({ err }, 'session changes not listened to: sessions are kept the short time only');
    return async () => {};
  }
  forgetSessions(db); // read before listening: not announced
  setUp(true);
  return async () => {
    setUp(false);
    forgetSessions(db);
    await stop();
  };
}

export function installSessions(app: FastifyInstance, db: Database, opts: { secureCookies: boolean; listen?: Listen }) {
  if (opts.listen && SESSION_CACHE_MS > 0) {
    const listen = opts.listen;
    let stop: (() => Promise<void>) | null = null;
    app.addHook('onReady', async () => {
      stop = await listenForSessionChanges(db, listen, app.log);
    });
    app.addHook('preClose', async () => {
      await stop?.();
    });
  }
  app.addHook('preClose', async () => {
    await flushTouches(db);
  });
  app.decorateRequest('session', null);
  app.decorateRequest('staff', null);
  app.decorateRequest('client', null);
  app.decorateRequest('csrfValue', '');
  app.decorateRequest('csrfReply', null);
  // Drawn when a page asks for it (its forms carry it), not for every request without the cookie: /healthz, assets,
  // redirects and JSON answers need none.
  app.decorateRequest('csrfToken', {
    getter(this: FastifyRequest) {
      if (!this.csrfValue && this.csrfReply) {
        this.csrfValue = crypto.randomBytes(24).toString('base64url');
        this.csrfReply.setCookie(CSRF_COOKIE, this.csrfValue, { path: '/', httpOnly: true, sameSite: 'strict', secure: opts.secureCookies });
        this.csrfReply = null;
      }
      return this.csrfValue;
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    const cookies = request.cookies ?? {};
    const csrf = cookies[CSRF_COOKIE];
    if (csrf && /^[A-Za-z0-9_-]{32,64}$/.test(csrf)) request.csrfValue = csrf;
    else if (!request.url.startsWith('/api/')) request.csrfReply = reply;

    const token = cookies[SESSION_COOKIE];
    if (!token) return;
    const { id, csrf: sessionCsrf } = derived(token);
    const row = await readSession(db, id);
    const now = Date.now();
    if (!row || row.revoked_at || row.expires_at.getTime() < now || row.last_seen_at.getTime() + IDLE_MS < now) {
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return;
    }
    request.session = { id, kind: row.kind, subjectId: row.subject_id, data: row.data };
    // forms on pages of a signed-in user carry the session's own token
    request.csrfValue = sessionCsrf;
    request.csrfReply = null;
    // Record activity (for the 30-minute idle timeout) at most about once a minute, after 60 to 90 s: each session
    // has its own delay in that range (from its id), so sessions started together (a shift signing in, a benchmark)
    // drift apart instead of all writing in the same second, every minute. (A delay drawn at random on each request
    // did not spread them: with a request every few seconds, each session wrote within seconds of the 60 s mark.)
    // The request does not wait for this write; a failed one is retried by a later request.
    if (now - row.last_seen_at.getTime() > touchAfterMs(id)) {
      const previous = row.last_seen_at;
      const seen = new Date(now);
      row.last_seen_at = seen;
      touchLater(db, id, seen, (err) => {
        if (row.last_seen_at === seen) row.last_seen_at = previous;
        request.log.warn({ err }, 'session activity not recorded');
      });
    }
    if (row.kind === 'staff') {
      if (row.staff_id && row.staff_active) {
        request.staff = { id: row.staff_id, name: row.staff_name!, email: row.staff_email!, orgId: row.staff_org_id!, roles: row.staff_roles! };
      }
    } else {
      request.client = { id: row.subject_id };
    }
  });

  // CSRF check on every state-changing browser request.
  app.addHook('preHandler', (request, _reply, done) => {
    done(csrfRefused(request) ? new AppError(403, 'CSRF_INVALID') : undefined);
  });
}

/** Whether a state-changing browser request lacks the right CSRF token (the session's, or the browser's cookie's). */
function csrfRefused(request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return false;
  const hasSessionCookie = Boolean(request.cookies?.[SESSION_COOKIE]);
  const usesCookies = hasSessionCookie || !request.url.startsWith('/api/');
  if (!usesCookies) return false;
  // bearer / API key calls are exempt only WITHOUT a session cookie: a browser sends the cookie on a forged request
  // whatever other header the page adds
  if (request.headers.authorization && !hasSessionCookie) return false;
  if ((routeInfo(request).config as { csrf?: boolean } | undefined)?.csrf === false) return false;
  const body = request.body as Record<string, unknown> | undefined;
  const sent = (typeof body?._csrf === 'string' ? body._csrf : undefined) ?? (request.headers['x-csrf-token'] as string | undefined);
  const expected = expectedCsrf(request);
  return !sent || !expected || sent.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(sent), Buffer.from(expected));
}

/**
 * Session activity to write, per database: the writes of a process go out together, ONE statement at most every
 * TOUCH_FLUSH_MS (a statement per session was one round trip in thirty of a queue day: bench:queue, twelfth session).
 * The request never waits for it; a failed write puts the session's copy back, so a later request tries again.
 */
const TOUCH_FLUSH_MS = 1_000;
const touches = new WeakMap<Database, { pending: Map<string, { at: Date; failed: (err: unknown) => void }>; timer: NodeJS.Timeout | null }>();

function touchLater(db: Database, id: string, at: Date, failed: (err: unknown) => void): void {
  let t = touches.get(db);
  if (!t) touches.set(db, (t = { pending: new Map(), timer: null }));
  t.pending.set(id, { at, failed });
  if (t.timer) return;
  const batch = t;
  batch.timer = setTimeout(() => {
    batch.timer = null;
    void flushTouches(db);
  }, TOUCH_FLUSH_MS);
  batch.timer.unref();
}

/** Writes the pending session activity of this database now (also before the app closes). */
export async function flushTouches(db: Database): Promise<void> {
  const t = touches.get(db);
  if (!t || t.pending.size === 0) return;
  if (t.timer) {
    clearTimeout(t.timer);
    t.timer = null;
  }
  const batch = [...t.pending];
  t.pending.clear();
  const ids = batch.map(([id]) => id);
  const ats = batch.map(([, v]) => v.at.toISOString());
  try {
    await sql`update sessions s set last_seen_at = v.at
      from unnest(${ids}::text[], ${ats}::timestamptz[]) as v(id, at)
      where s.id = v.id and s.last_seen_at < v.at`.execute(db);
  } catch (err) {
    for (const [, v] of batch) v.failed(err);
  }
}

/** Start a new session (rotating any previous one) and set the cookie. */
export async function startSession(
  db: Database,
  request: FastifyRequest,
  reply: FastifyReply,
  kind: 'staff' | 'client',
  subjectId: string,
  data: Record<string, unknown> = {},
  secureCookies = false,
) {
  if (request.session) {
    await db.updateTable('sessions').set({ revoked_at: new Date() }).where('id', '=', request.session.id).execute();
    forgetSessions(db, [request.session.id]);
  }
  const token = crypto.randomBytes(32).toString('base64url');
  await db
    .insertInto('sessions')
    .values({ id: sha256(token), kind, subject_id: subjectId, data: JSON.stringify(data), expires_at: new Date(Date.now() + ABSOLUTE_MS) })
    .execute();
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: secureCookies });
  // the new session's CSRF token (forms read it from the page; the cookie keeps the signed-out double-submit working)
  reply.setCookie(CSRF_COOKIE, csrfTokenFor(token), { path: '/', httpOnly: true, sameSite: 'strict', secure: secureCookies });
  request.csrfValue = csrfTokenFor(token);
}

export async function endSession(db: Database, request: FastifyRequest, reply: FastifyReply, everywhere = false) {
  if (request.session) {
    let q = db.updateTable('sessions').set({ revoked_at: new Date() }).where('revoked_at', 'is', null);
    q = everywhere
      ? q.where('kind', '=', request.session.kind).where('subject_id', '=', request.session.subjectId)
      : q.where('id', '=', request.session.id);
    await q.execute();
    // Signing out everywhere forgets every cached session of this process (they are re-read at the next request).
    forgetSessions(db, everywhere ? undefined : [request.session.id]);
  }
  const token = request.cookies?.[SESSION_COOKIE];
  if (token) derivedByToken.delete(token);
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/** Require a signed-in staff member, optionally with one of the given roles. */
export function requireStaff(request: FastifyRequest, roles?: string[]): StaffPrincipal {
  const s = request.staff;
  if (!s) throw new AppError(401, 'UNAUTHENTICATED');
  if (roles && !roles.some((r) => s.roles.includes(r))) throw new AppError(403, 'FORBIDDEN');
  return s;
}
