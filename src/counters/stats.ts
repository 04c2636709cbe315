/** Measurements: waits per service, organisation, office and hour, from every ticket visit (ticket_visits). */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { getOffice } from './queue';
import { isDate, localDate, zonedTime } from './time';
import { AppError } from '../http/errors';

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
  for (const field of ['from', 'to'] as const) {
    const v = q[field];
    if (v !== undefined && !isDate(v)) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field, code: 'invalid' }]);
  }
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

export interface ArrivalProfile {
  /** Days looked at, and the days among them on which the office had visits. */
  days: number;
  daysWithVisits: number;
  visits: number;
  /** First hour (office time, 0–23) with visits, and the mean visits per hour from it to the last hour with visits. */
  opensHour: number;
  arrivalsPerHour: number[];
  /** Mean service time of served visits, minutes (null: none served). */
  meanServiceMin: number | null;
}

/**
 * The office's own arrival pattern for staffing (Erlang C): visits per hour of the day (office time), averaged over
 * the days of the last `days` (28) that had visits, and the mean service time, from ticket_visits. Null when the
 * office has no visits in that window. Each visit counts (a client with two services needs both served).
 */
export async function arrivalProfile(db: Database, officeId: string, now = new Date(), days = 28): Promise<ArrivalProfile | null> {
  const office = await getOffice(db, officeId);
  const tz = office.timezone;
  const end = zonedTime(localDate(now, tz), '00:00', tz); // whole days only: today is not over
  const start = new Date(end.getTime() - days * 24 * 3600_000);
  const r = await sql<{ hour: number; visits: number; days_with: number; mean_service: number | null }>`
    select extract(hour from v.queued_at at time zone ${tz})::int as hour, count(*) as visits,
      (select count(distinct (w.queued_at at time zone ${tz})::date) from ticket_visits w
        where w.office_id = ${officeId} and w.queued_at >= ${start} and w.queued_at < ${end}) as days_with,
      (select avg(w.service_seconds) from ticket_visits w
        where w.office_id = ${officeId} and w.queued_at >= ${start} and w.queued_at < ${end} and w.outcome = 'served') as mean_service
    from ticket_visits v
    where v.office_id = ${officeId} and v.queued_at >= ${start} and v.queued_at < ${end}
    group by 1 order by 1`.execute(db);
  if (!r.rows.length) return null;
  const daysWith = Number(r.rows[0].days_with);
  const first = Number(r.rows[0].hour);
  const last = Number(r.rows[r.rows.length - 1].hour);
  const perHour = Array.from({ length: last - first + 1 }, () => 0);
  for (const row of r.rows) perHour[Number(row.hour) - first] = Number(row.visits) / daysWith;
  const meanService = r.rows[0].mean_service;
  return {
    days,
    daysWithVisits: daysWith,
    visits: r.rows.reduce((n, row) => n + Number(row.visits), 0),
    opensHour: first,
    arrivalsPerHour: perHour.map((x) => Math.round(x * 10) / 10),
    meanServiceMin: meanService == null ? null : Math.round((Number(meanService) / 60) * 10) / 10,
  };
}
