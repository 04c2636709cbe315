/** Prepared statements on PostgreSQL: a repeated statement text is named once and then only bound and executed. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, preparedStatementName } from './database';

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
});
