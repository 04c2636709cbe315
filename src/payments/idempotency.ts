/**
 * Idempotency-Key for every creating call, with GOV.UK Pay's rules: the same key with the same body returns the
 * first result; the same key with a different body answers 409 IDEMPOTENCY_KEY_REUSED. (No generic store was on main
 * when this was written, so the capability keeps its own: table payment_idempotency.)
 *
 * The key is claimed by an INSERT at the start of the command's own transaction, so:
 * - the stored answer commits together with what the command wrote, or neither does (a crash or a 4xx leaves no key:
 *   the client may retry);
 * - two concurrent requests with the same key queue on the key's row: the second waits, then returns the first's
 *   answer instead of acting twice.
 * Scope = route + caller, so two callers' keys never collide. Keys are kept 24 hours (GOV.UK Pay) — older ones are
 * purged by the payments.reconcile job.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { AppError } from '../http/errors';
import type { Trx } from './ledger';

export const KEY_RE = /^[A-Za-z0-9_\-:.]{1,255}$/;

/** Canonical JSON (sorted keys) so that the same body in another key order is the same request. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v as object).sort().filter((k) => (v as any)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}

export const requestHash = (body: unknown) => crypto.createHash('sha256').update(canonical(body)).digest('hex');

export interface Outcome<T> {
  status: number;
  body: T;
  replayed: boolean;
}

export async function withIdempotency<T>(
  db: Database,
  scope: string,
  key: string | undefined,
  body: unknown,
  run: (trx: Trx) => Promise<{ status: number; body: T }>,
): Promise<Outcome<T>> {
  if (!key) throw new AppError(400, 'IDEMPOTENCY_KEY_REQUIRED');
  if (!KEY_RE.test(key)) throw new AppError(400, 'IDEMPOTENCY_KEY_INVALID');
  const hash = requestHash(body);
  return db.transaction().execute(async (trx) => {
    const claimed = await sql<{ k: string }>`
      insert into payment_idempotency (scope, key, request_hash, status_code, response)
      values (${scope}, ${key}, ${hash}, 0, 'null'::jsonb)
      on conflict (scope, key) do nothing
      returning key as k`.execute(trx);
    if (claimed.rows.length === 0) {
      const prev = await trx.selectFrom('payment_idempotency').select(['request_hash', 'status_code', 'response']).where('scope', '=', scope).where('key', '=', key).executeTakeFirstOrThrow();
      if (prev.request_hash !== hash) throw new AppError(409, 'IDEMPOTENCY_KEY_REUSED');
      return { status: prev.status_code, body: prev.response as T, replayed: true };
    }
    const out = await run(trx);
    await trx.updateTable('payment_idempotency').set({ status_code: out.status, response: JSON.stringify(out.body) }).where('scope', '=', scope).where('key', '=', key).execute();
    return { ...out, replayed: false };
  });
}
