/**
 * Idempotency-Key for the capability's creating API calls, kept in its own table (agreements_idempotency) until a
 * shared store exists in src/http (then switch: same contract). Same caller and key with the same request returns
 * the first answer; with another request, 409 IDEMPOTENCY_KEY_REUSED. The key is claimed before the command runs;
 * a command that fails releases it (so a corrected retry may use it); one still running answers 409
 * IDEMPOTENCY_IN_PROGRESS. A process that dies between the command and recording its answer leaves the key claimed
 * (the retry gets 409 IDEMPOTENCY_IN_PROGRESS for that key, never a second record).
 */
import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/database';
import { AppError } from '../http/errors';

export async function idempotent<T>(db: Database, request: FastifyRequest, caller: string, body: unknown, run: () => Promise<{ status: number; body: T }>): Promise<{ status: number; body: T }> {
  const raw = request.headers['idempotency-key'];
  const key = typeof raw === 'string' ? raw.trim() : '';
  if (!key || key.length > 200) throw new AppError(400, 'IDEMPOTENCY_KEY_REQUIRED');
  const hash = crypto.createHash('sha256').update(`${request.method} ${request.routeOptions.url ?? request.url}\n${JSON.stringify(request.params ?? {})}\n${JSON.stringify(body ?? null)}`).digest('hex');
  const claimed = await db.insertInto('agreements_idempotency').values({ caller, key, request_hash: hash, status: 0, response: 'null' })
    .onConflict((oc) => oc.columns(['caller', 'key']).doNothing()).returning('key').executeTakeFirst();
  if (!claimed) {
    const prior = await db.selectFrom('agreements_idempotency').select(['request_hash', 'status', 'response']).where('caller', '=', caller).where('key', '=', key).executeTakeFirst();
    if (!prior) throw new AppError(409, 'IDEMPOTENCY_IN_PROGRESS');
    if (prior.request_hash !== hash) throw new AppError(409, 'IDEMPOTENCY_KEY_REUSED');
    if (prior.status === 0) throw new AppError(409, 'IDEMPOTENCY_IN_PROGRESS');
    return { status: prior.status, body: prior.response as T };
  }
  try {
    const out = await run();
    await db.updateTable('agreements_idempotency').set({ status: out.status, response: JSON.stringify(out.body) }).where('caller', '=', caller).where('key', '=', key).execute();
    return out;
  } catch (e) {
    await db.deleteFrom('agreements_idempotency').where('caller', '=', caller).where('key', '=', key).execute();
    throw e;
  }
}
