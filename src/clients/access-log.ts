/**
 * The access log the client can read: every time staff, a partner or the system read or received the client's data.
 *
 * Append-only and tamper-evident. Entries form ONE chain over the whole table:
 *   hash = sha256(prev_hash + canonical JSON of the entry)   (prev_hash of the first entry: 64 zeros)
 * where the canonical JSON has sorted keys and includes seq, client_id, at (ISO, milliseconds), actor_kind, actor_id,
 * org_id, action, fields, purpose and legal_basis. Appends are serialised with a transaction-scoped advisory lock,
 * so the chain never forks even with many concurrent writers on PostgreSQL. A trigger (migration 002) refuses
 * UPDATE, DELETE and TRUNCATE; `npm run verify:access-log` recomputes the chain.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/database';
import type { AccessLogTable } from './tables';

export const GENESIS_HASH = '0'.repeat(64);
/** Advisory lock key that serialises appends to the chain ("ACCS" in ASCII). */
export const ACCESS_LOG_LOCK = 0x41434353;

export type ActorKind = AccessLogTable['actor_kind'];

export interface AccessEntry {
  clientId: string;
  actorKind: ActorKind;
  actorId: string;
  orgId?: string | null;
  /** 'read', 'received', 'searched', ... */
  action: string;
  fields: string[];
  purpose: string;
  /** 'consent', 'law', or a law reference; null when not applicable (e.g. the client themself). */
  legalBasis?: string | null;
}

interface ChainedRow {
  seq: number;
  client_id: string;
  at: Date;
  actor_kind: string;
  actor_id: string;
  org_id: string | null;
  action: string;
  fields: string[];
  purpose: string;
  legal_basis: string | null;
}

/** Canonical JSON of an entry: keys in a fixed (sorted) order, dates as ISO strings. */
export function canonicalEntry(row: ChainedRow): string {
  return JSON.stringify({
    action: row.action,
    actor_id: row.actor_id,
    actor_kind: row.actor_kind,
    at: row.at.toISOString(),
    client_id: row.client_id,
    fields: [...row.fields],
    legal_basis: row.legal_basis ?? null,
    org_id: row.org_id ?? null,
    purpose: row.purpose,
    seq: Number(row.seq),
  });
}

export function entryHash(prevHash: string, row: ChainedRow): string {
  return crypto.createHash('sha256').update(prevHash + canonicalEntry(row)).digest('hex');
}

/** Append entries in order: one lock, one read of the chain's head, one multi-row insert. */
async function appendMany(trx: Database, entries: AccessEntry[]): Promise<Array<{ seq: number; hash: string }>> {
  for (const e of entries) {
    if (!e.clientId || !e.actorId || !e.action || !e.purpose) throw new Error('recordAccess: clientId, actorId, action and purpose are required');
  }
  if (!entries.length) return [];
  await sql`select pg_advisory_xact_lock(${ACCESS_LOG_LOCK})`.execute(trx);
  const last = await trx.selectFrom('access_log').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  let prev = last?.hash ?? GENESIS_HASH;
  const { rows } = await sql<{ seq: number }>`select nextval(pg_get_serial_sequence('access_log', 'seq'))::int8 as seq from generate_series(1, ${entries.length}::int)`.execute(trx);
  const seqs = rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
  // milliseconds only, so that the value read back from timestamptz is identical
  const at = new Date(Date.now());
  const values = entries.map((e, i) => {
    const row: ChainedRow = {
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
    const out = { ...row, actor_kind: e.actorKind, seq: row.seq as any, prev_hash: prev, hash };
    prev = hash;
    return out;
  });
  await trx.insertInto('access_log').values(values).execute();
  return values.map((v) => ({ seq: Number(v.seq), hash: v.hash }));
}

/**
 * Append one entry to the chain. Pass the transaction that reads the data when there is one (the entry then commits
 * or rolls back with the read); with the plain database a short transaction of its own is used.
 */
export async function recordAccess(db: Database, e: AccessEntry): Promise<{ seq: number; hash: string }> {
  const [r] = await recordAccessBatch(db, [e]);
  return r;
}

/** Append several entries at once (e.g. a batch of notice deliveries), chained exactly as recordAccess chains one. */
export async function recordAccessBatch(db: Database, entries: AccessEntry[]): Promise<Array<{ seq: number; hash: string }>> {
  if (db.isTransaction) return appendMany(db, entries);
  return db.transaction().execute((trx) => appendMany(trx, entries));
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  /** First entry whose stored prev_hash or hash does not match the recomputed chain. */
  firstBadSeq?: number;
  reason?: 'prev_hash' | 'hash';
}

/** Recompute the whole chain, in pages (constant memory). */
export async function verifyAccessLog(db: Database, pageSize = 5000): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let after = -1;
  let entries = 0;
  for (;;) {
    const page = await db.selectFrom('access_log').selectAll().where('seq', '>', after).orderBy('seq').limit(pageSize).execute();
    if (!page.length) break;
    for (const r of page) {
      entries++;
      if (r.prev_hash !== prev) return { ok: false, entries, firstBadSeq: Number(r.seq), reason: 'prev_hash' };
      const expected = entryHash(prev, { ...r, seq: Number(r.seq) });
      if (expected !== r.hash) return { ok: false, entries, firstBadSeq: Number(r.seq), reason: 'hash' };
      prev = r.hash;
      after = Number(r.seq);
    }
  }
  return { ok: true, entries };
}

/**
 * The client's own view of their access log, newest first, with the organisation's names: one page of `limit`
 * entries, after skipping `offset`, or (keyset, stable while entries are appended) those older than `before` (a seq).
 */
export async function accessLogFor(db: Database, clientId: string, page: { limit?: number; offset?: number; before?: number } = {}) {
  const limit = Math.min(Math.max(1, Math.trunc(page.limit ?? 200)), 500);
  let q = db
    .selectFrom('access_log')
    .leftJoin('organisations', 'organisations.id', 'access_log.org_id')
    .leftJoin('staff_users', (j) => j.onRef('staff_users.id', '=', 'access_log.actor_id').on('access_log.actor_kind', '=', 'staff'))
    // a person acting for a business (its representative) appears by name in the business's log
    .leftJoin('clients as actor', (j) => j.onRef('actor.id', '=', 'access_log.actor_id').on('access_log.actor_kind', '=', 'client'))
    .select([
      'access_log.seq',
      'access_log.at',
      'access_log.actor_kind',
      'access_log.actor_id',
      'access_log.org_id',
      'access_log.action',
      'access_log.fields',
      'access_log.purpose',
      'access_log.legal_basis',
      'organisations.name_en as org_name_en',
      'organisations.name_fr as org_name_fr',
      'staff_users.name as staff_name',
      'actor.given_name as actor_given_name',
      'actor.family_name as actor_family_name',
    ])
    .where('access_log.client_id', '=', clientId);
  if (page.before !== undefined) q = q.where('access_log.seq', '<', page.before);
  return q
    .orderBy('access_log.seq', 'desc')
    .limit(limit)
    .offset(Math.max(0, Math.trunc(page.offset ?? 0)))
    .execute();
}
