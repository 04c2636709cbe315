/**
 * Test databases. Each test file gets its own fresh database:
 * - PGlite (default): in memory; with { catalogue: true } it is restored from a cached dump of a database that has
 *   the real GC inventory and the demo set (built once, kept in .build/test-cache, keyed by the schema and seed).
 * - PostgreSQL (when DATABASE_URL is set): a new database per file, copied from a template database that holds the
 *   same seeded catalogue; dropped at cleanup.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openDatabase, type OpenedDatabase } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { seedIfEmpty } from '../../src/catalogue/seed';
import { capabilities } from '../../src/capabilities';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SEED_DIR = path.join(root, 'seed');

export interface TestDatabase extends OpenedDatabase {
  cleanup(): Promise<void>;
  /** PostgreSQL only: the URL of this test database (for child processes). */
  url?: string;
}

function schemaHash(): string {
  const h = crypto.createHash('sha256');
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/(migrations|import-gc|seed|demo-data)\.ts$/.test(e.name)) h.update(p).update(fs.readFileSync(p));
    }
  };
  walk(path.join(root, 'src'));
  for (const f of fs.readdirSync(path.join(SEED_DIR, 'gc-service-inventory')).sort()) {
    h.update(f).update(String(fs.statSync(path.join(SEED_DIR, 'gc-service-inventory', f)).size));
  }
  return h.digest('hex').slice(0, 16);
}

async function seed(db: OpenedDatabase) {
  await migrateToLatest(db.db, capabilities);
  await seedIfEmpty(db.db, SEED_DIR);
}

export async function pgliteCatalogueDump(): Promise<Blob> {
  const dir = path.join(root, '.build/test-cache');
  const file = path.join(dir, `catalogue-${schemaHash()}.tar`);
  if (fs.existsSync(file)) return new Blob([fs.readFileSync(file)]);
  const db = await openDatabase({});
  await seed(db);
  const dump = await db.pglite!.dumpDataDir('none');
  await db.close();
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
  fs.renameSync(tmp, file);
  return dump;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function pgTemplate(adminUrl: string): Promise<string> {
  const name = `guichet_tpl_${schemaHash()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock(424242)');
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) {
      await admin.query(`create database "${name}_building"`).catch(async () => {
        await admin.query(`drop database if exists "${name}_building"`);
        await admin.query(`create database "${name}_building"`);
      });
      const db = await openDatabase({ databaseUrl: withDatabase(adminUrl, `${name}_building`), poolSize: 2 });
      await seed(db);
      await db.close();
      await admin.query(`alter database "${name}_building" rename to "${name}"`);
    }
    return name;
  } finally {
    await admin.query('select pg_advisory_unlock(424242)').catch(() => {});
    await admin.end();
  }
}

/**
 * A fresh test database. With `keepAs` (PostgreSQL only; benchmarks that reuse loaded data), the database of that
 * name is opened if it exists (created from the template otherwise) and cleanup closes it without dropping it;
 * `existed` says whether it was there already.
 */
export async function createTestDb(opts: { catalogue?: boolean; poolSize?: number; keepOpen?: boolean; keepAs?: string } = {}): Promise<TestDatabase & { existed?: boolean }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const db = opts.catalogue ? await openDatabase({ loadDataDir: await pgliteCatalogueDump() }) : await openDatabase({});
    if (!opts.catalogue) await migrateToLatest(db.db, capabilities);
    else await migrateToLatest(db.db, capabilities); // no-op unless a migration was added after the dump
    return { ...db, cleanup: () => db.close() };
  }
  if (opts.keepAs !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.keepAs)) throw new Error(`bad database name ${opts.keepAs}`);
  const name = opts.keepAs ?? `guichet_t_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  let existed = false;
  try {
    existed = opts.keepAs !== undefined && ((await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount ?? 0) > 0;
    if (existed) {
      // kept from an earlier run: opened as it is (migrated below)
    } else if (opts.catalogue) {
      const tpl = await pgTemplate(url);
      await admin.query(`create database "${name}" template "${tpl}"`);
    } else await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const dbUrl = withDatabase(url, name);
  const db = await openDatabase({ databaseUrl: dbUrl, poolSize: opts.poolSize ?? 5, keepOpen: opts.keepOpen });
  await migrateToLatest(db.db, capabilities);
  return {
    ...db,
    url: dbUrl,
    existed,
    cleanup: async () => {
      await db.close();
      if (opts.keepAs !== undefined) return;
      const a = new pg.Client({ connectionString: url });
      await a.connect();
      await a.query(`drop database if exists "${name}" with (force)`).catch(() => {});
      await a.end();
    },
  };
}
