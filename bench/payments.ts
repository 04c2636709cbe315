/**
 * npm run bench:payments  (PostgreSQL: DATABASE_URL required)
 *
 * 1. Payment confirmations: BENCH_PENDING (300,000) card payments of a two-partner basket (MTO $88 + Ottawa $18 + the
 *    one-stop's $2 + $1: five legs) are prepared pending; then BENCH_CONNS (64) HTTP connections send the provider's
 *    signed webhooks (development provider format, HMAC) for BENCH_SECONDS (60) from their own process
 *    (bench/payments-load.ts: the load generator does not share the server's event loop): each request verifies the
 *    signature and is confirmed by the server's group commit (src/payments/confirm-batcher.ts): the webhooks that
 *    arrive while a call is in flight go together in ONE database call (payments_confirm_many; alone:
 *    payments_confirm) and one commit: the payments and baskets marked paid, the entries and their legs posted (the
 *    legs' balance trigger locks the accounts' shards in sorted order), the events recorded; each webhook is answered
 *    after that commit.
 * 2. In the same run, the same database's raw single-row INSERT rate (autocommit, one row per statement) from the
 *    same number of connections for BENCH_INSERT_SECONDS (15).
 * 3. One remittance over BENCH_REMIT_PAYMENTS (1,000,000) settled payments of BENCH_PARTNERS (50) partners, loaded
 *    set-based (their ledger side is one aggregate payment entry per partner, so the ledger balances; the per-payment
 *    posting is what step 1 measures).
 * Then the whole ledger is checked: imbalance_cents = |sum of legs| + |sum of balances| + unbalanced entries +
 * accounts whose balance is not the sum of their legs + what the 50 partners are still owed after the remittance.
 * Last line: bench:payments payments_per_s=<x> insert_per_s=<x> ratio=<x> p99_ms=<x> remit_seconds=<x> imbalance_cents=<n> errors=<n>
 */
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import pg from 'pg';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchServer, percentile, postgresCpuMs } from './support';
import { seedDemoAgreements } from '../src/agreements/demo';
import { devProvider } from '../src/payments/providers/dev';
import { setPaymentProvider } from '../src/payments/providers/select';
import { insertPendingPayments } from '../src/payments/test/pending';
import { runRemittance } from '../src/payments/remittance';
import { ledgerTotals, ensureAccounts, payableOf, postEntry, clearing, FEE_REVENUE } from '../src/payments/ledger';
import { localDate } from '../src/i18n/index';
import { confirmBatcher } from '../src/payments/confirm-batcher';

const CONNS = Number(process.env.BENCH_CONNS ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const INSERT_SECONDS = Number(process.env.BENCH_INSERT_SECONDS ?? 15);
const PENDING = Number(process.env.BENCH_PENDING ?? 300_000);
const REMIT_PAYMENTS = Number(process.env.BENCH_REMIT_PAYMENTS ?? 1_000_000);
const PARTNERS = Number(process.env.BENCH_PARTNERS ?? 50);
const POOL = Number(process.env.BENCH_POOL ?? CONNS);
const SECRET = 'whsec_bench';

interface LoadResult { confirmed: number; errors: number; latencies: number[]; seconds: number; cpuMs: number }

if (!process.env.DATABASE_URL) {
  console.error('bench:payments needs DATABASE_URL (PostgreSQL)');
  process.exit(2);
}

const { database, app, db } = await benchServer(POOL);
let errors = 0;
try {
  await seedDemoAgreements(db);
  setPaymentProvider(devProvider({ url: 'http://127.0.0.1:9', apiKey: 'unused', webhookSecret: SECRET }));
  await ensureAccounts(db, [clearing('dev'), payableOf('on-mto'), payableOf('ottawa'), FEE_REVENUE]);

  // 1. pending two-partner card payments, prepared set-based
  let t0 = Date.now();
  await insertPendingPayments(db, 'bench', PENDING);
  await sql`analyze payments; analyze basket_components; analyze payment_baskets`.execute(db);
  console.log(`prepared ${PENDING} pending payments in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  // the load generator runs in its own process (bench/payments-load.ts): it does not share the server's event loop
  const load = fork(fileURLToPath(new URL('./payments-load.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_LOAD: JSON.stringify({ url: `http://127.0.0.1:${port}`, conns: CONNS, seconds: SECONDS, pending: PENDING, secret: SECRET }) },
  });
  const ready = new Promise<LoadResult>((resolve, reject) => {
    load.once('message', (m) => resolve(m as LoadResult));
    load.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
  });
  // profile of the confirmations: CPU of the server process, of the load generator and of PostgreSQL, commits, and
  // sessions waiting on a lock (sampled every 250 ms: the hot rows are the accounts' balance shards)
  const commits = async () => Number((await sql<{ n: number }>`select xact_commit as n from pg_stat_database where datname = current_database()`.execute(db)).rows[0].n);
  const commits0 = await commits();
  const cpu0 = process.cpuUsage();
  const pg0 = postgresCpuMs();
  const lockSamples: number[] = [];
  const sampler = setInterval(() => {
    sql<{ n: number }>`select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db)
      .then((r) => lockSamples.push(Number(r.rows[0].n)), () => {});
  }, 250);
  const res = await ready;
  const elapsed = res.seconds;
  const confirmed = res.confirmed;
  errors += res.errors;
  const latencies = res.latencies;
  clearInterval(sampler);
  try {
    const cpu = process.cpuUsage(cpu0);
    const nodeMs = (cpu.user + cpu.system) / 1000;
    const pgMs = postgresCpuMs() - pg0;
    const per = Math.max(1, confirmed + res.errors);
    const batches = confirmBatcher(db).stats;
    const avgLock = lockSamples.length ? lockSamples.reduce((x, y) => x + y, 0) / lockSamples.length : 0;
    console.log(`profile: server CPU ${(nodeMs / per).toFixed(2)} ms/confirmation, load generator CPU ${(res.cpuMs / per).toFixed(2)} ms/confirmation (its own process), postgres CPU ${(pgMs / per).toFixed(2)} ms/confirmation, ` +
      `${(((await commits()) - commits0) / per).toFixed(2)} commits/confirmation, ${avgLock.toFixed(1)} of ${POOL} sessions waiting on a lock on average (${lockSamples.length} samples); ` +
      `group commit: ${batches.calls} calls, ${(batches.items / Math.max(1, batches.calls)).toFixed(1)} webhooks a call on average, largest ${batches.largest}, ` +
      `${(batches.ms / Math.max(1, batches.calls)).toFixed(1)} ms a call, ${batches.fallbacks} fell back to one by one ` +
      `(GUICHET_CONFIRM_BATCH=${confirmBatcher(db).maxBatch}, GUICHET_CONFIRM_IN_FLIGHT=${confirmBatcher(db).inFlight}, GUICHET_CONFIRM_MIN_OVERLAP=${confirmBatcher(db).minOverlap})`);
  } catch (e) {
    console.log(`profile: not available (${(e as Error).message})`);
  }
  const paymentsPerS = confirmed / elapsed;
  latencies.sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(`confirmations: ${confirmed} in ${elapsed.toFixed(1)} s = ${paymentsPerS.toFixed(0)}/s, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, errors ${errors}`);
  const posted = await sql<{ n: number }>`select count(*) as n from journal_entries where event = 'payment'`.execute(db);
  if (Number(posted.rows[0].n) !== confirmed) {
    console.log(`entries posted ${posted.rows[0].n} ≠ confirmations ${confirmed}`);
    errors++;
  }

  // 2. raw single-row INSERT rate, same database, same number of connections
  const raw = new pg.Pool({ connectionString: database.url, max: CONNS });
  await raw.query('create table if not exists bench_raw_insert (id bigserial primary key, n bigint not null, at timestamptz not null default now())');
  let inserts = 0;
  const iend = Date.now() + INSERT_SECONDS * 1000;
  t0 = Date.now();
  await Promise.all(Array.from({ length: CONNS }, async () => {
    while (Date.now() < iend) {
      await raw.query({ name: 'bench_raw', text: 'insert into bench_raw_insert (n) values ($1)', values: [inserts] });
      inserts++;
    }
  }));
  const insertPerS = inserts / ((Date.now() - t0) / 1000);
  await raw.end();
  console.log(`raw inserts: ${insertPerS.toFixed(0)}/s`);

  // 3. one remittance over REMIT_PAYMENTS settled payments of PARTNERS partners
  t0 = Date.now();
  const partners = Array.from({ length: PARTNERS }, (_, i) => `bench-partner-${String(i + 1).padStart(2, '0')}`);
  await sql`insert into organisations (id, name_en, name_fr, level, jurisdiction, source)
    select p, 'Bench partner ' || p, 'Partenaire d’essai ' || p, 'municipal', 'CA-ON', 'bench' from unnest(${partners}::text[]) p on conflict do nothing`.execute(db);
  await ensureAccounts(db, partners.map(payableOf));
  const perPartner = Math.floor(REMIT_PAYMENTS / PARTNERS);
  const settledAt = new Date(Date.now() - 10 * 86_400_000);
  const chunk = 100_000;
  for (let from = 1; from <= REMIT_PAYMENTS; from += chunk) {
    const to = Math.min(REMIT_PAYMENTS, from + chunk - 1);
    await sql`
      with b as (
        insert into payment_baskets (reference, channel, lang, total_cents, expires_at, status, paid_at)
        select 'SETTLED-' || g, 'web', 'en', 1000 + (g % 500), ${settledAt}, 'paid', ${settledAt} from generate_series(${from}::int, ${to}::int) g
        returning id, reference, total_cents
      ), l as (
        insert into basket_lines (basket_id, service_id, fee_version_id, total_cents)
        select b.id, 'demo-dog-licence', 'bench', b.total_cents from b returning id, basket_id, total_cents
      ), c as (
        insert into basket_components (basket_id, line_id, kind, payee_org_id, account_id, amount_cents)
        select l.basket_id, l.id, 'statutory', p, 'payable:' || p, l.total_cents
        from l join b on b.id = l.basket_id, lateral (select ${sql.val(partners)}::text[] as arr) a,
          lateral (select a.arr[1 + (substr(b.reference, 9)::int % ${PARTNERS})] as p) pp
        returning 1
      )
      insert into payments (basket_id, reference, provider, provider_ref, method, amount_cents, status, debit_account_id, confirmed_at)
      select b.id, b.reference, 'dev', 'settled_' || b.reference, 'card', b.total_cents, 'succeeded', 'clearing:dev', ${settledAt} from b
      where (select count(*) from c) > 0`.execute(db);
  }
  // the ledger side of these settled payments: one aggregate entry per partner
  const sums = await sql<{ account_id: string; s: number }>`select account_id, sum(amount_cents) as s from basket_components where account_id like 'payable:bench-partner-%' group by account_id`.execute(db);
  await db.transaction().execute((trx) => postEntry(trx, {
    event: 'payment', eventRef: 'bench-settled', effectiveDate: localDate(settledAt), postingKey: 'bench:settled', memo: `${REMIT_PAYMENTS} settled payments (aggregate)`,
    legs: [{ account: clearing('dev'), cents: sums.rows.reduce((s, r) => s + Number(r.s), 0) }, ...sums.rows.map((r) => ({ account: r.account_id, cents: -Number(r.s) }))],
  }));
  await sql`analyze`.execute(db);
  console.log(`loaded ${REMIT_PAYMENTS} settled payments of ${PARTNERS} partners (${perPartner} each) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  t0 = Date.now();
  const run = await runRemittance(db, { orgIds: partners });
  const remitSeconds = (Date.now() - t0) / 1000;
  const items = run.batches.reduce((s, b) => s + b.items, 0);
  console.log(`remittance: ${run.batches.length} batches, ${items} items, ${remitSeconds.toFixed(1)} s`);
  if (run.batches.length !== PARTNERS || items !== REMIT_PAYMENTS) errors++;

  const totals = await ledgerTotals(db);
  const owed = await sql<{ s: number }>`select coalesce(sum(abs(balance_cents)), 0) as s from ledger_account_balances where id like 'payable:bench-partner-%'`.execute(db);
  const imbalance = Math.abs(totals.legsSum) + Math.abs(totals.balancesSum) + totals.unbalancedEntries + totals.driftAccounts + Number(owed.rows[0].s);
  const ratio = paymentsPerS / insertPerS;
  console.log(`bench:payments payments_per_s=${paymentsPerS.toFixed(0)} insert_per_s=${insertPerS.toFixed(0)} ratio=${ratio.toFixed(3)} p99_ms=${p99.toFixed(1)} remit_seconds=${remitSeconds.toFixed(1)} imbalance_cents=${imbalance} errors=${errors}`);
} finally {
  await app.close();
  await database.cleanup();
}
