/** Background work of the agreements capability: demo data on start (outside tests). Expiry and reminders: expiry.ts. */
import type { Background, BackgroundDeps } from '../jobs/index';
import { seedDemoAgreements } from './demo';

export async function registerJobs(bg: Background, deps: BackgroundDeps): Promise<void> {
  void bg;
  if (deps.config.env !== 'test') await seedDemoAgreements(deps.database.db);
}
