/**
 * Background work of the cases capability (registered in src/jobs/index.ts):
 *   cases.guarantee-check   every 15 minutes: missed service guarantees → owed refunds, flagged cases;
 *   cases.notifications     every 5 minutes: e-mails that failed to send are retried (at most 5 attempts);
 *   cases.deliver           submitted online forms to the partner (signed, retried), dead letters → failed.
 * Both are idempotent, so a schedule firing twice (or on two nodes) does no harm.
 */
import type { Background, BackgroundDeps } from '../jobs/index';
import { detectGuaranteeBreaches } from './guarantee';
import { casesMailer } from './integration';
import { sendNotifications } from './notify';
import { deliverCase, DELIVER_QUEUE } from './forms';

export const DELIVER_DEAD_QUEUE = 'cases.deliver.dead';

export const GUARANTEE_QUEUE = 'cases.guarantee-check';
export const NOTIFY_QUEUE = 'cases.notifications';

export async function registerJobs(bg: Background, deps: BackgroundDeps): Promise<void> {
  const db = deps.database.db;
  const env = deps.env ?? process.env;
  const retryDelay = Math.max(1, Number(env.GUICHET_CASES_DELIVERY_RETRY_S ?? 30) || 30);
  await bg.registerQueue(GUARANTEE_QUEUE, async () => {
    const r = await detectGuaranteeBreaches(db);
    if (r.breaches) deps.log.warn({ breaches: r.breaches, cases: r.caseIds }, 'service guarantees missed: refunds owed');
  }, { retryLimit: 3, retryDelay: 60 });
  await bg.registerQueue(NOTIFY_QUEUE, async () => {
    await sendNotifications(db, casesMailer(deps.log));
  }, { retryLimit: 2, retryDelay: 60 });
  // Form submissions to partners: signed POST, retried with exponential backoff; after the last retry the dead
  // letter queue marks the delivery failed so that staff see it.
  await bg.registerQueue<{ caseId: string }>(DELIVER_DEAD_QUEUE, async (jobs) => {
    const ids = jobs.map((j) => j.data?.caseId).filter((x): x is string => typeof x === 'string');
    if (ids.length) await db.updateTable('case_deliveries').set({ status: 'failed' }).where('case_id', 'in', ids).where('status', '=', 'pending').execute();
  });
  await bg.registerQueue<{ caseId: string }>(DELIVER_QUEUE, async (jobs) => {
    for (const j of jobs) await deliverCase(db, j.data.caseId);
  }, { retryLimit: 12, retryDelay: retryDelay, retryBackoff: true, deadLetter: DELIVER_DEAD_QUEUE });
  await bg.schedule(GUARANTEE_QUEUE, '*/15 * * * *');
  await bg.schedule(NOTIFY_QUEUE, '*/5 * * * *');
}
