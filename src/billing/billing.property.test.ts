/**
 * Property tests (fast-check) of the billing run: for random sets of recorded interactions and rate cards, run in a
 * random order, repeated, and twice at once,
 *   - each interaction is billed at most once (and exactly once when its agreement prices it, at the right price);
 *   - each invoice equals the sum of its lines, each line the sum of the records it counts;
 *   - re-running a billing period changes nothing.
 * Each case runs in its own year, so that cases do not meet.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql } from 'kysely';
import { createTestDb, type TestDatabase } from '../../test/support/db';
import { billedIds, CHANNELS, monthlyShare, runBilling, setTerms } from './billing';
import { addAgreement, addCase, addInteraction, addQuestion, addVisit, world, type World } from './test/fixtures';

const manager = { id: 'staff-admin', orgId: 'guichet', roles: ['admin', 'manager'] };
const PARTNERS = ['on-mnr', 'on-mto', 'on-org'];
let database: TestDatabase;
let w: World;
let year = 2040;

before(async () => {
  database = await createTestDb({ catalogue: true });
  w = await world(database.db, PARTNERS);
});
after(async () => database.cleanup());

const channel = fc.constantFrom(...CHANNELS);
const card = fc.record({
  model: fc.constantFrom('per_interaction' as const, 'per_transaction' as const, 'fixed_yearly' as const),
  channelRates: fc.dictionary(channel, fc.integer({ min: 0, max: 1400 }), { maxKeys: 4 }),
  infoOnlyCents: fc.constantFrom(0, 0, 150, 500),
  transactionCents: fc.integer({ min: 1, max: 1400 }),
  yearlyCents: fc.integer({ min: 1, max: 250_000 }),
}).map((c) => (c.model === 'per_interaction' && !Object.keys(c.channelRates).length && !c.infoOnlyCents ? { ...c, channelRates: { phone: 500 } } : c)); // setTerms refuses an agreement that prices nothing
const record = fc.record({
  kind: fc.constantFrom('case_interaction' as const, 'counter_visit' as const, 'online_form' as const, 'question' as const),
  partner: fc.integer({ min: 0, max: PARTNERS.length - 1 }),
  channel,
  info: fc.boolean(),
  day: fc.integer({ min: 0, max: 60 }), // from 1 October: October and November
});
const op = fc.constantFrom('oct', 'nov', 'both-at-once');

type Card = { model: 'per_interaction' | 'per_transaction' | 'fixed_yearly'; channelRates: Record<string, number>; infoOnlyCents: number; transactionCents: number; yearlyCents: number };

/** The price the rules give a record (null: not billed). */
function expectedUnit(c: Card, r: { kind: string; channel: string; info: boolean }): number | null {
  const ch = r.kind === 'counter_visit' ? 'counter' : r.kind === 'online_form' ? 'web' : r.channel;
  const info = r.kind === 'question' ? true : r.kind === 'online_form' ? false : r.info;
  if (c.model === 'fixed_yearly') return null;
  if (c.model === 'per_transaction') return (r.kind === 'counter_visit' || r.kind === 'online_form') && !info ? c.transactionCents : null;
  if (info) return c.infoOnlyCents;
  return ch in c.channelRates ? c.channelRates[ch] : null;
}

test('billing properties: at most once, invoice = sum of lines, re-running changes nothing', async () => {
  const db = database.db;
  await fc.assert(
    fc.asyncProperty(fc.array(card, { minLength: 3, maxLength: 3 }), fc.array(record, { maxLength: 25 }), fc.array(op, { minLength: 1, maxLength: 4 }), async (cards, records, ops) => {
      const y = ++year;
      const oct = `${y}-10-01`;
      const nov = `${y}-11-01`;
      const today = `${y}-12-05`;
      const agreements: string[] = [];
      for (const p of PARTNERS) agreements.push(await addAgreement(db, p, { start: `${y}-01-01`, end: `${y}-12-31` }));
      for (let i = 0; i < PARTNERS.length; i++) {
        await setTerms(db, manager, { agreementId: agreements[i], partnerOrgId: PARTNERS[i], frequency: 'monthly', validFrom: `${y}-01-01`, validTo: `${y}-12-31`, ...cards[i] });
      }
      // Record the activity as the capabilities do.
      const made: Array<{ key: string; partner: number; unit: number | null }> = [];
      for (const r of records) {
        const org = PARTNERS[r.partner];
        const at = new Date(Date.parse(`${oct}T16:00:00Z`) + r.day * 86_400_000);
        let id: string;
        if (r.kind === 'case_interaction') {
          const c = await addCase(db, w, org, { at });
          id = await addInteraction(db, c, { channel: r.channel, outcome: r.info ? 'information_given' : 'callback_needed', at });
        } else if (r.kind === 'counter_visit') id = await addVisit(db, w, org, { at, result: r.info ? 'information_given' : null });
        else if (r.kind === 'online_form') id = await addCase(db, w, org, { form: true, at });
        else id = await addQuestion(db, w, org, { at, channel: r.channel });
        made.push({ key: `${r.kind}:${id}`, partner: r.partner, unit: expectedUnit(cards[r.partner] as Card, r) });
      }
      const run = (periodStart: string) => runBilling(db, { frequency: 'monthly', periodStart, today, agreementIds: agreements });
      for (const o of ops) {
        if (o === 'oct') await run(oct);
        else if (o === 'nov') await run(nov);
        else await Promise.all([run(oct), run(oct), run(nov)]);
      }
      await run(oct);
      await run(nov);

      const items = await sql<{ key: string; unit_cents: number; invoice_id: number }>`
        select b.source_kind || ':' || x.id as key, b.unit_cents, b.invoice_id
          from billed_items b cross join unnest(${billedIds('b')}) as x(id)
          join billing_invoices i on i.id = b.invoice_id where i.agreement_id = any(${agreements}::uuid[])`.execute(db);
      // At most once.
      const keys = items.rows.map((r) => r.key);
      assert.equal(new Set(keys).size, keys.length, 'a record was billed twice');
      // Exactly once at the right price when the rules price it; never when they do not.
      const billed = new Map(items.rows.map((r) => [r.key, Number(r.unit_cents)]));
      for (const m of made) {
        if (m.unit === null) assert.ok(!billed.has(m.key), `${m.key} should not be billed`);
        else assert.equal(billed.get(m.key), m.unit, `${m.key} billed at ${billed.get(m.key)}, expected ${m.unit}`);
      }
      // Invoice = sum of its lines; a line = the sum of the records it counts.
      const invoices = await db.selectFrom('billing_invoices').selectAll().where('agreement_id', 'in', agreements).execute();
      for (const inv of invoices) {
        const lines = await db.selectFrom('billing_invoice_lines').selectAll().where('invoice_id', '=', inv.id).execute();
        assert.equal(Number(inv.total_cents), lines.reduce((s, l) => s + Number(l.amount_cents), 0));
        for (const l of lines) {
          const counted = items.rows.filter((r) => Number(r.invoice_id) === Number(inv.id) && Number(r.unit_cents) === Number(l.unit_cents));
          assert.ok(Number(l.quantity) >= 1 && Number(l.amount_cents) === Number(l.quantity) * Number(l.unit_cents));
          assert.ok(counted.length >= Number(l.quantity));
        }
        const card = cards[agreements.indexOf(inv.agreement_id)];
        if (card.model === 'fixed_yearly') assert.equal(Number(inv.total_cents), monthlyShare(card.yearlyCents, Number(inv.period_start.slice(5, 7))));
      }
      // Totals per partner match the rules.
      for (let i = 0; i < PARTNERS.length; i++) {
        const want = made.filter((m) => m.partner === i && m.unit !== null).reduce((s, m) => s + m.unit!, 0) + (cards[i].model === 'fixed_yearly' ? monthlyShare(cards[i].yearlyCents, 10) + monthlyShare(cards[i].yearlyCents, 11) : 0);
        const got = invoices.filter((v) => v.agreement_id === agreements[i]).reduce((s, v) => s + Number(v.total_cents), 0);
        assert.equal(got, want, `partner ${i} (${cards[i].model})`);
      }
      // Re-running changes nothing.
      const snapshot = async () => (await sql<{ s: string }>`
        select (select count(*) from billing_invoices where agreement_id = any(${agreements}::uuid[])) || '/' ||
               (select coalesce(sum(total_cents), 0) from billing_invoices where agreement_id = any(${agreements}::uuid[])) || '/' ||
               (select count(*) from billed_items) || '/' || (select count(*) from billing_invoice_lines) || '/' || (select count(*) from billing_claims) as s`.execute(db)).rows[0].s;
      const before = await snapshot();
      const again = [await run(oct), await run(nov)];
      assert.deepEqual(again.map((r) => r.invoiceIds.length), [0, 0]);
      assert.equal(await snapshot(), before);
    }),
    { numRuns: Number(process.env.BILLING_PROPERTY_RUNS ?? 25), endOnFailure: true },
  );
  // Numbers stay gapless per year across everything above.
  const gaps = await sql<{ n: number }>`select count(*) as n from (select year, count(*) as c, max(number) as m from billing_invoices group by year) x where c <> m`.execute(db);
  assert.equal(Number(gaps.rows[0].n), 0);
});
