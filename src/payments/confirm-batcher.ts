/**
 * Group commit of the providers' "payment succeeded" webhooks (docs/decisions/0011). A webhook whose signature was
 * checked is queued; the queue (at most `maxBatch` items) goes to the database as ONE call of payments_confirm_many
 * (migration 007): one statement, one commit, the accounts' balance shards locked and updated once for the batch.
 * Each caller's promise settles only after that call returned, i.e. after its commit: nothing is answered 200 before
 * it is durable.
 *
 * Natural batching: no timer. When nothing is in flight a webhook is sent at once (alone: payments_confirm, as
 * before), so a lone confirmation waits for nothing; the webhooks that arrive while a call is in flight make the next
 * batch when it returns, or sooner, in a call of their own beside it (at most `inFlight` calls), once `minOverlap`
 * of them wait: under load the database works on one batch while the server answers another, and batches stay
 * large (fewer, larger calls cost the database less per confirmation; docs/payments.md, session 11).
 *
 * A batch that fails (one bad payment fails the whole statement, and nothing of it is written) is confirmed again one
 * by one, each item with payments_confirm, so only the bad item fails.
 *
 * Exactly once: payments_confirm_many applies the items as if one after another (a payment named twice is confirmed
 * by its first item; an event id seen twice is a duplicate), and two batches sharing a payment queue on its row lock.
 * PGlite runs one statement at a time: the batcher works the same there (its batches simply follow each other).
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { localDate } from '../i18n/index';

export interface ConfirmRequest {
  provider: string;
  providerRef: string;
  eventId: string;
}

export interface ConfirmResult {
  paymentId: string | null;
  outcome: 'confirmed' | 'unchanged' | 'not_found';
  duplicate: boolean;
  entryId: number | null;
}

interface Pending extends ConfirmRequest {
  resolve(r: ConfirmResult): void;
  reject(e: unknown): void;
}

export interface BatcherOptions {
  /** most items in one call (GUICHET_CONFIRM_BATCH, default 128) */
  maxBatch?: number;
  /** confirmation calls running at once (GUICHET_CONFIRM_IN_FLIGHT, default 3) */
  inFlight?: number;
  /** a call beside one already running starts only when this many webhooks wait (GUICHET_CONFIRM_MIN_OVERLAP,
   * default 16): fewer wait for a running call to return and go with the next batch */
  minOverlap?: number;
}

function envInt(name: string, dflt: number, min: number, max: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

// read when the server starts: a bad value stops the start rather than failing the first webhook
const DEFAULTS = {
  maxBatch: envInt('GUICHET_CONFIRM_BATCH', 128, 1, 10_000),
  inFlight: envInt('GUICHET_CONFIRM_IN_FLIGHT', 3, 1, 1_000),
  minOverlap: envInt('GUICHET_CONFIRM_MIN_OVERLAP', 16, 1, 10_000),
};

type Row = { payment_id: string | null; outcome: string; duplicate: boolean; entry_id: number | string | null };
const toResult = (r: Row | undefined): ConfirmResult => {
  if (!r) throw new Error('payments: the confirmation call returned no row');
  return {
    paymentId: r.payment_id,
    outcome: r.outcome as ConfirmResult['outcome'],
    duplicate: Boolean(r.duplicate),
    entryId: r.entry_id == null ? null : Number(r.entry_id),
  };
};

export class ConfirmBatcher {
  readonly maxBatch: number;
  readonly inFlight: number;
  readonly minOverlap: number;
  private queue: Pending[] = [];
  private running = 0;
  /** what was sent: calls, items and batches that fell back to one by one (for tests and the benchmark's profile) */
  readonly stats = { calls: 0, items: 0, fallbacks: 0, largest: 0, ms: 0 };

  constructor(private readonly db: Database, opts: BatcherOptions = {}) {
    this.maxBatch = opts.maxBatch ?? DEFAULTS.maxBatch;
    this.inFlight = opts.inFlight ?? DEFAULTS.inFlight;
    this.minOverlap = opts.minOverlap ?? DEFAULTS.minOverlap;
  }

  /** Confirm one payment named by its provider's reference; settles after the commit that applied it. */
  confirm(req: ConfirmRequest): Promise<ConfirmResult> {
    return new Promise<ConfirmResult>((resolve, reject) => {
      this.queue.push({ ...req, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && (this.running === 0 || (this.running < this.inFlight && this.queue.length >= this.minOverlap))) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.running++;
      const t0 = performance.now();
      this.run(batch).finally(() => {
        this.stats.ms += performance.now() - t0;
        this.running--;
        this.pump();
      });
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    this.stats.calls++;
    this.stats.items += batch.length;
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    const now = new Date();
    if (batch.length > 1) {
      let rows: Row[] | null = null;
      try {
        const items = JSON.stringify(batch.map((b, i) => ({ idx: i, provider: b.provider, ref: b.providerRef, ev: b.eventId })));
        rows = (await sql<Row & { idx: number }>`
          select idx, payment_id, outcome, duplicate, entry_id from payments_confirm_many(${items}::jsonb, ${now}, ${localDate(now)}::date)`.execute(this.db)).rows
          .sort((a, b) => Number(a.idx) - Number(b.idx));
      } catch {
        rows = null; // nothing of the batch was written: one by one below, so that only a bad item fails
      }
      if (rows && rows.length === batch.length) {
        batch.forEach((b, i) => b.resolve(toResult(rows![i])));
        return;
      }
      this.stats.fallbacks++;
    }
    for (const b of batch) {
      try {
        b.resolve(await this.one(b, now));
      } catch (e) {
        b.reject(e);
      }
    }
  }

  private async one(b: ConfirmRequest, now: Date): Promise<ConfirmResult> {
    const r = await sql<Row>`
      select payment_id, outcome, duplicate, entry_id from payments_confirm(${b.provider}, ${b.providerRef}, ${b.eventId}, ${now}, ${localDate(now)}::date)`.execute(this.db);
    return toResult(r.rows[0]);
  }
}

const batchers = new WeakMap<Database, ConfirmBatcher>();

/** The batcher of a database handle (one per server process and database). */
export function confirmBatcher(db: Database): ConfirmBatcher {
  let b = batchers.get(db);
  if (!b) {
    b = new ConfirmBatcher(db);
    batchers.set(db, b);
  }
  return b;
}
