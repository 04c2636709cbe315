/**
 * `npm start`: open the database (PGlite in GUICHET_DATA_DIR, or PostgreSQL at DATABASE_URL), migrate, seed the
 * real catalogue and the demo set on an empty database, start background work, and serve HTTP.
 */
import { loadConfig } from './config';
import { openDatabase } from './db/database';
import { migrateToLatest } from './db/migrate';
import { buildApp } from './http/app';
import { seedIfEmpty } from './catalogue/seed';
import { startBackground } from './jobs/index';
import { searchIndexStats } from './catalogue/search/index';
import { capabilities } from './capabilities';

const config = loadConfig();
// development identity provider (OpenID Connect) when no OIDC_ISSUER is configured; never in production
const devIdp = config.oidc.issuer || config.env === 'production' ? undefined
  : await (await import('./clients/dev-oidc-provider')).startDevIdentityProviderIfNeeded(config, console);
// development payment provider (card payments) when none is configured; never in production
const devPayments = config.env === 'production' ? null
  : await (await import('./payments/providers/select')).startDevPaymentsIfNeeded(config.publicBaseUrl);
// PostgreSQL: the server's connections are opened now and kept (docs/decisions/0007)
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir, poolSize: config.pgPoolSize, keepOpen: true });
let ready = false;
const app = await buildApp({ config, database, ready: () => ready, capabilities });

const applied = await migrateToLatest(database.db, capabilities);
if (applied.length) app.log.info({ applied }, 'migrations applied');
const seeded = await seedIfEmpty(database.db, config.seedDir, app.log);
if (seeded) app.log.info(seeded, 'catalogue seeded');
const background = await startBackground({ config, database, log: app.log, capabilities });
// Build the search index before the first visitor (about a second on the real catalogue) instead of on their search.
const index = await searchIndexStats(database.db);
app.log.info(index, 'search index built');
ready = true;

await app.listen({ port: config.port, host: config.host });
app.log.info(`Guichet listening on ${config.publicBaseUrl} (database: ${database.kind})`);
if (!config.oidc.issuer) app.log.warn('OIDC_ISSUER is not set: client and staff sign-in are unavailable');

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await background.stop();
    await devIdp?.close();
    await devPayments?.();
    await database.close();
    process.exit(0);
  });
}
