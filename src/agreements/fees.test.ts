/**
 * Fee schedules and the public interface payments and billing code against (feeInForce, remittanceTerms,
 * guaranteeRefundBearer): components and payees, the cap, no overlaps (checked and enforced by the database, also
 * under concurrent writers), bad amounts refused with nothing written. Runs on PGlite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDb, type TestDatabase } from '../../test/support/db';
import { createFeeVersion, endFeeVersion, feeInForce, guaranteeRefundBearer, remittanceTerms, setRemittancePaused } from './fees';
import { seedDemoAgreements, demoTerm } from './demo';
import { AppError } from '../http/errors';

const code = (p: Promise<unknown>, status: number, c: string) =>
  assert.rejects(p, (e: unknown) => e instanceof AppError && e.status === status && e.code === c);

describe('agreements: fee schedules', () => {
  let t: TestDatabase;
  const now = new Date('2026-06-15T12:00:00Z');
  const term = demoTerm(now);
  before(async () => {
    t = await createTestDb({ catalogue: true });
    assert.equal(await seedDemoAgreements(t.db, now), 2);
    assert.equal(await seedDemoAgreements(t.db, now), 0, 'idempotent');
  });
  after(() => t.cleanup());

  it('quotes the demo driver’s licence: the share is taken out of the $90 statutory fee, lower at kiosks', async () => {
    const online = await feeInForce(t.db, 'demo-driver-licence', 'online', '2026-06-15');
    assert.ok(online);
    assert.equal(online.totalCents, 9000);
    assert.deepEqual(online.components, [
      { kind: 'statutory', payeeOrgId: 'on-mto', amountCents: 8800 },
      { kind: 'service_fee', payeeOrgId: 'guichet', amountCents: 200 },
    ]);
    const a = await t.db.selectFrom('agreements').select('id').where('partner_org_id', '=', 'on-mto').executeTakeFirstOrThrow();
    assert.equal(online.agreementId, a.id);
    const kiosk = await feeInForce(t.db, 'demo-driver-licence', 'kiosk', '2026-06-15');
    assert.equal(kiosk!.components.find((c) => c.kind === 'service_fee')!.amountCents, 50);
    const counter = await feeInForce(t.db, 'demo-driver-licence', 'in_person', '2026-06-15');
    assert.deepEqual(counter!.components, [{ kind: 'statutory', payeeOrgId: 'on-mto', amountCents: 9000 }], 'remitted in full in person');
    assert.equal(await feeInForce(t.db, 'demo-driver-licence', 'phone', '2026-06-15'), null, 'no schedule on the phone');
    assert.equal(await feeInForce(t.db, 'demo-driver-licence', 'online', `${Number(term.start.slice(0, 4)) - 1}-12-31`), null, 'before the version');
  });

  it('an agreement that is not active stops its fee versions', async () => {
    const a = await t.db.selectFrom('agreements').select('id').where('partner_org_id', '=', 'ottawa').executeTakeFirstOrThrow();
    assert.ok(await feeInForce(t.db, 'demo-dog-licence', 'online', '2026-06-15'));
    await t.db.updateTable('agreements').set({ status: 'terminated' }).where('id', '=', a.id).execute();
    assert.equal(await feeInForce(t.db, 'demo-dog-licence', 'online', '2026-06-15'), null);
    await t.db.updateTable('agreements').set({ status: 'active' }).where('id', '=', a.id).execute();
  });

  it('refuses an overlapping version (409) and accepts the next one after the first is ended', async () => {
    const base = { serviceId: 'demo-outdoors-card', channel: 'online', statutoryCents: 857 };
    const first = await createFeeVersion(t.db, { ...base, validFrom: '2026-01-01', validTo: null }, null);
    await code(createFeeVersion(t.db, { ...base, validFrom: '2026-09-01' }, null), 409, 'FEE_VERSION_OVERLAP');
    await code(createFeeVersion(t.db, { ...base, validFrom: '2025-01-01', validTo: '2026-01-01' }, null), 409, 'FEE_VERSION_OVERLAP');
    await createFeeVersion(t.db, { ...base, channel: 'kiosk', validFrom: '2026-09-01' }, null); // another channel is fine
    await endFeeVersion(t.db, first.id, '2026-08-31');
    await createFeeVersion(t.db, { ...base, statutoryCents: 900, validFrom: '2026-09-01' }, null);
    assert.equal((await feeInForce(t.db, 'demo-outdoors-card', 'online', '2026-08-31'))!.totalCents, 857);
    assert.equal((await feeInForce(t.db, 'demo-outdoors-card', 'online', '2026-09-01'))!.totalCents, 900);
    await code(endFeeVersion(t.db, first.id, '2025-12-31'), 422, 'INVALID_DATE');
  });

  it('the database itself refuses an overlap, also from two writers at once', async () => {
    await assert.rejects(
      t.db.insertInto('fee_versions').values({ service_id: 'demo-outdoors-card', channel: 'online', valid_from: '2030-01-01', statutory_cents: 1, statutory_payee_org_id: 'on-mnr' }).execute(),
      (e: any) => e.code === '23P01',
    );
    const input = { serviceId: 'demo-outdoors-card', channel: 'mail', statutoryCents: 857, validFrom: '2027-01-01' };
    const results = await Promise.allSettled([createFeeVersion(t.db, input, null), createFeeVersion(t.db, input, null), createFeeVersion(t.db, input, null)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as AppError).code, 'FEE_VERSION_OVERLAP');
    const rows = await t.db.selectFrom('fee_versions').select('id').where('service_id', '=', 'demo-outdoors-card').where('channel', '=', 'mail').execute();
    assert.equal(rows.length, 1);
  });

  it('refuses bad amounts with the field, writing nothing', async () => {
    const before = await t.db.selectFrom('fee_versions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const base = { serviceId: 'demo-birth-certificate', channel: 'online', validFrom: '2026-01-01' };
    for (const [bad, field, c] of [
      [{ statutoryCents: -1 }, 'statutoryCents', 'negative'],
      [{ statutoryCents: 12.5 }, 'statutoryCents', 'notInteger'],
      [{ statutoryCents: 1e12 }, 'statutoryCents', 'tooLarge'],
      [{ statutoryCents: 2500, serviceFee: { basis: 'bps', value: 20000, mode: 'included' } }, 'serviceFee.value', 'tooLarge'],
      [{ statutoryCents: 2500, cardRecoveryCents: -5 }, 'cardRecoveryCents', 'negative'],
    ] as const) {
      await assert.rejects(createFeeVersion(t.db, { ...base, ...(bad as any) }, null), (e: any) => e.code === 'INVALID_AMOUNT' && e.status === 400 && e.details.some((d: any) => d.field === field && d.code === c));
    }
    await code(createFeeVersion(t.db, { ...base, statutoryCents: 2500, validFrom: '2026-02-30' }, null), 400, 'INVALID_DATE');
    await code(createFeeVersion(t.db, { ...base, serviceId: 'no-such', statutoryCents: 2500 }, null), 404, 'SERVICE_NOT_FOUND');
    await code(createFeeVersion(t.db, { ...base, statutoryCents: 2500, serviceFee: { basis: 'fixed', value: 3000, mode: 'included' } }, null), 422, 'SERVICE_FEE_EXCEEDS_STATUTORY');
    const after = await t.db.selectFrom('fee_versions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(after.n), Number(before.n));
  });

  it('the cap: a fee on top of the statutory fee needs the agreement’s legal basis', async () => {
    const a = await t.db.selectFrom('agreements').select('id').where('partner_org_id', '=', 'on-mto').executeTakeFirstOrThrow();
    const onTop = { serviceId: 'demo-driver-licence', channel: 'online', validFrom: '2030-01-01', statutoryCents: 9000, serviceFee: { basis: 'bps' as const, value: 250, mode: 'on_top' as const } };
    await code(createFeeVersion(t.db, onTop, null), 422, 'FEE_ABOVE_CAP');
    await code(createFeeVersion(t.db, { ...onTop, agreementId: a.id }, null), 422, 'FEE_ABOVE_CAP');
    await code(createFeeVersion(t.db, { ...onTop, serviceFee: null, cardRecoveryCents: 100, agreementId: a.id }, null), 422, 'FEE_ABOVE_CAP');
    await code(createFeeVersion(t.db, { ...onTop, serviceId: 'demo-birth-certificate', agreementId: a.id }, null), 422, 'AGREEMENT_NOT_COVERING');
    await t.db.updateTable('agreements').set({ convenience_fee_legal_basis_en: 'Highway Traffic Act, s. 999 (demo)', convenience_fee_legal_basis_fr: 'Code de la route, art. 999 (démo)' }).where('id', '=', a.id).execute();
    await t.db.updateTable('agreements').set({ term_end: '2031-12-31' }).where('id', '=', a.id).execute();
    const open = await t.db.selectFrom('fee_versions').select('id').where('service_id', '=', 'demo-driver-licence').where('channel', '=', 'online').executeTakeFirstOrThrow();
    await endFeeVersion(t.db, open.id, '2029-12-31');
    await createFeeVersion(t.db, { ...onTop, agreementId: a.id, cardRecoveryCents: 75, taxBps: 1300, taxPayeeOrgId: 'on-mto', validTo: '2030-12-31' }, null);
    const q = await feeInForce(t.db, 'demo-driver-licence', 'online', '2030-06-01');
    // 2.5% of $90 = $2.25 on top; card recovery $0.75; 13% tax on the one-stop's $3.00 = $0.39
    assert.deepEqual(q!.components.map((c) => [c.kind, c.amountCents]), [['statutory', 9000], ['service_fee', 225], ['card_recovery', 75], ['tax', 39]]);
    assert.equal(q!.totalCents, 9339);
  });

  it('remittance terms and the pause switch', async () => {
    const mto = await remittanceTerms(t.db, 'on-mto', '2026-06-15');
    assert.ok(mto);
    assert.deepEqual({ ...mto, agreementId: undefined }, { agreementId: undefined, holdBusinessDays: 3, frequency: 'daily', paused: false, netInvoices: false });
    const ottawa = await remittanceTerms(t.db, 'ottawa', '2026-06-15');
    assert.equal(ottawa!.frequency, 'monthly');
    assert.equal(ottawa!.netInvoices, true);
    await setRemittancePaused(t.db, 'ottawa', true, null, 'bank details being changed');
    await setRemittancePaused(t.db, 'ottawa', true, null);
    assert.equal((await remittanceTerms(t.db, 'ottawa', '2026-06-15'))!.paused, true);
    await setRemittancePaused(t.db, 'ottawa', false, null);
    assert.equal((await remittanceTerms(t.db, 'ottawa', '2026-06-15'))!.paused, false);
    assert.equal(await remittanceTerms(t.db, 'on-moh', '2026-06-15'), null, 'no agreement');
    assert.equal(await remittanceTerms(t.db, 'ottawa', '2040-01-01'), null, 'after the term');
  });

  it('who bears a guarantee refund', async () => {
    assert.equal(await guaranteeRefundBearer(t.db, 'demo-driver-licence', '2026-06-15', true), 'one_stop');
    assert.equal(await guaranteeRefundBearer(t.db, 'demo-driver-licence', '2026-06-15', false), 'partner');
    await t.db.updateTable('agreements').set({ refund_bearer: 'partner' }).where('partner_org_id', '=', 'on-mto').execute();
    assert.equal(await guaranteeRefundBearer(t.db, 'demo-driver-licence', '2026-06-15', true), 'partner');
    assert.equal(await guaranteeRefundBearer(t.db, 'demo-birth-certificate', '2026-06-15', true), 'one_stop', 'no agreement: the cause bears it');
  });
});
