/**
 * Webhook delivery of notices (queue `notices.deliver`, one job per notice; job data { noticeId }).
 *
 * A worker takes a batch of jobs, POSTs each pending notice to its partner (signed body, Idempotency-Key = notice id),
 * then settles the whole batch in ONE transaction: notice statuses, attempt log, access-log entries, retry jobs, and
 * the completion of the batch's jobs. If the worker dies before that commit, pg-boss runs the jobs again after they
 * expire; the partner then receives the same notice again and deduplicates it by its Idempotency-Key.
 *
 * Outcomes: 2xx → delivered (body {"status":"acknowledged"} → acknowledged); 409 → delivered (the partner already has
 * it); 400/404/410/422 → rejected with the partner's reason; anything else (5xx, 408, 429, timeouts, refused
 * connections) → retried with capped exponential backoff and jitter until the retry window (72 h) has passed since the
 * first attempt, then failed (dead letter) with an alert for staff and one alert e-mail (src/notices/alerts.ts).
 */
import { Agent, request, type Dispatcher } from 'undici';
import { sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/database';
import type { Background, Job } from '../jobs/index';
import { enqueueMany } from '../jobs/index';
import type { AccessEntry } from '../clients/access-log';
import { recordAccessBatch } from '../clients/access-log';
import { cleanReason, DELIVER_QUEUE } from './service';
import { retryDelaySeconds, type NoticeSettings } from './settings';
import { sign } from './signing';
import { recordDeadLetters, type DeadLetter } from './alerts';

export interface DeliveryJob {
  noticeId: string;
}

type Outcome =
  | { kind: 'delivered'; status: number; acknowledged: boolean }
  | { kind: 'rejected'; status: number; reason: string }
  | { kind: 'retry'; status: number | null; error: string };

const REJECT_STATUSES = new Set([400, 404, 410, 422]);
/** A job may start this much before its notice's next_attempt_at (clock differences between the database and Node). */
const EARLY_TOLERANCE_MS = 5000;

function reasonFrom(text: string, status: number): string {
  text = text.slice(0, 4000);
  try {
    const j = JSON.parse(text);
    const r = j?.reason ?? j?.error?.message ?? j?.message ?? j?.error;
    if (typeof r === 'string' && r.trim()) return cleanReason(r);
  } catch {
    /* not JSON */
  }
  return cleanReason(text) || `HTTP ${status}`;
}

/**
 * Keep-alive connections to partners, shared by every delivery of the process. undici's request() rather than
 * fetch(): the same HTTP/1.1 client without the WHATWG streams and per-call AbortSignal, about a third of the CPU per
 * delivery (profiled on bench:notices). No redirects are followed (a partner's URL is registered, not discovered).
 */
const partnerAgent = new Agent({ connections: 32, keepAliveTimeout: 10_000, connectTimeout: 10_000 });

/** Largest answer body read from a partner (a status and perhaps a reason); the rest is discarded. */
const MAX_ANSWER_BYTES = 64 * 1024;

async function readText(body: Dispatcher.ResponseData['body']): Promise<string> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      break;
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

export async function postNotice(url: string, secret: string, noticeId: string, body: string, timeoutMs: number): Promise<Outcome> {
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: partnerAgent,
      headers: {
        'content-type': 'application/json',
        'idempotency-key': noticeId,
        'guichet-signature': sign(secret, body),
        'guichet-payload-version': '1',
        'user-agent': 'Guichet-TellUsOnce/1',
      },
      body,
      maxRedirections: 0,
      // the partner must answer (headers, then each piece of the body) within the timeout
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const status = res.statusCode;
    if (status >= 200 && status < 300) {
      const text = await readText(res.body).catch(() => '');
      let acknowledged = false;
      try {
        acknowledged = JSON.parse(text)?.status === 'acknowledged';
      } catch {
        /* empty or not JSON */
      }
      return { kind: 'delivered', status, acknowledged };
    }
    if (status === 409) {
      await res.body.dump().catch(() => {});
      return { kind: 'delivered', status: 409, acknowledged: false };
    }
    if (REJECT_STATUSES.has(status)) return { kind: 'rejected', status, reason: reasonFrom(await readText(res.body).catch(() => ''), status) };
    await res.body.dump().catch(() => {});
    return { kind: 'retry', status, error: `HTTP ${status}` };
  } catch (err) {
    const e = err as Error & { code?: string; cause?: { code?: string } };
    const timedOut = e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT';
    const msg = timedOut ? `timeout after ${timeoutMs} ms` : (e.cause?.code ?? e.code ?? e.message ?? 'network error');
    return { kind: 'retry', status: null, error: String(msg).slice(0, 200) };
  }
}

export function makeDeliveryHandler(deps: { db: Database; settings: NoticeSettings; log: FastifyBaseLogger; bg: Background }) {
  const { db, settings, log, bg } = deps;
  return async function deliver(jobs: Job<DeliveryJob>[]): Promise<void> {
    const ids = [...new Set(jobs.map((j) => j.data?.noticeId).filter((x): x is string => typeof x === 'string'))];
    const rows = ids.length
      ? await db
          .selectFrom('notices as n')
          .innerJoin('notice_subscriptions as s', 's.id', 'n.subscription_id')
          .select([
            'n.id', 'n.status', 'n.payload', 'n.client_id', 'n.org_id', 'n.fields', 'n.event_type', 'n.first_attempt_at', 'n.attempts', 'n.next_attempt_at',
            's.webhook_url', 's.signing_secret', 's.legal_basis', 's.law_reference', 's.program_en',
          ])
          .where('n.id', 'in', ids)
          .execute()
      : [];
    // only pending notices are sent (a job run again after a crash finds its notice already settled), and not ahead of
    // a retry that is already scheduled (a stale duplicate job, e.g. a stuck one the reconciler replaced, just ends)
    const soon = Date.now() + EARLY_TOLERANCE_MS;
    const todo = rows.filter((r) => r.status === 'pending' && r.webhook_url && r.signing_secret && !(r.next_attempt_at && r.next_attempt_at.getTime() > soon));
    const started = Date.now();
    const results = await Promise.all(
      todo.map(async (r) => {
        const t0 = Date.now();
        const outcome = await postNotice(r.webhook_url!, r.signing_secret!, r.id, JSON.stringify(r.payload), settings.httpTimeoutMs);
        return { row: r, outcome, ms: Date.now() - t0 };
      }),
    );
    const now = new Date();
    const delivered = results.filter((x) => x.outcome.kind === 'delivered');
    const rejected = results.filter((x) => x.outcome.kind === 'rejected');
    const retries = results.filter((x) => x.outcome.kind === 'retry');
    const windowMs = settings.retryWindowSeconds * 1000;
    const failed = retries.filter((x) => now.getTime() - (x.row.first_attempt_at ?? new Date(started)).getTime() >= windowMs);
    const again = retries.filter((x) => !failed.includes(x));

    await db.transaction().execute(async (trx) => {
      const acked = delivered.filter((x) => x.outcome.kind === 'delivered' && x.outcome.acknowledged).map((x) => x.row.id);
      const plain = delivered.filter((x) => !acked.includes(x.row.id)).map((x) => x.row.id);
      const base = { attempts: sql<number>`attempts + 1`, first_attempt_at: sql<Date>`coalesce(first_attempt_at, now())`, next_attempt_at: null, last_error: null };
      if (plain.length)
        await trx.updateTable('notices').set({ ...base, status: 'delivered', delivered_at: now }).where('id', 'in', plain).where('status', '=', 'pending').execute();
      if (acked.length)
        await trx.updateTable('notices').set({ ...base, status: 'acknowledged', delivered_at: now, acknowledged_at: now }).where('id', 'in', acked).where('status', '=', 'pending').execute();
      for (const x of rejected) {
        const o = x.outcome as Extract<Outcome, { kind: 'rejected' }>;
        await trx
          .updateTable('notices')
          .set({ ...base, status: 'rejected', rejected_at: now, delivered_at: now, reason: o.reason })
          .where('id', '=', x.row.id)
          .where('status', '=', 'pending')
          .execute();
      }
      const retryJobs: Array<{ data: DeliveryJob; startAfter: number }> = [];
      for (const x of again) {
        const o = x.outcome as Extract<Outcome, { kind: 'retry' }>;
        const delay = retryDelaySeconds(settings, x.row.attempts + 1);
        const moved = await trx
          .updateTable('notices')
          .set({ attempts: sql<number>`attempts + 1`, first_attempt_at: sql<Date>`coalesce(first_attempt_at, now())`, last_error: o.error, next_attempt_at: new Date(now.getTime() + delay * 1000) })
          .where('id', '=', x.row.id)
          .where('status', '=', 'pending')
          .where('attempts', '=', x.row.attempts) // another job of this notice settled first (e.g. reconciled): one retry chain only
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) > 0) retryJobs.push({ data: { noticeId: x.row.id }, startAfter: delay });
      }
      const dead: DeadLetter[] = [];
      for (const x of failed) {
        const o = x.outcome as Extract<Outcome, { kind: 'retry' }>;
        const moved = await trx
          .updateTable('notices')
          .set({ attempts: sql<number>`attempts + 1`, status: 'failed', failed_at: now, last_error: o.error, next_attempt_at: null })
          .where('id', '=', x.row.id)
          .where('status', '=', 'pending')
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) > 0)
          dead.push({ noticeId: x.row.id, orgId: x.row.org_id, message: `Notice ${x.row.id} to ${x.row.program_en} failed after ${x.row.attempts + 1} attempts over ${settings.retryWindowSeconds} s: ${o.error}` });
      }
      // staff alert + one alert e-mail per dead letter (outbox), with this commit
      await recordDeadLetters(trx, dead);
      if (results.length) {
        await trx
          .insertInto('notice_attempts')
          .values(
            results.map((x) => ({
              notice_id: x.row.id,
              http_status: x.outcome.status,
              outcome: x.outcome.kind === 'retry' ? (failed.includes(x) ? ('failed' as const) : ('retry' as const)) : x.outcome.kind,
              error: x.outcome.kind === 'retry' ? x.outcome.error : x.outcome.kind === 'rejected' ? x.outcome.reason.slice(0, 200) : null,
              duration_ms: x.ms,
            })),
          )
          .execute();
      }
      const access: AccessEntry[] = [...delivered, ...rejected].map((x) => ({
        clientId: x.row.client_id,
        actorKind: 'partner',
        actorId: x.row.org_id,
        orgId: x.row.org_id,
        action: 'received',
        fields: x.row.fields,
        purpose: `tell-us-once:${x.row.event_type}`,
        legalBasis: x.row.legal_basis === 'law' ? x.row.law_reference : 'consent',
      }));
      await recordAccessBatch(trx, access);
      await enqueueMany(trx, DELIVER_QUEUE, retryJobs);
      // settle this batch's jobs with the same commit
      await bg.complete(DELIVER_QUEUE, jobs.map((j) => j.id), { db: trx });
    });
    if (failed.length) log.error({ notices: failed.map((x) => x.row.id) }, 'notices failed after the retry window (dead letter)');
  };
}
