import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDb, SEED_DIR, type TestDatabase } from '../../test/support/db';
import { importGcInventory } from './import-gc';
import { parseDuration } from './standards';

const count = async (d: TestDatabase, table: any, where?: [string, string]) => {
  let q = d.db.selectFrom(table).select((eb: any) => eb.fn.countAll().as('n'));
  if (where) q = q.where(where[0] as any, '=', where[1]);
  return Number(((await q.executeTakeFirst()) as any).n);
};

describe('GC Service Inventory import', () => {
  let d: TestDatabase;
  before(async () => {
    d = await createTestDb();
  });
  after(async () => d.cleanup());

  it('imports exactly 1,716 services, 78 organisations and 2,341 standards', async () => {
    const r = await importGcInventory(d.db, path.join(SEED_DIR, 'gc-service-inventory'));
    assert.deepEqual(r.problems, []);
    assert.equal(r.services.total, 1716);
    assert.equal(r.services.inserted, 1716);
    assert.equal(r.organisations.inserted, 78);
    assert.equal(r.standards, 2341);
    assert.equal(await count(d, 'services'), 1716);
    assert.equal(await count(d, 'organisations'), 78);
    assert.equal(await count(d, 'service_standards'), 2341);
  });

  it('keeps the latest fiscal year of a service listed twice', async () => {
    const s = await d.db.selectFrom('services').select(['fiscal_year']).where('id', '=', 'gc-SRV02975').executeTakeFirstOrThrow();
    assert.equal(s.fiscal_year, '2024-2025');
  });

  it('keeps NA and ND apart from zero', async () => {
    const na = await count(d, 'service_volumes', ['missing_reason', 'NA']);
    const nd = await count(d, 'service_volumes', ['missing_reason', 'ND']);
    assert.ok(na > 1000 && nd > 1000, `NA=${na} ND=${nd}`);
    const zeros = await d.db.selectFrom('service_volumes').select('value').where('value', '=', 0).limit(1).execute();
    const naRow = await d.db.selectFrom('service_volumes').select(['value']).where('missing_reason', '=', 'NA').limit(1).executeTakeFirstOrThrow();
    assert.equal(naRow.value, null);
    assert.ok(zeros.length >= 0);
  });

  it('is idempotent: a second run changes nothing', async () => {
    const before = await d.db.selectFrom('services').select(['id', 'version', 'updated_at']).orderBy('id').execute();
    const r = await importGcInventory(d.db, path.join(SEED_DIR, 'gc-service-inventory'));
    assert.equal(r.services.unchanged, 1716);
    assert.equal(r.services.inserted + r.services.updated, 0);
    assert.equal(r.organisations.unchanged, 78);
    const afterRows = await d.db.selectFrom('services').select(['id', 'version', 'updated_at']).orderBy('id').execute();
    assert.deepEqual(afterRows, before);
    assert.equal(await count(d, 'service_standards'), 2341);
  });

  it('updates a changed row and reports bad rows with line numbers, writing nothing half-done', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gc-inv-'));
    const src = path.join(SEED_DIR, 'gc-service-inventory');
    let si = fs.readFileSync(path.join(src, 'si_2024.csv'), 'utf8');
    si = si.replace('ATSSC Law Library Services,', 'ATSSC Law Library Services (renamed),');
    // A bad row: a count that is not a number.
    const header = si.replace(/^\uFEFF/, '').split(/\r?\n/)[0].split(',');
    const cells: Record<string, string> = Object.fromEntries(header.map((c) => [c, 'NA']));
    Object.assign(cells, {
      fiscal_yr: '2023-2024', service_id: 'BAD2', service_name_en: 'Bad service', service_name_fr: 'Service mauvais',
      owner_org: 'tc', owner_org_title: 'Transport Canada | Transports Canada', num_phone_enquiries: 'lots',
    });
    const badRow = header.map((c) => `"${cells[c].replace(/"/g, '""')}"`).join(',');
    const body = si.replace(/\r?\n$/, '');
    const badLine = body.split('\n').length + 1;
    fs.writeFileSync(path.join(dir, 'si_2024.csv'), `${body}\r\n${badRow}\r\n`);
    fs.copyFileSync(path.join(src, 'ss_2024.csv'), path.join(dir, 'ss_2024.csv'));
    const r = await importGcInventory(d.db, dir);
    assert.equal(r.services.updated, 1);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0].file, 'si_2024.csv');
    assert.equal(r.problems[0].line, badLine);
    assert.match(r.problems[0].reason, /num_phone_enquiries: not a count/);
    const s = await d.db.selectFrom('services').select(['title_en', 'version']).where('id', '=', 'gc-3595').executeTakeFirstOrThrow();
    assert.equal(s.title_en, 'ATSSC Law Library Services (renamed)');
    assert.equal(s.version, 2);
    assert.equal(await count(d, 'services'), 1716, 'the bad row was not written');

    // Strict mode: any bad row aborts the import and nothing at all is written.
    fs.writeFileSync(path.join(dir, 'si_2024.csv'), `${body.replace('(renamed)', '(renamed twice)')}\r\n${badRow}\r\n`);
    await assert.rejects(importGcInventory(d.db, dir, { strict: true }), /import aborted: 1 bad row/);
    const s2 = await d.db.selectFrom('services').select(['title_en']).where('id', '=', 'gc-3595').executeTakeFirstOrThrow();
    assert.equal(s2.title_en, 'ATSSC Law Library Services (renamed)');
  });

  it('refuses a structurally broken file with its line, writing nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gc-inv-'));
    const si = fs.readFileSync(path.join(SEED_DIR, 'gc-service-inventory', 'si_2024.csv'), 'utf8').split('\n');
    si[3] = si[3].replace(',', ',"unbalanced');
    fs.writeFileSync(path.join(dir, 'si_2024.csv'), si.join('\n'));
    const before = await d.db.selectFrom('services').select(['id', 'version']).orderBy('id').execute();
    await assert.rejects(importGcInventory(d.db, dir), /si_2024\.csv:\d+:/);
    assert.deepEqual(await d.db.selectFrom('services').select(['id', 'version']).orderBy('id').execute(), before);
  });

  it('reads durations from standard texts', () => {
    assert.deepEqual(parseDuration('Acknowledging an Expression of Interest within ten (10) business days'), { value: 10, unit: 'business_days' });
    assert.deepEqual(parseDuration('Answer calls received within 60 seconds'), { value: 60, unit: 'seconds' });
    assert.deepEqual(parseDuration('Release payment within 15 working days'), { value: 15, unit: 'business_days' });
    assert.deepEqual(parseDuration('Issue the permit within 6 weeks'), { value: 6, unit: 'weeks' });
    assert.equal(parseDuration('Calls are blocked less than 0.5% of the time'), null);
  });
});
