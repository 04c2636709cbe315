/**
 * Background work of Tell Us Once: the delivery queue (webhooks), its dead-letter queue, and the demo subscriptions.
 * Registered by src/jobs/index.ts.
 */
import type { Background, BackgroundDeps, Job } from '../jobs/index';
import { makeDeliveryHandler, type DeliveryJob } from './delivery';
import { DELIVER_QUEUE } from './service';
import { noticeSettings } from './settings';
import { seedDemoSubscriptions } from './demo';

export const DEAD_QUEUE = 'notices.dead';

export async function registerJobs(bg: Background, deps: BackgroundDeps): Promise<void> {
  const db = deps.database.db;
  const settings = noticeSettings(deps.env ?? process.env);
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
        if (failed.length)
          await trx
            .insertInto('notice_alerts')
            .values(failed.map((f) => ({ notice_id: f.id, org_id: f.org_id, kind: 'dead-letter', message: `Notice ${f.id}: delivery job failed repeatedly`, resolved_at: null, resolved_by: null })))
            .execute();
      });
    },
    { retryLimit: 10, retryDelay: 60, batchSize: 20, pollingIntervalSeconds: 5 },
  );
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
