/**
 * Import of the Government of Canada Service Inventory (si_*.csv services, ss_*.csv service standards).
 *
 * - Keeps the latest fiscal year per service_id (1,716 services on the 2025-03 snapshot) and every standard row
 *   (unique on standard id + service id + fiscal year: 2,341 rows).
 * - 'NA' (not applicable) and 'ND' (no data) are kept as such, never read as zero.
 * - Idempotent: each service carries a hash of its source rows; an unchanged service is not touched, a changed one
 *   is updated with its children replaced.
 * - Bad rows are reported with file, line and reason and skipped; everything else is written in one transaction,
 *   so a failure leaves nothing half-written. With { strict: true } any bad row aborts the whole import.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Database } from '../db/database';
import type { ChannelType } from './tables';
import { parseDuration } from './standards';

export interface ImportProblem {
  file: string;
  line: number;
  reason: string;
}

export interface ImportReport {
  organisations: { inserted: number; updated: number; unchanged: number };
  services: { inserted: number; updated: number; unchanged: number; total: number };
  standards: number;
  problems: ImportProblem[];
}

type Row = Record<string, string> & { __line: number };

const VOLUME_COLUMNS: Record<string, string> = {
  num_phone_enquiries: 'phone_enquiries',
  num_applications_by_phone: 'applications_by_phone',
  num_website_visits: 'website_visits',
  num_applications_online: 'applications_online',
  num_applications_in_person: 'applications_in_person',
  num_applications_by_mail: 'applications_by_mail',
  num_applications_by_email: 'applications_by_email',
  num_applications_by_fax: 'applications_by_fax',
  num_applications_by_other: 'applications_by_other',
  num_applications_total: 'applications_total',
};

const OS_COLUMNS = ['os_account_registration', 'os_authentication', 'os_application', 'os_decision', 'os_issuance', 'os_issue_resolution_feedback'];

/** Rows with the line (as an editor shows it: counting \n) on which each record starts. */
function readCsv(file: string): Row[] {
  const buf = fs.readFileSync(file);
  let records: Array<{ record: Record<string, string>; info: { bytes: number }; raw: string }>;
  try {
    records = parse(buf, {
      bom: true, columns: true, skip_empty_lines: true, relax_column_count: true, info: true, raw: true, record_delimiter: ['\r\n', '\n'],
    }) as typeof records;
  } catch (e) {
    // A structural error (unbalanced quotes...) makes the whole file unreadable: report where, import nothing.
    const err = e as Error & { bytes?: number };
    const upto = err.bytes !== undefined ? buf.subarray(0, err.bytes) : buf;
    let line = 1;
    for (const b of upto) if (b === 0x0a) line++;
    const failure = new Error(`${path.basename(file)}:${line}: ${err.message.split(' at line')[0]}`);
    (failure as any).problems = [{ file: path.basename(file), line, reason: err.message }];
    throw failure;
  }
  const bomBytes = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  let line = 1;
  let pos = 0;
  return records.map(({ record, info, raw }) => {
    const start = bomBytes + info.bytes - Buffer.byteLength(raw);
    for (; pos < start; pos++) if (buf[pos] === 0x0a) line++;
    return { ...record, __line: line } as Row;
  });
}

/** A count cell: integer, or NA / ND (kept as such), or empty (treated as ND: no data). */
export function parseCount(v: string | undefined): { value: number | null; missing: 'NA' | 'ND' | null } | { error: string } {
  const s = (v ?? '').trim();
  if (s === '' || s.toUpperCase() === 'ND') return { value: null, missing: 'ND' };
  if (s.toUpperCase() === 'NA') return { value: null, missing: 'NA' };
  const n = Number(s.replace(/,/g, ''));
  if (!Number.isFinite(n) || n < 0 || !Number.isInteger(n)) return { error: `not a count: "${s}"` };
  return { value: n, missing: null };
}

/** A ratio cell (0..1; performance may exceed 1 when more than the measured volume met the target). */
function parseRatio(v: string | undefined, max = 1): { value: number | null; missing: 'NA' | 'ND' | null } | { error: string } {
  const s = (v ?? '').trim();
  if (s === '' || s.toUpperCase() === 'ND') return { value: null, missing: 'ND' };
  if (s.toUpperCase() === 'NA') return { value: null, missing: 'NA' };
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0 || n > max) return { error: `not a ratio between 0 and ${max}: "${s}"` };
  return { value: n, missing: null };
}

const FY = /^\d{4}-\d{4}$/;
const codes = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);

export function splitOrgTitle(title: string): { en: string; fr: string } | null {
  const parts = title.split('|').map((p) => p.trim());
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null;
  return { en: parts[0], fr: parts[1] };
}

export function orgAcronyms(code: string): { en: string; fr: string } {
  const [en, fr] = code.split('-');
  return { en: en.toUpperCase(), fr: (fr ?? en).toUpperCase() };
}

function deriveChannels(row: Row): Array<{ channel: ChannelType; url_en: string | null; url_fr: string | null }> {
  const fb = new Set(codes(row.client_feedback_channel));
  const num = (c: string) => {
    const p = parseCount(row[c]);
    return 'value' in p && p.value !== null ? p.value : 0;
  };
  const out: Array<{ channel: ChannelType; url_en: string | null; url_fr: string | null }> = [];
  const online = row.os_application === 'Y' || num('num_applications_online') > 0 || fb.has('ONL');
  if (online) out.push({ channel: 'online', url_en: row.service_uri_en || null, url_fr: row.service_uri_fr || null });
  if (num('num_phone_enquiries') > 0 || num('num_applications_by_phone') > 0 || fb.has('TEL')) out.push({ channel: 'phone', url_en: null, url_fr: null });
  if (num('num_applications_in_person') > 0 || fb.has('PERSON')) out.push({ channel: 'in_person', url_en: null, url_fr: null });
  if (num('num_applications_by_mail') > 0 || fb.has('POST')) out.push({ channel: 'mail', url_en: null, url_fr: null });
  if (num('num_applications_by_email') > 0 || fb.has('EML')) out.push({ channel: 'email', url_en: null, url_fr: null });
  if (num('num_applications_by_fax') > 0 || fb.has('FAX')) out.push({ channel: 'fax', url_en: null, url_fr: null });
  return out;
}

function validateService(row: Row): string | null {
  if (!row.service_id?.trim()) return 'service_id is empty';
  if (!FY.test(row.fiscal_yr ?? '')) return `fiscal_yr is not a fiscal year: "${row.fiscal_yr ?? ''}"`;
  if (!row.service_name_en?.trim() || !row.service_name_fr?.trim()) return 'service name is missing in English or French';
  if (!row.owner_org?.trim()) return 'owner_org is empty';
  if (!splitOrgTitle(row.owner_org_title ?? '')) return 'owner_org_title is not "English | Français"';
  for (const col of Object.keys(VOLUME_COLUMNS)) {
    const p = parseCount(row[col]);
    if ('error' in p) return `${col}: ${p.error}`;
  }
  return null;
}

function validateStandard(row: Row): string | null {
  if (!row.service_standard_id?.trim()) return 'service_standard_id is empty';
  if (!row.service_id?.trim()) return 'service_id is empty';
  if (!FY.test(row.fiscal_yr ?? '')) return `fiscal_yr is not a fiscal year: "${row.fiscal_yr ?? ''}"`;
  if (!row.service_standard_en?.trim() && !row.service_standard_fr?.trim()) return 'standard text is empty in both languages';
  for (const [col, max] of [['target', 1], ['performance', 100]] as const) {
    const p = parseRatio(row[col], max);
    if ('error' in p) return `${col}: ${p.error}`;
  }
  for (const col of ['volume_meeting_target', 'total_volume']) {
    const p = parseCount(row[col]);
    if ('error' in p) return `${col}: ${p.error}`;
  }
  return null;
}

const hashOf = (v: unknown) => crypto.createHash('sha256').update(JSON.stringify(v)).digest('hex');

function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export async function importGcInventory(db: Database, dir: string, opts: { strict?: boolean } = {}): Promise<ImportReport> {
  const files = fs.readdirSync(dir);
  const siFile = files.filter((f) => /^si_.*\.csv$/.test(f)).sort().pop();
  const ssFile = files.filter((f) => /^ss_.*\.csv$/.test(f)).sort().pop();
  if (!siFile) throw new Error(`no si_*.csv in ${dir}`);
  const problems: ImportProblem[] = [];

  // Services: latest fiscal year per service_id.
  const latest = new Map<string, Row>();
  for (const row of readCsv(path.join(dir, siFile))) {
    const err = validateService(row);
    if (err) {
      problems.push({ file: siFile, line: row.__line, reason: err });
      continue;
    }
    const id = row.service_id.trim();
    const prev = latest.get(id);
    if (!prev || row.fiscal_yr > prev.fiscal_yr) latest.set(id, row);
  }

  // Standards, grouped by service.
  const standardsBySvc = new Map<string, Row[]>();
  if (ssFile) {
    const seen = new Set<string>();
    for (const row of readCsv(path.join(dir, ssFile))) {
      const err = validateStandard(row);
      if (err) {
        problems.push({ file: ssFile, line: row.__line, reason: err });
        continue;
      }
      const key = `${row.service_standard_id}|${row.service_id}|${row.fiscal_yr}`;
      if (seen.has(key)) {
        problems.push({ file: ssFile, line: row.__line, reason: `duplicate standard ${key}` });
        continue;
      }
      if (!latest.has(row.service_id.trim())) {
        problems.push({ file: ssFile, line: row.__line, reason: `service_id ${row.service_id} is not in the service file` });
        continue;
      }
      seen.add(key);
      const list = standardsBySvc.get(row.service_id.trim()) ?? [];
      list.push(row);
      standardsBySvc.set(row.service_id.trim(), list);
    }
  }
  if (opts.strict && problems.length) {
    const e = new Error(`import aborted: ${problems.length} bad row(s)`);
    (e as any).problems = problems;
    throw e;
  }

  const report: ImportReport = {
    organisations: { inserted: 0, updated: 0, unchanged: 0 },
    services: { inserted: 0, updated: 0, unchanged: 0, total: latest.size },
    standards: 0,
    problems,
  };

  await db.transaction().execute(async (trx) => {
    // Organisations
    const orgs = new Map<string, { name_en: string; name_fr: string }>();
    for (const row of latest.values()) {
      const names = splitOrgTitle(row.owner_org_title)!;
      orgs.set(row.owner_org.trim(), { name_en: names.en, name_fr: names.fr });
    }
    const existingOrgs = new Map((await trx.selectFrom('organisations').select(['id', 'name_en', 'name_fr']).execute()).map((o) => [o.id, o]));
    for (const [id, names] of orgs) {
      const ex = existingOrgs.get(id);
      const acr = orgAcronyms(id);
      if (!ex) {
        await trx
          .insertInto('organisations')
          .values({ id, ...names, acronym_en: acr.en, acronym_fr: acr.fr, level: 'federal', jurisdiction: 'CA', source: 'gc-inventory' })
          .execute();
        report.organisations.inserted++;
      } else if (ex.name_en !== names.name_en || ex.name_fr !== names.name_fr) {
        await trx.updateTable('organisations').set({ ...names, updated_at: new Date() }).where('id', '=', id).execute();
        report.organisations.updated++;
      } else report.organisations.unchanged++;
    }

    const existing = new Map(
      (await trx.selectFrom('services').select(['id', 'content_hash']).where('source', '=', 'gc-inventory').execute()).map((s) => [s.id, s.content_hash]),
    );

    const serviceRows: any[] = [];
    const channelRows: any[] = [];
    const volumeRows: any[] = [];
    const standardRows: any[] = [];
    const deliveringRows: any[] = [];
    const changedIds: string[] = [];
    const updatedIds: string[] = [];

    for (const [sid, row] of latest) {
      const id = `gc-${sid}`;
      const stds = (standardsBySvc.get(sid) ?? []).sort((a, b) =>
        `${a.service_standard_id}|${a.fiscal_yr}`.localeCompare(`${b.service_standard_id}|${b.fiscal_yr}`),
      );
      const { __line: _l, ...clean } = row;
      const hash = hashOf({ clean, stds: stds.map(({ __line: _x, ...s }) => s) });
      const prev = existing.get(id);
      if (prev === hash) {
        report.services.unchanged++;
        continue;
      }
      if (prev !== undefined) {
        report.services.updated++;
        updatedIds.push(id);
      } else report.services.inserted++;
      changedIds.push(id);

      const online: Record<string, string | null> = {};
      for (const c of OS_COLUMNS) online[c.slice(3)] = row[c] || null;
      serviceRows.push({
        id,
        source: 'gc-inventory',
        identifier: sid,
        owner_org_id: row.owner_org.trim(),
        title_en: row.service_name_en.trim(),
        title_fr: row.service_name_fr.trim(),
        description_en: (row.service_description_en ?? '').trim(),
        description_fr: (row.service_description_fr ?? '').trim(),
        service_type: codes(row.service_type)[0] ?? null,
        audiences: codes(row.client_target_groups),
        program_id: codes(row.program_id)[0] ?? null,
        program_name_en: row.program_name_en || null,
        program_name_fr: row.program_name_fr || null,
        fee_applies: row.service_fee === 'Y' ? true : row.service_fee === 'N' ? false : null,
        online_status: JSON.stringify(online),
        url_en: row.service_uri_en || null,
        url_fr: row.service_uri_fr || null,
        fiscal_year: row.fiscal_yr,
        last_review_fy: row.last_service_review || null,
        status: 'published',
        content_hash: hash,
        published_at: new Date(),
      });
      deliveringRows.push({ service_id: id, org_id: row.owner_org.trim() });
      for (const ch of deriveChannels(row)) channelRows.push({ service_id: id, ...ch });
      for (const [col, metric] of Object.entries(VOLUME_COLUMNS)) {
        const p = parseCount(row[col]) as { value: number | null; missing: 'NA' | 'ND' | null };
        volumeRows.push({ service_id: id, fiscal_year: row.fiscal_yr, metric, value: p.value, missing_reason: p.missing });
      }
      for (const s of stds) {
        const target = parseRatio(s.target) as any;
        const perf = parseRatio(s.performance, 100) as any;
        const vmt = parseCount(s.volume_meeting_target) as any;
        const tv = parseCount(s.total_volume) as any;
        const missing: Record<string, string> = {};
        if (target.missing) missing.target = target.missing;
        if (perf.missing) missing.performance = perf.missing;
        if (vmt.missing) missing.volume_meeting_target = vmt.missing;
        if (tv.missing) missing.total_volume = tv.missing;
        const dur = parseDuration(s.service_standard_en || '');
        standardRows.push({
          id: `gc-${s.service_standard_id}-${sid}-${s.fiscal_yr}`,
          source_id: s.service_standard_id,
          service_id: id,
          fiscal_year: s.fiscal_yr,
          text_en: (s.service_standard_en || s.service_standard_fr).trim(),
          text_fr: (s.service_standard_fr || s.service_standard_en).trim(),
          type: s.type || null,
          channel: s.channel || null,
          target: target.value,
          volume_meeting_target: vmt.value,
          total_volume: tv.value,
          performance: perf.value,
          target_met: s.target_met === 'Y' ? true : s.target_met === 'N' ? false : null,
          missing: JSON.stringify(missing),
          duration_value: dur?.value ?? null,
          duration_unit: dur?.unit ?? null,
          standard_url_en: s.standards_targets_uri_en || null,
          standard_url_fr: s.standards_targets_uri_fr || null,
          results_url_en: s.performance_results_uri_en || null,
          results_url_fr: s.performance_results_uri_fr || null,
        });
      }
    }

    // Replace children of changed services, then upsert the services themselves.
    for (const ids of chunk(updatedIds, 500)) {
      for (const table of ['service_channels', 'service_volumes', 'service_standards', 'service_delivering_orgs'] as const) {
        await trx.deleteFrom(table).where('service_id', 'in', ids).execute();
      }
    }
    for (const rows of chunk(serviceRows, 200)) {
      await trx
        .insertInto('services')
        .values(rows)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            owner_org_id: eb.ref('excluded.owner_org_id'),
            title_en: eb.ref('excluded.title_en'),
            title_fr: eb.ref('excluded.title_fr'),
            description_en: eb.ref('excluded.description_en'),
            description_fr: eb.ref('excluded.description_fr'),
            service_type: eb.ref('excluded.service_type'),
            audiences: eb.ref('excluded.audiences'),
            program_id: eb.ref('excluded.program_id'),
            program_name_en: eb.ref('excluded.program_name_en'),
            program_name_fr: eb.ref('excluded.program_name_fr'),
            fee_applies: eb.ref('excluded.fee_applies'),
            online_status: eb.ref('excluded.online_status'),
            url_en: eb.ref('excluded.url_en'),
            url_fr: eb.ref('excluded.url_fr'),
            fiscal_year: eb.ref('excluded.fiscal_year'),
            last_review_fy: eb.ref('excluded.last_review_fy'),
            content_hash: eb.ref('excluded.content_hash'),
            version: eb(eb.ref('services.version'), '+', 1),
            updated_at: new Date(),
          })),
        )
        .execute();
    }
    for (const rows of chunk(deliveringRows, 1000)) await trx.insertInto('service_delivering_orgs').values(rows).execute();
    for (const rows of chunk(channelRows, 1000)) await trx.insertInto('service_channels').values(rows).execute();
    for (const rows of chunk(volumeRows, 1000)) await trx.insertInto('service_volumes').values(rows).execute();
    for (const rows of chunk(standardRows, 500)) await trx.insertInto('service_standards').values(rows).execute();
    report.standards = standardRows.length;
    void changedIds;
  });
  return report;
}
