/**
 * Nothing lost, nothing applied twice: the worker is killed with SIGKILL at random moments during a fan-out and
 * restarted, again and again. At the end every notice has reached every chosen recipient, and each recipient applied
 * each notice exactly once (it deduplicates on the Idempotency-Key); the test counts requests received and notices
 * applied.
 *
 * - PGlite: the worker is the whole server process (`src/main.ts`) over a data directory, killed and restarted on
 *   the same directory; declarations are posted to it over HTTP between kills.
 * - PostgreSQL: the web app runs in this process with GUICHET_WORKERS=off; the worker is a separate process
 *   (`src/worker.ts`) that is killed and restarted.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pgliteCatalogueDump } from '../../test/support/db';
import { migrateToLatest } from '../db/migrate';
import { createTestApp, csrfFrom, type TestApp } from '../../test/support/app';
import { clientCookie, createTestClient } from '../../test/support/clients';
import { startPartner, type Partner } from '../../test/support/partners';
import { openDatabase } from '../db/database';
import type { Database } from '../db/database';
import { saveSubscription } from './service';
import { capabilities } from '../capabilities';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const usePg = Boolean(process.env.DATABASE_URL);
const ENV = {
  GUICHET_NOTICE_RETRY_BASE_S: '0.2',
  GUICHET_NOTICE_RETRY_MAX_S: '0.5',
  GUICHET_NOTICE_RETRY_WINDOW_S: '600',
  GUICHET_NOTICE_HTTP_TIMEOUT_MS: '2000',
  GUICHET_NOTICE_POLL_S: '0.5',
  GUICHET_NOTICE_JOB_EXPIRE_S: '3',
  GUICHET_NOTICE_BATCH: '10',
  GUICHET_JOBS_MAINTENANCE_S: '1',
};
const DECLARATIONS = Number(process.env.CRASH_DECLARATIONS ?? 28);
const KILLS = Number(process.env.CRASH_KILLS ?? 4);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const partners: Partner[] = [];
let child: ChildProcess | null = null;
after(async () => {
  child?.kill('SIGKILL');
  for (const p of partners) await p.close();
  if (fs.existsSync(childLog)) {
    const errors = fs.readFileSync(childLog, 'utf8').split('\n').filter((l) => l && !/ExperimentalWarning|Deprecation|trace-warnings|oidc-provider WARNING/.test(l));
    if (errors.length) console.log(`child stderr (last lines):\n${errors.slice(-15).join('\n')}`);
    fs.rmSync(childLog, { force: true });
  }
  if (process.env.DEBUG_HANDLES) setTimeout(() => console.log((process as any)._getActiveHandles().map((h: any) => h.constructor?.name + ' ' + (h.remotePort ?? h.pid ?? ''))), 2000).unref();
});

async function setupPartners(db: Database): Promise<string[]> {
  const specs: Array<[string, Parameters<typeof startPartner>[0]]> = [
    ['on-moh', { behaviour: 'fast' }],
    ['on-mto', { behaviour: 'slow', delayMs: 150 }],
    ['ottawa', { behaviour: 'flapping', failures: 1 }],
    ['on-mnr', { behaviour: 'random', failRate: 0.3 }],
    ['on-org', { behaviour: 'slow', delayMs: 400 }],
  ];
  const ids: string[] = [];
  for (const [i, [org, b]] of specs.entries()) {
    const p = await startPartner(b);
    const r = await saveSubscription(
      db,
      {
        id: `crash-${i}`, orgId: org, programEn: `Crash ${i}`, programFr: `Crash ${i}`, purposeEn: 'x', purposeFr: 'x',
        eventTypes: ['change-of-address'], fields: ['newAddress', 'effectiveDate'], legalBasis: 'consent', delivery: 'webhook', webhookUrl: p.url,
      },
      { staffId: 'test', allowLoopback: true },
    );
    p.setSecret(r.signingSecret!);
    partners.push(p);
    ids.push(`crash-${i}`);
  }
  return ids;
}

const childLog = path.join(os.tmpdir(), `guichet-crash-${process.pid}.log`);
function spawnProcess(args: string[], env: Record<string, string>): ChildProcess {
  // stderr goes to a file (no pipe stays open in this process after a kill)
  const fd = fs.openSync(childLog, 'a');
  const c = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    env: { ...process.env, ...ENV, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', fd],
  });
  fs.closeSync(fd);
  return c;
}

/** The child processes' last lines of stderr (warnings aside): put in a failure's message, where CI shows it. */
function childTail(n = 15): string {
  if (!fs.existsSync(childLog)) return '(no child stderr)';
  const lines = fs.readFileSync(childLog, 'utf8').split('\n').filter((l) => l && !/ExperimentalWarning|Deprecation|trace-warnings|oidc-provider WARNING/.test(l));
  return lines.length ? `child stderr (last lines):\n${lines.slice(-n).join('\n')}` : '(child stderr empty)';
}

// Generous bounds: CI runs this beside other test files on 2 cores, and a cold start there also restores the
// catalogue into a new data directory; a bound reached is a failure with the child's stderr in its message.
async function waitHealthy(url: string, timeoutMs = 120_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.status === 200) return;
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  throw new Error(`server did not become healthy in ${timeoutMs / 1000} s\n${childTail()}`);
}

function killHard(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  });
}

const recipientsFor = (i: number, all: string[]) => all.filter((_, k) => (i + k) % 5 !== 4 || i % 2 === 0); // 4 or 5 recipients

function declarationBody(i: number, all: string[]) {
  return {
    eventType: 'change-of-address',
    data: { newAddress: { line1: `${i} Elgin Street`, city: 'Ottawa', province: 'ON', postalCode: 'K1P 5K7' }, effectiveDate: new Date().toISOString().slice(0, 10) },
    recipients: recipientsFor(i, all),
  };
}

function assertExactlyOnce(noticeIds: string[], bySub: Map<string, string>, subs: string[]) {
  let received = 0;
  let applied = 0;
  for (const [k, p] of partners.entries()) {
    const expected = noticeIds.filter((id) => bySub.get(id) === subs[k]);
    received += p.received;
    applied += p.applied.size;
    for (const id of expected) assert.equal(p.applied.get(id), 1, `notice ${id} applied once by partner ${k}`);
    assert.equal(p.applied.size, expected.length, `partner ${k} applied exactly the notices meant for it`);
    assert.equal(p.badSignatures, 0);
  }
  // eslint-disable-next-line no-console
  console.log(`crash test: ${noticeIds.length} notices, ${applied} applied, ${received} requests received (retries and redeliveries deduplicated)`);
  assert.equal(applied, noticeIds.length);
  assert.ok(received >= applied);
}

test(`SIGKILL during a fan-out loses nothing and duplicates nothing (${usePg ? 'PostgreSQL: separate worker process' : 'PGlite: server process over a data dir'})`, { timeout: 480_000 }, async () => {
  if (!usePg) {
    // prepare a data directory: the seeded catalogue, a client, subscriptions pointing at our partners
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'guichet-crash-'));
    const disk = await openDatabase({ dataDir, loadDataDir: await pgliteCatalogueDump() });
    await migrateToLatest(disk.db, capabilities);
    const subs = await setupPartners(disk.db);
    const clientId = await createTestClient(disk.db);
    const cookie = await clientCookie(null as any, disk.db, clientId);
    await disk.close();

    const port = await freePort();
    const idpPort = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const start = async () => {
      const t0 = Date.now();
      child = spawnProcess(['src/main.ts'], { NODE_ENV: 'test', PORT: String(port), HOST: '127.0.0.1', GUICHET_DATA_DIR: dataDir, PUBLIC_BASE_URL: url, OIDC_DEV_PORT: String(idpPort) });
      await waitHealthy(url);
      if (process.env.DEBUG_HANDLES) console.log('server up in', Date.now() - t0, 'ms');
    };
    await start();
    let sent = 0;
    const accepted: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      // declare a few, then kill at a random moment of the fan-out
      const batch = Math.ceil(DECLARATIONS / KILLS);
      const posts = [];
      for (let j = 0; j < batch && sent < DECLARATIONS; j++, sent++) {
        posts.push(
          fetch(`${url}/api/v1/me/declarations`, {
            method: 'POST',
            headers: { cookie, 'x-csrf-token': csrfFrom(cookie), 'content-type': 'application/json' },
            body: JSON.stringify(declarationBody(sent, subs)),
          })
            .then(async (r) => {
              if (r.status === 201) accepted.push((await r.json()).declarationId);
            })
            .catch(() => {}),
        );
      }
      if (kill === 0) {
        // once: kill while declarations are being posted (those answered 201 must survive)
        await sleep(Math.random() * 300);
      } else {
        // otherwise: kill at a random moment of the fan-out that follows
        await Promise.all(posts);
        await sleep(50 + Math.random() * 1500);
      }
      await killHard(child!);
      await Promise.all(posts);
      await start();
    }
    // let it finish
    let bySub = new Map<string, string>();
    let ids: string[] = [];
    const end = Date.now() + 180_000;
    for (;;) {
      const r = await fetch(`${url}/api/v1/me/declarations`, { headers: { cookie } });
      if (r.status !== 200) throw new Error(`the declarations answered ${r.status}: ${(await r.text()).slice(0, 300)}\n${childTail()}`);
      const decls = (await r.json()).declarations as Array<{ id: string; notices: Array<{ id: string; subscriptionId: string; status: string }> }>;
      const all = decls.flatMap((d) => d.notices);
      if (all.length && all.every((n) => n.status === 'delivered')) {
        bySub = new Map(all.map((n) => [n.id, n.subscriptionId]));
        ids = all.map((n) => n.id);
        for (const id of accepted) assert.ok(decls.some((d) => d.id === id), `accepted declaration ${id} is stored`);
        assert.ok(accepted.length >= 1);
        break;
      }
      if (Date.now() > end) throw new Error(`not all delivered: ${JSON.stringify(all.map((n) => n.status))}\n${childTail()}`);
      await sleep(300);
    }
    child!.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    child = null;
    assertExactlyOnce(ids, bySub, subs);
    fs.rmSync(dataDir, { recursive: true, force: true });
    return;
  }

  // PostgreSQL: web app here (enqueue only), worker in a child process
  let t: TestApp | null = null;
  try {
    t = await createTestApp({ catalogue: true, background: true, env: { ...ENV, GUICHET_WORKERS: 'off' } });
    const subs = await setupPartners(t.db);
    const clientId = await createTestClient(t.db);
    const cookie = await clientCookie(t.app, t.db, clientId);
    const startWorker = () => {
      child = spawnProcess(['src/worker.ts'], { NODE_ENV: 'test', DATABASE_URL: t!.database.url! });
    };
    startWorker();
    let sent = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const batch = Math.ceil(DECLARATIONS / KILLS);
      for (let j = 0; j < batch && sent < DECLARATIONS; j++, sent++) {
        const r: { statusCode: number; body: string } = await t.app.inject({ method: 'POST', url: '/api/v1/me/declarations', headers: { cookie, 'x-csrf-token': csrfFrom(cookie) }, payload: declarationBody(sent, subs) });
        assert.equal(r.statusCode, 201, r.body);
      }
      await sleep(500 + Math.random() * 3500);
      await killHard(child!);
      startWorker();
    }
    const end = Date.now() + 180_000;
    for (;;) {
      const pending = await t.db.selectFrom('notices').select('id').where('status', '!=', 'delivered').execute();
      if (!pending.length) break;
      if (Date.now() > end) throw new Error(`${pending.length} notices not delivered\n${childTail()}`);
      await sleep(300);
    }
    const all = await t.db.selectFrom('notices').select(['id', 'subscription_id']).execute();
    assert.equal(all.length, Array.from({ length: DECLARATIONS }, (_, i) => recipientsFor(i, subs).length).reduce((a, b) => a + b, 0));
    child!.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    child = null;
    assertExactlyOnce(all.map((n) => n.id), new Map(all.map((n) => [n.id, n.subscription_id])), subs);
  } finally {
    await t?.close();
  }
});
