/** The ledger's rules, enforced by the database itself (PGlite and, with DATABASE_URL, PostgreSQL 15). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestDb, type TestDatabase } from '../../test/support/db';
import { postEntry, reverseEntry, ledgerTotals, balanceOf, ensureAccounts, payableOf, FEE_REVENUE, clearing, LedgerError } from './ledger';

let database: TestDatabase;
before(async () => {
  database = await createTestDb({ catalogue: true, poolSize: 12 });
});
after(async () => database.cleanup());

const today = '2026-12-01';

test('a balanced entry posts once, keeps its effective date apart from the time written, and moves the balances', async () => {
  const { db } = database;
  const id = await db.transaction().execute((trx) =>
    postEntry(trx, {
      event: 'payment', eventRef: 'p-1', effectiveDate: '2026-11-30', postingKey: 'test:1',
      legs: [{ account: clearing('dev'), cents: 4500 }, { account: payableOf('on-mto'), cents: -4000 }, { account: FEE_REVENUE, cents: -500 }],
    }),
  );
  assert.ok(id && id > 0);
  const again = await db.transaction().execute((trx) =>
    postEntry(trx, { event: 'payment', eventRef: 'p-1', effectiveDate: today, postingKey: 'test:1', legs: [{ account: clearing('dev'), cents: 1 }, { account: FEE_REVENUE, cents: -1 }] }),
  );
  assert.equal(again, null, 'the same posting key posts nothing');
  assert.equal(await balanceOf(db, clearing('dev')), 4500);
  assert.equal(await balanceOf(db, payableOf('on-mto')), -4000);
  const e = await db.selectFrom('journal_entries').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
  assert.equal(e.effective_date, '2026-11-30');
  assert.ok(e.written_at instanceof Date);
  const t = await ledgerTotals(db);
  assert.deepEqual(t, { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
});

test('the application refuses an unbalanced, one-legged, zero or fractional entry before SQL', async () => {
  const { db } = database;
  for (const legs of [
    [{ account: clearing('dev'), cents: 100 }, { account: FEE_REVENUE, cents: -99 }],
    [{ account: clearing('dev'), cents: 0 }, { account: FEE_REVENUE, cents: 0 }],
    [{ account: clearing('dev'), cents: 1.5 }, { account: FEE_REVENUE, cents: -1.5 }],
    [{ account: clearing('dev'), cents: 100 }],
  ]) {
    await assert.rejects(db.transaction().execute((trx) => postEntry(trx, { event: 'correction', eventRef: 'x', effectiveDate: today, postingKey: `bad:${Math.random()}`, legs })), LedgerError);
  }
});

test('the DATABASE refuses an unbalanced entry at commit, an entry with one leg or none, and writes nothing', async () => {
  const { db } = database;
  await ensureAccounts(db, [clearing('dev'), FEE_REVENUE]);
  const before = await db.selectFrom('journal_entries').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  const attempt = (legs: Array<[string, number]>) =>
    db.transaction().execute(async (trx) => {
      const e = await sql<{ id: number }>`insert into journal_entries (event, event_ref, effective_date, posting_key) values ('correction', 'raw', ${today}, ${'raw:' + Math.random()}) returning id`.execute(trx);
      for (const [a, c] of legs) await sql`insert into journal_legs (entry_id, account_id, amount_cents) values (${e.rows[0].id}, ${a}, ${c})`.execute(trx);
    });
  await assert.rejects(attempt([[clearing('dev'), 100], [FEE_REVENUE, -99]]), /unbalanced/);
  await assert.rejects(attempt([[clearing('dev'), 100]]), /at least two/);
  await assert.rejects(attempt([]), /at least two/);
  // a balanced raw entry is accepted (the check is deferred: legs written one by one)
  await attempt([[clearing('dev'), 100], [FEE_REVENUE, -60], [FEE_REVENUE, -40]]);
  const afterN = await db.selectFrom('journal_entries').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(afterN.n), Number(before.n) + 1);
  // one check per entry at commit: legs may be added only by the transaction that wrote the entry, so a posted
  // entry cannot be changed by appending legs, even balanced ones
  const posted = await sql<{ id: number }>`select id from journal_entries where event = 'correction' and event_ref = 'raw' order by id desc limit 1`.execute(db);
  await assert.rejects(db.transaction().execute(async (trx) => {
    await sql`insert into journal_legs (entry_id, account_id, amount_cents) values (${posted.rows[0].id}, ${clearing('dev')}, 5), (${posted.rows[0].id}, ${FEE_REVENUE}, -5)`.execute(trx);
  }), /only be written in the transaction that writes its entry/);
  assert.equal(Number((await sql<{ n: number }>`select count(*) as n from journal_legs where entry_id = ${posted.rows[0].id}`.execute(db)).rows[0].n), 3);
  assert.equal((await ledgerTotals(db)).driftAccounts, 0);
});

test('an account whose balance shards are missing gets them at its first posting (the balance trigger makes them)', async () => {
  const { db } = database;
  const [a, b] = ['clearing:shardless-a', 'clearing:shardless-b'];
  await sql`insert into ledger_accounts (id, kind) values (${a}, 'clearing'), (${b}, 'clearing')`.execute(db);
  await db.transaction().execute(async (trx) => {
    const e = await sql<{ id: number }>`insert into journal_entries (event, event_ref, effective_date, posting_key) values ('correction', 'shards', ${today}, 'test:shards') returning id`.execute(trx);
    await sql`insert into journal_legs (entry_id, account_id, amount_cents) values (${e.rows[0].id}, ${a}, 300), (${e.rows[0].id}, ${b}, -300)`.execute(trx);
  });
  assert.equal(await balanceOf(db, a), 300);
  assert.equal(await balanceOf(db, b), -300);
  assert.equal(Number((await sql<{ n: number }>`select count(*) as n from ledger_balances where account_id = ${a}`.execute(db)).rows[0].n), 16);
  assert.equal((await ledgerTotals(db)).driftAccounts, 0);
});

test('what remittance items name (components, refund components, batches) cannot be deleted or truncated', async () => {
  const { db } = database;
  for (const table of ['basket_components', 'refund_components', 'remittance_batches']) {
    await assert.rejects(sql.raw(`delete from ${table}`).execute(db), /rows are kept/, table);
    await assert.rejects(sql.raw(`truncate ${table} cascade`).execute(db), /rows are kept/, table);
  }
});

test('a posted entry or leg can be neither updated, deleted nor truncated; a correction is a reversing entry', async () => {
  const { db } = database;
  const id = (await db.transaction().execute((trx) =>
    postEntry(trx, { event: 'payment', eventRef: 'p-2', effectiveDate: today, postingKey: 'test:2', legs: [{ account: clearing('dev'), cents: 700 }, { account: payableOf('on-mto'), cents: -700 }] }),
  ))!;
  await assert.rejects(sql`update journal_legs set amount_cents = 1 where entry_id = ${id}`.execute(db), /cannot be changed/);
  await assert.rejects(sql`delete from journal_legs where entry_id = ${id}`.execute(db), /cannot be changed/);
  await assert.rejects(sql`update journal_entries set effective_date = '2020-01-01' where id = ${id}`.execute(db), /cannot be changed/);
  await assert.rejects(sql`delete from journal_entries where id = ${id}`.execute(db), /cannot be changed/);
  await assert.rejects(sql`truncate journal_legs cascade`.execute(db), /cannot be changed/);
  const mto = await balanceOf(db, payableOf('on-mto'));
  const rev = (await db.transaction().execute((trx) => reverseEntry(trx, id, { effectiveDate: today })))!;
  assert.ok(rev > id);
  assert.equal(await balanceOf(db, payableOf('on-mto')), mto + 700);
  const r = await db.selectFrom('journal_entries').selectAll().where('id', '=', rev).executeTakeFirstOrThrow();
  assert.equal(r.reverses_entry_id, id);
  assert.equal(r.event, 'correction');
  // reversing twice posts nothing more
  assert.equal(await db.transaction().execute((trx) => reverseEntry(trx, id, { effectiveDate: today })), null);
  assert.deepEqual(await ledgerTotals(db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
});

test('concurrent postings over overlapping accounts in every order: no deadlock, balances equal the sum of their legs', async () => {
  const { db } = database;
  const orgs = ['on-mto', 'on-moh', 'ottawa', 'esdc-edsc'];
  const accounts = [clearing('dev'), FEE_REVENUE, ...orgs.map(payableOf)];
  await ensureAccounts(db, accounts);
  const beforeBal = new Map<string, number>();
  for (const a of accounts) beforeBal.set(a, await balanceOf(db, a));
  const expected = new Map<string, number>();
  const jobs = Array.from({ length: 60 }, (_, i) => {
    // each posting touches the accounts in a different (shuffled) order
    const payees = [...orgs].sort(() => Math.random() - 0.5).slice(0, 2 + (i % 3));
    const legs = payees.map((o, k) => ({ account: payableOf(o), cents: -(100 + i + k) }));
    legs.unshift({ account: FEE_REVENUE, cents: -50 });
    const total = -legs.reduce((s, l) => s + l.cents, 0);
    legs.splice(Math.floor(Math.random() * legs.length), 0, { account: clearing('dev'), cents: total });
    for (const l of legs) expected.set(l.account, (expected.get(l.account) ?? 0) + l.cents);
    return db.transaction().execute((trx) => postEntry(trx, { event: 'payment', eventRef: `c-${i}`, effectiveDate: today, postingKey: `conc:${i}`, legs }));
  });
  const ids = await Promise.all(jobs);
  assert.equal(new Set(ids).size, 60);
  for (const a of accounts) assert.equal(await balanceOf(db, a), beforeBal.get(a)! + (expected.get(a) ?? 0), a);
  assert.deepEqual(await ledgerTotals(db), { legsSum: 0, balancesSum: 0, unbalancedEntries: 0, driftAccounts: 0 });
});
