/**
 * Background work of the cases capability (registered in src/jobs/index.ts):
 *   cases.guarantee-check   every 15 minutes: missed service guarantees → owed refunds, flagged cases;
 *   cases.notifications     every 5 minutes: e-mails that failed to send are retried (at most 5 attempts).
 * Both are idempotent, so a schedule firing twice (or on two nodes) does no harm.
 */
import type { Background, BackgroundDeps } from '../jobs/index';
import { detectGuaranteeBreaches } from './guarantee';
import { casesMailer } from './integration';
import { sendNotifications } from './notify';

export const GUARANTEE_QUEUE = 'cases.guarantee-check';
export const NOTIFY_QUEUE = 'cases.notifications';

export async function registerJobs(bg: Background, deps: BackgroundDeps): Promise<void> {
  const db = deps.database.db;
  await bg.registerQueue(GUARANTEE_QUEUE, async () => {
    const r = await detectGuaranteeBreaches(db);
    if (r.breaches) deps.log.warn({ breaches: r.breaches, cases: r.caseIds }, 'service guarantees missed: refunds owed');
  }, { retryLimit: 3, retryDelay: 60 });
  await bg.registerQueue(NOTIFY_QUEUE, async () => {
    await sendNotifications(db, casesMailer(deps.log));
  }, { retryLimit: 2, retryDelay: 60 });
  await bg.schedule(GUARANTEE_QUEUE, '*/15 * * * *');
  await bg.schedule(NOTIFY_QUEUE, '*/5 * * * *');
}
