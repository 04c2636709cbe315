/**
 * Prepared statements described once per connection (database.ts, docs/decisions/0013): after a statement's first
 * execution on a connection, pg no longer asks PostgreSQL to describe its result; the rows are still read right,
 * with this project's type parsers (int8 → number, date → 'YYYY-MM-DD', timestamptz → Date, jsonb → value).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { describedByConnection, openDatabase, PreparingClient } from './database';

const url = process.env.DATABASE_URL;

describe('prepared statements described once per connection', { skip: !url && 'PostgreSQL only (DATABASE_URL)' }, () => {
  let client: InstanceType<typeof PreparingClient>;
  let describes = 0;
  before(async () => {
    client = new PreparingClient({ connectionString: url });
    await client.connect();
    // count the Describe messages this connection sends
    const connection = (client as any).connection;
    const describe = connection.describe.bind(connection);
    connection.describe = (msg: unknown) => {
      describes++;
      return describe(msg);
    };
  });
  after(async () => {
    await client?.end();
  });

  const text = `select $1::int8 as n, $2::text as t, $3::date as d, $4::timestamptz as at, $5::jsonb as j, null::text as nothing,
    g as i from generate_series(1, $6::int) g /* describe-once ${process.pid} */`;

  it('describes on the first prepared execution only, and reads every row right after that', async () => {
    const before = describes;
    for (let k = 0; k < 6; k++) {
      const at = new Date(Date.UTC(2026, 11, 3, 10, k));
      const r = await client.query(text, [1000 + k, `text ${k}`, `2026-12-0${k + 1}`, at, JSON.stringify({ k }), k]);
      assert.equal(r.rows.length, k, `execution ${k}: ${k} rows`);
      for (const [i, row] of r.rows.entries()) {
        assert.deepEqual(Object.keys(row), ['n', 't', 'd', 'at', 'j', 'nothing', 'i']);
        assert.equal(typeof row.n, 'string', 'a plain pg.Client keeps int8 as text (the pool sets the parsers)');
        assert.equal(row.n, String(1000 + k));
        assert.equal(row.t, `text ${k}`);
        assert.ok(row.d instanceof Date, 'pg’s own date parser on a plain client');
        assert.equal((row.at as Date).getTime(), at.getTime());
        assert.deepEqual(row.j, { k });
        assert.equal(row.nothing, null);
        assert.equal(row.i, i + 1);
      }
    }
    // execution 0: sent unnamed (described, not learnt); 1: prepared and described (learnt); 2–5: not described
    assert.equal(describes - before, 2);
    assert.equal(describedByConnection.get((client as any).connection)?.size, 1);
  });

  it('a row whose width differs from what was learnt fails the query, is forgotten, and the next execution is right', async () => {
    const learnt = describedByConnection.get((client as any).connection)!;
    const [name, d] = [...learnt.entries()][0];
    learnt.set(name, { ...d, fields: d.fields.slice(1), parsers: d.parsers.slice(1) });
    await assert.rejects(client.query(text, [1, 'x', '2026-12-01', new Date(), '{}', 2]), /a row of 7 columns, described with 6/);
    assert.equal(learnt.has(name), false);
    const r = await client.query(text, [1, 'x', '2026-12-01', new Date(), '{}', 2]);
    assert.equal(r.rows.length, 2);
    assert.equal(r.rows[1].i, 2);
    assert.ok(learnt.has(name), 'learnt again from the new description');
  });

  it('statements without rows (NoData) and errors behave as before', async () => {
    const tmp = `describe_once_${process.pid}`;
    await client.query(`create temporary table ${tmp} (id int primary key, v text)`);
    for (let k = 0; k < 4; k++) {
      const r = await client.query(`insert into ${tmp} (id, v) values ($1, $2)`, [k, `v${k}`]);
      assert.equal(r.rowCount, 1);
      assert.deepEqual(r.rows, []);
    }
    await assert.rejects(client.query(`insert into ${tmp} (id, v) values ($1, $2)`, [1, 'again']), /duplicate key/);
    const r = await client.query(`select v from ${tmp} where id >= $1 order by id`, [2]);
    const again = await client.query(`select v from ${tmp} where id >= $1 order by id`, [2]);
    const third = await client.query(`select v from ${tmp} where id >= $1 order by id`, [3]);
    assert.deepEqual([r.rows, again.rows, third.rows], [[{ v: 'v2' }, { v: 'v3' }], [{ v: 'v2' }, { v: 'v3' }], [{ v: 'v3' }]]);
  });

  it('through the pool, the project’s type parsers apply to described-once rows', async () => {
    const database = await openDatabase({ databaseUrl: url, poolSize: 1 });
    try {
      for (let k = 0; k < 5; k++) {
        const r = await sql<{ n: number; d: string; x: number }>`select ${String(2 ** 40 + k)}::int8 as n, ${'2026-12-03'}::date as d, ${k}::numeric / 4 as x`.execute(database.db);
        assert.deepEqual(r.rows, [{ n: 2 ** 40 + k, d: '2026-12-03', x: k / 4 }]);
      }
    } finally {
      await database.close();
    }
  });
});
