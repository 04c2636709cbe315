/**
 * Background work of the payments capability:
 *   payments.reconcile   every 5 minutes: ask the provider about card payments pending for 15+ minutes; purge old
 *                        idempotency keys; retry card refunds still waiting for the provider;
 *   payments.guarantee   every 10 minutes: settle the owed service-guarantee refunds (guarantee.ts);
 *   payments.receipts    every minute: receipt e-mails due (receipts.ts);
 *   payments.remit       every day at 10:00 UTC (6 am in Ottawa): one remittance run (remittance.ts);
 *   payments.cardcosts   every day at 09:00 UTC: the provider's fees of the last three (UTC) days posted as card costs
 *                        (card-costs.ts; a day already posted posts nothing more).
 * All are idempotent: a schedule firing twice, or on two nodes, does no harm.
 */
import type { Background, BackgroundDeps } from '../jobs/index';
import { reconcilePending } from './webhooks';
import { settleGuaranteeRefunds } from './guarantee';
import { runRemittance } from './remittance';
import { sendToProvider } from './refunds';
import { paymentProvider } from './providers/select';
import { sendReceipts } from './receipts';
import { postCardCosts } from './card-costs';
import { createMailer } from '../mail/mailer';

export const RECONCILE_QUEUE = 'payments.reconcile';
export const GUARANTEE_QUEUE = 'payments.guarantee';
export const REMIT_QUEUE = 'payments.remit';
export const RECEIPTS_QUEUE = 'payments.receipts';
export const CARD_COSTS_QUEUE = 'payments.cardcosts';

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
  await bg.registerQueue(CARD_COSTS_QUEUE, async () => {
    const provider = paymentProvider();
    if (!provider) return;
    for (let back = 3; back >= 1; back--) {
      const day = new Date(Date.now() - back * 86_400_000).toISOString().slice(0, 10);
      const r = await postCardCosts(db, provider, day);
      if (r.posted || r.unmatched) deps.log.info(r, 'card costs posted');
    }
  }, { retryLimit: 3, retryDelay: 300 });
  const mailer = createMailer(deps.env ?? process.env, deps.log);
  await bg.registerQueue(RECEIPTS_QUEUE, async () => {
    await sendReceipts(db, mailer, deps.config.publicBaseUrl);
  }, { retryLimit: 2, retryDelay: 60 });
  await bg.schedule(RECEIPTS_QUEUE, '* * * * *');
  await bg.schedule(RECONCILE_QUEUE, '*/5 * * * *');
  await bg.schedule(GUARANTEE_QUEUE, '*/10 * * * *');
  await bg.schedule(REMIT_QUEUE, '0 10 * * *');
  await bg.schedule(CARD_COSTS_QUEUE, '0 9 * * *');
}
