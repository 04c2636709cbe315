/** Measurements: waits per service, organisation, office and hour, from every ticket visit (ticket_visits). */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { getOffice } from './queue';
import { localDate, zonedTime } from './time';

export interface WaitRow {
  key: string;
  label_en: string;
  label_fr: string;
  visits: number;
  served: number;
  noShows: number;
  meanWaitMin: number;
  p90WaitMin: number;
  withinTarget: number | null;
  meanServiceMin: number | null;
}

export async function waitStats(db: Database, officeId: string, q: { from?: string; to?: string; targetMinutes?: number } = {}, now = new Date()) {
  const office = await getOffice(db, officeId);
  const to = q.to ?? localDate(now, office.timezone);
  const from = q.from ?? to;
  const start = zonedTime(from, '00:00', office.timezone);
  const end = new Date(zonedTime(to, '00:00', office.timezone).getTime() + 24 * 3600_000);
  const target = (q.targetMinutes ?? 15) * 60;
  const agg = (keyExpr: ReturnType<typeof sql>) => sql<{ key: string; visits: number; served: number; no_shows: number; mean_wait: number | null; p90_wait: number | null; within: number | null; mean_service: number | null }>`
    select ${keyExpr} as key, count(*) as visits,
      count(*) filter (where v.outcome = 'served') as served,
      count(*) filter (where v.outcome = 'no_show') as no_shows,
      avg(v.wait_seconds) filter (where v.called_at is not null) as mean_wait,
      percentile_cont(0.9) within group (order by v.wait_seconds) filter (where v.called_at is not null) as p90_wait,
      avg(case when v.wait_seconds <= ${target} then 1.0 else 0.0 end) filter (where v.called_at is not null) as within,
      avg(v.service_seconds) filter (where v.outcome = 'served') as mean_service
    from ticket_visits v
    where v.office_id = ${officeId} and v.queued_at >= ${start} and v.queued_at < ${end}
    group by 1 order by 1`;
  const tz = office.timezone;
  const [byService, byOrg, byHour, total] = await Promise.all([
    agg(sql`v.service_id`).execute(db),
    agg(sql`v.org_id`).execute(db),
    agg(sql`to_char(v.queued_at at time zone ${tz}, 'HH24') || ':00'`).execute(db),
    agg(sql`${officeId}::text`).execute(db),
  ]);
  const services = await db.selectFrom('services').select(['id', 'title_en', 'title_fr']).where('id', 'in', ['', ...byService.rows.map((r) => r.key)]).execute();
  const orgs = await db.selectFrom('organisations').select(['id', 'name_en', 'name_fr']).where('id', 'in', ['', ...byOrg.rows.map((r) => r.key)]).execute();
  const row = (r: (typeof byService.rows)[number], en: string, fr: string): WaitRow => ({
    key: r.key, label_en: en, label_fr: fr, visits: Number(r.visits), served: Number(r.served), noShows: Number(r.no_shows),
    meanWaitMin: r.mean_wait == null ? 0 : Number(r.mean_wait) / 60, p90WaitMin: r.p90_wait == null ? 0 : Number(r.p90_wait) / 60,
    withinTarget: r.within == null ? null : Number(r.within), meanServiceMin: r.mean_service == null ? null : Number(r.mean_service) / 60,
  });
  return {
    officeId, from, to, targetMinutes: target / 60,
    office: total.rows.map((r) => row(r, office.name_en, office.name_fr))[0] ?? null,
    byService: byService.rows.map((r) => { const s = services.find((x) => x.id === r.key); return row(r, s?.title_en ?? r.key, s?.title_fr ?? r.key); }),
    byOrganisation: byOrg.rows.map((r) => { const o = orgs.find((x) => x.id === r.key); return row(r, o?.name_en ?? r.key, o?.name_fr ?? r.key); }),
    byHour: byHour.rows.map((r) => row(r, r.key, r.key)),
  };
}
