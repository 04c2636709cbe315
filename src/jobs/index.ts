/**
 * Durable background work: pg-boss 10 on the platform's own database (schema `pgboss`).
 *
 * - PostgreSQL: pg-boss gets its own small pool (same DATABASE_URL), so polling never starves HTTP requests.
 * - PGlite: pg-boss runs over the single in-process connection through `OpenedDatabase.executeSql` (the `db` option);
 *   its schema SQL, SKIP LOCKED fetches and advisory locks work on PGlite 18 (verified by src/jobs/jobs.test.ts).
 *
 * How a capability uses it (see docs/tell-us-once.md, "Durable jobs"):
 *
 *   // src/<capability>/jobs.ts
 *   export async function registerJobs(bg: Background) {
 *     await bg.registerQueue('cases.reminder', async (jobs) => { ... }, { retryLimit: 5, retryDelay: 30, retryBackoff: true });
 *     await bg.schedule('cases.reminder-sweep', '*\/5 * * * *');
 *   }
 *   // then name it in the capability's manifest (src/<capability>/index.ts): `jobs: registerJobs`.
 *
 *   // enqueue from a request, atomically with your own rows (same transaction; works on both engines):
 *   await db.transaction().execute(async (trx) => {
 *     await trx.insertInto('cases')...;
 *     await enqueue(trx, 'cases.reminder', { caseId }, { id: someUuid, startAfter: 3600 }); // same id twice = one job
 *   });
 *
 * Handlers receive a batch of jobs. Throwing fails the whole batch (each job is retried per its queue's policy);
 * to settle jobs one by one, call `bg.complete/fail(name, ids, { db: trx })` inside the handler.
 * A process started with GUICHET_WORKERS=off only enqueues (web nodes on PostgreSQL); `src/worker.ts` runs the
 * workers alone.
 */
import PgBoss from 'pg-boss';
import { CompiledQuery, type Transaction } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config';
import type { Database, OpenedDatabase } from '../db/database';
import type { DB } from '../schema';

export interface BackgroundDeps {
  config: Config;
  database: OpenedDatabase;
  log: FastifyBaseLogger;
  /** Run the workers (default: true unless GUICHET_WORKERS=off). When false, the process only enqueues. */
  work?: boolean;
  /** Extra environment (tests): read instead of process.env for GUICHET_* settings. */
  env?: NodeJS.ProcessEnv;
  /** The capabilities (src/capabilities.ts); each one's `jobs` registers its queues and schedules. */
  capabilities: readonly { name: string; jobs?: (bg: Background, deps: BackgroundDeps) => Promise<void> }[];
}

export interface QueueOptions {
  /** Retries after the first attempt (pg-boss retryLimit). */
  retryLimit?: number;
  /** Seconds before a retry (pg-boss retryDelay). */
  retryDelay?: number;
  /** Exponential backoff with jitter (pg-boss: delay * 2^n / 2 + random share). */
  retryBackoff?: boolean;
  /** A job still active after this many seconds is considered lost (worker died) and retried. */
  expireInSeconds?: number;
  /** Queue that receives jobs that failed after their last retry. */
  deadLetter?: string;
  /** Jobs handed to one handler call. */
  batchSize?: number;
  /** pg-boss queue policy (default 'standard'); 'short' keeps one queued job per singletonKey. */
  policy?: 'standard' | 'short' | 'singleton' | 'stately';
  /** Parallel workers (each polls and runs one batch at a time). */
  workers?: number;
  /** Seconds between polls when the queue is empty (minimum 0.5). */
  pollingIntervalSeconds?: number;
}

export interface EnqueueOptions {
  /**
   * pg-boss singletonKey. It deduplicates only with `singletonSeconds` (one job per key per time slot) or on a queue
   * whose policy is 'short' (one queued job per key), 'singleton' (one active) or 'stately'. To make an enqueue
   * idempotent on a standard queue, give an explicit `id` instead.
   */
  singletonKey?: string;
  /** With singletonKey: at most one job per key in each slot of this many seconds. */
  singletonSeconds?: number;
  /** Seconds from now, or a Date. */
  startAfter?: number | Date;
  retryLimit?: number;
  retryDelay?: number;
  retryBackoff?: boolean;
  expireInSeconds?: number;
  /** An explicit job id (uuid): sending twice with the same id stores one job. */
  id?: string;
}

export type Job<T> = PgBoss.Job<T>;
export type JobHandler<T> = (jobs: Job<T>[]) => Promise<void>;
/** Something that runs SQL: the database, or a transaction (for atomic enqueue). */
export type SqlExecutor = Pick<Database, 'executeQuery'>;

export interface Background {
  readonly boss: PgBoss;
  readonly working: boolean;
  /** Create (or update) a queue and, in worker processes, start its workers. */
  registerQueue<T extends object>(name: string, handler: JobHandler<T>, options?: QueueOptions): Promise<void>;
  /** Run `name` on a cron schedule (UTC); the queue must be registered. */
  schedule(name: string, cron: string, data?: object): Promise<void>;
  /** Settle jobs of a batch one by one (optionally inside your transaction). */
  complete(name: string, ids: string[], opts?: { db?: SqlExecutor }): Promise<void>;
  fail(name: string, ids: string[], error: unknown, opts?: { db?: SqlExecutor }): Promise<void>;
  stop(): Promise<void>;
}

let current: Background | null = null;

/** pg-boss's `db` adapter over Kysely (the database or a transaction): the job commits with your rows. */
export function sqlAdapter(db: SqlExecutor): PgBoss.Db {
  return {
    async executeSql(text: string, values: any[] = []) {
      const r = await db.executeQuery(CompiledQuery.raw(text, values));
      return { rows: r.rows as any[] };
    },
  };
}

function sendOptions(o: EnqueueOptions = {}, db?: SqlExecutor): PgBoss.SendOptions & { db?: PgBoss.Db } {
  const out: PgBoss.SendOptions & { db?: PgBoss.Db } = {};
  if (o.id) out.id = o.id;
  if (o.singletonKey) out.singletonKey = o.singletonKey;
  if (o.singletonSeconds) out.singletonSeconds = o.singletonSeconds;
  if (o.startAfter !== undefined) out.startAfter = o.startAfter instanceof Date ? o.startAfter : Math.max(0, Math.ceil(o.startAfter));
  if (o.retryLimit !== undefined) out.retryLimit = o.retryLimit;
  if (o.retryDelay !== undefined) out.retryDelay = o.retryDelay;
  if (o.retryBackoff !== undefined) out.retryBackoff = o.retryBackoff;
  if (o.expireInSeconds !== undefined) out.expireInSeconds = o.expireInSeconds;
  if (db) out.db = sqlAdapter(db);
  return out;
}

/**
 * Enqueue one job. Pass the transaction that writes your rows (`trx`) to make it atomic with them; with the plain
 * database it is sent on its own. Returns the job id (null when deduplicated: same id, or singletonKey rules).
 */
export async function enqueue(db: SqlExecutor | Transaction<DB>, name: string, data: object, opts?: EnqueueOptions): Promise<string | null> {
  const bg = requireBackground();
  return bg.boss.send(name, data, sendOptions(opts, db));
}

/** Enqueue many jobs in one statement (same transaction rules as enqueue). */
export async function enqueueMany(
  db: SqlExecutor | Transaction<DB>,
  name: string,
  jobs: Array<{ data: object } & Pick<EnqueueOptions, 'id' | 'singletonKey' | 'startAfter' | 'retryLimit' | 'retryDelay' | 'retryBackoff' | 'expireInSeconds'>>,
): Promise<void> {
  if (!jobs.length) return;
  const bg = requireBackground();
  const rows: PgBoss.JobInsert[] = jobs.map((j) => ({
    name,
    data: j.data,
    ...(j.id ? { id: j.id } : {}),
    ...(j.singletonKey ? { singletonKey: j.singletonKey } : {}),
    ...(j.startAfter !== undefined ? { startAfter: j.startAfter instanceof Date ? j.startAfter : new Date(Date.now() + j.startAfter * 1000) } : {}),
    ...(j.retryLimit !== undefined ? { retryLimit: j.retryLimit } : {}),
    ...(j.retryDelay !== undefined ? { retryDelay: j.retryDelay } : {}),
    ...(j.retryBackoff !== undefined ? { retryBackoff: j.retryBackoff } : {}),
    ...(j.expireInSeconds !== undefined ? { expireInSeconds: j.expireInSeconds } : {}),
  }));
  await bg.boss.insert(rows, { db: sqlAdapter(db) } as any);
}

export function currentBackground(): Background | null {
  return current;
}

function requireBackground(): Background {
  if (!current) throw new Error('background jobs are not started: call startBackground() first (tests: createTestApp({ background: true }))');
  return current;
}

function num(env: NodeJS.ProcessEnv, key: string, dflt: number): number {
  const v = env[key];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${key} must be a non-negative number, got "${v}"`);
  return n;
}

/** Start pg-boss (installing or migrating its schema), register every capability's queues, start workers. */
export async function startBackground(deps: BackgroundDeps): Promise<Background> {
  const env = deps.env ?? process.env;
  const working = deps.work ?? env.GUICHET_WORKERS !== 'off';
  const { database, log } = deps;
  const common = {
    schema: 'pgboss',
    // maintenance moves jobs of dead workers (active past expireIn) back to retry
    maintenanceIntervalSeconds: num(env, 'GUICHET_JOBS_MAINTENANCE_S', 30),
    monitorStateIntervalSeconds: 60,
    supervise: working,
    schedule: working,
    archiveCompletedAfterSeconds: num(env, 'GUICHET_JOBS_ARCHIVE_S', 3600),
    deleteAfterDays: 7,
  };
  const url = deps.config.databaseUrl;
  const boss =
    database.kind === 'postgres' && url
      ? new PgBoss({ ...common, connectionString: url, max: Math.max(2, num(env, 'GUICHET_JOBS_POOL', 6)), application_name: 'guichet-jobs' })
      : new PgBoss({ ...common, db: { executeSql: (text: string, values?: any[]) => database.executeSql(text, values) } });
  boss.on('error', (err: any) => log.error({ err: { message: err?.message, queue: err?.queue } }, 'job queue error'));
  await boss.start();

  const queues: string[] = [];
  const bg: Background = {
    boss,
    working,
    async registerQueue(name, handler, options = {}) {
      const queueOpts: PgBoss.Queue = {
        name,
        policy: options.policy ?? 'standard',
        retryLimit: options.retryLimit ?? 3,
        retryDelay: options.retryDelay ?? 30,
        retryBackoff: options.retryBackoff ?? true,
        expireInSeconds: options.expireInSeconds ?? 15 * 60,
        ...(options.deadLetter ? { deadLetter: options.deadLetter } : {}),
      };
      const existing = await boss.getQueue(name);
      if (existing) await boss.updateQueue(name, queueOpts);
      else
        await boss.createQueue(name, queueOpts).catch(async (err: any) => {
          // another process created it at the same moment
          if (!(await boss.getQueue(name))) throw err;
        });
      queues.push(name);
      if (!working) return;
      const workers = Math.max(1, options.workers ?? 1);
      const batchSize = options.batchSize ?? 1;
      for (let i = 0; i < workers; i++) {
        let workerId: string | undefined;
        workerId = await boss.work<any>(
          name,
          { batchSize, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1 },
          async (jobs: Job<any>[]) => {
            try {
              await handler(jobs as any);
            } catch (err) {
              log.warn({ err, queue: name, jobs: jobs.length }, 'job batch failed');
              throw err;
            }
            // A full batch means more are probably waiting: fetch again at once instead of sleeping out the polling
            // interval (pg-boss waits `interval - duration` after every fetch, which caps a worker at one batch per
            // interval: 4 workers × 100 jobs / 0.5 s = 800 notices/s whatever the machine could do).
            if (workerId && jobs.length >= batchSize) boss.notifyWorker(workerId);
          },
        );
      }
    },
    async schedule(name, cron, data) {
      await boss.schedule(name, cron, data ?? {}, { tz: 'UTC' });
    },
    async complete(name, ids, opts) {
      if (!ids.length) return;
      await (boss as any).complete(name, ids, undefined, opts?.db ? { db: sqlAdapter(opts.db) } : undefined);
    },
    async fail(name, ids, error, opts) {
      if (!ids.length) return;
      const data = { message: String((error as Error)?.message ?? error) };
      await (boss as any).fail(name, ids, data, opts?.db ? { db: sqlAdapter(opts.db) } : undefined);
    },
    async stop() {
      if (current === bg) current = null;
      await boss.stop({ graceful: true, wait: true, close: true, timeout: 10_000 } as any);
    },
  };
  current = bg;
  for (const c of deps.capabilities) if (c.jobs) await c.jobs(bg, deps);
  log.info({ queues, working, engine: database.kind }, 'background jobs started');
  return bg;
}
