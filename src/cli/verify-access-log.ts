/**
 * npm run verify:access-log
 * Recomputes the hash chain of the clients' access log (src/clients/access-log.ts) on the same database as
 * `npm start` (GUICHET_DATA_DIR or DATABASE_URL). Exit code 0: intact; 1: tampered (the first bad entry is
 * printed); 2: could not run. Does not migrate or write anything.
 */
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { verifyAccessLog } from '../clients/access-log';

const config = loadConfig();
let database: Awaited<ReturnType<typeof openDatabase>> | undefined;
try {
  database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir });
  const r = await verifyAccessLog(database.db);
  if (r.ok) {
    console.log(`access log intact: ${r.entries} entries verified`);
    process.exitCode = 0;
  } else {
    console.error(`access log TAMPERED: entry seq=${r.firstBadSeq} does not match its ${r.reason === 'prev_hash' ? 'predecessor' : 'own hash'} (${r.entries} entries read)`);
    process.exitCode = 1;
  }
} catch (e) {
  console.error(`verify:access-log could not run: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
} finally {
  await database?.close().catch(() => {});
}
