/**
 * Opens the database: PGlite (embedded, data on disk or in memory) by default, PostgreSQL when a URL is given.
 * Both are configured to return the same JavaScript types:
 *   int8/bigint -> number (counts and integer cents stay far below 2^53), numeric -> number,
 *   date -> 'YYYY-MM-DD' string, timestamptz -> Date, json/jsonb -> parsed value.
 */
import fs from 'node:fs';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from './pglite-dialect';
import type { DB } from './schema';

export type Database = Kysely<DB>;

export interface OpenedDatabase {
  db: Database;
  kind: 'pglite' | 'postgres';
  /** Run one SQL statement with positional parameters (for libraries that need raw SQL, like pg-boss). */
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
  close(): Promise<void>;
  /** PGlite only: the underlying instance (for dumps in tests). */
  pglite?: PGlite;
}

const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;

const toNumber = (v: string) => (v === null ? null : Number(v));
const identity = (v: string) => v;

export interface OpenOptions {
  /** postgres:// URL; when set, PostgreSQL is used. */
  databaseUrl?: string;
  /** PGlite data directory; undefined means in memory. */
  dataDir?: string;
  /** pg pool size (PostgreSQL only). */
  poolSize?: number;
  /** PGlite only: restore from a dump made with dumpDataDir(). */
  loadDataDir?: Blob | File;
}

export async function openDatabase(opts: OpenOptions): Promise<OpenedDatabase> {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 10,
      types: {
        getTypeParser: ((oid: number, format?: any) => {
          if (oid === INT8 || oid === NUMERIC) return toNumber;
          if (oid === DATE) return identity;
          return pg.types.getTypeParser(oid, format);
        }) as any,
      },
    });
    pool.on('error', () => {
      /* idle client errors (server restart) are retried by the next checkout */
    });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      executeSql: async (text, values) => {
        const r = await pool.query(text, values as any[]);
        return { rows: r.rows };
      },
      close: () => db.destroy(),
    };
  }

  if (opts.dataDir) fs.mkdirSync(opts.dataDir, { recursive: true });
  const pglite = new PGlite({
    dataDir: opts.dataDir,
    loadDataDir: opts.loadDataDir,
    parsers: {
      [INT8]: toNumber,
      [NUMERIC]: toNumber,
      [DATE]: identity,
    },
  });
  await pglite.waitReady;
  void pgliteTypes;
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    pglite,
    executeSql: async (text, values) => {
      const r = await db.executeQuery(CompiledQuery.raw(text, values ?? []));
      return { rows: r.rows as any[] };
    },
    close: () => db.destroy(),
  };
}
