/** Reusable queries (compiled.ts): compiled once per shape, then bound; the values land in their places; misuse stops. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql, type KyselyPlugin } from 'kysely';
import { createTestDb, type TestDatabase } from '../../test/support/db';
import { rawCompilable, reusable } from './compiled';
/** A published catalogue status (the column's values; spelled out so that the plumbing's tests import no capability). */
type ServiceStatus = 'draft' | 'in_review' | 'published' | 'withdrawn';

let d: TestDatabase;
before(async () => {
  d = await createTestDb({ catalogue: true });
});
after(async () => {
  await d?.cleanup();
});

/** Counts how many times Kysely builds (transforms) a query: a reusable query is built once per shape. */
function countingBuilds() {
  let n = 0;
  const plugin: KyselyPlugin = {
    transformQuery: (args) => {
      n++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { plugin, count: () => n };
}

test('a reusable query is built once per shape and answers with the values of each call, constants kept', async () => {
  const builds = countingBuilds();
  const db = d.db.withPlugin(builds.plugin);
  const servicesOf = reusable((q, p: { org: string; status: ServiceStatus; limit: number }, shape: 'titles' | 'ids') =>
    q
      .selectFrom('services')
      .select(shape === 'titles' ? ['services.id', 'services.title_en'] : ['services.id'])
      .where('services.owner_org_id', '=', p.org)
      .where('services.status', '=', p.status)
      .where('services.is_demo', 'in', [true, false]) // constants compiled in stay as they were
      .orderBy('services.id')
      .limit(p.limit),
  );
  const expected = async (org: string, limit: number) =>
    (await d.db.selectFrom('services').select('id').where('owner_org_id', '=', org).where('status', '=', 'published').orderBy('id').limit(limit).execute()).map((r) => r.id);

  const a = await servicesOf.rows(db, 'ids', { org: 'on-mto', status: 'published', limit: 3 });
  const b = await servicesOf.rows(db, 'ids', { org: 'on-mnr', status: 'published', limit: 2 });
  const c = await servicesOf.rows(db, 'titles', { org: 'on-mto', status: 'published', limit: 1 });
  assert.ok(a.length > 0 && b.length > 0);
  assert.deepEqual(
    a.map((r) => r.id),
    await expected('on-mto', 3),
  );
  assert.deepEqual(
    b.map((r) => r.id),
    await expected('on-mnr', 2),
  );
  assert.equal(c.length, 1);
  assert.equal(typeof (c[0] as { title_en?: string }).title_en, 'string');
  assert.equal(builds.count(), 2, 'one build per shape, none per call');

  const first = servicesOf.bind(db, 'ids', { org: 'x', status: 'published', limit: 1 });
  const second = servicesOf.bind(db, 'ids', { org: 'y', status: 'draft', limit: 9 });
  assert.equal(first.sql, second.sql, 'the same SQL text for every call of a shape');
  assert.deepEqual(first.parameters, ['x', 'published', true, false, 1]);
  assert.deepEqual(second.parameters, ['y', 'draft', true, false, 9]);
  assert.equal(await servicesOf.first(db, 'ids', { org: 'no-such-org', status: 'published', limit: 1 }), undefined);
});

test('values of every kind are bound: null, dates, numbers; a missing value is an error, not a NULL', async () => {
  const echo = reusable((q, p: { t: string | null; at: Date; n: number }) =>
    q.selectNoFrom((eb) => [sql<string | null>`${p.t}::text`.as('t'), sql<Date>`${p.at}::timestamptz`.as('at'), eb.val(p.n).as('n')]),
  );
  const at = new Date('2026-03-04T05:06:07.000Z');
  const row = await echo.first(d.db, 'default', { t: null, at, n: 42 });
  assert.equal(row?.t, null);
  assert.equal(new Date(row!.at).toISOString(), at.toISOString());
  assert.equal(Number(row?.n), 42);
  assert.throws(() => echo.bind(d.db, 'default', { t: 'x', at } as unknown as { t: string; at: Date; n: number }), /no value for n/);
});

test('a value used inside an expression or written into the SQL stops the build with the reason', () => {
  const concatenated = reusable((q, p: { org: string }) => q.selectFrom('services').select('id').where('owner_org_id', '=', `org:${p.org}`));
  assert.throws(() => concatenated.bind(d.db, 'default', { org: 'on-mto' }), /computed from a value/);
  const inArray = reusable((q, p: { id: string }) => q.selectFrom('services').select('id').where(sql<boolean>`id = any(${sql.val([p.id, 'other'])}::text[])`));
  assert.throws(() => inArray.bind(d.db, 'default', { id: 'a' }), /computed from a value/);
  // a list written out item by item is one parameter per item: each value has its own place
  const listed = reusable((q, p: { id: string }) => q.selectFrom('services').select('id').where('id', 'in', [p.id, 'demo-health-card']));
  assert.deepEqual(listed.bind(d.db, 'default', { id: 'demo-birth-certificate' }).parameters, ['demo-birth-certificate', 'demo-health-card']);
  const spread = reusable((q, p: { id: string }) => q.selectFrom('services').select('id').where('id', '=', { ...p }.id));
  assert.throws(() => spread.bind(d.db, 'default', { id: 'a' }), /name each one/);
  const literal = reusable((q, p: { id: string }) => q.selectFrom('services').select('id').where('id', '=', sql.lit(p.id)));
  assert.throws(() => literal.bind(d.db, 'default', { id: 'a' }), /written into the SQL text/);
});

test('a raw sql statement (rawCompilable) is built once too, its values bound in their places; a value written into its text stops it', async () => {
  const builds = countingBuilds();
  const db = d.db.withPlugin(builds.plugin);
  const byOwner = reusable((q, p: { org: string; id: string }) =>
    rawCompilable(q, sql<{ id: string }>`select id from services where owner_org_id = ${p.org} and id <> ${p.id} order by id limit 1`),
  );
  const a = await byOwner.first(db, 'default', { org: 'on-mto', id: '' });
  const b = await byOwner.first(db, 'default', { org: 'on-moh', id: '' });
  const again = await byOwner.first(db, 'default', { org: 'on-mto', id: a!.id });
  assert.ok(a && b && a.id !== b.id, 'each call answers with its own values');
  assert.notEqual(again?.id, a!.id, 'the second value bound in its own place');
  assert.equal(builds.count(), 1, 'built once for three calls');
  const written = reusable((q, p: { org: string }) => rawCompilable(q, sql`select id from services where owner_org_id = '${sql.raw(p.org)}'`));
  assert.throws(() => written.bind(d.db, 'default', { org: 'on-mto' }), /written into the SQL text/);
});
