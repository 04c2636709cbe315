/**
 * Crash test (PostgreSQL): the server (`src/main.ts`, a child process) receives a stream of signed payment
 * confirmations (the provider's webhooks) and is killed with SIGKILL in the middle of it, then restarted; the provider
 * delivers again every event it had no 2xx for (at-least-once), and some it had (duplicates). In the end every
 * confirmed payment is posted exactly once, every acknowledged confirmation survived the kill, and the ledger balances.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createTestDb, type TestDatabase } from '../../test/support/db';
import { seedDemoAgreements } from '../agreements/demo';
import { insertPendingPayments } from './test/pending';
import { sign, SIGNATURE_HEADER } from '../notices/signing';
import { ensureAccounts, ledgerTotals, clearing, payableOf, FEE_REVENUE } from './ledger';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const N = Number(process.env.CRASH_PAYMENTS ?? 300);
const SECRET = 'whsec_crash';
let child: ChildProcess | null = null;
let database: TestDatabase | null = null;
after(async () => {
  child?.kill('SIGKILL');
  await database?.cleanup();
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function start(url: string, port: number, oidcPort: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      ...process.env, DATABASE_URL: url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', GUICHET_WORKERS: 'off', OIDC_DEV_PORT: String(oidcPort),
      PAYMENT_PROVIDER: 'dev', DEV_PAYMENTS_URL: 'http://127.0.0.1:9', DEV_PAYMENTS_API_KEY: 'unused', DEV_PAYMENTS_WEBHOOK_SECRET: SECRET,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function ready(port: number) {
  const end = Date.now() + 240_000;
  while (Date.now() < end) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('server did not start');
}

const event = (n: number) => JSON.stringify({ id: `evt_crash_${n}`, type: 'payment.succeeded', created: new Date().toISOString(), data: { payment_id: `crash_${n}`, amount: 10900, status: 'succeeded' } });

async function deliver(port: number, n: number): Promise<boolean> {
  const body = event(n);
  try {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/payments/webhooks/dev`, { method: 'POST', headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(SECRET, body) }, body, signal: AbortSignal.timeout(20_000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

test('SIGKILL in the middle of a stream of payment confirmations: every confirmed payment posted exactly once, the ledger balances', { skip: !process.env.DATABASE_URL && 'PostgreSQL only (DATABASE_URL)' }, async () => {
  database = await createTestDb({ catalogue: true, poolSize: 4 });
  const db = database.db;
  await seedDemoAgreements(db);
  await ensureAccounts(db, [clearing('dev'), payableOf('on-mto'), payableOf('ottawa'), FEE_REVENUE]);
  await insertPendingPayments(db, 'crash', N);

  const port = await freePort();
  const oidcPort = await freePort();
  child = start(database.url!, port, oidcPort);
  await ready(port);
  const acked = new Set<number>();
  let next = 1;
  let killed = false;
  const sender = async () => {
    while (next <= N) {
      const n = next++;
      if (await deliver(port, n)) acked.add(n);
      if (!killed && n >= N / 3) {
        killed = true;
        child!.kill('SIGKILL'); // mid-stream: requests in flight are cut
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, sender));
  assert.ok(killed);
  // every acknowledged confirmation survived the kill
  const afterKill = await sql<{ ref: string }>`select provider_ref as ref from payments where status = 'succeeded'`.execute(db);
  const succeeded = new Set(afterKill.rows.map((r) => Number(r.ref.slice(6))));
  for (const n of acked) assert.ok(succeeded.has(n), `acknowledged confirmation ${n} lost`);
  // restart: the provider delivers every event again (at-least-once), acknowledged ones included
  child = start(database.url!, port, oidcPort);
  await ready(port);
  let again = 0;
  const redo = Array.from({ length: N }, (_, i) => i + 1);
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (redo.length) {
      const n = redo.shift()!;
      for (let a = 0; a < 5 && !(await deliver(port, n)); a++) await new Promise((r) => setTimeout(r, 200));
      again++;
    }
  }));
  assert.equal(again, N);
  const counts = await sql<{ succeeded: number; entries: number; dup: number }>`
    select (select count(*) from payments where provider_ref like 'crash_%' and status = 'succeeded') as succeeded,
           (select count(*) from journal_entries e join payments p on e.posting_key = 'payment:' || p.id where p.provider_ref like 'crash_%') as entries,
           (select count(*) from (select event_ref from journal_entries where event = 'payment' group by event_ref having count(*) > 1) d) as dup`.execute(db);
  assert.equal(Number(counts.rows[0].succeeded), N);
  assert.equal(Number(counts.rows[0].entries), N);
  assert.equal(Number(counts.rows[0].dup), 0);
  assert.deepEqual(await ledgerTotals(db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
  const owed = await sql<{ b: number }>`select balance_cents as b from ledger_account_balances where id = 'payable:on-mto'`.execute(db);
  assert.equal(Number(owed.rows[0].b), -8800 * N);
  child.kill('SIGTERM');
});
