/**
 * Background work of the performance capability:
 *   performance.ingest          every minute: new contacts from every source → perf_events + rollups (ingest.ts);
 *                               then survey invitations owed after counter visits and decided cases are e-mailed;
 *   performance.monthly-report  on the 2nd of each month at 06:00 UTC: each partner's report of last month, kept and
 *                               e-mailed (reports.ts).
 * Both are idempotent: a second run (or a run on another node) finds nothing new.
 */
import type { Background, BackgroundDeps } from '../jobs/index';
import { ingestAll } from './ingest';
import { queueSurveyMails, sendSurveyMails } from './survey';
import { buildMonthlyReports } from './reports';
import { createMailer } from '../mail/mailer';

export const INGEST_QUEUE = 'performance.ingest';
export const REPORT_QUEUE = 'performance.monthly-report';

export async function registerJobs(bg: Background, deps: BackgroundDeps): Promise<void> {
  const db = deps.database.db;
  const env = deps.env ?? process.env;
  const abandonAfterSeconds = Math.max(60, Number(env.GUICHET_PERF_ABANDON_AFTER_S ?? 7 * 86400) || 7 * 86400);
  const baseUrl = deps.config.publicBaseUrl;
  const mailer = createMailer(env, deps.log);
  await bg.registerQueue(INGEST_QUEUE, async () => {
    const r = await ingestAll(db, { abandonAfterSeconds });
    if (r.inserted) deps.log.info(r, 'performance: contacts counted');
    await queueSurveyMails(db);
    await sendSurveyMails(db, mailer, baseUrl);
  }, { retryLimit: 2, retryDelay: 30, policy: 'singleton' });
  await bg.registerQueue(REPORT_QUEUE, async () => {
    await buildMonthlyReports(db, { mailer, baseUrl });
  }, { retryLimit: 3, retryDelay: 300 });
  await bg.schedule(INGEST_QUEUE, '* * * * *');
  await bg.schedule(REPORT_QUEUE, '0 6 2 * *');
}
