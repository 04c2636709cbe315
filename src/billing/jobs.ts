/**
 * Background work of the billing capability:
 *   billing.run            daily (07:30 UTC, after midnight in Toronto): daily agreements bill each of the last 7 days, monthly agreements the
 *                          previous month; a period already billed is skipped (UNIQUE invoice per agreement and
 *                          period; billing_claims' primary key), so a schedule firing twice or on two nodes does no harm
 *                          and a missed day is caught up;
 *   billing.subscriptions  daily (07:45 UTC): subscriptions renew or lapse; statements of the previous month.
 */
import type { Background, BackgroundDeps } from '../jobs/index';
import type { Kysely } from 'kysely';
import type { DB } from '../schema';
import { localDate } from '../i18n/index';
import { addDays, addMonths, BILLING_TZ, runBilling } from './billing';
import { renewOrLapse, runStatements } from './subscriptions';

export const RUN_QUEUE = 'billing.run';
export const SUBSCRIPTIONS_QUEUE = 'billing.subscriptions';

/** What the daily job bills on `today`: the last 7 days (daily) and the previous month (monthly). */
export async function billDue(db: Kysely<DB>, today = localDate(new Date(), BILLING_TZ)) {
  let invoices = 0;
  for (let i = 7; i >= 1; i--) invoices += (await runBilling(db, { frequency: 'daily', periodStart: addDays(today, -i), today })).invoiceIds.length;
  const month = addMonths(`${today.slice(0, 7)}-01`, -1);
  invoices += (await runBilling(db, { frequency: 'monthly', periodStart: month, today })).invoiceIds.length;
  return { invoices };
}

export async function subscriptionsDue(db: Kysely<DB>, today = localDate(new Date(), BILLING_TZ)) {
  const r = await renewOrLapse(db, today);
  const s = await runStatements(db, addMonths(`${today.slice(0, 7)}-01`, -1), today);
  return { ...r, ...s };
}

export async function registerJobs(bg: Background, deps: BackgroundDeps): Promise<void> {
  const db = deps.database.db;
  await bg.registerQueue(RUN_QUEUE, async () => {
    const r = await billDue(db);
    if (r.invoices) deps.log.info({ invoices: r.invoices }, 'billing: invoices made');
  }, { retryLimit: 3, retryDelay: 300 });
  await bg.registerQueue(SUBSCRIPTIONS_QUEUE, async () => {
    const r = await subscriptionsDue(db);
    deps.log.info(r, 'billing: subscriptions renewed/lapsed, statements made');
  }, { retryLimit: 3, retryDelay: 300 });
  await bg.schedule(RUN_QUEUE, '30 7 * * *');
  await bg.schedule(SUBSCRIPTIONS_QUEUE, '45 7 * * *');
}
