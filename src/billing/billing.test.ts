/** Billing: rates, a run over recorded activity, traceability, idempotence, numbering, concurrency, netting. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, type TestDatabase } from '../../test/support/db';
import { openDatabase } from '../db/database';
import { AppError } from '../http/errors';
import { monthlyShare, runBilling, setTerms } from './billing';
import { invoiceDetail, lineItems, markInvoiceNetted, openInvoicesForNetting, disputeLine, listInvoices } from './invoices';
import { addAgreement, addCase, addInteraction, addQuestion, addVisit, world, type World } from './test/fixtures';

const manager = { id: 'staff-admin', orgId: 'guichet', roles: ['admin', 'manager'] };
const partner = (org: string) => ({ id: `staff-${org}`, orgId: org, roles: ['partner'] });
let database: TestDatabase;
let w: World;
const A = 'on-mnr'; // Natural Resources: $7.50 per interaction
const B = 'on-mto';
const C = 'on-org';

async function rejects(p: Promise<unknown>, status: number, code: string) {
  await assert.rejects(p, (e: unknown) => e instanceof AppError && e.status === status && e.code === code || assert.fail(`expected ${status} ${code}, got ${(e as any)?.status} ${(e as any)?.code ?? e}`));
}

before(async () => {
  database = await createTestDb({ catalogue: true });
  w = await world(database.db, [A, B, C]);
});
after(async () => database.cleanup());

test('bad rates are refused with a code and write nothing', async () => {
  const db = database.db;
  const agrBad = await addAgreement(db, A);
  await rejects(setTerms(db, manager, { agreementId: 'not-an-agreement', model: 'per_interaction', frequency: 'monthly', validFrom: '2026-01-01', channelRates: { phone: 100 } }), 404, 'AGREEMENT_NOT_FOUND');
  await rejects(setTerms(db, manager, { agreementId: '00000000-0000-4000-8000-000000000000', model: 'per_interaction', frequency: 'monthly', validFrom: '2026-01-01', channelRates: { phone: 100 } }), 404, 'AGREEMENT_NOT_FOUND');
  const base = { agreementId: agrBad, partnerOrgId: A, model: 'per_interaction' as const, frequency: 'monthly' as const, validFrom: '2026-01-01' };
  await rejects(setTerms(db, manager, { ...base, channelRates: { phone: -1 } }), 400, 'INVALID_AMOUNT');
  await rejects(setTerms(db, manager, { ...base, channelRates: { phone: 7.5 } }), 400, 'INVALID_AMOUNT');
  await rejects(setTerms(db, manager, { ...base, channelRates: { phone: 1e12 } }), 400, 'INVALID_AMOUNT');
  await rejects(setTerms(db, manager, { ...base, channelRates: { fax: 100 } as any }), 400, 'VALIDATION_ERROR');
  await rejects(setTerms(db, manager, { ...base, model: 'fixed_yearly', frequency: 'daily', yearlyCents: 100 }), 400, 'VALIDATION_ERROR');
  await rejects(setTerms(db, manager, { ...base, partnerOrgId: B, channelRates: { phone: 100 } }), 400, 'UNKNOWN_PARTNER');
  await rejects(setTerms(db, partner(A), { ...base, channelRates: { phone: 100 } }), 403, 'FORBIDDEN');
  const n = await db.selectFrom('billing_terms').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(n.n), 0);
});

test('a month of recorded activity is invoiced per agreement, traceably, once; numbers have no gaps', async () => {
  const db = database.db;
  const agr = { A: await addAgreement(db, A, { dueDays: 20 }), B: await addAgreement(db, B, { dueDays: 30 }), C: await addAgreement(db, C) };
  const name = (id: string) => Object.entries(agr).find(([, v]) => v === id)![0];
  await setTerms(db, manager, { agreementId: agr.A, model: 'per_interaction', frequency: 'monthly', channelRates: { phone: 750, counter: 750, web: 500 }, infoOnlyCents: 0, validFrom: '2026-01-01' });
  await setTerms(db, manager, { agreementId: agr.B, partnerOrgId: B, model: 'per_transaction', frequency: 'monthly', transactionCents: 1400, validFrom: '2026-01-01' });
  await setTerms(db, manager, { agreementId: agr.C, model: 'fixed_yearly', frequency: 'monthly', yearlyCents: 120_001, validFrom: '2026-01-01' });
  const a2 = await addAgreement(db, A);
  await rejects(setTerms(db, manager, { agreementId: a2, model: 'per_transaction', frequency: 'monthly', transactionCents: 5, validFrom: '2026-06-01' }), 409, 'TERMS_OVERLAP');

  const oct = new Date('2026-10-10T15:00:00Z');
  const lastMinute = new Date('2026-11-01T03:59:00Z'); // 23:59 on 31 October in Toronto
  const november = new Date('2026-11-01T04:00:00Z'); // midnight, 1 November in Toronto
  const caseA = await addCase(db, w, A);
  const counted: string[] = [];
  counted.push('case_interaction:' + await addInteraction(db, caseA, { channel: 'phone', at: oct }));
  counted.push('case_interaction:' + await addInteraction(db, caseA, { channel: 'phone', at: lastMinute }));
  counted.push('case_interaction:' + await addInteraction(db, caseA, { channel: 'phone', outcome: 'information_given', at: oct })); // free
  await addInteraction(db, caseA, { channel: 'phone', at: november }); // next month
  await addInteraction(db, caseA, { channel: 'phone', outcome: 'status_changed', at: oct }); // bookkeeping
  await addInteraction(db, caseA, { channel: 'phone', at: oct, byOrg: A }); // the partner's own staff
  await addInteraction(db, caseA, { channel: 'mail', at: oct }); // channel without a rate
  counted.push('counter_visit:' + await addVisit(db, w, A, { at: oct }));
  await addVisit(db, w, A, { at: oct, outcome: 'abandoned' });
  counted.push('question:' + await addQuestion(db, w, A, { at: oct }));
  counted.push('online_form:' + await addCase(db, w, A, { form: true, at: oct }));
  // B: per completed transaction: a served visit and an online form count, an interaction or an information visit does not
  const caseB = await addCase(db, w, B);
  await addInteraction(db, caseB, { channel: 'phone', at: oct });
  const vB = await addVisit(db, w, B, { at: oct });
  await addVisit(db, w, B, { at: oct, result: 'information_given' });
  const fB = await addCase(db, w, B, { form: true, at: oct });

  await rejects(runBilling(db, { frequency: 'monthly', periodStart: '2026-10-01', today: '2026-10-31' }), 409, 'PERIOD_NOT_ENDED');
  await rejects(runBilling(db, { frequency: 'monthly', periodStart: '2026-10-02', today: '2026-11-02' }), 400, 'VALIDATION_ERROR');
  const r = await runBilling(db, { frequency: 'monthly', periodStart: '2026-10-01', today: '2026-11-02' });
  assert.equal(r.invoiceIds.length, 3);
  const invs = await listInvoices(db, manager);
  const byAgreement = Object.fromEntries(invs.map((i) => [name(i.agreement_id), i]));
  // numbered 1..3 in 2026, no gaps
  assert.deepEqual(invs.map((i) => i.number).sort(), [1, 2, 3]);
  assert.ok(invs.every((i) => i.year === 2026));

  const a = await invoiceDetail(db, manager, byAgreement.A.id);
  assert.equal(a.invoice.due_on, '2026-11-22'); // 20 days (Maine)
  // 2 phone × 7.50 + 1 free information + 1 counter visit 7.50 + 1 question (information-only, free) + 1 online form 5.00
  assert.equal(a.invoice.total_cents, 2 * 750 + 750 + 500);
  assert.equal(a.invoice.total_cents, a.lines.reduce((s, l) => s + l.amount_cents, 0));
  const traced: string[] = [];
  for (const l of a.lines) {
    const items = await lineItems(db, manager, a.invoice.id, l.id);
    assert.equal(items.items.length, l.quantity);
    for (const i of items.items) traced.push(`${i.source_kind}:${i.source_id}`);
  }
  assert.deepEqual(traced.sort(), counted.sort());

  const b = await invoiceDetail(db, manager, byAgreement.B.id);
  assert.equal(b.invoice.total_cents, 2 * 1400);
  const bItems = (await Promise.all(b.lines.map((l) => lineItems(db, manager, b.invoice.id, l.id)))).flatMap((x) => x.items.map((i) => i.source_id));
  assert.deepEqual(bItems.sort(), [vB, fB].sort());

  const c = await invoiceDetail(db, manager, byAgreement.C.id);
  assert.equal(c.invoice.total_cents, monthlyShare(120_001, 10));

  // Run again: nothing changes.
  const before = await db.selectFrom('billed_items').select(db.fn.sum<number>('quantity').as('n')).executeTakeFirstOrThrow();
  const again = await runBilling(db, { frequency: 'monthly', periodStart: '2026-10-01', today: '2026-11-03' });
  assert.deepEqual(again.invoiceIds, []);
  const after2 = await db.selectFrom('billed_items').select(db.fn.sum<number>('quantity').as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(after2.n), Number(before.n));

  // November: the record at midnight is billed then, the October ones are not billed again; numbering continues.
  const nov = await runBilling(db, { frequency: 'monthly', periodStart: '2026-11-01', today: '2026-12-01' });
  const novA = (await listInvoices(db, manager)).find((i) => i.agreement_id === agr.A && i.period_start === '2026-11-01')!;
  assert.equal(novA.total_cents, 750);
  assert.deepEqual((await listInvoices(db, manager)).map((i) => i.number).sort((x, y) => x! - y!), [1, 2, 3, 4, 5]);
  assert.equal(nov.invoiceIds.length, 2); // A and the fixed amount of C; B had nothing in November
});

test('fixed yearly amounts: the twelve monthly shares sum to the year exactly', () => {
  for (const y of [0, 1, 11, 12, 13, 100_000, 120_001, 99_999_999]) {
    let sum = 0;
    for (let m = 1; m <= 12; m++) sum += monthlyShare(y, m);
    assert.equal(sum, y);
  }
});

test('partners see only their own invoices; another partner’s is 404; disputes on own lines only', async () => {
  const db = database.db;
  const mine = await listInvoices(db, partner(A));
  assert.ok(mine.length >= 1 && mine.every((i) => i.partner_org_id === A));
  const theirs = (await listInvoices(db, manager)).find((i) => i.partner_org_id === B)!;
  await rejects(invoiceDetail(db, partner(A), theirs.id), 404, 'INVOICE_NOT_FOUND');
  const bDetail = await invoiceDetail(db, manager, theirs.id);
  await rejects(disputeLine(db, partner(A), theirs.id, bDetail.lines[0].id, 'not ours'), 404, 'INVOICE_NOT_FOUND');
  const d = await disputeLine(db, partner(B), theirs.id, bDetail.lines[0].id, 'We count one form fewer');
  assert.equal(d.status, 'open');
  await rejects(disputeLine(db, partner(B), theirs.id, bDetail.lines[0].id, 'again'), 409, 'DISPUTE_ALREADY_OPEN');
  await rejects(disputeLine(db, partner(B), theirs.id, bDetail.lines[0].id, '   '), 400, 'VALIDATION_ERROR');
  await rejects(listInvoices(db, { id: 'x', orgId: A, roles: ['editor'] }), 403, 'FORBIDDEN');
});

test('netting against remittances: open invoices, partial then full, idempotent, never above the balance', async () => {
  const db = database.db;
  const open = await openInvoicesForNetting(db, A);
  assert.ok(open.length >= 1);
  const inv = open[0];
  await rejects(db.transaction().execute((trx) => markInvoiceNetted(trx, inv.invoiceId, 'rem-1', -5)), 400, 'INVALID_AMOUNT');
  await rejects(db.transaction().execute((trx) => markInvoiceNetted(trx, inv.invoiceId, 'rem-1', 1.5)), 400, 'INVALID_AMOUNT');
  await rejects(db.transaction().execute((trx) => markInvoiceNetted(trx, inv.invoiceId, 'rem-1', inv.openCents + 1)), 409, 'NETTING_EXCEEDS_BALANCE');
  await rejects(db.transaction().execute((trx) => markInvoiceNetted(trx, 999999999, 'rem-1', 1)), 404, 'INVOICE_NOT_FOUND');
  const part = await db.transaction().execute((trx) => markInvoiceNetted(trx, inv.invoiceId, 'rem-1', 100));
  assert.deepEqual([part.nettedCents, part.status], [100, 'open']);
  const replay = await db.transaction().execute((trx) => markInvoiceNetted(trx, inv.invoiceId, 'rem-1', 100));
  assert.equal(replay.nettedCents, 100);
  await rejects(db.transaction().execute((trx) => markInvoiceNetted(trx, inv.invoiceId, 'rem-1', 200)), 409, 'NETTING_CONFLICT');
  const full = await db.transaction().execute((trx) => markInvoiceNetted(trx, inv.invoiceId, 'rem-2', inv.openCents - 100));
  assert.deepEqual([full.openCents, full.status], [0, 'netted']);
  assert.ok(!(await openInvoicesForNetting(db, A)).some((i) => i.invoiceId === inv.invoiceId));
});

test('two workers billing the same period at once bill each record once, with gapless numbers', async () => {
  const db = database.db;
  await setTerms(db, manager, { agreementId: await addAgreement(db, 'on-moh'), partnerOrgId: 'on-moh', model: 'per_interaction', frequency: 'daily', channelRates: { phone: 500, counter: 500 }, validFrom: '2026-01-01' });
  const w2 = await world(db, ['on-moh']);
  const cs = await addCase(db, w2, 'on-moh');
  const at = new Date('2026-12-02T15:00:00Z');
  for (let i = 0; i < 30; i++) await addInteraction(db, cs, { channel: 'phone', at });
  for (let i = 0; i < 5; i++) await addVisit(db, w2, 'on-moh', { at });
  // A second connection pool on PostgreSQL: two transactions really run at the same time (PGlite has one connection,
  // so there they queue, which must give the same answer).
  const other = database.url ? await openDatabase({ databaseUrl: database.url, poolSize: 2 }) : null;
  try {
    const runs = await Promise.all([
      runBilling(db, { frequency: 'daily', periodStart: '2026-12-02', today: '2026-12-03' }),
      runBilling(other?.db ?? db, { frequency: 'daily', periodStart: '2026-12-02', today: '2026-12-03' }),
      runBilling(other?.db ?? db, { frequency: 'daily', periodStart: '2026-12-02', today: '2026-12-03' }),
    ]);
    const made = runs.flatMap((r) => r.invoiceIds);
    assert.equal(made.length, 1);
    const d = await invoiceDetail(db, manager, made[0]);
    assert.equal(d.invoice.total_cents, 35 * 500);
    const counts = await db.selectFrom('billed_items').select(['invoice_id', db.fn.sum<number>('quantity').as('n')]).where('invoice_id', '=', made[0]).groupBy('invoice_id').execute();
    assert.equal(Number(counts[0].n), 35);
    const nums = (await listInvoices(db, manager)).filter((i) => i.year === 2026).map((i) => i.number!).sort((a, b) => a - b);
    assert.deepEqual(nums, nums.map((_, i) => i + 1));
  } finally {
    await other?.close();
  }
});
