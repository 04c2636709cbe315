/** The PostgreSQL connection pool: how long an unused connection stays open, and a server's pool kept open (docs/decisions/0007). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestDb } from '../../test/support/db';
import { openDatabase, poolIdleMs, type OpenedDatabase } from './database';

const onlyPostgres = { skip: !process.env.DATABASE_URL && 'PostgreSQL only (DATABASE_URL)' };
const backendPid = async (d: OpenedDatabase) => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(d.db)).rows[0].pid;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('connection pool', () => {
  it('an unused connection stays open GUICHET_PG_IDLE_MS (5 minutes unless set), not pg\'s 10 s', () => {
    assert.equal(poolIdleMs({}), 300_000);
    assert.equal(poolIdleMs({ GUICHET_PG_IDLE_MS: '60000' }), 60_000);
    assert.throws(() => poolIdleMs({ GUICHET_PG_IDLE_MS: 'soon' }), /GUICHET_PG_IDLE_MS must be a whole number of milliseconds, at least 1000, got "soon"/);
    assert.throws(() => poolIdleMs({ GUICHET_PG_IDLE_MS: '0' }), /at least 1000/, 'never "close at once"');
    assert.throws(() => poolIdleMs({ GUICHET_PG_IDLE_MS: '1500.5' }), /whole number/);
  });

  it('on PostgreSQL, the pool closes a connection after GUICHET_PG_IDLE_MS, and keeps it within that time', onlyPostgres, async () => {
    const saved = process.env.GUICHET_PG_IDLE_MS;
    process.env.GUICHET_PG_IDLE_MS = '1000';
    const fromEnv = await openDatabase({ databaseUrl: process.env.DATABASE_URL, poolSize: 1 }).finally(() => {
      if (saved === undefined) delete process.env.GUICHET_PG_IDLE_MS;
      else process.env.GUICHET_PG_IDLE_MS = saved;
    });
    const long = await openDatabase({ databaseUrl: process.env.DATABASE_URL, poolSize: 1, idleMs: 60_000 });
    try {
      const [e1, l1] = [await backendPid(fromEnv), await backendPid(long)];
      await pause(1_600);
      assert.notEqual(await backendPid(fromEnv), e1, 'idle 1 s (from the environment): closed, a new backend answers');
      assert.equal(await backendPid(long), l1, 'idle 60 s: the same backend answers after the pause');
    } finally {
      await fromEnv.close();
      await long.close();
    }
  });

  it('on PostgreSQL, a server pool (keepOpen) opens all its connections at start and keeps them past the idle time', onlyPostgres, async () => {
    const base = await createTestDb({ poolSize: 1 });
    const url = new URL(base.url!);
    url.searchParams.set('application_name', 'guichet_kept_pool_test');
    const kept = await openDatabase({ databaseUrl: url.toString(), poolSize: 3, keepOpen: true, idleMs: 1_000 });
    try {
      const count = async () => (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where application_name = 'guichet_kept_pool_test' and datname = current_database()`.execute(base.db)).rows[0].n;
      assert.equal(await count(), 3, 'three backends before any request');
      await pause(1_600);
      assert.equal(await count(), 3, 'still three after more than the idle time');
    } finally {
      await kept.close();
      await base.cleanup();
    }
  });

  it('a server pool that cannot connect fails the start with the connection error', async () => {
    // nothing listens on port 1: the start fails with the reason instead of serving without its connections
    await assert.rejects(openDatabase({ databaseUrl: 'postgres://guichet@127.0.0.1:1/guichet', poolSize: 3, keepOpen: true }), /ECONNREFUSED/);
  });
});
