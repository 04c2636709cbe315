/**
 * Reconciler of Tell Us Once deliveries (queue `notices.reconcile`, scheduled every 10 minutes).
 *
 * A webhook notice is delivered by a job of `notices.deliver` (created with the notice, then one per retry). If that
 * job is lost (row deleted or archived by hand, a restore from backup, a bug), the notice would stay "being sent"
 * forever. The reconciler finds pending webhook notices that have been idle longer than
 * GUICHET_NOTICE_RECONCILE_AFTER_S (default 15 minutes: since their creation, or since the retry they were waiting
 * for was due) and that have no live delivery job: none created or waiting to retry, and none active for less than
 * that threshold (an active job older than that is stuck: its worker died and it was not expired). It enqueues one
 * delivery job for each.
 *
 * Safe to run twice, on several nodes, or while a delivery is under way:
 * - the job id is derived from (notice, attempts, time slot), so concurrent runs enqueue one job;
 * - a partner receiving the notice again deduplicates it by its Idempotency-Key (the notice id);
 * - the delivery handler settles a notice only while it is still pending, and schedules a retry only if no other job
 *   of the notice settled an attempt first (one retry chain per notice).
 * Notices whose subscription no longer has a webhook (switched to the pull feed) are left for the feed.
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { enqueueMany } from '../jobs/index';
import { uuidFrom } from './alerts';
import { DELIVER_QUEUE } from './service';

export const RECONCILE_QUEUE = 'notices.reconcile';
export const RECONCILE_CRON = '*/10 * * * *';
const LIMIT = 1000;

/** Re-enqueue the delivery of pending webhook notices whose job is missing or stuck. Returns the notice ids. */
export async function reconcileNotices(db: Database, opts: { afterSeconds: number; now?: Date }): Promise<string[]> {
  const after = Math.max(1, Math.round(opts.afterSeconds));
  const rows = await sql<{ id: string; attempts: number }>`
    select n.id, n.attempts
    from notices n
    join notice_subscriptions s on s.id = n.subscription_id
    where n.status = 'pending'
      and n.delivery = 'webhook'
      and s.webhook_url is not null and s.signing_secret is not null
      and coalesce(n.next_attempt_at, n.created_at) < now() - make_interval(secs => ${after})
      and not exists (
        select 1 from pgboss.job j
        where j.name = ${DELIVER_QUEUE}
          and j.data->>'noticeId' = n.id
          and (j.state in ('created', 'retry') or (j.state = 'active' and j.started_on > now() - make_interval(secs => ${after})))
      )
    order by n.created_at
    limit ${LIMIT}
  `.execute(db);
  if (!rows.rows.length) return [];
  const slot = String(Math.floor((opts.now ?? new Date()).getTime() / 1000 / after));
  await enqueueMany(
    db,
    DELIVER_QUEUE,
    rows.rows.map((r) => ({ id: uuidFrom('notice-reconcile', r.id, String(r.attempts), slot), data: { noticeId: r.id } })),
  );
  return rows.rows.map((r) => r.id);
}
