/**
 * Logs hold no personal data and no secrets (issue 14): a failed statement is logged without its parameters, its
 * `detail` or the values PostgreSQL quotes; request lines lose the values of `code`, `state`, `token`, `api_key`…;
 * e-mails logged without SMTP show a masked address. The server's real logger (pino, with src/http/logging.ts) writes
 * to a stream the test reads.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { Type } from '@sinclair/typebox';
import { loadConfig } from '../src/config';
import { buildApp, type App } from '../src/http/app';
import type { Capability } from '../src/http/capability';
import { capabilities } from '../src/capabilities';
import { createMailer } from '../src/mail/mailer';
import { createLogger, maskEmail, scrubUrl } from '../src/http/logging';
import { createTestDb, SEED_DIR, type TestDatabase } from './support/db';

const ADDRESS = 'camille.tremblay@example.com';

/** A pino destination that keeps every line. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

/** A capability of this test only: routes whose statements fail in the database with an address in their values. */
const failing: Capability = {
  name: 'log-probe',
  migrationGroup: '990_log_probe',
  migrations: {},
  messages: [],
  routes: async (app, deps) => {
    app.post('/api/v1/log-probe/date', { schema: { body: Type.Object({ email: Type.String() }) } }, async (request) => {
      // the address where a date belongs: PostgreSQL quotes the value in its message
      await sql`select ${(request.body as { email: string }).email}::date`.execute(deps.db);
      return {};
    });
    app.post('/api/v1/log-probe/row', { schema: { body: Type.Object({ email: Type.String() }) } }, async (request) => {
      // a NOT NULL violation: PostgreSQL's detail repeats the row ("Failing row contains (…address…)")
      await sql`insert into staff_users (id) values (${(request.body as { email: string }).email})`.execute(deps.db);
      return {};
    });
  },
};

describe('logs', () => {
  let database: TestDatabase;
  let app: App;
  const out = capture();
  before(async () => {
    database = await createTestDb({});
    // development mode: request lines are logged (tests turn them off elsewhere)
    const config = { ...loadConfig({ NODE_ENV: 'development', GUICHET_SEED_DIR: SEED_DIR }), databaseUrl: database.url };
    app = await buildApp({ config, database, logger: { level: 'info', stream: out.stream }, capabilities: [...capabilities, failing] });
    await app.ready();
  });
  after(async () => {
    await app?.close();
    await database?.cleanup();
  });

  it('a failed statement is logged without the address it carried', async () => {
    for (const url of ['/api/v1/log-probe/date', '/api/v1/log-probe/row']) {
      out.lines.length = 0;
      const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: { email: ADDRESS } });
      assert.equal(res.statusCode, 500);
      assert.ok(!res.body.includes(ADDRESS));
      const failed = out.lines.find((l) => l.includes('request failed'));
      assert.ok(failed, `no error line among:\n${out.lines.join('\n')}`);
      const entry = JSON.parse(failed);
      assert.ok(entry.err?.message, failed); // the error itself is still there: its type, code and message
      assert.match(String(entry.err.code), /^[0-9A-Z]{5}$/);
      for (const line of out.lines) {
        assert.ok(!line.includes(ADDRESS), `a log line holds the address: ${line}`);
        assert.ok(!line.includes('camille.tremblay'), `a log line holds the address's name: ${line}`);
      }
    }
  });

  it('request lines lose the values of code, state, token and keys', async () => {
    out.lines.length = 0;
    await app.inject({ method: 'GET', url: '/auth/callback?code=SECRET-CODE-123&state=SECRET-STATE-456&iss=x' });
    await app.inject({ method: 'GET', url: '/api/v1/services?q=passport&api_key=SECRET-KEY-789&token=SECRET-TOKEN' });
    await app.inject({ method: 'GET', url: '/healthz', headers: { authorization: 'Bearer SECRET-BEARER', cookie: 'guichet_sid=SECRET-SID' } });
    const all = out.lines.join('\n');
    assert.match(all, /\/auth\/callback\?code=\[redacted\]&state=\[redacted\]/, all);
    assert.match(all, /q=passport&api_key=\[redacted\]&token=\[redacted\]/);
    for (const secret of ['SECRET-CODE', 'SECRET-STATE', 'SECRET-KEY', 'SECRET-TOKEN', 'SECRET-BEARER', 'SECRET-SID']) assert.ok(!all.includes(secret), `${secret} logged:\n${all}`);
  });

  it('an e-mail logged without SMTP shows a masked address', async () => {
    const lines = capture();
    const mailer = createMailer({}, createLogger('info', undefined, lines.stream));
    await mailer.send({ to: ADDRESS, subject: 'Your appointment', text: `Hello Camille, ${ADDRESS}` });
    mailer.close();
    await new Promise((r) => setImmediate(r));
    const line = lines.lines.find((l) => l.includes('not sent'));
    assert.ok(line, lines.lines.join('\n'));
    assert.ok(!line.includes(ADDRESS), line);
    assert.equal(JSON.parse(line).recipient, 'c***@example.com');
  });

  it('the redaction list removes bodies, SQL parameters, tokens and addresses wherever a log call passes them', () => {
    const lines = capture();
    const log = createLogger('info', undefined, lines.stream);
    log.info({ body: { summary: 'private' }, params: [ADDRESS], email: ADDRESS, to: ADDRESS, headers: { authorization: 'Bearer x', cookie: 'a=b' }, mail: { to: ADDRESS }, token: 'tok' }, 'probe');
    const line = lines.lines.join('\n');
    assert.ok(!line.includes(ADDRESS) && !line.includes('private') && !line.includes('Bearer x') && !line.includes('tok"'), line);
    assert.equal(maskEmail('a@b.example'), 'a***@b.example');
    assert.equal(scrubUrl('/x?state=1&code=2&keep=3'), '/x?state=[redacted]&code=[redacted]&keep=3');
    assert.equal(scrubUrl(`/x?email=${encodeURIComponent(ADDRESS)}`), '/x?email=[redacted]');
  });
});
