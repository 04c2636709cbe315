/** A Guichet app on a fresh test database, driven with app.inject() or over real HTTP (listen on port 0). */
import { loadConfig, type Config } from '../../src/config';
import { buildApp, type App } from '../../src/http/app';
import { createTestDb, SEED_DIR, type TestDatabase } from './db';
import { startBackground, type Background } from '../../src/jobs/index';
import { capabilities } from '../../src/capabilities';

export interface TestApp {
  app: App;
  database: TestDatabase;
  db: TestDatabase['db'];
  config: Config;
  /** Set with { background: true }: the durable job queue (pg-boss) with its workers. */
  background?: Background;
  close(): Promise<void>;
}

export async function createTestApp(opts: { catalogue?: boolean; env?: Record<string, string>; background?: boolean } = {}): Promise<TestApp> {
  const database = await createTestDb({ catalogue: opts.catalogue });
  const config = { ...loadConfig({ NODE_ENV: 'test', GUICHET_SEED_DIR: SEED_DIR, ...opts.env }), databaseUrl: database.url };
  const app = await buildApp({ config, database, logger: false, capabilities });
  await app.ready();
  const background = opts.background ? await startBackground({ config, database, log: app.log, env: { ...process.env, ...opts.env }, capabilities }) : undefined;
  return {
    app,
    database,
    db: database.db,
    config,
    background,
    close: async () => {
      await background?.stop();
      await app.close();
      await database.cleanup();
    },
  };
}

/** Sign in as a seeded staff member through the development login; returns the cookie header to send. */
export async function staffCookie(app: App, staffId: string): Promise<string> {
  const page = await app.inject({ method: 'GET', url: '/en/staff/login' });
  const csrf = page.cookies.find((c) => c.name === 'guichet_csrf')!.value;
  const res = await app.inject({
    method: 'POST',
    url: '/en/staff/login',
    payload: { staffId, _csrf: csrf },
    headers: { cookie: `guichet_csrf=${csrf}` },
  });
  const sid = res.cookies.find((c) => c.name === 'guichet_sid');
  if (!sid) throw new Error(`dev login failed for ${staffId}: ${res.statusCode} ${res.body.slice(0, 200)}`);
  // signing in sets the new session's CSRF token (bound to the session)
  const bound = res.cookies.find((c) => c.name === 'guichet_csrf')?.value ?? csrf;
  return `guichet_csrf=${bound}; guichet_sid=${sid.value}`;
}

export function csrfFrom(cookie: string): string {
  return /guichet_csrf=([^;]+)/.exec(cookie)![1];
}
