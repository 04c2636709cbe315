/**
 * Due dates from a service's published standard.
 *
 * - Dates are calendar dates in the office's time zone (America/Toronto for the whole demo region); the submission
 *   day is day 0.
 * - business_days: count N working days after the submission day, skipping Saturdays, Sundays and the statutory
 *   (type "public") holidays of the responsible organisation's jurisdiction, from date-holidays ('CA-ON' → Canada,
 *   Ontario; 'CA' → federal holidays only; 'CA-ON-ottawa' → Ontario). A holiday on a weekend is observed on the next
 *   working day (Christmas on a Saturday → Monday, Boxing Day → Tuesday).
 * - days / weeks / months: calendar arithmetic; when the last day falls on a weekend or holiday it moves to the next
 *   working day (as the Interpretation Acts do for statutory time limits).
 * - seconds / minutes / hours: the result is due the same day (or the next working day if the hours run past it).
 */
import Holidays from 'date-holidays';
import { localDate } from '../i18n/index';

export type DurationUnit = 'seconds' | 'minutes' | 'hours' | 'days' | 'business_days' | 'weeks' | 'months';
export const TIME_ZONE = 'America/Toronto';

const holidayCache = new Map<string, Set<string>>();

function holidaysFor(jurisdiction: string, year: number): Set<string> {
  const key = `${jurisdiction}:${year}`;
  let set = holidayCache.get(key);
  if (set) return set;
  const [country, state] = jurisdiction.toUpperCase().split('-');
  set = new Set<string>();
  try {
    const hd = state ? new Holidays(country || 'CA', state) : new Holidays(country || 'CA');
    const days = (hd.getHolidays(year) || []).filter((h) => h.type === 'public').map((h) => h.date.slice(0, 10)).sort();
    for (const d of days) set.add(d);
    // A holiday that falls on a weekend is observed on the next working day that is not itself a holiday.
    for (const d of days) {
      const wd = new Date(`${d}T00:00:00Z`).getUTCDay();
      if (wd !== 0 && wd !== 6) continue;
      let x = d;
      do {
        const t = new Date(`${x}T00:00:00Z`);
        t.setUTCDate(t.getUTCDate() + 1);
        x = t.toISOString().slice(0, 10);
      } while ([0, 6].includes(new Date(`${x}T00:00:00Z`).getUTCDay()) || set.has(x));
      set.add(x);
    }
  } catch {
    /* unknown jurisdiction: weekends only */
  }
  holidayCache.set(key, set);
  return set;
}

/** 'YYYY-MM-DD' in a time zone (default Eastern): the platform's one helper, re-exported for the cases modules. */
export { localDate };

function parse(d: string): Date {
  return new Date(`${d}T00:00:00Z`);
}
function fmt(d: Date): string {
  return d.toISOString().slice(0, 10);
}
export function addDays(d: string, n: number): string {
  const x = parse(d);
  x.setUTCDate(x.getUTCDate() + n);
  return fmt(x);
}

export function isHoliday(d: string, jurisdiction: string): boolean {
  return holidaysFor(jurisdiction, Number(d.slice(0, 4))).has(d);
}

export function isBusinessDay(d: string, jurisdiction: string): boolean {
  const wd = parse(d).getUTCDay();
  return wd !== 0 && wd !== 6 && !isHoliday(d, jurisdiction);
}

export function nextBusinessDayOnOrAfter(d: string, jurisdiction: string): string {
  let x = d;
  while (!isBusinessDay(x, jurisdiction)) x = addDays(x, 1);
  return x;
}

/**
 * Calendar answers are pure (a day, a count, a jurisdiction's holidays), and every case opened on a day asks the same
 * few: remembered (up to 10,000, then started afresh), so that opening a case does not walk the calendar each time.
 */
const calendarMemo = new Map<string, string>();
function memo(key: string, compute: () => string): string {
  let v = calendarMemo.get(key);
  if (v === undefined) {
    if (calendarMemo.size >= 10_000) calendarMemo.clear();
    calendarMemo.set(key, (v = compute()));
  }
  return v;
}

export function addBusinessDays(d: string, n: number, jurisdiction: string): string {
  return memo(`b|${d}|${n}|${jurisdiction}`, () => walkBusinessDays(d, n, jurisdiction));
}

function walkBusinessDays(d: string, n: number, jurisdiction: string): string {
  let x = d;
  let left = n;
  while (left > 0) {
    x = addDays(x, 1);
    if (isBusinessDay(x, jurisdiction)) left--;
  }
  return x;
}

/** Working days strictly after `from` up to and including `to` (0 when to <= from). */
export function businessDaysBetween(from: string, to: string, jurisdiction: string): number {
  let n = 0;
  for (let x = addDays(from, 1); x <= to; x = addDays(x, 1)) if (isBusinessDay(x, jurisdiction)) n++;
  return n;
}

export function computeDueDate(start: Date | string, value: number, unit: DurationUnit, jurisdiction: string): string {
  const day = typeof start === 'string' ? start : localDate(start);
  // calendar units are remembered here; business_days by addBusinessDays; hours and shorter depend on the instant
  if (unit === 'days' || unit === 'weeks' || unit === 'months') return memo(`d|${day}|${value}|${unit}|${jurisdiction}`, () => dueFromDay(day, value, unit, jurisdiction));
  return dueFromDay(day, value, unit, jurisdiction, start);
}

function dueFromDay(day: string, value: number, unit: DurationUnit, jurisdiction: string, start: Date | string = day): string {
  switch (unit) {
    case 'business_days':
      return addBusinessDays(day, value, jurisdiction);
    case 'days':
      return nextBusinessDayOnOrAfter(addDays(day, value), jurisdiction);
    case 'weeks':
      return nextBusinessDayOnOrAfter(addDays(day, value * 7), jurisdiction);
    case 'months': {
      const x = parse(day);
      const dom = x.getUTCDate();
      x.setUTCDate(1);
      x.setUTCMonth(x.getUTCMonth() + value);
      const last = new Date(Date.UTC(x.getUTCFullYear(), x.getUTCMonth() + 1, 0)).getUTCDate();
      x.setUTCDate(Math.min(dom, last));
      return nextBusinessDayOnOrAfter(fmt(x), jurisdiction);
    }
    case 'hours':
    case 'minutes':
    case 'seconds': {
      if (typeof start === 'string') return nextBusinessDayOnOrAfter(start, jurisdiction);
      const ms = value * (unit === 'hours' ? 3_600_000 : unit === 'minutes' ? 60_000 : 1000);
      return nextBusinessDayOnOrAfter(localDate(new Date(start.getTime() + ms)), jurisdiction);
    }
    default:
      throw new Error(`unknown duration unit ${unit as string}`);
  }
}
