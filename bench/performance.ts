/**
 * npm run bench:performance [-- --events=N]
 *
 * On PostgreSQL (DATABASE_URL, required): loads N interaction events (default 10,000,000; BENCH_EVENTS or --events)
 * over 2 years for 1,800 services (the catalogue's, cycled) straight into perf_events with INSERT … SELECT over
 * generate_series (1,000,000 a statement), in time order as the ingestion job would store them. Then runs the real
 * rollup job (rollupPending, batches of 50,000) over the first BENCH_ROLLUP_EVENTS of them (default: all) and
 * measures its rate (rollup_events_per_s); any rest is rolled up by aggregate (rebuildRollups) so the pages see all.
 * Then serves the app over HTTP and times the public charter (/en/performance) and the managers' dashboard
 * (/en/staff/performance), both over the months of the last 365 days (whole months), as pages (BENCH_RUNS sequential requests
 * each, p95), and computes the dashboard's figures by plain aggregates over the raw events for the same period
 * (raw_aggregate_ms, median of 3). speedup = raw_aggregate_ms / dashboard_p95_ms (page time, rendering included).
 * BENCH_KEEP=<database name> keeps the loaded database (not dropped at the end) and, when a database of that name
 * already holds this many loaded and rolled-up events (table bench_meta), reuses it: no load, no rollup job; the line
 * then repeats the rollup rate measured when it was loaded (said so on the line before). For iterating on page timings;
 * the recorded runs use a fresh database (no BENCH_KEEP).
 * Last line: bench:performance events=<n> charter_p95_ms=<x> dashboard_p95_ms=<x> raw_aggregate_ms=<x> speedup=<x> rollup_events_per_s=<x>
 */
import { sql } from 'kysely';
import { benchServer, percentile, run } from './support';
import { rebuildRollups, rollupPending } from '../src/performance/events';
import { staffCookie } from '../test/support/app';
import { dashboardData, periodOf, wholeMonths } from '../src/performance/routes';
import { charterIndex } from '../src/performance/charter';

const arg = process.argv.find((a) => a.startsWith('--events='));
const EVENTS = Number(arg ? arg.slice(9) : process.env.BENCH_EVENTS ?? 10_000_000);
const ROLLUP_EVENTS = Math.min(EVENTS, Number(process.env.BENCH_ROLLUP_EVENTS ?? EVENTS));
const DAYS = 730;
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const SERVICES = 1800;
const CHUNK = 1_000_000;

/** Synthetic events g in [a, b]: channel, outcome, times and service drawn from g (deterministic), time-ordered by g over 2 years. */
const synth = (a: number, b: number, source: string) => sql`
  select ${source}::text as source, g::text as source_id, 'contact'::text as kind, ch.channel, s.id as service_id, s.owner_org_id,
         'guichet'::text as delivering_org_id,
         case when ch.channel in ('counter', 'kiosk') then 'bench-office-' || (g % 20) end as office_id,
         (array['completed','completed','completed','completed','not_eligible','information','information','abandoned','referred','failed'])[1 + (g * 17) % 10] as outcome,
         t.ts as occurred_at,
         case when ch.channel = 'counter' then (g * 31) % 3600 end as wait_s,
         case when ch.channel in ('counter', 'phone') then (g * 11) % 1800 end as handle_s,
         case when ch.channel in ('web', 'mail') and (g * 17) % 10 < 5 then (g * 101) % (30 * 86400) end as decision_s,
         case when (g * 17) % 10 = 8 then (g % 3) > 0 end as no_repeat,
         case when ch.channel = 'counter' then (g * 31) % 3600 <= 900 end as within_standard,
         null::bigint as amount_cents,
         t.ts as cursor_at, g::text as cursor_id
  from generate_series(${a}::bigint, ${b}::bigint) as g
  cross join lateral (select (array['web','web','web','web','phone','counter','counter','kiosk','mail','email','chat'])[1 + (g * 13) % 11] as channel) as ch
  cross join lateral (select now() - make_interval(secs => ((${EVENTS}::bigint - g) * ${DAYS * 86400}::bigint / ${EVENTS}::bigint)::double precision) as ts) as t
  join bench_services s on s.rn = 1 + (g * 7919) % ${SERVICES}`;

run(async () => {
  if (!process.env.DATABASE_URL) throw new Error('bench:performance needs DATABASE_URL (PostgreSQL)');
  const keep = process.env.BENCH_KEEP || undefined;
  const { app, db, database } = await benchServer(4, { keepAs: keep });
  try {
    const kept = database.existed
      ? (await sql<{ events: number; rollup_per_s: number; at: Date }>`select events::bigint as events, rollup_per_s, at from bench_meta`.execute(db).catch(() => ({ rows: [] }))).rows[0]
      : undefined;
    if (database.existed && (!kept || Number(kept.events) !== EVENTS)) throw new Error(`BENCH_KEEP=${keep}: that database exists but does not hold ${EVENTS} loaded events; drop it or choose another name`);
    let rollupPerS: number;
    if (kept) {
      rollupPerS = Number(kept.rollup_per_s);
      await rollupPending(db, { settleMs: 0 }); // nothing, unless events were added since
      console.log(`reusing ${keep} (loaded ${kept.at.toISOString()}): no load, no rollup job; rollup_events_per_s below is the one measured then`);
    } else {
      await sql`create table bench_services as select row_number() over (order by id)::int as rn, id, owner_org_id from (
        select id, owner_org_id from services where status = 'published' order by id limit ${SERVICES}) s`.execute(db);
      const have = (await sql<{ n: number }>`select count(*)::int as n from bench_services`.execute(db)).rows[0].n;
      // cycle the catalogue's services up to 1,800
      await sql`insert into bench_services select rn + ${have} * k, id, owner_org_id from bench_services, generate_series(1, ${Math.ceil(SERVICES / have) - 1}) k
        where rn + ${have} * k <= ${SERVICES}`.execute(db);
      console.log(`services: ${(await sql<{ n: number }>`select count(*)::int as n from bench_services`.execute(db)).rows[0].n} (catalogue: ${have})`);

      const t0 = performance.now();
      for (let a = 1; a <= EVENTS; a += CHUNK) {
        const b = Math.min(EVENTS, a + CHUNK - 1);
        await sql`insert into perf_events (source, source_id, kind, channel, service_id, owner_org_id, delivering_org_id, office_id, outcome,
            occurred_at, day, wait_s, handle_s, decision_s, no_repeat, within_standard, amount_cents)
          select source, source_id, kind, channel, service_id, owner_org_id, delivering_org_id, office_id, outcome, occurred_at,
            (occurred_at at time zone 'America/Toronto')::date, wait_s, handle_s, decision_s, no_repeat, within_standard, amount_cents
          from (${synth(a, b, 'bench')}) x`.execute(db);
        process.stdout.write(`loaded ${b} events (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
      }
      const loadS = (performance.now() - t0) / 1000;
      await sql`analyze perf_events`.execute(db);
      // the rollup job itself, over the first ROLLUP_EVENTS events (in batches of 50,000, each its own transaction)
      const t1 = performance.now();
      const job = await rollupPending(db, { maxBatches: Math.ceil(ROLLUP_EVENTS / 50_000), settleMs: 0 });
      const rollupS = (performance.now() - t1) / 1000;
      rollupPerS = job.events / rollupS;
      let rebuildS = 0;
      if (job.events < EVENTS) {
        const t2 = performance.now();
        await rebuildRollups(db);
        rebuildS = (performance.now() - t2) / 1000;
      }
      await sql`analyze`.execute(db);
      const sizes = await sql<{ t: string; n: number }>`select relname as t, n_live_tup::bigint as n from pg_stat_user_tables where relname like 'perf_%' order by relname`.execute(db);
      console.log(`load ${loadS.toFixed(1)} s (${(EVENTS / loadS).toFixed(0)} events/s); rollup job: ${job.events} events in ${job.batches} batches, ${rollupS.toFixed(1)} s = ${rollupPerS.toFixed(0)} events/s${rebuildS ? `; the other ${EVENTS - job.events} by aggregate in ${rebuildS.toFixed(1)} s` : ''}`);
      console.log('rows: ' + sizes.rows.map((r) => `${r.t}=${r.n}`).join(' '));
      if (keep) await sql`create table bench_meta as select ${EVENTS}::bigint as events, ${rollupPerS}::float8 as rollup_per_s, now() as at`.execute(db);
    }

    await db.insertInto('staff_users').values({ id: 'bench-manager', email: 'bench-manager@guichet.example', name: 'Bench manager', org_id: 'guichet', roles: ['manager'], oidc_subject: null })
      .onConflict((oc) => oc.doNothing()).execute();
    const cookie = await staffCookie(app, 'bench-manager');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address() as { port: number };
    const base = `http://127.0.0.1:${addr.port}`;
    const time = async (url: string, headers: Record<string, string> = {}) => {
      const out: number[] = [];
      for (let i = 0; i < RUNS + 3; i++) {
        const s = performance.now();
        const res = await fetch(base + url, { headers });
        const body = await res.text();
        if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body.slice(0, 200)}`);
        if (i >= 3) out.push(performance.now() - s);
      }
      return out.sort((a, b) => a - b);
    };
    const charter = await time('/en/performance');
    const dashboard = await time('/en/staff/performance', { cookie });
    // the dashboard's figures by plain aggregates over the raw events, for the months the dashboard shows (the last 365
    // days widened to whole months, as the page does: 13 months unless today is the 1st)
    const { from, to } = wholeMonths(periodOf({}));
    console.log(`months: ${from}..${to}`);
    const raw: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      await Promise.all([
        sql`select channel, outcome, count(*), count(wait_s), sum(wait_s), count(handle_s), sum(handle_s), count(decision_s), sum(decision_s),
            count(no_repeat), count(*) filter (where no_repeat), count(within_standard), count(*) filter (where within_standard)
          from perf_events where day between ${from}::date and ${to}::date group by 1, 2`.execute(db),
        sql`select owner_org_id, count(*), count(*) filter (where outcome in ('completed','not_eligible')), avg(wait_s) from perf_events where day between ${from}::date and ${to}::date group by 1`.execute(db),
        sql`select office_id, count(*), count(*) filter (where outcome in ('completed','not_eligible')), avg(wait_s) from perf_events where day between ${from}::date and ${to}::date group by 1`.execute(db),
        sql`select to_char(day, 'YYYY-MM'), channel, count(*) from perf_events where day between ${from}::date and ${to}::date and outcome in ('completed','not_eligible') group by 1, 2`.execute(db),
        sql`select percentile_disc(0.9) within group (order by wait_s), percentile_disc(0.9) within group (order by handle_s), percentile_disc(0.9) within group (order by decision_s)
          from perf_events where day between ${from}::date and ${to}::date`.execute(db),
      ]);
      raw.push(performance.now() - s);
    }
    raw.sort((a, b) => a - b);
    // the same figures without HTTP and rendering
    const cold = async (f: () => Promise<unknown>) => { const xs: number[] = []; for (let i = 0; i < 3; i++) { const s = performance.now(); await f(); xs.push(performance.now() - s); } return xs.sort((a, b) => a - b)[1]; };
    const coldDash = await cold(() => dashboardData(db, wholeMonths(periodOf({}))));
    const coldCharter = await cold(() => charterIndex(db, { ...wholeMonths(periodOf({})), lang: 'en' }));
    console.log(`figures alone (median of 3): dashboard ${coldDash.toFixed(0)} ms, charter index ${coldCharter.toFixed(0)} ms`);
    const charterP95 = percentile(charter, 95), dashP95 = percentile(dashboard, 95), rawMs = raw[1];
    console.log(`charter p50 ${percentile(charter, 50).toFixed(1)} ms, dashboard p50 ${percentile(dashboard, 50).toFixed(1)} ms, raw aggregate runs ${raw.map((x) => x.toFixed(0)).join(', ')} ms`);
    console.log(`bench:performance events=${EVENTS} charter_p95_ms=${charterP95.toFixed(1)} dashboard_p95_ms=${dashP95.toFixed(1)} raw_aggregate_ms=${rawMs.toFixed(0)} speedup=${(rawMs / dashP95).toFixed(1)} rollup_events_per_s=${rollupPerS.toFixed(0)}`);
  } finally {
    await app.close();
    await database.cleanup();
  }
});
