/**
 * Office locator: Canadian postal codes, distances and opening hours.
 * - A postal code is "A1A 1A1" (letters D, F, I, O, Q, U never appear; W and Z never first). We accept it with or
 *   without the space, in any case, or just its first three characters (the forward sortation area, FSA), and
 *   locate it at the centroid of its FSA (postal_areas table).
 * - Distances are great-circle (haversine) kilometres.
 */
import type { Selectable } from 'kysely';
import type { Database } from '../../db/database';
import type { OfficesTable } from '../tables';
import { localDate } from '../../i18n/index';

const FSA_RE = /^[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z]$/;
const FULL_RE = /^([ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z]) ?([0-9][ABCEGHJ-NPRSTV-Z][0-9])$/;

export interface ParsedPostalCode {
  /** Normalised for display: 'K1P 1J1' or 'K1P'. */
  display: string;
  fsa: string;
}

/** Parse a Canadian postal code (full or FSA only). Returns null when the format is not valid. */
export function parsePostalCode(input: string): ParsedPostalCode | null {
  const v = input.trim().toUpperCase().replace(/\s+/g, ' ');
  if (v.length > 7) return null;
  const full = FULL_RE.exec(v);
  if (full) return { display: `${full[1]} ${full[2]}`, fsa: full[1] };
  if (FSA_RE.test(v)) return { display: v, fsa: v };
  return null;
}

/** Great-circle distance in kilometres (haversine, mean Earth radius 6371.0088 km). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const R = 6371.0088;
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

export async function locateFsa(db: Database, fsa: string) {
  return db.selectFrom('postal_areas').selectAll().where('fsa', '=', fsa).executeTakeFirst();
}

export interface OfficeSummary
  extends Pick<Selectable<OfficesTable>, 'id' | 'name_en' | 'name_fr' | 'collaboration_model' | 'address' | 'city' | 'province' | 'postal_code' | 'latitude' | 'longitude' | 'phone' | 'is_demo'> {
  distanceKm: number | null;
  organisations: Array<{ id: string; name_en: string; name_fr: string; acronym_en: string | null; acronym_fr: string | null; level: string }>;
  hours: Array<{ weekday: number; opens: string; closes: string }>;
  exceptions: Array<{ date: string; closed: boolean; opens: string | null; closes: string | null; reason_en: string | null; reason_fr: string | null }>;
}

/**
 * Offices (optionally only those offering `serviceId`), with their organisations, weekly hours and upcoming
 * exceptions; sorted by distance from `from` when given (nearest first), else by name.
 */
export async function findOffices(
  db: Database,
  opts: { from?: { lat: number; lon: number }; serviceId?: string; ids?: string[]; lang: 'en' | 'fr'; limit?: number; today?: string },
): Promise<OfficeSummary[]> {
  let q = db.selectFrom('offices').selectAll('offices');
  if (opts.serviceId) {
    const sid = opts.serviceId;
    q = q.where((eb) => eb.exists(eb.selectFrom('office_services').select('office_services.office_id').whereRef('office_services.office_id', '=', 'offices.id').where('office_services.service_id', '=', sid)));
  }
  if (opts.ids) {
    if (!opts.ids.length) return [];
    q = q.where('offices.id', 'in', opts.ids);
  }
  const rows = await q.execute();
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const today = opts.today ?? localDate();
  const [orgs, hours, exceptions] = await Promise.all([
    db
      .selectFrom('office_organisations')
      .innerJoin('organisations', 'organisations.id', 'office_organisations.org_id')
      .select(['office_organisations.office_id', 'organisations.id', 'organisations.name_en', 'organisations.name_fr', 'organisations.acronym_en', 'organisations.acronym_fr', 'organisations.level'])
      .where('office_organisations.office_id', 'in', ids)
      .execute(),
    db.selectFrom('office_hours').selectAll().where('office_id', 'in', ids).orderBy('weekday').orderBy('opens').execute(),
    db.selectFrom('office_hours_exceptions').selectAll().where('office_id', 'in', ids).where('date', '>=', today).orderBy('date').execute(),
  ]);
  const nameKey = opts.lang === 'fr' ? 'name_fr' : 'name_en';
  const out: OfficeSummary[] = rows.map((r) => ({
    id: r.id,
    name_en: r.name_en,
    name_fr: r.name_fr,
    collaboration_model: r.collaboration_model,
    address: r.address,
    city: r.city,
    province: r.province,
    postal_code: r.postal_code,
    latitude: Number(r.latitude),
    longitude: Number(r.longitude),
    phone: r.phone,
    is_demo: r.is_demo,
    distanceKm: opts.from ? haversineKm(opts.from.lat, opts.from.lon, Number(r.latitude), Number(r.longitude)) : null,
    organisations: orgs
      .filter((o) => o.office_id === r.id)
      .map(({ office_id: _o, ...o }) => o)
      .sort((a, b) => a[nameKey].localeCompare(b[nameKey], opts.lang)),
    hours: hours.filter((h) => h.office_id === r.id).map((h) => ({ weekday: h.weekday, opens: h.opens, closes: h.closes })),
    exceptions: exceptions.filter((e) => e.office_id === r.id).map(({ office_id: _o, ...e }) => ({ ...e, date: String(e.date) })),
  }));
  out.sort((a, b) => (a.distanceKm !== null && b.distanceKm !== null ? a.distanceKm - b.distanceKm : 0) || a[nameKey].localeCompare(b[nameKey], opts.lang));
  return opts.limit ? out.slice(0, opts.limit) : out;
}

/** Weekly hours as 7 rows Monday..Sunday (Canadian convention), closed days included. */
export function weekRows(hours: OfficeSummary['hours']): Array<{ weekday: number; periods: Array<{ opens: string; closes: string }> }> {
  return [1, 2, 3, 4, 5, 6, 0].map((weekday) => ({ weekday, periods: hours.filter((h) => h.weekday === weekday).map((h) => ({ opens: h.opens.slice(0, 5), closes: h.closes.slice(0, 5) })) }));
}
