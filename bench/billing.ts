/**
 * npm run bench:billing [-- --interactions=5000000]
 *
 * Bills one month (October 2026, America/Toronto) of recorded interactions across 50 partners, on PostgreSQL
 * (DATABASE_URL; PGlite otherwise, for small runs): 80 % staff interactions on cases (10 % of them information-only,
 * channels phone/counter/web/email), 20 % served counter visits; 50 agreements billed per interaction by channel
 * (ServiceOntario's $5–14), information-only contacts free. Data is generated in the database (generate_series).
 * Times, on the same rows:
 *   - the billing run (runBilling: invoices, claims of (kind, partner, day) blocks, the ids of the counted records per
 *     line and day, lines, totals, numbers);
 *   - a plain GROUP BY of those rows by partner and channel (count per partner and channel, nothing written).
 * Then checks that every record was billed once and each invoice equals the sum of its lines, and that a second run
 * of the month makes nothing.
 * Last line: bench:billing interactions=<n> seconds=<x> groupby_seconds=<x> ratio=<x>
 */
import { sql } from 'kysely';
import { run } from './support';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const N = Math.max(1000, Number(arg('interactions') ?? process.env.BENCH_INTERACTIONS ?? 5_000_000));
const PARTNERS = 50;
const FROM = '2026-10-01T04:00:00Z'; // midnight, 1 October, in Toronto
const MONTH_SECONDS = 31 * 86400;

const secs = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

run(async () => {
  const { createTestDb } = await import('../test/support/db');
  const { runBilling, setTerms, billedIds } = await import('../src/billing/billing');
  const database = await createTestDb({ catalogue: true, poolSize: 2, keepOpen: true });
  const db = database.db;
  try {
    const manager = { id: 'staff-admin', orgId: 'guichet', roles: ['admin', 'manager'] };
    const nInteractions = Math.round(N * 0.8);
    const nVisits = N - nInteractions;
    let t0 = process.hrtime.bigint();
    // 50 partner organisations, one service each, 1,000 cases each, 2,000 tickets in all.
    await sql`insert into organisations (id, name_en, name_fr, level, jurisdiction, source)
      select 'bench-p' || lpad(i::text, 2, '0'), 'Bench partner ' || i, 'Partenaire banc ' || i, 'provincial', 'ON', 'bench' from generate_series(1, ${PARTNERS}) i`.execute(db);
    await sql`insert into services (id, source, identifier, owner_org_id, title_en, title_fr, status)
      select 'bench-s' || lpad(i::text, 2, '0'), 'bench', 'bench-s' || i, 'bench-p' || lpad(i::text, 2, '0'), 'Bench service ' || i, 'Service banc ' || i, 'published' from generate_series(1, ${PARTNERS}) i`.execute(db);
    await sql`insert into clients (id, kind, given_name, family_name) values ('bench-client', 'person', 'Bench', 'Client')`.execute(db);
    await sql`insert into cases (id, reference, client_id, service_id, origin_channel, responsible_org_id, summary, created_by_kind, created_by_id, submitted_at)
      select 'bench-c' || i, 'BENCH-' || i, 'bench-client', 'bench-s' || lpad((1 + i % ${PARTNERS})::text, 2, '0'), 'phone',
             'bench-p' || lpad((1 + i % ${PARTNERS})::text, 2, '0'), 'bench', 'staff', 'staff-agent', '2026-09-01T12:00:00Z'
        from generate_series(0, ${PARTNERS * 1000 - 1}) i`.execute(db);
    const office = await db.selectFrom('offices').select('id').orderBy('id').executeTakeFirstOrThrow();
    await sql`insert into tickets (office_id, day, seq, number, service_id, org_id, language, priority, status, queued_at, waiting_since, arrived_at, done_at, channel)
      select ${office.id}, '2026-10-15', i, 'B' || i, 'bench-s' || lpad((1 + i % ${PARTNERS})::text, 2, '0'), 'bench-p' || lpad((1 + i % ${PARTNERS})::text, 2, '0'),
             'en', 'none', 'done', '2026-10-15T14:00:00Z', '2026-10-15T14:00:00Z', '2026-10-15T14:00:00Z', '2026-10-15T14:10:00Z', 'greeter'
        from generate_series(1, 2000) i`.execute(db);
    // The interactions of the month, as the cases capability records them (staff of the one-stop, on partners' cases).
    await sql`insert into case_interactions (case_id, channel, actor_kind, actor_id, org_id, outcome, at)
      select 'bench-c' || (i % ${PARTNERS * 1000}), (array['phone','counter','web','email'])[1 + (i / 7) % 4], 'staff', 'staff-agent', 'guichet',
             case when i % 10 = 0 then 'information_given' else 'callback_needed' end,
             ${FROM}::timestamptz + ((i::bigint * 7919) % ${MONTH_SECONDS}) * interval '1 second'
        from generate_series(1, ${nInteractions}) i`.execute(db);
    // Served counter visits (one ticket can see several services), as the counters capability records them.
    await sql`with t as (select id, row_number() over (order by id) - 1 as k from tickets where office_id = ${office.id} and day = '2026-10-15')
      insert into ticket_visits (ticket_id, office_id, service_id, org_id, queued_at, called_at, served_at, done_at, outcome)
      select t.id, ${office.id}, 'bench-s' || lpad((1 + i % ${PARTNERS})::text, 2, '0'), 'bench-p' || lpad((1 + i % ${PARTNERS})::text, 2, '0'),
             d, d, d, d, 'served'
        from generate_series(1, ${nVisits}) i
        cross join lateral (select ${FROM}::timestamptz + ((i::bigint * 104729) % ${MONTH_SECONDS}) * interval '1 second' as d) x
        join t on t.k = i % 2000`.execute(db);
    // One active agreement per partner (as src/agreements records it), billed per interaction by channel.
    const agreements = await sql<{ id: string; partner_org_id: string }>`
      insert into agreements (partner_org_id, title_en, title_fr, term_start, term_end, status, payment_due_days)
      select 'bench-p' || lpad(i::text, 2, '0'), 'Bench agreement ' || i, 'Entente banc ' || i, '2026-01-01', '2027-12-31', 'active', 20
        from generate_series(1, ${PARTNERS}) i
      returning id, partner_org_id`.execute(db);
    for (const a of agreements.rows) {
      const p = Number(a.partner_org_id.slice(-2));
      const cents = 500 + ((p * 37) % 10) * 100; // $5–14
      await setTerms(db, manager, {
        agreementId: a.id, model: 'per_interaction', frequency: 'monthly',
        channelRates: { phone: cents, counter: cents, web: Math.max(500, cents - 200), email: cents }, infoOnlyCents: 0, validFrom: '2026-01-01',
      });
    }
    await sql`vacuum analyze case_interactions`.execute(db).catch(() => {});
    await sql`vacuum analyze ticket_visits`.execute(db).catch(() => {});
    await sql`vacuum analyze cases`.execute(db).catch(() => {});
    console.log(`generated ${N} interactions (${nInteractions} case interactions, ${nVisits} counter visits) in ${secs(t0).toFixed(1)} s`);

    // The yardstick: a plain GROUP BY of the month's rows by partner and channel (read only).
    t0 = process.hrtime.bigint();
    const groups = await sql<{ n: number }>`
      select count(*) as groups, sum(n) as n from (
        select s.owner_org_id as partner, ci.channel, count(*) as n
          from case_interactions ci join cases c on c.id = ci.case_id join services s on s.id = c.service_id
         where ci.at >= ${FROM}::timestamptz and ci.at < ${FROM}::timestamptz + interval '31 days'
         group by 1, 2
        union all
        select v.org_id, 'counter', count(*) from ticket_visits v
         where v.done_at >= ${FROM}::timestamptz and v.done_at < ${FROM}::timestamptz + interval '31 days'
         group by 1
      ) g`.execute(db);
    const groupbySeconds = secs(t0);
    console.log(`group by: ${groupbySeconds.toFixed(2)} s (${JSON.stringify(groups.rows[0])})`);

    if (process.env.BENCH_EXPLAIN) {
      // The plan of the main statement, on invoices made in a transaction that is rolled back.
      const { runStatements, runSettings } = await import('../src/billing/billing');
      await db.transaction().execute(async (trx) => {
        const ids = (await sql<{ id: number }>`insert into billing_invoices (agreement_id, partner_org_id, period_start, period_end, year, issued_on, due_on)
          select agreement_id, partner_org_id, '2026-10-01', '2026-11-01', 2026, '2026-11-02', '2026-11-22' from billing_terms returning id`.execute(trx)).rows.map((x) => Number(x.id));
        await runSettings(trx);
        const all = runStatements(ids, { start: '2026-10-01', end: '2026-11-01' }, 'America/Toronto');
        await all.claim.execute(trx);
        const st = all.count.compile(trx);
        const plan = await trx.executeQuery({ ...st, sql: `explain (analyze, buffers) ${st.sql}` } as any);
        console.log((plan.rows as any[]).map((x) => x['QUERY PLAN']).join('\n'));
        throw new Error('rollback');
      }).catch((e) => { if (e.message !== 'rollback') throw e; });
    }
    t0 = process.hrtime.bigint();
    const r = await runBilling(db, { frequency: 'monthly', periodStart: '2026-10-01', today: '2026-11-02' });
    const seconds = secs(t0);
    console.log(`billing run: ${seconds.toFixed(2)} s, ${r.invoiceIds.length} invoices, ${r.items} records billed, total ${(r.totalCents / 100).toFixed(2)} $`);

    // Checks: every record billed once, invoices = sum of lines, a second run makes nothing.
    const billed = await sql<{ n: number; distinct_ids: number }>`
      select count(*) as n, count(distinct (b.source_kind, x.id)) as distinct_ids from billed_items b cross join unnest(${billedIds('b')}) as x(id)`.execute(db);
    if (Number(billed.rows[0].n) !== N || Number(billed.rows[0].distinct_ids) !== N || r.items !== N) {
      throw new Error(`billed ${billed.rows[0].n} ids (${billed.rows[0].distinct_ids} distinct; run said ${r.items}), expected ${N}`);
    }
    const bad = await sql<{ n: number }>`select count(*) as n from billing_invoices i
      where i.total_cents <> (select coalesce(sum(amount_cents), 0) from billing_invoice_lines l where l.invoice_id = i.id)`.execute(db);
    if (Number(bad.rows[0].n) !== 0) throw new Error(`${bad.rows[0].n} invoices differ from the sum of their lines`);
    t0 = process.hrtime.bigint();
    const again = await runBilling(db, { frequency: 'monthly', periodStart: '2026-10-01', today: '2026-11-03' });
    if (again.invoiceIds.length) throw new Error('a second run made invoices');
    console.log(`second run of the month: nothing made, ${secs(t0).toFixed(2)} s`);
    console.log(`bench:billing interactions=${N} seconds=${seconds.toFixed(2)} groupby_seconds=${groupbySeconds.toFixed(2)} ratio=${(seconds / groupbySeconds).toFixed(2)}`);
  } finally {
    // BENCH_KEEP=1 keeps the generated database (to study plans with psql); it is dropped otherwise.
    if (process.env.BENCH_KEEP) {
      console.log(`kept: ${database.url}`);
      await database.db.destroy();
    } else await database.cleanup();
  }
});
