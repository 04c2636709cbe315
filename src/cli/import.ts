/**
 * npm run import -- gc-inventory <dir>      import the GC Service Inventory (si_*.csv, ss_*.csv)
 * npm run import -- cpsv <file.jsonld>      import a CPSV-AP 3.2.0 JSON-LD catalogue
 * Uses the same database as `npm start` (GUICHET_DATA_DIR or DATABASE_URL). Exits 1 when rows were rejected.
 */
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { migrateToLatest } from '../db/migrate';
import { importGcInventory } from '../catalogue/import-gc';
import { capabilities } from '../capabilities';

const [kind, source, ...flags] = process.argv.slice(2);
if (!kind || !source) {
  console.error('usage: npm run import -- gc-inventory <dir> [--strict] | cpsv <file.jsonld>');
  process.exit(2);
}
const config = loadConfig();
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir });
try {
  await migrateToLatest(database.db, capabilities);
  if (kind === 'gc-inventory') {
    const report = await importGcInventory(database.db, source, { strict: flags.includes('--strict') });
    const { problems, ...counts } = report;
    console.log(JSON.stringify(counts, null, 2));
    for (const p of problems) console.error(`${p.file}:${p.line}: ${p.reason}`);
    process.exitCode = problems.length ? 1 : 0;
  } else if (kind === 'cpsv') {
    const { importCpsvFile } = await import('../catalogue/cpsv/import');
    const report = await importCpsvFile(database.db, source);
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.error(`unknown import kind "${kind}"`);
    process.exitCode = 2;
  }
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  for (const p of ((e as any)?.problems ?? []) as Array<{ file: string; line: number; reason: string }>) console.error(`${p.file}:${p.line}: ${p.reason}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
