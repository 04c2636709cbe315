/**
 * Consent register, access-log chain (concurrency, append-only, tamper detection by the verify command),
 * accounts (validation, address history) and staff access (consent, legal basis, one-time codes).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestDb, type TestDatabase } from '../../test/support/db';
import { createTestClient } from '../../test/support/clients';
import { openDatabase } from '../db/database';
import { migrateToLatest } from '../db/migrate';
import { AppError } from '../http/errors';
import type { StaffPrincipal } from '../http/session';
import { accessLogFor, GENESIS_HASH, recordAccess, verifyAccessLog } from './access-log';
import { activeConsents, grantConsent, hasConsent, withdrawConsent } from './consent';
import { addAddress, addressHistory, createClient, currentAddress, getClient, normalisePostalCode, updateProfile } from './accounts';
import { createAgentAccessCode, redeemAgentAccessCode, requireClientAccess } from './access';
import { capabilities } from '../capabilities';

const root = path.resolve(import.meta.dirname, '../..');

async function rejects(p: Promise<unknown>, status: number, code: string, fields?: Array<[string, string]>) {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AppError, `expected AppError, got ${e}`);
    assert.equal(e.status, status);
    assert.equal(e.code, code);
    if (fields) assert.deepEqual(e.details?.map((d) => [d.field, d.code]), fields);
    return;
  }
  assert.fail(`expected ${status} ${code}`);
}

describe('clients: consent register, access log, accounts, staff access', () => {
  let d: TestDatabase;
  const agent: StaffPrincipal = { id: 'staff-agent', name: 'Alex Agent', email: 'agent@guichet.example', orgId: 'guichet', roles: ['agent'] };
  const craStaff: StaffPrincipal = { id: 'staff-cra-partner', name: 'Casey', email: 'partner@cra.example', orgId: 'cra-arc', roles: ['partner', 'agent'] };

  before(async () => {
    d = await createTestDb({ catalogue: true });
  });
  after(async () => d.cleanup());

  describe('accounts', () => {
    it('creates a person with a normalised first address', async () => {
      const id = await createClient(d.db, {
        givenName: ' Amélie ',
        familyName: 'Poulin',
        birthDate: '1979-06-01',
        preferredLang: 'fr',
        email: 'amelie@example.ca',
        contactPreferences: { email: true },
        address: { line1: '1 rue Principale', city: 'Gatineau', province: 'qc', postalCode: 'j8x3x7', validFrom: '2019-05-01' },
      });
      const c = await getClient(d.db, id);
      assert.equal(c?.given_name, 'Amélie');
      assert.equal(c?.preferred_lang, 'fr');
      assert.deepEqual(c?.contact_preferences, { email: true });
      const a = await currentAddress(d.db, id);
      assert.equal(a?.postal_code, 'J8X 3X7');
      assert.equal(a?.province, 'QC');
      assert.equal(a?.valid_to, null);
    });

    it('refuses a bad postal code and a future birth date with field codes, storing nothing', async () => {
      const before = Number((await d.db.selectFrom('clients').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      const future = new Date(Date.now() + 3 * 86400_000).toISOString().slice(0, 10);
      await rejects(
        createClient(d.db, { givenName: 'A', familyName: 'B', birthDate: future, address: { line1: 'x', city: 'Ottawa', province: 'ON', postalCode: '12345' } }),
        400,
        'VALIDATION_ERROR',
        [['birthDate', 'future'], ['address.postalCode', 'postalCode']],
      );
      await rejects(createClient(d.db, { givenName: 'A', familyName: 'B', birthDate: '2001-02-30' }), 400, 'VALIDATION_ERROR', [['birthDate', 'invalid']]);
      await rejects(
        createClient(d.db, { givenName: 'A', familyName: 'B', address: { line1: 'x', city: 'Ottawa', province: 'ON', postalCode: 'H2X 1Y4' } }),
        400,
        'VALIDATION_ERROR',
        [['address.postalCode', 'postalCodeProvince']],
      );
      const after = Number((await d.db.selectFrom('clients').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      assert.equal(after, before);
      assert.equal(normalisePostalCode('k1a 0b1'), 'K1A 0B1');
      assert.equal(normalisePostalCode('D1A 0B1'), null);
    });

    it('keeps the address history: a new address closes the previous one', async () => {
      const id = await createTestClient(d.db);
      await addAddress(d.db, id, { line1: '200 Kent St', city: 'Ottawa', province: 'ON', postalCode: 'K2P 2J8', validFrom: '2024-03-01' });
      const hist = await addressHistory(d.db, id);
      assert.equal(hist.length, 2);
      assert.equal(hist[0].line1, '200 Kent St');
      assert.equal(hist[0].valid_to, null);
      assert.equal(hist[1].valid_to, '2024-03-01');
      // a new address may not start before the current one
      await rejects(addAddress(d.db, id, { line1: 'x', city: 'Ottawa', province: 'ON', postalCode: 'K2P 2J8', validFrom: '2023-01-01' }), 400, 'VALIDATION_ERROR', [['validFrom', 'beforeCurrent']]);
      assert.equal((await addressHistory(d.db, id)).length, 2);
    });

    it('validates profile updates and leaves the profile untouched on error', async () => {
      const id = await createTestClient(d.db);
      await rejects(updateProfile(d.db, id, { givenName: '', familyName: 'X', email: 'not-an-email', contactPreferences: { sms: true } }), 400, 'VALIDATION_ERROR', [
        ['givenName', 'required'],
        ['email', 'email'],
        ['phone', 'requiredForSms'],
      ]);
      assert.equal((await getClient(d.db, id))?.given_name, 'Camille');
      await updateProfile(d.db, id, { givenName: 'Kim', familyName: 'Lee', phone: '613-555-0199', contactPreferences: { sms: true }, preferredLang: 'en' });
      const c = await getClient(d.db, id);
      assert.equal(c?.given_name, 'Kim');
      assert.equal(c?.preferred_lang, 'en');
      assert.deepEqual(c?.contact_preferences, { sms: true });
    });

    it('creates a business with a valid business number only', async () => {
      await rejects(createClient(d.db, { kind: 'business', businessName: 'X', businessNumber: '12345' }), 400, 'VALIDATION_ERROR', [['businessNumber', 'businessNumber']]);
      const id = await createClient(d.db, { kind: 'business', businessName: 'Boulangerie Gagnon inc.', businessNumber: '123 456 789' });
      assert.equal((await getClient(d.db, id))?.business_number, '123456789');
    });
  });

  describe('consent register', () => {
    it('grants, checks field coverage, expires and withdraws', async () => {
      const c = await createTestClient(d.db);
      const id = await grantConsent(d.db, { clientId: c, orgId: 'cra-arc', purpose: 'tell-us-once:change-of-address', fields: ['address', 'given_name'], legalBasis: 'consent' });
      assert.equal(await hasConsent(d.db, { clientId: c, orgId: 'cra-arc', purpose: 'tell-us-once:change-of-address', fields: ['address'] }), true);
      assert.equal(await hasConsent(d.db, { clientId: c, orgId: 'cra-arc', purpose: 'tell-us-once:change-of-address', fields: ['address', 'birth_date'] }), false);
      assert.equal(await hasConsent(d.db, { clientId: c, orgId: 'esdc-edsc', purpose: 'tell-us-once:change-of-address', fields: ['address'] }), false);
      assert.equal(await hasConsent(d.db, { clientId: c, orgId: 'cra-arc', purpose: 'other', fields: ['address'] }), false);
      assert.deepEqual((await activeConsents(d.db, c)).map((r) => r.id), [id]);

      await withdrawConsent(d.db, c, id);
      assert.equal(await hasConsent(d.db, { clientId: c, orgId: 'cra-arc', purpose: 'tell-us-once:change-of-address', fields: ['address'] }), false);
      assert.deepEqual(await activeConsents(d.db, c), []);
      const row = await d.db.selectFrom('consents').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.ok(row.withdrawn_at instanceof Date, 'withdrawal is recorded, the row stays');
      assert.equal(row.withdrawn_by, `client:${c}`);
      await rejects(withdrawConsent(d.db, c, id), 404, 'CONSENT_NOT_FOUND');
      // another client cannot withdraw it either
      const other = await createTestClient(d.db);
      const id2 = await grantConsent(d.db, { clientId: c, orgId: 'cra-arc', purpose: 'p', fields: ['email'], legalBasis: 'consent' });
      await rejects(withdrawConsent(d.db, other, id2), 404, 'CONSENT_NOT_FOUND');
    });

    it('requires the law reference for a legal basis, which the client cannot withdraw', async () => {
      const c = await createTestClient(d.db);
      await rejects(grantConsent(d.db, { clientId: c, orgId: 'cra-arc', purpose: 'p', fields: ['address'], legalBasis: 'law' }), 400, 'VALIDATION_ERROR', [['lawReference', 'required']]);
      await rejects(grantConsent(d.db, { clientId: c, orgId: 'nope', purpose: 'p', fields: ['address'], legalBasis: 'consent' }), 400, 'VALIDATION_ERROR', [['orgId', 'unknown']]);
      await rejects(grantConsent(d.db, { clientId: c, orgId: 'cra-arc', purpose: 'p', fields: [], legalBasis: 'consent' }), 400, 'VALIDATION_ERROR', [['fields', 'required']]);
      await rejects(
        grantConsent(d.db, { clientId: c, orgId: 'cra-arc', purpose: 'p', fields: ['x'], legalBasis: 'consent', validUntil: new Date(Date.now() - 1000) }),
        400,
        'VALIDATION_ERROR',
        [['validUntil', 'past']],
      );
      const id = await grantConsent(d.db, { clientId: c, orgId: 'cra-arc', purpose: 'p', fields: ['address'], legalBasis: 'law', lawReference: 'Income Tax Act, s. 150' });
      await rejects(withdrawConsent(d.db, c, id), 409, 'CONSENT_IS_LAW');
      assert.equal(await hasConsent(d.db, { clientId: c, orgId: 'cra-arc', purpose: 'p', fields: ['address'] }), true);
    });

    it('works inside a caller transaction and rolls back with it', async () => {
      const c = await createTestClient(d.db);
      await assert.rejects(
        d.db.transaction().execute(async (trx) => {
          await grantConsent(trx, { clientId: c, orgId: 'cra-arc', purpose: 'p', fields: ['address'], legalBasis: 'consent' });
          await recordAccess(trx, { clientId: c, actorKind: 'partner', actorId: 'cra-arc', orgId: 'cra-arc', action: 'received', fields: ['address'], purpose: 'p', legalBasis: 'consent' });
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.deepEqual(await activeConsents(d.db, c), []);
      assert.deepEqual(await accessLogFor(d.db, c), []);
    });
  });

  describe('access log', () => {
    it('chains entries by hash, also under concurrent appends', async () => {
      const c = await createTestClient(d.db);
      const first = await recordAccess(d.db, { clientId: c, actorKind: 'system', actorId: 'test', action: 'read', fields: ['address'], purpose: 'test' });
      await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          recordAccess(d.db, { clientId: c, actorKind: 'staff', actorId: 'staff-agent', orgId: 'guichet', action: 'read', fields: ['email'], purpose: `p${i}`, legalBasis: 'consent' }),
        ),
      );
      const rows = await d.db.selectFrom('access_log').select(['seq', 'prev_hash', 'hash']).orderBy('seq').execute();
      assert.ok(rows.length >= 26);
      for (let i = 1; i < rows.length; i++) assert.equal(rows[i].prev_hash, rows[i - 1].hash, `entry ${rows[i].seq} chains to its predecessor`);
      assert.equal(new Set(rows.map((r) => r.prev_hash)).size, rows.length, 'no fork: every prev_hash is used once');
      assert.ok(rows[0].prev_hash === GENESIS_HASH);
      assert.ok(rows.some((r) => r.hash === first.hash));
      const v = await verifyAccessLog(d.db);
      assert.deepEqual(v, { ok: true, entries: rows.length });
      assert.equal((await accessLogFor(d.db, c)).length, 26);
    });

    it('is append-only in the database', async () => {
      await assert.rejects(sql`update access_log set purpose = 'x'`.execute(d.db), /append-only/);
      await assert.rejects(sql`delete from access_log`.execute(d.db), /append-only/);
      await assert.rejects(sql`truncate access_log`.execute(d.db), /append-only/);
    });
  });

  describe('staff access to a client file', () => {
    it('denies without consent (404 like an unknown client), allows and logs with consent or legal basis', async () => {
      const c = await createTestClient(d.db);
      await rejects(requireClientAccess(d.db, agent, c, 'agent-access'), 404, 'CLIENT_NOT_FOUND');
      await rejects(requireClientAccess(d.db, agent, 'no-such-client', 'agent-access'), 404, 'CLIENT_NOT_FOUND');
      await rejects(requireClientAccess(d.db, agent, "'; drop table clients; --", 'agent-access'), 404, 'CLIENT_NOT_FOUND');
      // a consent for another organisation does not help
      await grantConsent(d.db, { clientId: c, orgId: 'cra-arc', purpose: 'agent-access', fields: ['address'], legalBasis: 'consent' });
      await rejects(requireClientAccess(d.db, agent, c, 'agent-access'), 404, 'CLIENT_NOT_FOUND');
      const g = await requireClientAccess(d.db, craStaff, c, 'benefit-review');
      assert.equal(g.legalBasis, 'consent');
      assert.deepEqual(g.fields, ['address']);
      // fields beyond the consent are refused
      await rejects(requireClientAccess(d.db, craStaff, c, 'benefit-review', { fields: ['birth_date'] }), 404, 'CLIENT_NOT_FOUND');
      // a legal basis for a purpose
      await grantConsent(d.db, { clientId: c, orgId: 'guichet', purpose: 'fraud-investigation', fields: ['address', 'birth_date'], legalBasis: 'law', lawReference: 'Example Act, s. 12' });
      const g2 = await requireClientAccess(d.db, agent, c, 'fraud-investigation', { fields: ['birth_date'] });
      assert.equal(g2.legalBasis, 'law');
      const log = await accessLogFor(d.db, c);
      assert.equal(log.length, 2, 'two granted accesses, no entry for denied ones');
      assert.equal(log[0].actor_id, 'staff-agent');
      assert.equal(log[0].legal_basis, 'law: Example Act, s. 12');
      assert.deepEqual(log[0].fields, ['birth_date']);
      assert.equal(log[1].org_id, 'cra-arc');
      assert.equal(log[1].purpose, 'benefit-review');
    });

    it('one-time code: single use, for the agent organisation, time-limited; wrong codes throttled', async () => {
      const c = await createTestClient(d.db);
      const { code, expiresAt } = await createAgentAccessCode(d.db, c);
      assert.match(code, /^\d{8}$/);
      assert.ok(expiresAt.getTime() - Date.now() <= 10 * 60_000 + 1000);
      const r = await redeemAgentAccessCode(d.db, agent, code);
      assert.equal(r.clientId, c);
      assert.ok(r.validUntil.getTime() > Date.now());
      await requireClientAccess(d.db, agent, c, 'agent-access');
      // the same code cannot be used twice (even by another organisation)
      await rejects(redeemAgentAccessCode(d.db, craStaff, code), 400, 'AGENT_CODE_INVALID');
      await rejects(requireClientAccess(d.db, craStaff, c, 'agent-access'), 404, 'CLIENT_NOT_FOUND');
      // a new code replaces the previous unused one
      const a = await createAgentAccessCode(d.db, c);
      const b = await createAgentAccessCode(d.db, c);
      if (a.code !== b.code) await rejects(redeemAgentAccessCode(d.db, craStaff, a.code), 400, 'AGENT_CODE_INVALID');
      await redeemAgentAccessCode(d.db, craStaff, b.code.slice(0, 4) + ' ' + b.code.slice(4));
      // expired code
      const e = await createAgentAccessCode(d.db, c);
      await d.db.updateTable('client_access_codes').set({ expires_at: new Date(Date.now() - 1000) }).where('client_id', '=', c).execute();
      await rejects(redeemAgentAccessCode(d.db, agent, e.code), 400, 'AGENT_CODE_INVALID');
      await rejects(redeemAgentAccessCode(d.db, agent, '12ab'), 400, 'VALIDATION_ERROR', [['code', 'accessCode']]);
      // the client withdraws the agent access: denied again
      const consent = (await activeConsents(d.db, c)).find((x) => x.org_id === 'guichet')!;
      await withdrawConsent(d.db, c, consent.id);
      await rejects(requireClientAccess(d.db, agent, c, 'agent-access'), 404, 'CLIENT_NOT_FOUND');
      // throttle: after 10 failures in 15 minutes, even a right code is refused
      const t: StaffPrincipal = { ...agent, id: 'staff-ottawa-editor', orgId: 'ottawa' };
      for (let i = 0; i < 10; i++) await rejects(redeemAgentAccessCode(d.db, t, '00000000'.slice(0, 7) + String(i)), 400, 'AGENT_CODE_INVALID');
      const ok = await createAgentAccessCode(d.db, c);
      await rejects(redeemAgentAccessCode(d.db, t, ok.code), 429, 'TOO_MANY_ATTEMPTS');
    });
  });

  describe('npm run verify:access-log', () => {
    it('exits 0 on an intact log and 1 after tampering, naming the entry', async () => {
      // the command opens its own connection: a PostgreSQL test database, or a PGlite data directory
      let env: Record<string, string>;
      let target: TestDatabase | Awaited<ReturnType<typeof openDatabase>>;
      let dir: string | undefined;
      if (d.url) {
        env = { DATABASE_URL: d.url };
        target = d;
      } else {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guichet-verify-'));
        target = await openDatabase({ dataDir: dir });
        await migrateToLatest(target.db, capabilities);
        env = { GUICHET_DATA_DIR: dir, DATABASE_URL: '' };
      }
      for (let i = 0; i < 5; i++) await recordAccess(target.db, { clientId: 'c-1', actorKind: 'partner', actorId: 'cra-arc', orgId: 'cra-arc', action: 'received', fields: ['address'], purpose: 'tell-us-once', legalBasis: 'consent' });
      const seqs = (await target.db.selectFrom('access_log').select('seq').orderBy('seq').execute()).map((r) => Number(r.seq));
      const victim = seqs[seqs.length - 3];
      if (dir) await target.close();
      const run = () => spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/verify-access-log.ts')], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
      const ok = run();
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /access log intact: \d+ entries verified/);

      // tamper as a database superuser would: disable the append-only trigger and rewrite one entry's purpose
      if (dir) target = await openDatabase({ dataDir: dir });
      await sql`alter table access_log disable trigger access_log_no_update`.execute(target.db);
      await sql`update access_log set purpose = 'nothing to see' where seq = ${victim}`.execute(target.db);
      await sql`alter table access_log enable trigger access_log_no_update`.execute(target.db);
      if (dir) await target.close();
      const bad = run();
      assert.equal(bad.status, 1, bad.stdout + bad.stderr);
      assert.match(bad.stderr, new RegExp(`TAMPERED: entry seq=${victim} `));

      if (!dir) {
        const v = await verifyAccessLog(d.db);
        assert.equal(v.ok, false);
        assert.equal(v.firstBadSeq, victim);
      } else fs.rmSync(dir, { recursive: true, force: true });
    });
  });
});
