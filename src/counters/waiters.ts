/**
 * Agents waiting for a client, without polling (issue 20).
 *
 * An agent whose call-next finds nobody may ask the server to hold the answer (`?wait=<seconds>`): the request waits
 * here, in the server process, until a ticket this counter may serve comes (then it answers `woken: true` and the
 * agent calls next again at once) or the wait ends (`woken: false`: the agent asks again).
 *
 * How a new ticket reaches the right agent: once a ticket waits (a new ticket, a transfer, a client sent on to the
 * next service of the visit; after the commit), the process that wrote it calls ticketWaiting(): its own waiting
 * agents are woken at once, and a `NOTIFY counters_queue` tells the other processes (batched: one statement in
 * flight per process, at most one every FLUSH_MS, 250 ms), which LISTEN on a connection of their own. Each process wakes ONE
 * of its waiting agents who may serve that ticket (routing.isEligible: skills, language, organisation, target counter), the one waiting
 * longest.
 * Why not NOTIFY inside the ticket's own statement: PostgreSQL serialises the commits of every transaction that
 * notified (a lock held through the commit's WAL flush), so under load every ticket waited for the fsyncs of the
 * others (bench:queue, 2 Dec 2026: call-next p99 over a second). A transaction that only notifies still takes a
 * transaction id and writes a commit record (measured: one xid per pg_notify), so it commits with synchronous_commit
 * off (nothing to keep after a crash), and each process has one such statement in flight at a time.
 *
 * Nothing is left unserved when a notification is lost:
 *  - the listening connection lost (a PostgreSQL restart, a network cut): once it listens again every waiting agent
 *    is woken to look (`onGap`);
 *  - whatever else: every SAFETY_SWEEP_MS each process reads, in ONE statement, the kinds of ticket waiting at the
 *    offices where it has waiting agents, and treats them as notifications (the slow safety poll: one read per process,
 *    not one per agent; COUNTERS_SAFETY_SWEEP_MS, default 30 s).
 *
 * A cursor in each empty answer (`<process>.<generation>.<notification number>`) lets the agent's next long poll skip
 * the queue read: when it comes back to the same process, whose listener has not been interrupted, and no ticket it
 * may serve was announced since, nothing can have changed for it, and the server holds the request at once.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { counter as metricCounter } from '../http/metrics';
import { isEligible, type CallingCounter, type Pooling, type WaitingTicket } from './routing';

export const QUEUE_CHANNEL = 'counters_queue';
/** The longest a call-next may be held (s): under the 60 s idle timeout of common reverse proxies. */
export const MAX_WAIT_SECONDS = 55;
/** How often each process looks for waiting tickets its waiting agents may serve, whatever the notifications said. */
export const SAFETY_SWEEP_MS = 30_000;
/**
 * The shortest time between two notifying statements of a process (its own agents are woken at once). Each statement
 * is a round trip and a commit, and PostgreSQL delivers it to every listening process, the sender's own included:
 * three wake-ups of a process. At 50 ms a busy office network sent one about every request in ten (bench:queue,
 * twelfth session); at 250 ms, a fifth of that. An agent held by another process learns of a new ticket at most
 * about a quarter of a second later, far less than a client takes to reach the counter.
 */
export const FLUSH_MS = 250;
/** How long announcements are kept to check cursors (longer than a wait). */
const LOG_MS = 120_000;
/** How long a remembered counter (agent, skills, languages) stands in for a read when a cursor is accepted. */
const CONTEXT_MS = 300_000;

/** What a notification carries: enough for routing.isEligible. */
export type Announced = Pick<WaitingTicket, 'serviceId' | 'orgId' | 'language' | 'targetCounterId'>;

/** A waiting ticket as announced: [office, service, organisation, language, target counter]. */
type Item = [officeId: string, serviceId: string, orgId: string, language: string, targetCounterId: string | null];
const processHubs = new Set<QueueWaiters>();

/**
 * A ticket now waits (call it after the commit): every QueueWaiters of this process wakes one of its agents who may
 * serve it and tells the other processes (NOTIFY, batched).
 */
export function ticketWaiting(t: { office_id: string; service_id: string; org_id: string; language: string; target_counter_id: string | null }): void {
  const item: Item = [t.office_id, t.service_id, t.org_id, t.language, t.target_counter_id];
  for (const h of processHubs) h.local(item);
}

export type WakeReason = 'ticket' | 'check' | 'timeout' | 'closed' | 'aborted';

interface Waiter {
  counter: CallingCounter;
  pooling: Pooling;
  done: (why: WakeReason) => void;
}

const metrics = {
  notifications: metricCounter('guichet_counters_queue_notifications_total', 'Queue notifications received (new waiting tickets), by source', ['source']),
  woken: metricCounter('guichet_counters_waiters_woken_total', 'Waiting agents woken, by reason', ['reason']),
  sweeps: metricCounter('guichet_counters_safety_sweeps_total', 'Safety sweeps (one read per process for the offices with waiting agents)'),
};

export class QueueWaiters {
  /** this process (a restarted process has another: its cursors are refused) */
  readonly instance = crypto.randomBytes(4).toString('hex');
  /** listener generation: +1 after every gap (cursors from before it are refused) */
  private generation = 0;
  private seq = 0;
  private byOffice = new Map<string, Set<Waiter>>();
  private log = new Map<string, Array<{ seq: number; at: number; t: Announced }>>();
  /** per office: announcements up to this number were dropped from the log */
  private pruned = new Map<string, number>();
  private contexts = new Map<string, { staffId: string; counter: CallingCounter; pooling: Pooling; at: number }>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private pending: Item[] = [];
  private flushScheduled = false;
  private flushing = false;
  private lastFlush = 0;

  constructor(private db?: Database, private sweepMs = SAFETY_SWEEP_MS) {}

  /** Start the safety sweep (the listener is started by the caller, which passes notifications to notify()). */
  start(): void {
    processHubs.add(this);
    if (!this.db || this.sweepTimer) return;
    this.sweepTimer = setInterval(() => void this.sweep(), this.sweepMs);
    this.sweepTimer.unref();
  }

  /** A ticket written by this process: wake here now, tell the others soon (one NOTIFY at a time, batched). */
  local(item: Item): void {
    metrics.notifications.inc({ source: 'local' });
    this.announceItem(item);
    if (!this.db) return;
    this.pending.push(item);
    this.scheduleFlush();
  }

  /**
   * At most ONE notifying statement in flight per process, and at most one every FLUSH_MS: what arrives meanwhile
   * goes out with the next. A statement per tick, each taking a pooled connection through a commit that PostgreSQL
   * serialises for the whole cluster (every transaction that notified holds one lock through its commit), let those
   * statements pile up under load and take the pool from the requests (bench:queue, 2 Dec 2026).
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing || !this.pending.length || this.closed) return;
    this.flushScheduled = true;
    const wait = Math.max(0, this.lastFlush + FLUSH_MS - Date.now());
    const run = () => {
      this.flushScheduled = false;
      void this.flush();
    };
    if (wait > 0) setTimeout(run, wait).unref();
    else setImmediate(run);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    this.lastFlush = Date.now();
    const items = this.pending.splice(0);
    try {
      // payloads stay under PostgreSQL's 8,000 bytes; all of them go in ONE statement (one round trip, one commit)
      const payloads: string[] = [];
      for (let i = 0; i < items.length; ) {
        const chunk: Item[] = [];
        let size = 40;
        while (i < items.length && size < 6_000) {
          size += JSON.stringify(items[i]).length + 1;
          chunk.push(items[i++]);
        }
        payloads.push(JSON.stringify({ i: this.instance, t: chunk }));
      }
      try {
        // A notification is worth nothing after a crash (nobody listened to it then), so its commit does not wait
        // for the WAL to reach the disk: the cluster-wide notify lock is held for microseconds, not an fsync.
        await sql`select set_config('synchronous_commit', 'off', true), pg_notify(${QUEUE_CHANNEL}, p) from unnest(${payloads}::text[]) as p`.execute(this.db!);
      } catch {
        /* the database briefly away: the other processes' safety sweeps find these tickets */
      }
    } finally {
      this.flushing = false;
      this.scheduleFlush();
    }
  }

  /** A notification's payload (from LISTEN): { i: process, t: items }. Our own and malformed payloads are ignored. */
  notify(payload: string): void {
    let a: { i?: unknown; t?: unknown };
    try {
      a = JSON.parse(payload);
    } catch {
      return;
    }
    if (!a || typeof a !== 'object' || a.i === this.instance || !Array.isArray(a.t)) return;
    for (const item of a.t) {
      if (!Array.isArray(item) || typeof item[0] !== 'string') continue;
      metrics.notifications.inc({ source: 'notify' });
      this.announceItem(item as Item);
    }
  }

  private announceItem([officeId, serviceId, orgId, language, targetCounterId]: Item): void {
    this.announce(officeId, { serviceId, orgId, language, targetCounterId: targetCounterId ?? null });
  }

  private announce(officeId: string, t: Announced): void {
    const now = Date.now();
    const seq = ++this.seq;
    let log = this.log.get(officeId);
    if (!log) this.log.set(officeId, (log = []));
    log.push({ seq, at: now, t });
    let drop = 0;
    while (drop < log.length && (now - log[drop].at > LOG_MS || log.length - drop > 500)) drop++;
    if (drop) {
      this.pruned.set(officeId, log[drop - 1].seq);
      log.splice(0, drop);
    }
    // wake ONE waiting agent who may serve it: the one waiting longest (a Set iterates in insertion order)
    const ws = this.byOffice.get(officeId);
    if (!ws) return;
    for (const w of ws) {
      if (isEligible({ id: '', priority: 'none', queuedAt: 0, ...t }, w.counter, w.pooling)) {
        w.done('ticket');
        return;
      }
    }
  }

  /** After a gap in listening: every waiting agent looks again; cursors from before are refused. */
  gap(): void {
    this.generation++;
    metrics.woken.inc({ reason: 'gap' }, this.size());
    for (const ws of this.byOffice.values()) for (const w of [...ws]) w.done('check');
  }

  size(): number {
    let n = 0;
    for (const ws of this.byOffice.values()) n += ws.size;
    return n;
  }

  /** The cursor an empty answer carries (read it BEFORE the queue read it describes). */
  cursor(): string {
    return `${this.instance}.${this.generation}.${this.seq}`;
  }

  /** What a counter's last read said about it (agent, skills, languages, pooling), kept to check later cursors. */
  remember(counterId: string, staffId: string, counter: CallingCounter, pooling: Pooling): void {
    this.contexts.set(counterId, { staffId, counter, pooling, at: Date.now() });
  }

  /**
   * Whether a long poll may skip the queue read: the cursor comes from this process and listener generation, the
   * counter was read lately for the same agent, and no ticket it may serve was announced since. Returns the
   * remembered counter, or null (then the caller reads).
   */
  acceptCursor(cursor: string | undefined, officeId: string, counterId: string, staffId: string): { counter: CallingCounter; pooling: Pooling } | null {
    if (!cursor) return null;
    const [instance, gen, seqText] = cursor.split('.');
    const since = Number(seqText);
    if (instance !== this.instance || Number(gen) !== this.generation || !Number.isInteger(since) || since > this.seq) return null;
    const ctx = this.contexts.get(counterId);
    if (!ctx || ctx.staffId !== staffId || Date.now() - ctx.at > CONTEXT_MS) return null;
    if ((this.pruned.get(officeId) ?? 0) > since) return null;
    if (this.announcedSince(officeId, since, ctx.counter, ctx.pooling)) return null;
    return { counter: ctx.counter, pooling: ctx.pooling };
  }

  /** Whether a ticket this counter may serve was announced at the office after the cursor's number. */
  announcedSince(officeId: string, cursor: string, counter: CallingCounter, pooling: Pooling): boolean;
  announcedSince(officeId: string, since: number, counter: CallingCounter, pooling: Pooling): boolean;
  announcedSince(officeId: string, since: number | string, counter: CallingCounter, pooling: Pooling): boolean {
    const after = typeof since === 'string' ? Number(since.split('.')[2]) : since;
    const log = this.log.get(officeId) ?? [];
    for (let i = log.length - 1; i >= 0 && log[i].seq > after; i--) {
      if (isEligible({ id: '', priority: 'none', queuedAt: 0, ...log[i].t }, counter, pooling)) return true;
    }
    return false;
  }

  /**
   * Hold until a ticket this counter may serve is announced, a gap, the end of `ms`, close(), or `gone` emitting
   * 'close' (the HTTP answer's connection closed: the agent left). An emitter, not an AbortSignal: a held request
   * lives for seconds, and all it keeps alive meanwhile passes through the young generation of the garbage collector
   * (an AbortController and its signal were part of what every held call-next kept: about 2 % of what outlived it).
   */
  wait(officeId: string, counter: CallingCounter, pooling: Pooling, ms: number, gone?: Pick<NodeJS.EventEmitter, 'once' | 'off'>): Promise<WakeReason> {
    if (this.closed) return Promise.resolve('closed');
    return new Promise<WakeReason>((resolve) => {
      let set = this.byOffice.get(officeId);
      if (!set) this.byOffice.set(officeId, (set = new Set()));
      const ws = set;
      const finish = (why: WakeReason) => {
        if (!ws.delete(w)) return;
        if (!ws.size) this.byOffice.delete(officeId);
        clearTimeout(timer);
        gone?.off('close', onGone);
        if (why === 'ticket' || why === 'check') metrics.woken.inc({ reason: why });
        resolve(why);
      };
      const w: Waiter = { counter, pooling, done: finish };
      const onGone = () => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), Math.max(0, ms));
      ws.add(w);
      gone?.once('close', onGone);
    });
  }

  /**
   * The slow safety poll: one read for every office where this process has waiting agents, of the kinds of ticket
   * waiting there, each announced as a notification would be (a lost notification thus wakes an agent within
   * SAFETY_SWEEP_MS).
   */
  async sweep(): Promise<void> {
    if (!this.db || this.closed) return;
    const offices = [...this.byOffice.keys()];
    if (!offices.length) return;
    metrics.sweeps.inc();
    try {
      const rows = await sql<{ office_id: string; service_id: string; org_id: string; language: string; target_counter_id: string | null; n: number }>`
        select office_id, service_id, org_id, language, target_counter_id, count(*)::int as n
        from tickets where status = 'waiting' and office_id = any(${offices}::text[])
        group by 1, 2, 3, 4, 5`.execute(this.db);
      // as many announcements as tickets of that kind (at most 50): each wakes one agent
      for (const r of rows.rows) {
        for (let i = 0; i < Math.min(50, r.n); i++) {
          metrics.notifications.inc({ source: 'sweep' });
          this.announceItem([r.office_id, r.service_id, r.org_id, r.language, r.target_counter_id]);
        }
      }
    } catch {
      /* the database briefly away: the next sweep */
    }
  }

  /** Every held request answers (the server is stopping). */
  close(): void {
    this.closed = true;
    processHubs.delete(this);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const ws of this.byOffice.values()) for (const w of [...ws]) w.done('closed');
  }
}
