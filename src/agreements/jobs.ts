/**
 * Background work of the agreements capability:
 *   agreements.daily   every day at 05:10 UTC: expire agreements past their end (and children of ended masters),
 *                      then e-mail the one-stop's managers 90 and 30 days before an agreement ends (idempotent).
 * Demo agreements and fees are added on start outside tests.
 */
import type { Background, BackgroundDeps } from '../jobs/index';
import { localDate } from '../i18n/index';
import { createMailer } from '../mail/mailer';
import { seedDemoAgreements } from './demo';
import { expireAgreements, sendExpiryReminders } from './service';

export const DAILY_QUEUE = 'agreements.daily';

export async function registerJobs(bg: Background, deps: BackgroundDeps): Promise<void> {
  const mailer = createMailer(deps.env ?? process.env, deps.log);
  await bg.registerQueue(DAILY_QUEUE, async () => {
    const today = localDate();
    const expired = await expireAgreements(deps.database.db, today);
    const reminders = await sendExpiryReminders(deps.database.db, mailer, today, deps.config.publicBaseUrl);
    if (expired || reminders) deps.log.info({ expired, reminders }, 'agreements: daily run');
  }, { retryLimit: 3, retryDelay: 300 });
  await bg.schedule(DAILY_QUEUE, '10 5 * * *');
  if (deps.config.env !== 'test') await seedDemoAgreements(deps.database.db);
}
