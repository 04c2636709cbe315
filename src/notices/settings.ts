/**
 * Tell Us Once delivery settings, from environment variables (defaults are production values; tests shorten them).
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | GUICHET_NOTICE_RETRY_BASE_S | 30 | first retry delay (seconds); doubles each attempt |
 * | GUICHET_NOTICE_RETRY_MAX_S | 3600 | cap of one retry delay |
 * | GUICHET_NOTICE_RETRY_WINDOW_S | 259200 (72 h) | keep retrying this long after the first attempt, then dead-letter |
 * | GUICHET_NOTICE_HTTP_TIMEOUT_MS | 10000 | webhook request timeout |
 * | GUICHET_NOTICE_JOB_EXPIRE_S | 120 | a delivery job still active after this (worker died) is run again |
 * | GUICHET_NOTICE_BATCH | 50 | notices per worker batch |
 * | GUICHET_NOTICE_WORKERS | 2 | parallel delivery workers per process |
 * | GUICHET_NOTICE_POLL_S | 0.5 | queue polling interval when idle |
 * | GUICHET_NOTICE_ALERT_TO | (unset) | comma-separated addresses for dead-letter alert e-mails; unset: the active admins and managers of the one-stop organisation |
 * | GUICHET_NOTICE_RECONCILE_AFTER_S | 900 | the reconciler re-enqueues a pending webhook notice idle this long with no live delivery job |
 */
export interface NoticeSettings {
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  retryWindowSeconds: number;
  httpTimeoutMs: number;
  jobExpireSeconds: number;
  batchSize: number;
  workers: number;
  pollingIntervalSeconds: number;
  /** Dead-letter alert recipients; empty = the one-stop's admins and managers (src/notices/alerts.ts). */
  alertTo: string[];
  /** Idle time after which a pending notice without a live delivery job is re-enqueued (src/notices/reconcile.ts). */
  reconcileAfterSeconds: number;
}

function num(env: NodeJS.ProcessEnv, key: string, dflt: number, min = 0): number {
  const v = env[key];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`${key} must be a number >= ${min}, got "${v}"`);
  return n;
}

export function noticeSettings(env: NodeJS.ProcessEnv = process.env): NoticeSettings {
  return {
    retryBaseSeconds: num(env, 'GUICHET_NOTICE_RETRY_BASE_S', 30, 0.1),
    retryMaxSeconds: num(env, 'GUICHET_NOTICE_RETRY_MAX_S', 3600, 0.1),
    retryWindowSeconds: num(env, 'GUICHET_NOTICE_RETRY_WINDOW_S', 72 * 3600, 1),
    httpTimeoutMs: num(env, 'GUICHET_NOTICE_HTTP_TIMEOUT_MS', 10_000, 50),
    jobExpireSeconds: Math.round(num(env, 'GUICHET_NOTICE_JOB_EXPIRE_S', 120, 1)),
    batchSize: Math.round(num(env, 'GUICHET_NOTICE_BATCH', 50, 1)),
    workers: Math.round(num(env, 'GUICHET_NOTICE_WORKERS', 2, 1)),
    pollingIntervalSeconds: num(env, 'GUICHET_NOTICE_POLL_S', 0.5, 0.5),
    alertTo: (env.GUICHET_NOTICE_ALERT_TO ?? '').split(',').map((a) => a.trim()).filter(Boolean),
    reconcileAfterSeconds: num(env, 'GUICHET_NOTICE_RECONCILE_AFTER_S', 900, 1),
  };
}

/**
 * Delay before retry number `attempt` (1 = first retry): capped exponential backoff with jitter,
 * uniformly drawn in [d/2, d] where d = min(max, base * 2^(attempt-1)).
 */
export function retryDelaySeconds(s: NoticeSettings, attempt: number, random = Math.random): number {
  const d = Math.min(s.retryMaxSeconds, s.retryBaseSeconds * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return d / 2 + (d / 2) * random();
}
