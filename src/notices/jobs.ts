/**
 * Background work of Tell Us Once: the delivery queue (webhooks), its dead-letter queue, the dead-letter alert e-mails
 * (`notices.alert-mail`, swept every 5 minutes), the reconciler (`notices.reconcile`, every 10 minutes), and the demo
 * subscriptions.
 * Registered by src/jobs/index.ts.
 */
import type { Background, BackgroundDeps, Job } from '../jobs/index';
import { makeDeliveryHandler, type DeliveryJob } from './delivery';
import { DELIVER_QUEUE } from './service';
import { noticeSettings } from './settings';
import { seedDemoSubscriptions } from './demo';
import { ALERT_MAIL_QUEUE, recordDeadLetters, sendAlertMails } from './alerts';
import { reconcileNotices, RECONCILE_CRON, RECONCILE_QUEUE } from './reconcile';
import { createMailer } from '../mail/mailer';

export const DEAD_QUEUE = 'notices.dead';

export async function registerJobs(bg: Background, deps: BackgroundDeps): Promise<void> {
  const db = deps.database.db;
  const env = deps.env ?? process.env;
  const settings = noticeSettings(env);
  // Jobs whose worker died repeatedly land here (HTTP failures are retried by the delivery handler itself).
  await bg.registerQueue<DeliveryJob>(
    DEAD_QUEUE,
    async (jobs: Job<DeliveryJob>[]) => {
      const ids = jobs.map((j) => j.data?.noticeId).filter((x): x is string => typeof x === 'string');
      if (!ids.length) return;
      await db.transaction().execute(async (trx) => {
        const failed = await trx
          .updateTable('notices')
          .set({ status: 'failed', failed_at: new Date(), last_error: 'delivery job failed repeatedly' })
          .where('id', 'in', ids)
          .where('status', '=', 'pending')
          .returning(['id', 'org_id'])
          .execute();
        await recordDeadLetters(trx, failed.map((f) => ({ noticeId: f.id, orgId: f.org_id, message: `Notice ${f.id}: delivery job failed repeatedly` })));
      });
    },
    { retryLimit: 10, retryDelay: 60, batchSize: 20, pollingIntervalSeconds: 5 },
  );
  // One alert e-mail per dead letter (outbox rows written with the alert); the schedule sweeps leftovers.
  const mailer = createMailer(env, deps.log);
  await bg.registerQueue<{ mailId?: number }>(
    ALERT_MAIL_QUEUE,
    async (jobs) => {
      const sweep = jobs.some((j) => typeof j.data?.mailId !== 'number');
      const ids = jobs.map((j) => j.data?.mailId).filter((x): x is number => typeof x === 'number');
      const r = await sendAlertMails(db, mailer, { settings, publicBaseUrl: deps.config.publicBaseUrl, ids: sweep ? undefined : ids, log: deps.log });
      if (r.failed) throw new Error(`${r.failed} dead-letter alert e-mail(s) not sent`);
    },
    { retryLimit: 8, retryDelay: 30, retryBackoff: true, batchSize: 10, pollingIntervalSeconds: 2 },
  );
  await bg.schedule(ALERT_MAIL_QUEUE, '*/5 * * * *');
  // Pending webhook notices whose delivery job is missing or stuck get a new one (src/notices/reconcile.ts).
  await bg.registerQueue(
    RECONCILE_QUEUE,
    async () => {
      const ids = await reconcileNotices(db, { afterSeconds: settings.reconcileAfterSeconds });
      if (ids.length) deps.log.warn({ notices: ids.slice(0, 50), count: ids.length }, 'notices re-enqueued by the reconciler (delivery job missing or stuck)');
    },
    { retryLimit: 2, retryDelay: 60, policy: 'singleton' },
  );
  await bg.schedule(RECONCILE_QUEUE, RECONCILE_CRON);
  await bg.registerQueue<DeliveryJob>(DELIVER_QUEUE, makeDeliveryHandler({ db, settings, log: deps.log, bg }), {
    // pg-boss retries only cover a worker that died or a failed settlement transaction; HTTP retries are scheduled
    // by the handler (capped exponential backoff with jitter over the 72-hour window).
    retryLimit: 20,
    retryDelay: 2,
    retryBackoff: false,
    expireInSeconds: settings.jobExpireSeconds,
    deadLetter: DEAD_QUEUE,
    batchSize: settings.batchSize,
    workers: settings.workers,
    pollingIntervalSeconds: settings.pollingIntervalSeconds,
  });
  if (deps.config.env !== 'test') await seedDemoSubscriptions(db, deps.config.publicBaseUrl);
}
