/**
 * Provider webhooks and the reconciling job. A webhook is applied once: its event id is recorded (provider_events,
 * primary key) in the same transaction as its effect, so a duplicate finds the row and changes nothing; a late or
 * out-of-order event cannot undo a success (confirmPayment / failPayment only move forward). A bad signature is
 * refused before anything is read or written (401); an event for a payment we do not know answers 404 and records
 * nothing.
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { AppError } from '../http/errors';
import { confirmPayment, failPayment } from './checkout';
import { settleProviderRefund } from './refunds';
import { confirmBatcher } from './confirm-batcher';
import { WebhookSignatureError, type PaymentProvider, type ProviderEvent } from './providers/types';

export async function handleWebhook(db: Database, provider: PaymentProvider, raw: string, headers: Record<string, string | string[] | undefined>): Promise<{ outcome: string }> {
  let ev: ProviderEvent;
  try {
    ev = provider.parseWebhook(raw, headers);
  } catch (e) {
    if (e instanceof WebhookSignatureError) throw new AppError(401, 'WEBHOOK_SIGNATURE_INVALID');
    throw e;
  }
  if (!ev.eventId) throw new AppError(400, 'WEBHOOK_INVALID');
  if (ev.kind === 'other' && !ev.providerRef) return { outcome: 'ignored' };
  if (ev.kind === 'payment_succeeded') {
    if (!ev.providerRef) throw new AppError(404, 'PAYMENT_NOT_FOUND');
    // one statement, atomic on its own: find the payment, confirm it and post its entry (only forward, so a duplicate
    // is a no-op), and record the event with its outcome. The webhooks that arrive meanwhile are confirmed together by
    // one call and one commit (confirm-batcher.ts, migration 007); this answer waits for that commit.
    const row = await confirmBatcher(db).confirm({ provider: provider.name, providerRef: ev.providerRef, eventId: ev.eventId });
    if (row.outcome === 'not_found') throw new AppError(404, 'PAYMENT_NOT_FOUND');
    return { outcome: row.duplicate ? 'duplicate' : row.outcome };
  }
  return db.transaction().execute(async (trx) => {
    const pay = ev.providerRef
      ? await trx.selectFrom('payments').select(['id', 'status']).where('provider', '=', provider.name).where('provider_ref', '=', ev.providerRef).executeTakeFirst()
      : undefined;
    if (!pay) throw new AppError(404, 'PAYMENT_NOT_FOUND');
    // the event is recorded with its outcome in the same transaction as its effect; a duplicate finds it recorded
    let outcome = 'unchanged';
    if (ev.kind === 'payment_failed') outcome = (await failPayment(trx, pay.id, ev.failureCode)) ? 'failed' : 'unchanged';
    else if (ev.kind === 'refund_succeeded' && ev.providerRefundRef) outcome = (await settleProviderRefund(trx, ev.providerRefundRef)) ? 'refund_settled' : 'unchanged';
    const seen = await sql<{ k: string }>`
      insert into provider_events (provider, event_id, type, payment_id, outcome) values (${provider.name}, ${ev.eventId}, ${ev.kind}, ${pay.id}, ${outcome})
      on conflict do nothing returning event_id as k`.execute(trx);
    return { outcome: seen.rows.length === 0 ? 'duplicate' : outcome };
  });
}

/**
 * Ask the provider about card payments left pending for more than `olderThanMs` (the webhook may never come), and
 * apply the answer; a payment the provider never heard of (the start crashed before it was created there) is
 * cancelled after a day. Also purges idempotency keys older than 24 hours.
 */
export async function reconcilePending(db: Database, provider: PaymentProvider, opts: { olderThanMs?: number; limit?: number; now?: Date } = {}): Promise<{ checked: number; confirmed: number; failed: number }> {
  const now = opts.now ?? new Date();
  const cutoff = new Date(now.getTime() - (opts.olderThanMs ?? 15 * 60_000));
  const rows = await db.selectFrom('payments').select(['id', 'provider_ref', 'created_at'])
    .where('status', 'in', ['created', 'pending']).where('provider', '=', provider.name).where('created_at', '<', cutoff)
    .orderBy('created_at').limit(opts.limit ?? 200).execute();
  let confirmed = 0;
  let failed = 0;
  for (const r of rows) {
    if (!r.provider_ref) {
      if (now.getTime() - new Date(r.created_at).getTime() > 86_400_000) await db.updateTable('payments').set({ status: 'cancelled' }).where('id', '=', r.id).where('status', 'in', ['created', 'pending']).execute();
      continue;
    }
    let st;
    try {
      st = await provider.status(r.provider_ref);
    } catch {
      continue; // provider unreachable: next run
    }
    if (st.status === 'succeeded') {
      if (await db.transaction().execute((trx) => confirmPayment(trx, r.id))) confirmed++;
    } else if (st.status === 'failed') {
      if (await db.transaction().execute((trx) => failPayment(trx, r.id, st.failureCode))) failed++;
    }
  }
  await sql`delete from payment_idempotency where created_at < ${new Date(now.getTime() - 86_400_000)}`.execute(db);
  return { checked: rows.length, confirmed, failed };
}
