/**
 * Partners report their own channels: volumes per service, channel and period, by API (JSON) or CSV upload.
 * An upload is checked whole; if any line is wrong nothing is stored and every error comes back as
 * `file:line: reason` (422 VOLUMES_INVALID). Refused: unknown services, another partner's services, unknown
 * channels, negative or non-integer counts, bad or reversed periods, periods overlapping another line of the upload or
 * a stored period of the same service and channel. Sending a line already stored (same service, channel, period and
 * count) again is accepted and stores nothing (a retried upload is harmless).
 */
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { AppError, type FieldError } from '../http/errors';
import { t, type Lang } from '../i18n/index';
import { CHANNELS } from './tables';

export interface VolumeLine {
  line: number;
  serviceId: string;
  channel: string;
  periodStart: string;
  periodEnd: string;
  transactions: unknown;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const validDate = (s: string) => DATE_RE.test(s) && !Number.isNaN(Date.parse(s + 'T00:00:00Z')) && new Date(s + 'T00:00:00Z').toISOString().slice(0, 10) === s;
export const CSV_COLUMNS = ['service_id', 'channel', 'period_start', 'period_end', 'transactions'];

/** Lines of a CSV upload (header required), numbered as an editor shows them. */
export function parseVolumesCsv(text: string, file: string, lang: Lang): VolumeLine[] {
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(text, { bom: true, columns: true, skip_empty_lines: true, trim: true, info: true }) as typeof records;
  } catch (e) {
    const line = (e as { lines?: number }).lines ?? 1;
    throw invalid([{ field: `${file}:${line}`, code: 'csv', message: `${file}:${line}: ${t(lang, 'performance.volumes.csv')}` }]);
  }
  const header = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0].split(',').map((h) => h.trim());
  const missing = CSV_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length) throw invalid([{ field: `${file}:1`, code: 'header', message: `${file}:1: ${t(lang, 'performance.volumes.header', { columns: CSV_COLUMNS.join(',') })}` }]);
  return records.map(({ record, info }) => ({
    line: info.lines,
    serviceId: record.service_id ?? '',
    channel: record.channel ?? '',
    periodStart: record.period_start ?? '',
    periodEnd: record.period_end ?? '',
    transactions: record.transactions ?? '',
  }));
}

const invalid = (details: FieldError[]) => new AppError(422, 'VOLUMES_INVALID', undefined, undefined, details);

/** Check every line, then store them all in one transaction (or nothing). Returns lines stored. */
export async function storeVolumes(db: Database, orgId: string, lines: VolumeLine[], file: string, lang: Lang, source: 'api' | 'csv'): Promise<{ stored: number; unchanged: number }> {
  const errors: FieldError[] = [];
  const err = (l: VolumeLine, code: string, params?: Record<string, string | number>) =>
    errors.push({ field: `${file}:${l.line}`, code, message: `${file}:${l.line}: ${t(lang, `performance.volumes.${code}`, params)}` });
  if (!lines.length) throw invalid([{ field: `${file}:1`, code: 'empty', message: `${file}:1: ${t(lang, 'performance.volumes.empty')}` }]);
  if (lines.length > 20000) throw invalid([{ field: `${file}:1`, code: 'tooMany', message: `${file}:1: ${t(lang, 'performance.volumes.tooMany')}` }]);
  for (const l of lines) for (const k of ['serviceId', 'channel', 'periodStart', 'periodEnd'] as const) l[k] = String(l[k] ?? '').replace(/\u0000/g, '').slice(0, 300);
  const ids = [...new Set(lines.map((l) => l.serviceId).filter(Boolean))];
  const owners = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await db.selectFrom('services').select(['id', 'owner_org_id']).where('id', 'in', ids.slice(i, i + 1000)).execute();
    for (const r of rows) owners.set(r.id, r.owner_org_id);
  }
  const stored = ids.length
    ? await db.selectFrom('perf_partner_volumes').select(['service_id', 'channel', 'period_start', 'period_end', 'transactions'])
      .where('service_id', 'in', ids.slice(0, 5000)).execute()
    : [];
  const good: Array<VolumeLine & { n: number }> = [];
  for (const l of lines) {
    const before = errors.length;
    if (!l.serviceId) err(l, 'serviceRequired');
    else if (!owners.has(l.serviceId)) err(l, 'unknownService', { id: l.serviceId });
    else if (owners.get(l.serviceId) !== orgId) err(l, 'notYourService', { id: l.serviceId });
    if (!(CHANNELS as readonly string[]).includes(l.channel)) err(l, 'unknownChannel', { channel: String(l.channel), channels: CHANNELS.join(', ') });
    if (!validDate(l.periodStart) || !validDate(l.periodEnd)) err(l, 'badPeriod');
    else if (l.periodEnd < l.periodStart) err(l, 'reversedPeriod');
    const text = String(l.transactions ?? '').trim();
    const n = Number(text);
    if (text === '' || !Number.isFinite(n)) err(l, 'badCount');
    else if (n < 0) err(l, 'negativeCount');
    else if (!Number.isInteger(n) || n > 1e12) err(l, 'badCount');
    if (errors.length === before) good.push({ ...l, n });
  }
  // Overlaps, within the upload and with stored periods (an identical stored line is not an overlap: it is a retry).
  const unchangedLines = new Set<number>();
  const byKey = new Map<string, Array<VolumeLine & { n: number }>>();
  for (const l of good) {
    const k = `${l.serviceId}|${l.channel}`;
    const same = stored.filter((s) => s.service_id === l.serviceId && s.channel === l.channel);
    const identical = same.find((s) => s.period_start === l.periodStart && s.period_end === l.periodEnd && Number(s.transactions) === l.n);
    if (identical) { unchangedLines.add(l.line); continue; }
    const clash = same.find((s) => s.period_start <= l.periodEnd && l.periodStart <= s.period_end);
    if (clash) err(l, 'overlapsStored', { from: clash.period_start, to: clash.period_end });
    const prev = byKey.get(k) ?? [];
    const clashLine = prev.find((p) => p.periodStart <= l.periodEnd && l.periodStart <= p.periodEnd);
    if (clashLine) err(l, 'overlapsLine', { line: clashLine.line });
    prev.push(l);
    byKey.set(k, prev);
  }
  if (errors.length) throw invalid(errors.sort((a, b) => Number(a.field.split(':').pop()) - Number(b.field.split(':').pop())));
  const toStore = good.filter((l) => !unchangedLines.has(l.line));
  if (toStore.length) {
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < toStore.length; i += 1000) {
        await trx.insertInto('perf_partner_volumes').values(toStore.slice(i, i + 1000).map((l) => ({
          org_id: orgId, service_id: l.serviceId, channel: l.channel, period_start: l.periodStart, period_end: l.periodEnd, transactions: l.n, source,
        }))).execute();
      }
    });
  }
  return { stored: toStore.length, unchanged: unchangedLines.size };
}

/** A partner's stored periods (newest first). */
export async function listVolumes(db: Database, orgId: string, limit = 200) {
  return db.selectFrom('perf_partner_volumes').select(['service_id', 'channel', 'period_start', 'period_end', 'transactions', 'source'])
    .where('org_id', '=', orgId).orderBy('period_start', 'desc').orderBy('service_id').limit(limit).execute();
}
void sql;
