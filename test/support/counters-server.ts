/**
 * A second Guichet server process over a test database (QUEUE_DB=<url>), for tests across processes: listens on a
 * free port, sends { port } to its parent, stops on any message from it.
 */
import { openDatabase } from '../../src/db/database';
import { loadConfig } from '../../src/config';
import { buildApp } from '../../src/http/app';
import { capabilities } from '../../src/capabilities';
import { SEED_DIR } from './db';

const url = process.env.QUEUE_DB!;
const database = await openDatabase({ databaseUrl: url, poolSize: 3 });
const config = { ...loadConfig({ NODE_ENV: 'test', GUICHET_SEED_DIR: SEED_DIR }), databaseUrl: url };
const app = await buildApp({ config, database, logger: false, capabilities });
await app.listen({ port: 0, host: '127.0.0.1' });
process.send!({ port: (app.server.address() as { port: number }).port });
process.once('message', async () => {
  await app.close();
  await database.close();
  process.exit(0);
});
