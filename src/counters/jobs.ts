/**
 * Background work of the counters capability (registered in src/jobs/index.ts):
 *   counters.appointment-reminders   every 15 minutes: reminder e-mails (with the .ics) for tomorrow's appointments.
 * Idempotent: each appointment's reminder is claimed with an UPDATE ... RETURNING before it is sent.
 */
import type { Background, BackgroundDeps } from '../jobs/index';
import { createNotifier } from './notify';
import { sendAppointmentReminders } from './reminders';

export const REMINDERS_QUEUE = 'counters.appointment-reminders';

export async function registerJobs(bg: Background, deps: BackgroundDeps): Promise<void> {
  const notifier = createNotifier(deps.log);
  await bg.registerQueue(REMINDERS_QUEUE, async () => {
    const n = await sendAppointmentReminders(deps.database.db, notifier, deps.config.publicBaseUrl);
    if (n) deps.log.info({ reminders: n }, 'appointment reminders sent');
  }, { retryLimit: 2, retryDelay: 60 });
  await bg.schedule(REMINDERS_QUEUE, '*/15 * * * *');
}
