/** The cases' scheduled work runs on the durable queue (pg-boss) of src/jobs. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../test/support/app';
import { enqueue } from '../jobs/index';
import { call, makeClient } from './test/helpers';
import { GUARANTEE_QUEUE, NOTIFY_QUEUE } from './jobs';

describe('cases background jobs', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalogue: true, background: true });
  });
  after(async () => t.close());

  it('registers its queues and schedules, and the guarantee job records owed refunds', async () => {
    const boss = t.background!.boss;
    assert.ok(await boss.getQueue(GUARANTEE_QUEUE));
    assert.ok(await boss.getQueue(NOTIFY_QUEUE));
    const schedules = await boss.getSchedules();
    assert.ok(schedules.some((s: any) => s.name === GUARANTEE_QUEUE && s.cron === '*/15 * * * *'));
    const c = await makeClient(t);
    const r = await call(t, c.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-birth-certificate', summary: 'Late one' });
    await t.db.updateTable('cases').set({ guarantee_due_date: '2026-01-02' }).where('id', '=', r.body.id).execute();
    await enqueue(t.db, GUARANTEE_QUEUE, {});
    const deadline = Date.now() + 30_000;
    let refund;
    while (Date.now() < deadline) {
      refund = await t.db.selectFrom('guarantee_refunds').selectAll().where('case_id', '=', r.body.id).executeTakeFirst();
      if (refund) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    assert.ok(refund, 'the worker recorded the refund');
    assert.equal(refund!.amount_cents, 2500);
    const flagged = await t.db.selectFrom('cases').select('guarantee_breached_at').where('id', '=', r.body.id).executeTakeFirstOrThrow();
    assert.ok(flagged.guarantee_breached_at instanceof Date);
  });
});
