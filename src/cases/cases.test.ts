import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, staffCookie, type TestApp } from '../../test/support/app';
import { call, makeClient, makeStaff, serve } from './test/helpers';
import { addBusinessDays, computeDueDate, localDate } from './due-date';
import { detectGuaranteeBreaches } from './guarantee';

describe('cases', () => {
  let t: TestApp;
  let agent: string; // one-stop agent
  let org: string; // Registrar General staff (owner of the birth certificate)
  let city: string; // City of Ottawa agent
  before(async () => {
    t = await createTestApp({ catalogue: true });
    agent = await staffCookie(t.app, 'staff-agent');
    org = await makeStaff(t, 'staff-org-agent', 'on-org', ['agent']);
    city = await staffCookie(t.app, 'staff-ottawa-editor');
  });
  after(async () => t.close());

  it('a client opens a case online: status submitted, owner organisation responsible, due date from the standard', async () => {
    const c = await makeClient(t);
    const r = await call(t, c.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-birth-certificate', summary: 'Short-form certificate for my daughter' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.status, 'submitted');
    assert.equal(r.body.originChannel, 'web');
    assert.equal(r.body.responsibleOrg.id, 'on-org');
    assert.match(r.body.reference, /^G-\d{4}-\d{6}$/);
    const today = localDate(new Date());
    assert.equal(r.body.dueDate, addBusinessDays(today, 15, 'CA-ON'));
    assert.equal(r.body.guaranteeDueDate, addBusinessDays(today, 15, 'CA-ON'));
    assert.equal(r.body.dueRule.unit, 'business_days');
    assert.equal(r.body.dueRule.value, 15);
    const full = await call(t, c.cookie, 'GET', `/api/v1/cases/${r.body.id}`);
    assert.equal(full.body.interactions.length, 1);
    assert.equal(full.body.interactions[0].outcome, 'case_opened');
    assert.equal(full.body.interactions[0].channel, 'web');
    assert.deepEqual(full.body.history.map((h: any) => h.to_status), ['submitted']);
    const list = await call(t, c.cookie, 'GET', '/api/v1/cases');
    assert.deepEqual(list.body.items.map((x: any) => x.id), [r.body.id]);
  });

  it('rejects bad input with field codes in the request language and writes nothing', async () => {
    const c = await makeClient(t);
    const before = await t.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const r1 = await call(t, c.cookie, 'POST', '/api/v1/cases?lang=fr', { serviceId: 'no-such-service', summary: 'x' });
    assert.equal(r1.status, 400);
    assert.equal(r1.body.error.code, 'VALIDATION_ERROR');
    assert.deepEqual(r1.body.error.details.map((d: any) => [d.field, d.code]), [['serviceId', 'notFound']]);
    assert.match(r1.body.error.details[0].message, /introuvable/);
    const r2 = await call(t, c.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-birth-certificate' });
    assert.equal(r2.status, 400);
    assert.equal(r2.body.error.details[0].field, 'summary');
    assert.equal(r2.body.error.details[0].code, 'required');
    const r3 = await call(t, c.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-birth-certificate', summary: 'x'.repeat(4001) });
    assert.equal(r3.status, 400);
    assert.equal(r3.body.error.details[0].code, 'tooLong');
    const after = await t.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(after.n), Number(before.n));
  });

  it('follows the allowed transitions only; the clock stops while waiting for the client', async () => {
    const c = await makeClient(t);
    const r = await call(t, c.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-birth-certificate', summary: 'Certificate' });
    const id = r.body.id;
    const bad = await call(t, org, 'POST', `/api/v1/cases/${id}/status`, { status: 'closed' });
    assert.equal(bad.status, 409);
    assert.equal(bad.body.error.code, 'CASE_TRANSITION_NOT_ALLOWED');
    const noDecision = await call(t, org, 'POST', `/api/v1/cases/${id}/status`, { status: 'decided' });
    assert.equal(noDecision.status, 400);
    assert.equal(noDecision.body.error.details[0].field, 'decision');
    const wait = await call(t, org, 'POST', `/api/v1/cases/${id}/status`, { status: 'waiting_client', note: 'Need the mother’s maiden name' });
    assert.equal(wait.status, 200);
    assert.equal(wait.body.status, 'waiting_client');
    // Pretend we waited since 5 working days ago: the due date moves by the working days spent waiting.
    const fiveAgo = new Date(Date.now() - 7 * 86_400_000);
    await t.db.updateTable('cases').set({ waiting_since: fiveAgo }).where('id', '=', id).execute();
    const before = await t.db.selectFrom('cases').select(['due_date']).where('id', '=', id).executeTakeFirstOrThrow();
    const answered = await call(t, c.cookie, 'POST', `/api/v1/cases/${id}/messages`, { body: 'Her maiden name is Gagnon.' });
    assert.equal(answered.status, 201);
    const after = await call(t, c.cookie, 'GET', `/api/v1/cases/${id}`);
    assert.equal(after.body.status, 'in_progress', 'the client’s answer resumes the case');
    assert.ok(after.body.dueDate > before.due_date!, `due date moved: ${before.due_date} → ${after.body.dueDate}`);
    // stale version → 409
    const stale = await call(t, org, 'POST', `/api/v1/cases/${id}/status`, { status: 'decided', decision: 'Issued', version: 1 });
    assert.equal(stale.status, 409);
    const decided = await call(t, org, 'POST', `/api/v1/cases/${id}/status`, { status: 'decided', decision: 'Certificate issued', version: after.body.version });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    const closed = await call(t, org, 'POST', `/api/v1/cases/${id}/status`, { status: 'closed' });
    assert.equal(closed.body.status, 'closed');
    const again = await call(t, org, 'POST', `/api/v1/cases/${id}/status`, { status: 'in_progress' });
    assert.equal(again.status, 409);
    assert.deepEqual(closed.body.history.map((h: any) => h.to_status), ['submitted', 'waiting_client', 'in_progress', 'decided', 'closed']);
  });

  it('a client may only withdraw their own case', async () => {
    const c = await makeClient(t);
    const r = await call(t, c.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-dog-licence', summary: 'Licence for Rex' });
    const decide = await call(t, c.cookie, 'POST', `/api/v1/cases/${r.body.id}/status`, { status: 'decided', decision: 'yes' });
    assert.equal(decide.status, 403);
    const w = await call(t, c.cookie, 'POST', `/api/v1/cases/${r.body.id}/status`, { status: 'withdrawn' });
    assert.equal(w.status, 200);
    assert.equal(w.body.status, 'withdrawn');
    const msg = await call(t, c.cookie, 'POST', `/api/v1/cases/${r.body.id}/messages`, { body: 'hello' });
    assert.equal(msg.status, 409);
  });

  it('the one-stop agent serves a client with their one-time code: assisted case, interactions, warm referral, no-repeat rate', async () => {
    const c = await makeClient(t);
    // Without the code the agent cannot open a case for this client (and learns nothing about them).
    const denied = await call(t, agent, 'POST', '/api/v1/cases', { serviceId: 'demo-property-tax-address', summary: 'Moved', channel: 'phone', clientId: c.id });
    assert.equal(denied.status, 404);
    const served = await serve(t, c.cookie, agent);
    assert.equal(served.client.id, c.id);
    assert.ok(new Date(served.validUntil).getTime() > Date.now() + 60 * 60_000);
    const log = await t.db.selectFrom('access_log').selectAll().where('client_id', '=', c.id).execute();
    assert.ok(log.some((e) => e.actor_id === 'staff-agent' && e.purpose === 'agent-access'), 'the access is in the client’s access log');

    const opened = await call(t, agent, 'POST', '/api/v1/cases', { serviceId: 'demo-property-tax-address', summary: 'Moved to 12 Elm St on Nov 1; bills still go to the old address', channel: 'phone', clientId: c.id });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    assert.equal(opened.body.originChannel, 'phone');
    assert.equal(opened.body.responsibleOrg.id, 'ottawa');
    assert.equal(opened.body.access, 'serving');
    const id = opened.body.id;
    const inter = await call(t, agent, 'POST', `/api/v1/cases/${id}/interactions`, { channel: 'phone', outcome: 'information_given', note: 'Explained the timeline' });
    assert.equal(inter.status, 201);
    const badInter = await call(t, agent, 'POST', `/api/v1/cases/${id}/interactions`, { channel: 'pigeon', outcome: 'information_given' });
    assert.equal(badInter.status, 400);
    assert.equal(badInter.body.error.details[0].field, 'channel');

    // Referral needs the client's consent.
    const noConsent = await call(t, agent, 'POST', `/api/v1/cases/${id}/referrals`, { toOrgId: 'on-mto', summary: 'Also wants licence address changed', clientConsent: false });
    assert.equal(noConsent.status, 400);
    assert.equal(noConsent.body.error.details[0].field, 'clientConsent');
    const ref = await call(t, city, 'POST', `/api/v1/cases/${id}/referrals`, { toOrgId: 'on-mto', summary: 'Client moved; address is verified; wants it on the licence too', clientConsent: true });
    assert.equal(ref.status, 201, JSON.stringify(ref.body));
    const consent = await t.db.selectFrom('consents').selectAll().where('client_id', '=', c.id).where('org_id', '=', 'on-mto').executeTakeFirst();
    assert.equal(consent?.purpose, 'case-referral');
    const consentsBefore = (await t.db.selectFrom('consents').select('id').where('client_id', '=', c.id).execute()).length;
    const twice = await call(t, city, 'POST', `/api/v1/cases/${id}/referrals`, { toOrgId: 'on-moh', summary: 'x', clientConsent: true });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'REFERRAL_PENDING');
    const unknown = await call(t, city, 'POST', `/api/v1/cases/${id}/referrals`, { toOrgId: 'no-such-org', summary: 'x', clientConsent: true });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body.error.details.map((d: any) => [d.field, d.code]), [['toOrgId', 'notFound']]);
    const same = await call(t, city, 'POST', `/api/v1/cases/${id}/referrals`, { toOrgId: 'ottawa', summary: 'x', clientConsent: true });
    assert.equal(same.status, 400);
    assert.equal(same.body.error.details[0].code, 'sameOrganisation');
    const consentsAfter = (await t.db.selectFrom('consents').select('id').where('client_id', '=', c.id).execute()).length;
    assert.equal(consentsAfter, consentsBefore, 'refused referrals leave no consent behind');

    // MTO sees it in its "referred" queue, can read it but not act until it accepts.
    const mto = await makeStaff(t, 'staff-mto-agent', 'on-mto', ['agent']);
    const queue = await call(t, mto, 'GET', '/api/v1/cases?queue=referred');
    assert.deepEqual(queue.body.items.map((x: any) => x.id), [id]);
    const cant = await call(t, mto, 'POST', `/api/v1/cases/${id}/status`, { status: 'in_progress' });
    assert.equal(cant.status, 403);
    const noFlag = await call(t, mto, 'POST', `/api/v1/cases/${id}/referrals/${ref.body.id}/answer`, { accept: true });
    assert.equal(noFlag.status, 400);
    const acc = await call(t, mto, 'POST', `/api/v1/cases/${id}/referrals/${ref.body.id}/answer`, { accept: true, noRepeat: true });
    assert.equal(acc.status, 200);
    const now = await call(t, c.cookie, 'GET', `/api/v1/cases/${id}`);
    assert.equal(now.body.responsibleOrg.id, 'on-mto', 'the client sees who has it now');
    assert.equal(now.body.referrals[0].summary, '', 'internal summary is not shown to the client');
    const stats = await call(t, mto, 'GET', '/api/v1/cases/referrals/stats');
    assert.equal(stats.body.accepted, 1);
    assert.equal(stats.body.noRepeatRate, 1);
    const moved = await call(t, mto, 'POST', `/api/v1/cases/${id}/status`, { status: 'in_progress' });
    assert.equal(moved.status, 200);
  });

  it('computes due dates with weekends and Ontario statutory holidays', () => {
    // Friday 18 Dec 2026 + 5 business days: Christmas (Fri 25), Boxing Day (Sat 26, observed Mon 28) → Tue 29 Dec.
    assert.equal(computeDueDate('2026-12-18', 5, 'business_days', 'CA-ON'), '2026-12-29');
    // Family Day (Mon 16 Feb 2026) is an Ontario holiday, not a federal one.
    assert.equal(computeDueDate('2026-02-13', 1, 'business_days', 'CA-ON'), '2026-02-17');
    assert.equal(computeDueDate('2026-02-13', 1, 'business_days', 'CA'), '2026-02-16');
    // Calendar days ending on a Saturday move to Monday.
    assert.equal(computeDueDate('2026-11-07', 14, 'days', 'CA-ON'), '2026-11-23');
    assert.equal(computeDueDate('2026-01-31', 1, 'months', 'CA-ON'), '2026-03-02');
  });

  it('detects missed guarantees once, records the refund owed and flags the case to staff', async () => {
    const c = await makeClient(t);
    const r = await call(t, c.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-birth-certificate', summary: 'Certificate please' });
    const id = r.body.id;
    // Its guarantee date is in the past.
    await t.db.updateTable('cases').set({ guarantee_due_date: '2026-01-05' }).where('id', '=', id).execute();
    const first = await detectGuaranteeBreaches(t.db);
    assert.ok(first.caseIds.includes(id));
    const second = await detectGuaranteeBreaches(t.db);
    assert.ok(!second.caseIds.includes(id), 'recorded once');
    const refund = await t.db.selectFrom('guarantee_refunds').selectAll().where('case_id', '=', id).executeTakeFirstOrThrow();
    assert.equal(refund.amount_cents, 2500);
    assert.equal(refund.status, 'owed');
    assert.equal(refund.org_id, 'on-org');
    const refunds = await call(t, org, 'GET', '/api/v1/cases/guarantee-refunds');
    assert.ok(refunds.body.items.some((x: any) => x.case_id === id));
    const page = await t.app.inject({ url: '/en/staff/cases', headers: { cookie: org } });
    assert.match(page.body, /Guarantee missed/);
    const clientView = await call(t, c.cookie, 'GET', `/api/v1/cases/${id}`);
    assert.equal(clientView.body.refund.amount_cents, 2500);
    // A case decided on time is not a breach.
    const r2 = await call(t, c.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-birth-certificate', summary: 'Another' });
    await call(t, org, 'POST', `/api/v1/cases/${r2.body.id}/status`, { status: 'decided', decision: 'Mailed' });
    await t.db.updateTable('cases').set({ guarantee_due_date: localDate(new Date(Date.now() - 86_400_000 * 0)) }).where('id', '=', r2.body.id).execute();
    const third = await detectGuaranteeBreaches(t.db, new Date(Date.now() + 5 * 86_400_000));
    assert.ok(!third.caseIds.includes(r2.body.id));
  });
});
