/**
 * `npm run bench:notices`: Tell Us Once delivery on PostgreSQL (DATABASE_URL, an admin URL; a fresh database is
 * created for the run and dropped at the end).
 *
 * Ten partner receivers on loopback (real HTTP servers verifying each HMAC signature and deduplicating on the
 * Idempotency-Key), in a separate process (bench/notices-partners.ts): they are other organisations' systems, so
 * their work does not run on Guichet's event loop. 10,000 declarations, each fanned out to 3–7 recipients (5 on average):
 *   1. latency: declarations at a steady 100/s (BENCH_LATENCY_DECLARATIONS, default 2,000); p50/p99 from the moment
 *      the declaration is made to the moment the partner has applied the notice;
 *   2. throughput: delivery is paused, the remaining declarations are made as fast as possible, then delivery
 *      restarts and drains the backlog; deliveries per second from the restart to the last delivery.
 * In the same run, the database's raw single-row insert rate (autocommit INSERTs from 8 connections for 3 s).
 * Last line: bench:notices deliveries=<n> per_s=<x> p99_ms=<x> raw_insert_per_s=<x> ratio=<x> lost=<n> duplicates=<n>
 */
import crypto from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { startBackground } from '../src/jobs/index';
import { declare, saveSubscription, DELIVER_QUEUE } from '../src/notices/service';
import { makeDeliveryHandler } from '../src/notices/delivery';
import { noticeSettings } from '../src/notices/settings';
import { fork, type ChildProcess } from 'node:child_process';
import { percentile } from './support';
import { capabilities } from '../src/capabilities';

/** The partners' process: counts and, at the end, every delivery (notice id → times applied, time applied, requests). */
interface PartnerDump {
  applied: Map<string, number>;
  appliedAt: Map<string, number>;
  attempts: Map<string, number>;
  badSignatures: number;
}
class Receivers {
  private seq = 0;
  private waiting = new Map<number, (m: any) => void>();
  private constructor(
    private child: ChildProcess,
    readonly urls: string[],
  ) {
    child.on('message', (m: { seq?: number }) => {
      if (m.seq !== undefined) {
        this.waiting.get(m.seq)?.(m);
        this.waiting.delete(m.seq);
      }
    });
  }
  static async start(): Promise<Receivers> {
    const child = fork(new URL('./notices-partners.ts', import.meta.url).pathname, [], { execArgv: process.execArgv, env: { ...process.env, BENCH_PARTNERS: String(PARTNERS) } });
    const urls = await new Promise<string[]>((resolve, reject) => {
      child.once('message', (m: { type: string; urls: string[] }) => resolve(m.urls));
      child.once('exit', (code) => reject(new Error(`partners exited ${code}`)));
    });
    return new Receivers(child, urls);
  }
  private ask<T>(type: string): Promise<T> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      this.child.send({ type, seq });
    });
  }
  setSecret(i: number, secret: string) {
    this.child.send({ type: 'secret', i, secret });
  }
  async delivered(): Promise<number> {
    return (await this.ask<{ n: number }>('count')).n;
  }
  async dump(): Promise<PartnerDump[]> {
    const r = await this.ask<{ partners: Array<{ applied: [string, number][]; appliedAt: [string, number][]; attempts: [string, number][]; badSignatures: number }> }>('dump');
    return r.partners.map((p) => ({ applied: new Map(p.applied), appliedAt: new Map(p.appliedAt), attempts: new Map(p.attempts), badSignatures: p.badSignatures }));
  }
  async close() {
    this.child.send({ type: 'close' });
    await new Promise((r) => this.child.once('exit', r));
  }
}

const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  console.error('bench:notices needs DATABASE_URL (PostgreSQL admin URL, e.g. postgres://postgres@127.0.0.1:5432/postgres)');
  process.exit(2);
}
const TOTAL = Number(process.env.BENCH_DECLARATIONS ?? 10_000);
const LATENCY_N = Math.min(TOTAL, Number(process.env.BENCH_LATENCY_DECLARATIONS ?? 2_000));
const RATE = Number(process.env.BENCH_RATE ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 12);
const PARTNERS = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function withDb(url: string, name: string) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function rawInsertRate(url: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  await pool.query('create table bench_raw (id bigserial primary key, at timestamptz not null default now(), payload text not null)');
  let n = 0;
  const end = Date.now() + 3000;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < end) {
        await pool.query('insert into bench_raw (payload) values ($1)', ['x'.repeat(200)]);
        n++;
      }
    }),
  );
  const rate = n / ((Date.now() - t0) / 1000);
  await pool.query('drop table bench_raw');
  await pool.end();
  return rate;
}

async function main() {
  const name = `guichet_bench_notices_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = withDb(adminUrl!, name);
  const log = pino({ level: 'warn' });
  let receivers: Receivers | null = null;
  let database: Awaited<ReturnType<typeof openDatabase>> | null = null;
  let stop: (() => Promise<void>) | null = null;
  try {
    database = await openDatabase({ databaseUrl: url, poolSize: 16 });
    const db = database.db;
    await migrateToLatest(db, capabilities);

    const raw = await rawInsertRate(url);
    console.log(`raw single-row inserts: ${raw.toFixed(0)}/s (8 connections, autocommit)`);

    // organisations, subscriptions (one per receiver), clients
    const orgs = Array.from({ length: PARTNERS }, (_, i) => `bench-org-${i}`);
    await db
      .insertInto('organisations')
      .values(orgs.map((id, i) => ({ id, name_en: `Bench partner ${i}`, name_fr: `Partenaire ${i}`, acronym_en: null, acronym_fr: null, level: 'provincial', jurisdiction: 'CA-ON', parent_id: null, logo_url: null, website_en: null, website_fr: null, phone: null, email: null, is_demo: true, source: 'bench' })) as any)
      .execute();
    const subs: string[] = [];
    receivers = await Receivers.start();
    const rx = receivers;
    for (const [i, org] of orgs.entries()) {
      const p = { url: rx.urls[i] };
      const r = await saveSubscription(
        db,
        {
          id: `bench-${i}`, orgId: org, programEn: `Bench ${i}`, programFr: `Banc ${i}`, purposeEn: 'bench', purposeFr: 'banc',
          eventTypes: ['change-of-address'], fields: ['subject.name', 'newAddress', 'effectiveDate'], legalBasis: i % 2 ? 'consent' : 'law', lawReference: i % 2 ? null : 'Bench Act',
          delivery: 'webhook', webhookUrl: p.url,
        },
        { staffId: 'bench', allowLoopback: true },
      );
      rx.setSecret(i, r.signingSecret!);
      subs.push(`bench-${i}`);
    }
    const clients = Array.from({ length: 2000 }, () => crypto.randomUUID());
    for (let i = 0; i < clients.length; i += 500) {
      await db
        .insertInto('clients')
        .values(clients.slice(i, i + 500).map((id, k) => ({ id, kind: 'person', oidc_subject: null, given_name: 'Bench', family_name: `Client${i + k}`, business_name: null, business_number: null, birth_date: '1980-01-01', email: null, phone: null, preferred_lang: 'en', contact_preferences: '{}', accessibility_needs: null })) as any)
        .execute();
    }

    const config = { ...loadConfig({ ...process.env, NODE_ENV: 'test' }), databaseUrl: url };
    const env = { ...process.env, GUICHET_NOTICE_BATCH: process.env.GUICHET_NOTICE_BATCH ?? '100', GUICHET_NOTICE_WORKERS: process.env.GUICHET_NOTICE_WORKERS ?? '4', GUICHET_NOTICE_POLL_S: '0.5', GUICHET_JOBS_POOL: '8' };
    const bg = await startBackground({ config, database, log: log as any, env, work: true, capabilities });
    stop = () => bg.stop();

    const subOf = new Map<string, number>(); // notice id → partner index
    const madeAt = new Map<string, number>(); // notice id → declaration time
    let failures = 0;
    const one = async (i: number) => {
      const k = 3 + (i % 5); // 3..7 recipients, 5 on average
      const start = (i * 7) % PARTNERS;
      const recipients = Array.from({ length: k }, (_, j) => subs[(start + j) % PARTNERS]);
      const t0 = Date.now();
      try {
        const r = await declare(
          db,
          { clientId: clients[i % clients.length], eventType: 'change-of-address', data: { newAddress: { line1: `${i} Bank Street`, city: 'Ottawa', province: 'ON', postalCode: 'K1P 5N2' }, effectiveDate: new Date().toISOString().slice(0, 10) }, recipients },
          { issuer: 'http://bench.invalid' },
        );
        for (const n of r.notices) {
          subOf.set(n.id, Number(n.subscriptionId.slice(6)));
          madeAt.set(n.id, t0);
        }
      } catch (err) {
        failures++;
        if (failures < 5) console.error('declaration failed', (err as Error).message);
      }
    };
    const delivered = () => rx.delivered();
    const waitAll = async (expected: () => number, timeoutMs: number) => {
      const end = Date.now() + timeoutMs;
      while ((await delivered()) < expected() && Date.now() < end) await sleep(50);
    };

    // phase 1: steady 100 declarations/s
    console.log(`phase 1: ${LATENCY_N} declarations at ${RATE}/s`);
    const p1Start = Date.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < LATENCY_N; i++) {
      const due = p1Start + (i * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      inflight.push(one(i));
    }
    await Promise.all(inflight);
    const p1Ids = [...madeAt.keys()];
    await waitAll(() => p1Ids.length, 60_000);
    let partners = await rx.dump();
    const latencies = p1Ids
      .map((id) => {
        const at = partners[subOf.get(id)!].appliedAt.get(id);
        return at ? at - madeAt.get(id)! : Number.POSITIVE_INFINITY;
      })
      .sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(`phase 1: ${p1Ids.length} notices, declaration→delivered p50=${p50} ms p99=${p99} ms`);

    // phase 2: delivery throughput. Workers are paused while the declarations are made (as fast as they can be),
    // then a backlog of ~40,000 notices is drained: deliveries per second from restart to the last delivery.
    await bg.boss.offWork(DELIVER_QUEUE);
    await sleep(1500);
    const before = await delivered();
    console.log(`phase 2: ${TOTAL - LATENCY_N} declarations, ${CONCURRENCY} at a time (delivery paused)`);
    const d0 = Date.now();
    let next = LATENCY_N;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) await one(next++);
      }),
    );
    const declaredIn = (Date.now() - d0) / 1000;
    console.log(`phase 2: declarations made at ${((TOTAL - LATENCY_N) / declaredIn).toFixed(0)}/s`);
    const settings = noticeSettings(env);
    const p2Start = Date.now();
    await bg.registerQueue(DELIVER_QUEUE, makeDeliveryHandler({ db, settings, log: log as any, bg }), {
      retryLimit: 20, retryDelay: 2, retryBackoff: false, expireInSeconds: settings.jobExpireSeconds, deadLetter: 'notices.dead',
      batchSize: settings.batchSize, workers: settings.workers, pollingIntervalSeconds: settings.pollingIntervalSeconds,
    });
    await waitAll(() => madeAt.size, 600_000);
    partners = await rx.dump();
    const lastAt = Math.max(...partners.flatMap((p) => [...p.appliedAt.values()]));
    const p2Deliveries = (await delivered()) - before;
    const perS = p2Deliveries / ((lastAt - p2Start) / 1000);
    console.log(`phase 2: ${p2Deliveries} deliveries in ${((lastAt - p2Start) / 1000).toFixed(1)} s = ${perS.toFixed(0)}/s`);

    // wait for the last batches to settle in the database
    for (let i = 0; i < 300; i++) {
      const pending = await db.selectFrom('notices').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
      if (Number(pending.n) === 0) break;
      await sleep(100);
    }
    // lost and duplicates (every delivery, after the last batches settled)
    partners = await rx.dump();
    let lost = 0;
    for (const [id, k] of subOf) if (partners[k].applied.get(id) !== 1) lost++;
    let duplicates = 0;
    for (const p of partners) for (const [id, n] of p.attempts) if (p.applied.has(id) && n > 1) duplicates += n - 1;
    const extra = partners.reduce((a, p) => a + [...p.applied.keys()].filter((id) => !subOf.has(id)).length, 0);
    const statuses = await db.selectFrom('notices').select(['status']).select((eb) => eb.fn.countAll<number>().as('n')).groupBy('status').execute();
    console.log(`notices by status: ${statuses.map((s) => `${s.status}=${s.n}`).join(' ')}; declaration failures: ${failures}; unexpected applications: ${extra}`);
    const total = await delivered();
    console.log(
      `bench:notices deliveries=${total} per_s=${perS.toFixed(0)} p99_ms=${p99 === Number.POSITIVE_INFINITY ? -1 : p99} raw_insert_per_s=${raw.toFixed(0)} ratio=${(perS / raw).toFixed(2)} lost=${lost + failures} duplicates=${duplicates + extra}`,
    );
  } finally {
    await stop?.().catch(() => {});
    await receivers?.close();
    await database?.close();
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    await a.query(`drop database if exists "${name}" with (force)`).catch(() => {});
    await a.end();
  }
}

await main();
process.exit(0);
