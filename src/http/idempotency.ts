/**
 * Idempotency-Key for creating calls (GOV.UK Pay's rules), generic for every capability: a route opts in with
 * `config: { idempotent: true }`. A client that never got the answer to a creating call retries it with the same
 * `Idempotency-Key` header and gets the first answer instead of a second record.
 *
 * - The key (1 to 255 visible ASCII characters) is scoped to the caller (the signed-in staff member or client, or the
 *   bearer key) and the route: two callers may use the same key.
 * - Same key, same body (compared by SHA-256 of its canonical JSON): the first answer (status and body), with the
 *   header `Idempotent-Replayed: true`; nothing is written again.
 * - Same key, another body: 409 IDEMPOTENCY_KEY_REUSED. Same key while the first request is still being answered:
 *   409 IDEMPOTENCY_KEY_IN_PROGRESS (retry later).
 * - Only successful answers (2xx) are kept; after an error the key is free again, so a corrected request may use it.
 * - Answers are kept 24 hours; a request abandoned for 60 s (its process stopped) frees its key. The first answer is
 *   stored just after the handler wrote its rows (onSend): a crash in that moment lets a retry create the record again
 *   (one statement's window; a capability that must close it writes the key in its own transaction).
 * - Without the header, the call is answered as before (the key is optional).
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../db/database';
import { AppError } from './errors';
import { routeInfo } from './route-info';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route accepts an Idempotency-Key (src/http/idempotency.ts): `true`, through this hook; 'command', the
     * handler takes the key itself (payments claims it in its command's own transaction; agreements in its store). test/idempotency.test.ts
     * fails for any API route that creates (a 201 answer) and declares neither.
     */
    idempotent?: true | 'command';
  }
  interface FastifyRequest {
    idempotency: { scope: string; route: string; key: string } | null;
  }
}

export const IDEMPOTENCY_TTL_HOURS = 24;
const ABANDONED_SECONDS = 60;

/** Canonical JSON (sorted keys) of a body, for comparing two requests. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** Who is calling, for scoping keys; null when nobody is (the handler answers 401). */
function callerScope(request: FastifyRequest): string | null {
  if (request.staff) return `staff:${request.staff.id}`;
  if (request.client) return `client:${request.client.id}`;
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth) return `bearer:${sha256(auth)}`;
  return null;
}

export function installIdempotency(app: FastifyInstance, db: Database) {
  app.decorateRequest('idempotency', null);

  // after the session, CSRF and ownership hooks (registered before this one)
  app.addHook('preHandler', (request, reply, done) => {
    // most requests carry no key for this hook: they pass without a promise
    const header = request.headers['idempotency-key'];
    if (header === undefined || routeInfo(request).config?.idempotent !== true) return done();
    // a replayed answer is sent by takeKey: then the request goes no further (done is not called)
    takeKey(request, reply, header).then((replayed) => {
      if (!replayed) done();
    }, done);
  });

  const takeKey = async (request: FastifyRequest, reply: FastifyReply, header: string | string[]): Promise<boolean> => {
    const key = Array.isArray(header) ? header[0] : header;
    if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key)) throw new AppError(400, 'IDEMPOTENCY_KEY_INVALID');
    const scope = callerScope(request);
    if (!scope) return false;
    const route = `${request.method} ${routeInfo(request).url}`;
    const hash = sha256(canonical(request.body));
    // take the key: a new one, or one expired or abandoned
    const taken = await sql<{ key: string }>`
      insert into idempotency_keys (scope, route, key, request_hash)
      values (${scope}, ${route}, ${key}, ${hash})
      on conflict (scope, route, key) do update
        set request_hash = excluded.request_hash, status = null, content_type = null, response = null, created_at = now()
        where idempotency_keys.created_at < now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})
           or (idempotency_keys.status is null and idempotency_keys.created_at < now() - make_interval(secs => ${ABANDONED_SECONDS}))
      returning key`.execute(db);
    if (taken.rows.length) {
      request.idempotency = { scope, route, key };
      return false;
    }
    const first = await db
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'status', 'content_type', 'response'])
      .where('scope', '=', scope)
      .where('route', '=', route)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!first) throw new AppError(409, 'IDEMPOTENCY_KEY_IN_PROGRESS'); // removed between the two statements: retry
    if (first.request_hash !== hash) throw new AppError(409, 'IDEMPOTENCY_KEY_REUSED');
    if (first.status === null) throw new AppError(409, 'IDEMPOTENCY_KEY_IN_PROGRESS');
    reply.code(first.status).header('idempotent-replayed', 'true');
    if (first.content_type) reply.header('content-type', first.content_type);
    reply.send(first.response ?? '');
    return true;
  };

  app.addHook('onSend', (request, reply, payload, done) => {
    if (!request.idempotency) return done(null, payload);
    keepAnswer(request, reply, payload).then((p) => done(null, p), done);
  });

  const keepAnswer = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const k = request.idempotency!;
    request.idempotency = null;
    const where = (q: any) => q.where('scope', '=', k.scope).where('route', '=', k.route).where('key', '=', k.key);
    if (reply.statusCode >= 200 && reply.statusCode < 300 && (typeof payload === 'string' || Buffer.isBuffer(payload))) {
      await where(db.updateTable('idempotency_keys').set({ status: reply.statusCode, content_type: String(reply.getHeader('content-type') ?? ''), response: payload.toString() })).execute();
    } else {
      await where(db.deleteFrom('idempotency_keys')).execute();
    }
    return payload;
  };

  // an answer that never reached onSend (the request failed in a way that skipped it) frees its key
  app.addHook('onResponse', (request, _reply, done) => {
    const k = request.idempotency;
    if (!k) return done();
    request.idempotency = null;
    db.deleteFrom('idempotency_keys').where('scope', '=', k.scope).where('route', '=', k.route).where('key', '=', k.key).where('status', 'is', null).execute().then(() => done(), done);
  });
}
