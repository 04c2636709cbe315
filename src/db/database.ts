/**
 * Opens the database: PGlite (embedded, data on disk or in memory) by default, PostgreSQL when a URL is given.
 * Both are configured to return the same JavaScript types:
 *   int8/bigint -> number (counts and integer cents stay far below 2^53), numeric -> number,
 *   date -> 'YYYY-MM-DD' string, timestamptz -> Date, json/jsonb -> parsed value.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from './pglite-dialect';
import type { DB } from '../schema';

export type Database = Kysely<DB>;

export interface OpenedDatabase {
  db: Database;
  kind: 'pglite' | 'postgres';
  /** Run one SQL statement with positional parameters (for libraries that need raw SQL, like pg-boss). */
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
  close(): Promise<void>;
  /**
   * LISTEN on `channel` (PostgreSQL: a connection of its own, outside the pool; PGlite: its in-process listener).
   * `onGap` is called after the connection came back from a loss (notifications sent meanwhile are lost: the caller
   * looks again). `onLost` is called when the connection is lost (notifications may be missed until `onGap`).
   * Returns a function that stops listening.
   */
  listen(channel: string, onNotify: (payload: string) => void, onGap?: () => void, onLost?: () => void): Promise<() => Promise<void>>;
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
  /** how long an unused pooled connection stays open (PostgreSQL only); default poolIdleMs() */
  idleMs?: number;
  /**
   * A server's pool (PostgreSQL only): all `poolSize` connections are opened now and never closed for being idle, so
   * a burst of requests finds warm connections instead of waiting for new backends (docs/decisions/0007).
   */
  keepOpen?: boolean;
  /** PGlite only: restore from a dump made with dumpDataDir(). */
  loadDataDir?: Blob | File;
}

/**
 * Prepared statements for the queries a process repeats (PostgreSQL only). Kysely sends each query as text with its
 * parameters, which PostgreSQL parses, analyses and plans every time: on the hot paths (session check, case commands,
 * tickets) that was half of the server's CPU. A statement text seen twice gets a name (a hash of the text), so pg
 * prepares it once per connection and then only binds and executes it, and PostgreSQL switches to a cached generic
 * plan when it is no worse. Statements without parameters (migrations, several commands in one text) are never named.
 * Bounded: at most MAX_PREPARED names per process (texts with a variable number of parameters, such as long IN
 * lists, would otherwise grow without end); the rest run unnamed as before. GUICHET_PG_PREPARE=off turns it off.
 */
const MAX_PREPARED = 1000;
const preparedNames = new Map<string, string>();
const seenOnce = new Set<string>();

export function preparedStatementName(text: string): string | undefined {
  const name = preparedNames.get(text);
  if (name !== undefined || preparedNames.size >= MAX_PREPARED) return name;
  if (!seenOnce.has(text)) {
    if (seenOnce.size >= 10 * MAX_PREPARED) seenOnce.clear();
    seenOnce.add(text);
    return undefined;
  }
  seenOnce.delete(text);
  const named = `g_${crypto.createHash('sha1').update(text).digest('hex')}`;
  preparedNames.set(text, named);
  return named;
}

/** GUICHET_PG_DESCRIBE_ONCE=off: describe every execution again (pg's own behaviour), to compare. */
const describeOnce = process.env.GUICHET_PG_DESCRIBE_ONCE !== 'off';

/**
 * A prepared statement's row description, learnt once per connection (docs/decisions/0013). pg asks PostgreSQL to
 * describe the result (Describe) on every execution of a prepared statement, and then parses the answer's column
 * names and builds the row parsers again: for the queue's hot statements (17–32 columns) that was the largest
 * JavaScript function of a request (bench:queue, fourteenth session) and garbage on every call. A statement prepared
 * on a connection cannot change its result's columns there (PostgreSQL refuses: "cached plan must not change result
 * type"), so after the first execution on a connection this query sends Bind and Execute only and reuses what it
 * learnt; a data row whose width differs from it fails the query instead of being misread, and is forgotten.
 */
interface Described {
  fields: unknown[];
  parsers: unknown[];
  prebuilt: Record<string, null>;
}
/** Exported for its test only. */
export const describedByConnection = new WeakMap<object, Map<string, Described>>();
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue: (v: unknown) => unknown };

class DescribedOnceQuery extends (pg.Query as unknown as new (config: object) => any) {
  private connection: object | null = null;
  private described: Described | null = null;

  prepare(connection: any): void {
    this.connection = connection;
    const known = this.name && this.hasBeenParsed(connection) ? describedByConnection.get(connection)?.get(this.name) : undefined;
    if (!known) return super.prepare(connection);
    try {
      connection.bind({ portal: this.portal, statement: this.name, values: this.values, binary: this.binary, valueMapper: prepareValue });
    } catch (err) {
      // as pg does: close the statement's use and report the error (a value that cannot be sent)
      connection.close({ type: 'S', name: this.name });
      connection.sync();
      this.handleError(err, connection);
      return;
    }
    this.described = known;
    const result = this._result;
    result.fields = known.fields;
    result._parsers = known.parsers;
    result._prebuiltEmptyResultObject = known.prebuilt;
    this._accumulateRows = this.callback || !this.listeners('row').length;
    this._getRows(connection, this.rows);
  }

  handleRowDescription(msg: { fields: unknown[] }): void {
    super.handleRowDescription(msg);
    if (!this.name || !this.connection) return;
    let byName = describedByConnection.get(this.connection);
    if (!byName) describedByConnection.set(this.connection, (byName = new Map()));
    const result = this._result;
    byName.set(this.name, { fields: result.fields, parsers: result._parsers, prebuilt: result._prebuiltEmptyResultObject });
  }

  handleDataRow(msg: { fields: unknown[] }): void {
    if (this.described && msg.fields.length !== this.described.fields.length && !this._canceledDueToError) {
      describedByConnection.get(this.connection!)?.delete(this.name);
      this._canceledDueToError = new Error(`prepared statement ${this.name}: a row of ${msg.fields.length} columns, described with ${this.described.fields.length}`);
      return;
    }
    super.handleDataRow(msg);
  }
}

/** Exported for its test only: pg.Client with prepared statements (named on their second use) described once. */
export class PreparingClient extends pg.Client {
  // pg's query() has many overloads; Kysely calls query(text, values) and uses the returned promise.
  override query(config: any, values?: any, callback?: any): any {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0 && callback === undefined) {
      const name = preparedStatementName(config);
      if (name) {
        if (describeOnce) {
          // a submittable query: pg returns it as is, so the promise Kysely expects is made here
          return new Promise((resolve, reject) => {
            const q = new DescribedOnceQuery({ text: config, values, name, callback: (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res)) });
            super.query(q as any);
          });
        }
        return super.query({ text: config, values, name });
      }
    }
    return super.query(config, values, callback);
  }
}

/**
 * The pool behind a PostgreSQL database, for the queries compiled once (src/db/compiled.ts): they go to a pooled
 * client straight, not through Kysely's connection provider, driver and result wrappers (bench:queue, nineteenth
 * session: those were about a tenth of what a queue request allocated, for a statement whose text and values are
 * already final). Only the database opened here: a transaction or a Kysely with plugins is another object and keeps
 * Kysely's path. The same client class (prepared statements, described once) runs the query.
 */
const pools = new WeakMap<object, pg.Pool>();

/**
 * Runs a compiled statement on the pool of a PostgreSQL database opened by openDatabase, or returns undefined (PGlite,
 * a transaction, a Kysely with plugins): the caller then executes it through Kysely. A Date among the values is
 * written once per statement (pg writes each occurrence: a statement with `now` in five places wrote it five times).
 */
export function directRows(db: object, text: string, values: unknown[]): Promise<unknown[]> | undefined {
  const pool = pools.get(db);
  if (!pool) return undefined;
  let lastDate: Date | undefined;
  let lastText: unknown;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v instanceof Date) {
      if (v !== lastDate) {
        lastDate = v;
        lastText = prepareValue(v);
      }
      values[i] = lastText;
    }
  }
  return runOnPool(pool, text, values);
}

async function runOnPool(pool: pg.Pool, text: string, values: unknown[]): Promise<unknown[]> {
  const client = await pool.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    client.release();
  }
}

/**
 * How long an unused pooled PostgreSQL connection stays open: GUICHET_PG_IDLE_MS, default 5 minutes. A value that is
 * not a whole number of milliseconds of at least 1 s stops the start with the reason (as GUICHET_PG_POOL does).
 */
export function poolIdleMs(env: NodeJS.ProcessEnv = process.env): number {
  if (env.GUICHET_PG_IDLE_MS === undefined || env.GUICHET_PG_IDLE_MS === '') return 300_000;
  const v = Number(env.GUICHET_PG_IDLE_MS);
  if (!Number.isInteger(v) || v < 1_000) throw new Error(`GUICHET_PG_IDLE_MS must be a whole number of milliseconds, at least 1000, got "${env.GUICHET_PG_IDLE_MS}"`);
  return v;
}

export async function openDatabase(opts: OpenOptions): Promise<OpenedDatabase> {
  if (opts.databaseUrl) {
    const max = opts.poolSize ?? 10;
    const pool = new pg.Pool({
      ...(process.env.GUICHET_PG_PREPARE === 'off' ? {} : { Client: PreparingClient }),
      connectionString: opts.databaseUrl,
      max,
      ...(opts.keepOpen ? { min: max } : {}),
      // Keep connections open between bursts (docs/decisions/0007): pg's default closes a connection idle for 10 s, and
      // the next burst then waits for new backends whose caches and prepared statements start cold.
      idleTimeoutMillis: opts.idleMs ?? poolIdleMs(),
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
    if (opts.keepOpen) {
      // all at once; if one fails, the start fails with its error and the others are closed (the pool ended)
      const tries = await Promise.allSettled(Array.from({ length: max }, () => pool.connect()));
      for (const t of tries) if (t.status === 'fulfilled') t.value.release();
      const failed = tries.find((t): t is PromiseRejectedResult => t.status === 'rejected');
      if (failed) {
        await pool.end();
        throw failed.reason;
      }
    }
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    pools.set(db, pool);
    const url = opts.databaseUrl;
    return {
      db,
      kind: 'postgres',
      executeSql: async (text, values) => {
        const r = await pool.query(text, values as any[]);
        return { rows: r.rows };
      },
      close: () => db.destroy(),
      listen: (channel, onNotify, onGap, onLost) => listenPostgres(url, channel, onNotify, onGap, onLost),
    };
  }

  if (opts.dataDir) fs.mkdirSync(opts.dataDir, { recursive: true });
  const pglite = new PGlite({
    dataDir: opts.dataDir,
    // btree_gist: exclusion constraints over a key and a date range (fee schedules); PostgreSQL ships it in contrib
    extensions: { btree_gist },
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
    listen: async (channel, onNotify) => {
      checkChannel(channel);
      const stop = await pglite.listen(channel, onNotify);
      return async () => {
        if (!pglite.closed) await stop();
      };
    },
  };
}

function checkChannel(channel: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`bad channel name: ${channel}`);
}

/**
 * LISTEN on its own connection (a pooled one would be handed to other queries). If the connection is lost (a
 * PostgreSQL restart, a network cut), it is opened again after 0.5 s, then 1, 2 … up to 10 s apart, and `onGap` is
 * called once it listens again: notifications sent while it was away are lost, so the caller looks at the tables.
 */
async function listenPostgres(url: string, channel: string, onNotify: (payload: string) => void, onGap?: () => void, onLost?: () => void): Promise<() => Promise<void>> {
  checkChannel(channel);
  let stopped = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  let delay = 500;
  const connect = async (first: boolean): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (m) => {
      if (m.channel === channel) onNotify(m.payload ?? '');
    });
    const lost = () => {
      if (client !== c) return;
      client = null;
      c.removeAllListeners('end');
      void c.end().catch(() => {});
      if (!stopped) {
        onLost?.();
        schedule();
      }
    };
    c.on('error', lost);
    c.on('end', lost);
    await c.connect();
    await c.query(`listen ${channel}`);
    if (stopped) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    delay = 500;
    if (!first) onGap?.();
  };
  const schedule = () => {
    retry = setTimeout(() => {
      retry = null;
      connect(false).catch(() => {
        if (!stopped) schedule();
      });
    }, delay);
    retry.unref();
    delay = Math.min(10_000, delay * 2);
  };
  await connect(true);
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const c = client;
    client = null;
    if (c) await c.end().catch(() => {});
  };
}
