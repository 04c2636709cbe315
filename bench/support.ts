/**
 * Shared set-up for the HTTP benchmarks: a Guichet server over a fresh seeded database (PGlite, or a new
 * PostgreSQL database when DATABASE_URL is set), not yet listening.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { capabilities } from '../src/capabilities';

export async function benchServer(poolSize: number, opts: { keepAs?: string } = {}) {
  const { createTestDb } = await import('../test/support/db');
  const { loadConfig } = await import('../src/config');
  const { buildApp } = await import('../src/http/app');
  const database = await createTestDb({ catalogue: true, poolSize, keepOpen: true, keepAs: opts.keepAs });
  const config = { ...loadConfig({ NODE_ENV: 'test', PORT: '0' }), databaseUrl: database.url };
  const app = await buildApp({ config, database, logger: false, capabilities });
  // as npm start does: the search index is built before the server takes requests
  const { searchIndexStats } = await import('../src/catalogue/search/index');
  await searchIndexStats(database.db);
  return { database, config, app, db: database.db };
}

/**
 * A further server process over a database another process prepared (multi-process benchmarks): opens it, builds
 * the app and, as npm start does, the search index before the server takes requests; not yet listening.
 */
export async function benchReplica(databaseUrl: string, poolSize: number) {
  const { openDatabase } = await import('../src/db/database');
  const { loadConfig } = await import('../src/config');
  const { buildApp } = await import('../src/http/app');
  const { searchIndexStats } = await import('../src/catalogue/search/index');
  const database = await openDatabase({ databaseUrl, poolSize, keepOpen: true }); // as npm start: connections opened now and kept
  const config = { ...loadConfig({ NODE_ENV: 'test', PORT: '0' }), databaseUrl };
  const app = await buildApp({ config, database, logger: false, capabilities });
  await searchIndexStats(database.db);
  return { database, app };
}

export const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** The p-th percentile (0–100, nearest rank) of values sorted ascending; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * CPU time (ms, user + system) used so far by the processes of this machine that `match` picks, from Linux /proc
 * (utime + stime, in clock ticks of 1/100 s). A process that ended between two readings drops out of the later one,
 * so read before and after a run of processes that stay up. 0 where /proc is not there.
 */
export function processCpuMs(match: (name: string, pid: number) => boolean): number {
  let ticks = 0;
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!match(name, Number(pid))) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process ended while we read
    }
  }
  return ticks * 10;
}

/**
 * The machine's CPU time so far (Linux /proc/stat, all cores, clock ticks): busy (user, nice, system, irq, softirq)
 * and stolen by the hypervisor (steal: a virtual machine whose host is busy with other guests). null without /proc.
 */
export function machineCpu(): { busy: number; steal: number; all: number } | null {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return { busy: user + nice + system + irq + softirq, steal: steal ?? 0, all: f.slice(0, 8).reduce((a, b) => a + (b || 0), 0) };
  } catch {
    return null;
  }
}

/** Busy and stolen shares of the machine between two machineCpu() readings: "machine busy 31 %, steal 12 %". */
export function machineShare(a: ReturnType<typeof machineCpu>, b: ReturnType<typeof machineCpu>): string {
  return a && b && b.all > a.all
    ? `machine busy ${((100 * (b.busy - a.busy)) / (b.all - a.all)).toFixed(0)} %, steal ${((100 * (b.steal - a.steal)) / (b.all - a.all)).toFixed(0)} %`
    : 'machine n/a';
}

/**
 * The machine's stolen share of CPU second by second (/proc/stat, read every second; the reading taken in wall-clock
 * second s covers about the second before it). calm(s, limit): the readings taken in second s and the next (which
 * together cover s) both exist and are under `limit` (a share: 0.05 = 5 %).
 */
export function stealBySecond() {
  const shares = new Map<number, number>();
  let last = machineCpu();
  const timer = setInterval(() => {
    const now = machineCpu();
    if (last && now && now.all > last.all) shares.set(Math.floor(Date.now() / 1000), (now.steal - last.steal) / (now.all - last.all));
    last = now;
  }, 1000);
  timer.unref();
  return {
    calm: (s: number, limit: number) => {
      const a = shares.get(s);
      const b = shares.get(s + 1);
      return a !== undefined && b !== undefined && a < limit && b < limit;
    },
    stop: () => clearInterval(timer),
  };
}

/** PostgreSQL's server processes on this machine (all of them: a benchmark's database should be the only busy one). */
export const postgresCpuMs = () => processCpuMs((name) => name === 'postgres' || name.startsWith('postgres:'));

/**
 * Where the CPU went, per request, and what that allows: with `cores` cores fully used, at most cores / (CPU per
 * request) requests a second, whatever the software waits for.
 */
export function cpuSplit(parts: Record<string, number>, requests: number, cores = os.cpus().length): string {
  const per = Object.entries(parts).map(([k, ms]) => [k, ms / requests] as const);
  const total = per.reduce((s, [, v]) => s + v, 0);
  return `CPU per request (ms): ${per.map(([k, v]) => `${k}=${v.toFixed(3)}`).join(' ')} total=${total.toFixed(3)}; ${cores} cores allow at most ${Math.round((cores * 1000) / total)} req/s`;
}

/** A TCP port free on 127.0.0.1 just now (for server processes that listen on one port together). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/** Runs a benchmark's (or one of its processes') main function; an error ends the process with status 1. */
export function run(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
