/** Prepared statements on PostgreSQL: a repeated statement text is named once and then only bound and executed. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestDb } from '../../test/support/db';
import { openDatabase, poolIdleMs, preparedStatementName } from './database';

describe('prepared statements', () => {
  it('names a statement text the second time it is seen, with a stable name; other texts get other names', () => {
    const text = `select $1::int as x /* ${Math.random()} */`;
    assert.equal(preparedStatementName(text), undefined, 'seen once: sent unnamed');
    const name = preparedStatementName(text);
    assert.match(name ?? '', /^g_[0-9a-f]{40}$/);
    assert.equal(preparedStatementName(text), name);
    const other = `${text} `;
    preparedStatementName(other);
    const otherName = preparedStatementName(other);
    assert.ok(otherName && otherName !== name);
  });

  it('on PostgreSQL, the connection keeps the repeated query prepared and answers it right', { skip: !process.env.DATABASE_URL && 'PostgreSQL only (DATABASE_URL)' }, async () => {
    const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, poolSize: 1 });
    try {
      const marker = `prep_${Date.now()}`;
      const results: number[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await sql<{ x: number; m: string }>`select ${i}::int + 1 as x, ${marker}::text as m`.execute(database.db);
        results.push(r.rows[0].x);
      }
      assert.deepEqual(results, [1, 2, 3, 4, 5, 6, 7, 8]);
      // one connection (pool of 1): the statement is among its prepared statements, under the name derived from its text
      const prepared = await database.executeSql('select name, statement from pg_prepared_statements');
      const ours = prepared.rows.filter((r: { statement: string }) => r.statement.includes('::int + 1 as x'));
      assert.equal(ours.length, 1);
      assert.match(ours[0].name, /^g_[0-9a-f]{40}$/);
    } finally {
      await database.close();
    }
  });

  it('the pool keeps an unused connection for GUICHET_PG_IDLE_MS (5 minutes unless set), not pg\'s 10 s', () => {
    assert.equal(poolIdleMs({}), 300_000);
    assert.equal(poolIdleMs({ GUICHET_PG_IDLE_MS: '60000' }), 60_000);
    assert.equal(poolIdleMs({ GUICHET_PG_IDLE_MS: 'soon' }), 300_000, 'not a number: the default');
    assert.equal(poolIdleMs({ GUICHET_PG_IDLE_MS: '0' }), 300_000, 'below 1 s: the default, never "close at once"');
  });

  it('on PostgreSQL, an idle pooled connection is reused after a pause and closed only after the idle time', { skip: !process.env.DATABASE_URL && 'PostgreSQL only (DATABASE_URL)' }, async () => {
    const pid = async (db: Awaited<ReturnType<typeof openDatabase>>['db']) => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0].pid;
    const kept = await openDatabase({ databaseUrl: process.env.DATABASE_URL, poolSize: 1 });
    const short = await openDatabase({ databaseUrl: process.env.DATABASE_URL, poolSize: 1, idleMs: 1_000 });
    try {
      const [k1, s1] = [await pid(kept.db), await pid(short.db)];
      await new Promise((r) => setTimeout(r, 1_600));
      assert.equal(await pid(kept.db), k1, 'default: the same backend serves the next query');
      assert.notEqual(await pid(short.db), s1, 'idle 1 s: the connection was closed and a new backend answers');
    } finally {
      await kept.close();
      await short.close();
    }
  });

  it('on PostgreSQL, a server pool (keepOpen) opens all its connections at start and keeps them past the idle time', { skip: !process.env.DATABASE_URL && 'PostgreSQL only (DATABASE_URL)' }, async () => {
    const base = await createTestDb({ poolSize: 1 });
    const url = new URL(base.url!);
    url.searchParams.set('application_name', 'guichet_kept_pool_test');
    const kept = await openDatabase({ databaseUrl: url.toString(), poolSize: 3, keepOpen: true, idleMs: 1_000 });
    try {
      const count = async () => (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where application_name = 'guichet_kept_pool_test' and datname = current_database()`.execute(base.db)).rows[0].n;
      assert.equal(await count(), 3, 'three backends before any request');
      await new Promise((r) => setTimeout(r, 1_600));
      assert.equal(await count(), 3, 'still three after more than the idle time');
    } finally {
      await kept.close();
      await base.cleanup();
    }
  });
});
