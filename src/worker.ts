/**
 * A worker process: runs the durable job queue's workers without serving HTTP (PostgreSQL deployments, where web
 * nodes run with GUICHET_WORKERS=off). `tsx src/worker.ts` with the same environment as the web nodes.
 * On PGlite there is a single process (`npm start` runs the workers itself).
 */
import { loadConfig } from './config';
import { openDatabase } from './db/database';
import { migrateToLatest } from './db/migrate';
import { startBackground } from './jobs/index';
import { capabilities } from './capabilities';
import { createLogger } from './http/logging';

const config = loadConfig();
if (!config.databaseUrl) {
  console.error('src/worker.ts needs DATABASE_URL (with PGlite, `npm start` runs the workers in the server process)');
  process.exit(2);
}
const log = createLogger(config.logLevel, { role: 'worker' }); // redacted like the server's (src/http/logging.ts)
const database = await openDatabase({ databaseUrl: config.databaseUrl, poolSize: 4 });
await migrateToLatest(database.db, capabilities);
const background = await startBackground({ config, database, log: log as any, work: true, capabilities });
log.info('worker started');

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (closing) return;
    closing = true;
    await background.stop();
    await database.close();
    process.exit(0);
  });
}
