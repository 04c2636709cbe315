/**
 * Shared set-up for the HTTP benchmarks: a Guichet server over a fresh seeded database (PGlite, or a new
 * PostgreSQL database when DATABASE_URL is set), not yet listening.
 */
import crypto from 'node:crypto';

export async function benchServer(poolSize: number) {
  const { createTestDb } = await import('../test/support/db');
  const { loadConfig } = await import('../src/config');
  const { buildApp } = await import('../src/http/app');
  const database = await createTestDb({ catalogue: true, poolSize, keepOpen: true });
  const config = { ...loadConfig({ NODE_ENV: 'test', PORT: '0' }), databaseUrl: database.url };
  const app = await buildApp({ config, database, logger: false });
  // as npm start does: the search index is built before the server takes requests
  const { searchIndexStats } = await import('../src/catalogue/search/index');
  await searchIndexStats(database.db);
  return { database, config, app, db: database.db };
}

/**
 * A further server process over a database another process prepared (multi-process benchmarks): opens it, builds
 * the app and, as npm start does, the search index before the server takes requests; not yet listening.
 */
export async function benchReplica(databaseUrl: string, poolSize: number) {
  const { openDatabase } = await import('../src/db/database');
  const { loadConfig } = await import('../src/config');
  const { buildApp } = await import('../src/http/app');
  const { searchIndexStats } = await import('../src/catalogue/search/index');
  const database = await openDatabase({ databaseUrl, poolSize, keepOpen: true }); // as npm start: connections opened now and kept
  const config = { ...loadConfig({ NODE_ENV: 'test', PORT: '0' }), databaseUrl };
  const app = await buildApp({ config, database, logger: false });
  await searchIndexStats(database.db);
  return { database, app };
}

export const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** The p-th percentile (0–100, nearest rank) of values sorted ascending; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
