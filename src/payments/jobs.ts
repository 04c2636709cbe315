/**
 * Background work of the payments capability:
 *   payments.reconcile   every 5 minutes: ask the provider about card payments pending for 15+ minutes; purge old
 *                        idempotency keys; retry card refunds still waiting for the provider;
 *   payments.guarantee   every 10 minutes: settle the owed service-guarantee refunds (guarantee.ts);
 *   payments.receipts    every minute: receipt e-mails due (receipts.ts);
 *   payments.remit       every day at 10:00 UTC (6 am in Ottawa): one remittance run (remittance.ts).
 * All are idempotent: a schedule firing twice, or on two nodes, does no harm.
 */
import type { Background, BackgroundDeps } from '../jobs/index';
import { reconcilePending } from './webhooks';
import { settleGuaranteeRefunds } from './guarantee';
import { runRemittance } from './remittance';
import { sendToProvider } from './refunds';
import { paymentProvider } from './providers/select';
import { sendReceipts } from './receipts';
import { createMailer } from '../mail/mailer';

export const RECONCILE_QUEUE = 'payments.reconcile';
export const GUARANTEE_QUEUE = 'payments.guarantee';
export const REMIT_QUEUE = 'payments.remit';
export const RECEIPTS_QUEUE = 'payments.receipts';

export async function registerJobs(bg: Background, deps: BackgroundDeps): Promise<void> {
  const db = deps.database.db;
  await bg.registerQueue(RECONCILE_QUEUE, async () => {
    const provider = paymentProvider();
    if (!provider) return;
    const r = await reconcilePending(db, provider);
    if (r.confirmed || r.failed) deps.log.info(r, 'payments reconciled with the provider');
    const waiting = await db.selectFrom('refunds').select('id').where('status', '=', 'submitted').where('created_at', '<', new Date(Date.now() - 5 * 60_000)).limit(100).execute();
    for (const w of waiting) await sendToProvider(db, provider, w.id);
  }, { retryLimit: 2, retryDelay: 60 });
  await bg.registerQueue(GUARANTEE_QUEUE, async () => {
    const r = await settleGuaranteeRefunds(db, paymentProvider());
    if (r.settled) deps.log.info(r, 'service-guarantee refunds settled');
  }, { retryLimit: 2, retryDelay: 60 });
  await bg.registerQueue(REMIT_QUEUE, async () => {
    const r = await runRemittance(db);
    deps.log.info({ batches: r.batches.length, paused: r.skippedPaused }, 'remittance run');
  }, { retryLimit: 3, retryDelay: 300 });
  const mailer = createMailer(deps.env ?? process.env, deps.log);
  await bg.registerQueue(RECEIPTS_QUEUE, async () => {
    await sendReceipts(db, mailer, deps.config.publicBaseUrl);
  }, { retryLimit: 2, retryDelay: 60 });
  await bg.schedule(RECEIPTS_QUEUE, '* * * * *');
  await bg.schedule(RECONCILE_QUEUE, '*/5 * * * *');
  await bg.schedule(GUARANTEE_QUEUE, '*/10 * * * *');
  await bg.schedule(REMIT_QUEUE, '0 10 * * *');
}
