/**
 * Batched appends to the clients' access log (src/clients/access-log.ts) for notice deliveries: one advisory lock,
 * one read of the chain's head and one multi-row insert per batch, chained exactly as recordAccess() chains one
 * entry (same lock, same canonical entry, same hash), so `verifyAccessLog` verifies them.
 * Must run inside a transaction (the lock is transaction-scoped).
 */
import { sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema';
import { ACCESS_LOG_LOCK, GENESIS_HASH, entryHash, type AccessEntry } from '../clients/access-log';

export async function appendAccessEntries(trx: Transaction<DB>, entries: AccessEntry[]): Promise<void> {
  if (!entries.length) return;
  await sql`select pg_advisory_xact_lock(${ACCESS_LOG_LOCK})`.execute(trx);
  const last = await trx.selectFrom('access_log').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  let prev = last?.hash ?? GENESIS_HASH;
  const { rows } = await sql<{ seq: number }>`select nextval(pg_get_serial_sequence('access_log', 'seq'))::int8 as seq from generate_series(1, ${entries.length}::int)`.execute(trx);
  const seqs = rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
  const at = new Date(Date.now());
  const values = entries.map((e, i) => {
    const row = {
      seq: seqs[i],
      client_id: e.clientId,
      at,
      actor_kind: e.actorKind,
      actor_id: e.actorId,
      org_id: e.orgId ?? null,
      action: e.action,
      fields: [...e.fields],
      purpose: e.purpose,
      legal_basis: e.legalBasis ?? null,
    };
    const hash = entryHash(prev, row);
    const out = { ...row, seq: row.seq as any, prev_hash: prev, hash };
    prev = hash;
    return out;
  });
  await trx.insertInto('access_log').values(values).execute();
}
