/**
 * Agreements through the API and the pages: the whole life cycle (draft → submitted → approved by the board →
 * accepted by the partner → active; amendment with its diff; termination), who sees what (another partner gets 404,
 * staff without an agreements role 403), Idempotency-Key on creating calls, the master's term, fees through the API
 * and on the public service page, expiry and the 90/30-day reminders (real SMTP). PGlite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from '../../test/support/app';
import { startSmtp, type TestSmtp } from '../../test/support/smtp';
import { createMailer } from '../mail/mailer';
import { seedDemoAgreements } from './demo';
import { expireAgreements, renewedEnd, sendExpiryReminders } from './service';

describe('agreements: API, pages, authorisation', () => {
  let t: TestApp;
  const who: Record<string, string> = {};
  let smtp: TestSmtp;
  const year = new Date().getUTCFullYear();
  const terms = (extra: Record<string, unknown> = {}) => ({
    title_en: 'Driver services (test)', title_fr: 'Services aux conducteurs (essai)', integration_level: 'partial',
    term_start: `${year}-01-01`, term_end: `${year + 1}-12-31`, services: [{ service_id: 'demo-driver-licence', channels: ['mail', 'online'] }], ...extra,
  });
  const api = (as: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, key?: string) =>
    t.app.inject({ method, url, payload: payload as any, headers: { cookie: who[as], 'x-csrf-token': csrfFrom(who[as]), ...(key ? { 'idempotency-key': key } : {}) } });
  const form = (as: string, url: string, payload: Record<string, string>) =>
    t.app.inject({ method: 'POST', url, payload: new URLSearchParams({ ...payload, _csrf: csrfFrom(who[as]) }).toString(), headers: { cookie: who[as], 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } });
  let id = '';

  before(async () => {
    t = await createTestApp({ catalogue: true });
    await seedDemoAgreements(t.db);
    for (const [k, s] of Object.entries({ manager: 'staff-reviewer', board: 'staff-board', mto: 'staff-mto-partner', ottawa: 'staff-ottawa-partner', agent: 'staff-agent', editor: 'staff-mto-editor' })) who[k] = await staffCookie(t.app, s);
    smtp = await startSmtp();
  });
  after(async () => {
    await smtp.close();
    await t.close();
  });

  it('creating needs an Idempotency-Key; the same key and body give the first answer, another body 409', async () => {
    const body = { partner_org_id: 'on-mto', terms: terms() };
    const none = await api('manager', 'POST', '/api/v1/agreements', body);
    assert.equal(none.statusCode, 400);
    assert.equal(none.json().error.code, 'IDEMPOTENCY_KEY_REQUIRED');
    const first = await api('manager', 'POST', '/api/v1/agreements', body, 'k-1');
    assert.equal(first.statusCode, 201, first.body);
    id = first.json().id;
    assert.equal(first.json().status, 'draft');
    assert.match(first.json().number, /^AGR-\d{4}$/);
    const again = await api('manager', 'POST', '/api/v1/agreements', body, 'k-1');
    assert.equal(again.statusCode, 201);
    assert.equal(again.json().id, id);
    const other = await api('manager', 'POST', '/api/v1/agreements', { ...body, terms: terms({ title_en: 'Other' }) }, 'k-1');
    assert.equal(other.statusCode, 409);
    assert.equal(other.json().error.code, 'IDEMPOTENCY_KEY_REUSED');
    const n = await t.db.selectFrom('agreements').select('id').where('title_en', '=', 'Driver services (test)').execute();
    assert.equal(n.length, 1);
  });

  it('bad input: translated 4xx with a code, nothing written', async () => {
    const before = (await t.db.selectFrom('agreements').select('id').execute()).length;
    const bad = await api('manager', 'POST', '/api/v1/agreements?lang=fr', { partner_org_id: 'on-mto', terms: terms({ term_end: `${year - 1}-01-01`, services: [{ service_id: 'demo-dog-licence', channels: ['online'] }] }) }, 'k-bad');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'VALIDATION_ERROR');
    assert.ok(bad.json().error.details.some((d: any) => d.field === 'term_end' && d.code === 'beforeStart'));
    const notPartners = await api('manager', 'POST', '/api/v1/agreements', { partner_org_id: 'on-mto', terms: terms({ services: [{ service_id: 'demo-dog-licence', channels: ['online'] }] }) }, 'k-bad2');
    assert.equal(notPartners.statusCode, 400);
    assert.ok(notPartners.json().error.details.some((d: any) => d.field === 'services.0.service_id' && d.code === 'notPartners'));
    assert.equal((await t.db.selectFrom('agreements').select('id').execute()).length, before);
  });

  it('who sees what: the partner its own, another partner 404, staff without a role 403', async () => {
    assert.equal((await api('mto', 'GET', `/api/v1/agreements/${id}`)).statusCode, 200);
    const other = await api('ottawa', 'GET', `/api/v1/agreements/${id}`);
    assert.equal(other.statusCode, 404);
    assert.equal(other.json().error.code, 'AGREEMENT_NOT_FOUND');
    assert.equal((await api('ottawa', 'GET', '/api/v1/agreements')).json().items.some((a: any) => a.id === id), false);
    assert.equal((await api('mto', 'GET', '/api/v1/agreements')).json().items.every((a: any) => a.partner_org_id === 'on-mto'), true);
    assert.equal((await api('agent', 'GET', '/api/v1/agreements')).statusCode, 403);
    assert.equal((await api('editor', 'GET', `/api/v1/agreements/${id}`)).statusCode, 403, 'the partner’s editor has no agreements role');
    assert.equal((await api('mto', 'PUT', `/api/v1/agreements/${id}/draft`, terms())).statusCode, 403, 'partners do not draft');
    assert.equal((await api('ottawa', 'POST', `/api/v1/agreements/${id}/accept`)).statusCode, 404);
    assert.equal((await t.app.inject({ method: 'GET', url: `/api/v1/agreements/${id}` })).statusCode, 401);
    assert.equal((await api('manager', 'GET', '/api/v1/agreements/not-a-uuid')).statusCode, 404);
    const page = await t.app.inject({ method: 'GET', url: `/en/staff/agreements/${id}`, headers: { cookie: who.ottawa, accept: 'text/html' } });
    assert.equal(page.statusCode, 404);
  });

  it('life cycle: submit, board approval (twice is 409), partner acceptance makes it active', async () => {
    assert.equal((await api('board', 'POST', `/api/v1/agreements/${id}/approve`, { decision_date: `${year}-01-15`, decision_reference: 'B-1' })).json().error.code, 'AGREEMENT_STATE');
    const sub = await api('manager', 'POST', `/api/v1/agreements/${id}/submit`);
    assert.equal(sub.json().status, 'submitted');
    assert.equal((await api('manager', 'POST', `/api/v1/agreements/${id}/approve`, { decision_date: `${year}-01-15`, decision_reference: 'B-1' })).statusCode, 403);
    const ok = await api('board', 'POST', `/api/v1/agreements/${id}/approve`, { decision_date: `${year}-01-15`, decision_reference: 'BOARD-2026-07' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().status, 'approved');
    assert.equal(ok.json().decision_reference, 'BOARD-2026-07');
    const twice = await api('board', 'POST', `/api/v1/agreements/${id}/approve?lang=fr`, { decision_date: `${year}-01-16`, decision_reference: 'B-2' });
    assert.equal(twice.statusCode, 409);
    assert.equal(twice.json().error.code, 'AGREEMENT_ALREADY_APPROVED');
    assert.match(twice.json().error.message, /conseil/);
    assert.equal((await api('manager', 'POST', `/api/v1/agreements/${id}/accept`)).statusCode, 403);
    const acc = await api('mto', 'POST', `/api/v1/agreements/${id}/accept`);
    assert.equal(acc.statusCode, 200, acc.body);
    assert.equal(acc.json().status, 'active');
    assert.equal(acc.json().open_version, null);
    assert.equal((await api('board', 'POST', `/api/v1/agreements/${id}/approve`, { decision_date: `${year}-01-16`, decision_reference: 'B-2' })).json().error.code, 'AGREEMENT_ALREADY_APPROVED');
  });

  it('fees through the API: the cap, overlaps and bad amounts refused; the quote is public', async () => {
    const fee = { service_id: 'demo-driver-licence', channel: 'mail', valid_from: `${year}-02-01`, statutory_cents: 9000 };
    const cap = await api('manager', 'POST', `/api/v1/agreements/${id}/fees`, { ...fee, service_fee: { basis: 'fixed', value: 200, mode: 'on_top' } }, 'f-1');
    assert.equal(cap.statusCode, 422);
    assert.equal(cap.json().error.code, 'FEE_ABOVE_CAP');
    const neg = await api('manager', 'POST', `/api/v1/agreements/${id}/fees`, { ...fee, statutory_cents: -5 }, 'f-2');
    assert.equal(neg.statusCode, 400);
    assert.equal(neg.json().error.code, 'INVALID_AMOUNT');
    const frac = await api('manager', 'POST', `/api/v1/agreements/${id}/fees`, { ...fee, statutory_cents: 10.5 }, 'f-2b');
    assert.equal(frac.json().error.code, 'INVALID_AMOUNT');
    const ok = await api('manager', 'POST', `/api/v1/agreements/${id}/fees`, { ...fee, service_fee: { basis: 'fixed', value: 200, mode: 'included' } }, 'f-3');
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(ok.json().totalCents, 9000);
    const overlap = await api('manager', 'POST', `/api/v1/agreements/${id}/fees`, { ...fee, valid_from: `${year}-06-01` }, 'f-4');
    assert.equal(overlap.statusCode, 409);
    assert.equal(overlap.json().error.code, 'FEE_VERSION_OVERLAP');
    const notCovered = await api('manager', 'POST', `/api/v1/agreements/${id}/fees`, { ...fee, channel: 'kiosk' }, 'f-5');
    assert.equal(notCovered.json().error.code, 'AGREEMENT_NOT_COVERING');
    assert.equal((await api('mto', 'POST', `/api/v1/agreements/${id}/fees`, fee, 'f-6')).statusCode, 403);
    const q = await t.app.inject({ method: 'GET', url: `/api/v1/fees/quote?service_id=demo-driver-licence&channel=mail&on=${year}-03-01` });
    assert.equal(q.statusCode, 200);
    assert.deepEqual(q.json().components.map((c: any) => [c.kind, c.payeeOrgId, c.amountCents]), [['statutory', 'on-mto', 8800], ['service_fee', 'guichet', 200]]);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/fees/quote?service_id=demo-driver-licence&channel=mail&on=2020-13-01' })).statusCode, 400);
  });

  it('an amendment is a new version; its history shows the diff', async () => {
    const am = await api('manager', 'POST', `/api/v1/agreements/${id}/amendments`, { terms: terms({ title_en: 'Driver and vehicle services (test)', hold_business_days: 5 }), note: 'Add vehicles' }, 'a-1');
    assert.equal(am.statusCode, 201, am.body);
    assert.equal(am.json().open_version.version, 2);
    assert.equal(am.json().status, 'active', 'the agreement stays in force while amended');
    assert.equal((await api('manager', 'POST', `/api/v1/agreements/${id}/amendments`, {}, 'a-2')).json().error.code, 'AMENDMENT_OPEN');
    await api('manager', 'POST', `/api/v1/agreements/${id}/submit`);
    await api('board', 'POST', `/api/v1/agreements/${id}/approve`, { decision_date: `${year}-03-01`, decision_reference: 'B-9' });
    const acc = await api('mto', 'POST', `/api/v1/agreements/${id}/accept`);
    assert.equal(acc.json().version, 2);
    assert.equal(acc.json().terms.hold_business_days, 5);
    const versions = (await api('manager', 'GET', `/api/v1/agreements/${id}/versions`)).json().items;
    assert.deepEqual(versions.map((v: any) => [v.version, v.status]), [[1, 'accepted'], [2, 'accepted']]);
    assert.deepEqual(versions[1].diff.map((d: any) => d.field).sort(), ['hold_business_days', 'title_en']);
    const page = await t.app.inject({ method: 'GET', url: `/fr/personnel/ententes/${id}/historique`, headers: { cookie: who.mto, accept: 'text/html' } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<ins class="guichet-diff__added">/);
    assert.match(page.body, /Version 2/);
  });

  it('a child agreement must stay within its master’s term, and ends with it', async () => {
    const master = await api('manager', 'POST', '/api/v1/agreements', { partner_org_id: 'on-mto', is_master: true, terms: terms({ title_en: 'Master (test)', term_end: `${year}-12-31` }) }, 'm-1');
    assert.equal(master.statusCode, 201, master.body);
    const mid = master.json().id;
    const out = await api('manager', 'POST', '/api/v1/agreements', { partner_org_id: 'on-mto', terms: terms({ title_en: 'Child (test)', master_id: mid }) }, 'c-1');
    assert.equal(out.statusCode, 422);
    assert.equal(out.json().error.code, 'OUTSIDE_MASTER_TERM');
    const child = await api('manager', 'POST', '/api/v1/agreements', { partner_org_id: 'on-mto', terms: terms({ title_en: 'Child (test)', master_id: mid, term_end: `${year}-06-30` }) }, 'c-2');
    assert.equal(child.statusCode, 201, child.body);
    await t.db.updateTable('agreements').set({ status: 'active' }).where('id', 'in', [mid, child.json().id]).execute();
    assert.equal(await expireAgreements(t.db, `${year}-07-15`), 1, 'the child ends on its own date first');
    await t.db.updateTable('agreements').set({ status: 'active', term_end: `${year}-12-31` }).where('id', '=', child.json().id).execute();
    const term = await api('manager', 'POST', `/api/v1/agreements/${mid}/terminate`, { reason: 'Contract ended' });
    assert.equal(term.json().status, 'terminated');
    const c = await t.db.selectFrom('agreements').select(['status', 'end_reason']).where('id', '=', child.json().id).executeTakeFirstOrThrow();
    assert.deepEqual(c, { status: 'terminated', end_reason: 'master_ended' });
  });

  it('reminders 90 and 30 days before the end go once to the managers, in both languages', async () => {
    const mailer = createMailer({ SMTP_URL: smtp.url });
    const ottawa = await t.db.selectFrom('agreements').select(['id', 'term_end']).where('partner_org_id', '=', 'ottawa').executeTakeFirstOrThrow();
    const day = (d: string, n: number) => new Date(Date.parse(`${d}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
    const managers = (await t.db.selectFrom('staff_users').select(['email', 'roles']).where('org_id', '=', 'guichet').execute()).filter((s) => s.roles.includes('manager'));
    const base = smtp.inbox.length;
    const sent = await sendExpiryReminders(t.db, mailer, day(ottawa.term_end, 80), 'http://localhost');
    assert.ok(sent >= 1);
    const mine = smtp.inbox.slice(base).filter((m) => m.raw.includes('Ottawa'));
    assert.equal(mine.length, managers.length);
    assert.match(mine[0].raw, /ends_in_90_days/);
    assert.match(mine[0].raw, /prend fin le 31/);
    assert.equal(await sendExpiryReminders(t.db, mailer, day(ottawa.term_end, 79), 'http://localhost'), 0, 'idempotent');
    const before30 = smtp.inbox.length;
    await sendExpiryReminders(t.db, mailer, day(ottawa.term_end, 20), 'http://localhost');
    assert.ok(smtp.inbox.slice(before30).some((m) => /ends_in_30_days/.test(m.raw) && m.raw.includes('Ottawa')));
    assert.equal(await sendExpiryReminders(t.db, mailer, day(ottawa.term_end, 10), 'http://localhost'), 0);
    mailer.close();
  });

  it('pages: list, form errors with a summary, the whole flow without JavaScript, fees on the public service page', async () => {
    const list = await t.app.inject({ method: 'GET', url: '/fr/personnel/ententes', headers: { cookie: who.manager, accept: 'text/html' } });
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /Ententes de service/);
    assert.match(list.body, /Rédiger une nouvelle entente/);
    assert.equal((await t.app.inject({ method: 'GET', url: '/en/staff/agreements', headers: { accept: 'text/html' } })).statusCode, 303);
    const bad = await form('manager', '/en/staff/agreements/new', { partner_org_id: 'ottawa', title_en: '', title_fr: 'x', term_start: `${year}-01-01`, term_end: 'soon', services: 'demo-dog-licence: online' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /govuk-error-summary/);
    assert.match(bad.body, /id="title_en-error"/);
    const created = await form('manager', '/en/staff/agreements/new', { partner_org_id: 'ottawa', title_en: 'Pets (test)', title_fr: 'Animaux (essai)', integration_level: 'complete', term_start: `${year}-01-01`, term_end: `${year}-12-31`, services: 'demo-dog-licence: online, kiosk', show_partner_name: 'yes', visibility_channels: 'online' });
    assert.equal(created.statusCode, 303, created.body.slice(0, 500));
    const url = created.headers.location!.split('?')[0];
    const aid = url.split('/').pop()!;
    assert.equal((await form('manager', `${url}/submit`, {})).statusCode, 303);
    assert.equal((await form('board', `${url}/approve`, { decision_date: `${year}-02-01`, decision_reference: 'BOARD-P-1' })).statusCode, 303);
    assert.equal((await form('mto', `${url}/accept`, {})).statusCode, 404);
    assert.equal((await form('ottawa', `${url}/accept`, {})).statusCode, 303);
    const view = await t.app.inject({ method: 'GET', url: `${url}?done=accepted`, headers: { cookie: who.ottawa, accept: 'text/html' } });
    assert.match(view.body, /BOARD-P-1/);
    assert.match(view.body, /govuk-tag--green/);
    const row = await t.db.selectFrom('agreements').select('status').where('id', '=', aid).executeTakeFirstOrThrow();
    assert.equal(row.status, 'active');
    const svc = await t.app.inject({ method: 'GET', url: '/fr/services/demo-driver-licence', headers: { accept: 'text/html' } });
    assert.equal(svc.statusCode, 200);
    assert.match(svc.body, /id="fees-by-channel"/);
    assert.match(svc.body, /90,00\s*\$/);
    assert.match(svc.body, /Comprend 2,00\s*\$ conservés par le guichet unique/);
  });

  it('renewal: an agreement renewed automatically goes on for its renewal months, and the reminders say so', async () => {
    assert.deepEqual([renewedEnd(`${year}-12-31`, 12), renewedEnd(`${year}-06-30`, 6), renewedEnd(`${year}-03-31`, 1)], [`${year + 1}-12-31`, `${year}-12-31`, `${year}-04-30`]);
    const mailer = createMailer({ SMTP_URL: smtp.url });
    const bad = await api('manager', 'POST', '/api/v1/agreements', { partner_org_id: 'on-mto', terms: terms({ renewal: 'automatic', renewal_months: 61 }) }, 'r-0');
    assert.equal(bad.statusCode, 400);
    const made = await api('manager', 'POST', '/api/v1/agreements', { partner_org_id: 'on-mto', terms: terms({ title_en: 'Renewing (test)', renewal: 'automatic', renewal_months: 6, term_end: `${year}-06-30` }) }, 'r-1');
    assert.equal(made.statusCode, 201, made.body);
    const rid = made.json().id;
    await api('manager', 'POST', `/api/v1/agreements/${rid}/submit`);
    await api('board', 'POST', `/api/v1/agreements/${rid}/approve`, { decision_date: `${year}-01-02`, decision_reference: 'B-R' });
    assert.equal((await api('mto', 'POST', `/api/v1/agreements/${rid}/accept`)).json().status, 'active');
    // An amendment opened before the renewal that keeps the end date (it changes the hold).
    assert.equal((await api('manager', 'POST', `/api/v1/agreements/${rid}/amendments`, { terms: terms({ title_en: 'Renewing (test)', renewal: 'automatic', renewal_months: 6, term_end: `${year}-06-30`, hold_business_days: 4 }) }, 'r-2')).statusCode, 201);
    const mails = (from: number) => smtp.inbox.slice(from).map((m) => m.raw.replace(/=\r?\n/g, '')).filter((m) => m.includes('Renewing'));

    // 20 days before the end: the managers are told it renews, until when (not that it expires).
    let base = smtp.inbox.length;
    await sendExpiryReminders(t.db, mailer, `${year}-06-10`, 'http://localhost');
    const told = mails(base);
    assert.ok(told.length >= 1);
    assert.match(told[0], /Subject: =\?UTF-8\?Q\?Agreement_AGR-\d+_renews_automatically_/);
    assert.match(told[0], /It renews automatically for 6 months, until December 31, /);
    assert.match(told[0], /jusqu=E2=80=99au 31 d=C3=A9cembre|jusqu’au 31 décembre/);

    // The day after its end: renewed for 6 months, not expired; the event says from when to when; the open
    // amendment keeps up with the new end date.
    assert.equal(await expireAgreements(t.db, `${year}-07-01`), 0);
    const a1 = (await api('manager', 'GET', `/api/v1/agreements/${rid}`)).json();
    assert.deepEqual([a1.status, a1.terms.term_end], ['active', `${year}-12-31`]);
    const ev = await t.db.selectFrom('agreement_events').select(['action', 'detail']).where('agreement_id', '=', rid).where('action', '=', 'renewed').execute();
    assert.deepEqual(ev, [{ action: 'renewed', detail: `${year}-06-30 → ${year}-12-31` }]);
    const open = await t.db.selectFrom('agreement_versions').select(['snapshot', 'base']).where('agreement_id', '=', rid).where('status', '=', 'draft').executeTakeFirstOrThrow();
    assert.equal((open.snapshot as any).term_end, `${year}-12-31`);
    assert.equal((open.base as any).term_end, `${year}-12-31`);
    const versions = (await api('manager', 'GET', `/api/v1/agreements/${rid}/versions`)).json().items;
    assert.deepEqual(versions.at(-1).diff.map((d: any) => d.field), ['hold_business_days'], 'the amendment does not undo the renewal');
    assert.equal(await expireAgreements(t.db, `${year}-07-02`), 0, 'a rerun changes nothing');
    assert.equal((await t.db.selectFrom('agreement_events').select('action').where('agreement_id', '=', rid).where('action', '=', 'renewed').execute()).length, 1);
    const page = await t.app.inject({ method: 'GET', url: `/fr/personnel/ententes/${rid}`, headers: { cookie: who.mto, accept: 'text/html' } });
    assert.match(page.body, /Renouvelée automatiquement, par périodes de 6 mois/);

    // The new end gets its own reminders.
    base = smtp.inbox.length;
    await sendExpiryReminders(t.db, mailer, `${year}-12-11`, 'http://localhost');
    assert.ok(mails(base).some((m) => /renews automatically for 6 months, until June 30, /.test(m)));

    // A missed run catches up: months later, renewed as many times as needed to cover the day.
    await expireAgreements(t.db, `${year + 1}-08-15`);
    const a2 = await t.db.selectFrom('agreements').select(['status', 'term_end']).where('id', '=', rid).executeTakeFirstOrThrow();
    assert.deepEqual(a2, { status: 'active', term_end: `${year + 1}-12-31` });

    // A child renewed automatically never goes past its master; when its master ends with it, it expires.
    const master = await api('manager', 'POST', '/api/v1/agreements', { partner_org_id: 'on-mto', is_master: true, terms: terms({ title_en: 'Renewing master (test)', renewal: 'automatic', renewal_months: 12, term_start: `${year + 1}-01-01`, term_end: `${year + 2}-12-31` }) }, 'r-m');
    const mid = master.json().id;
    const child = await api('manager', 'POST', '/api/v1/agreements', { partner_org_id: 'on-mto', terms: terms({ title_en: 'Renewing child (test)', master_id: mid, renewal: 'automatic', renewal_months: 24, term_start: `${year + 1}-01-01`, term_end: `${year + 2}-06-30` }) }, 'r-c');
    const plain = await api('manager', 'POST', '/api/v1/agreements', { partner_org_id: 'on-mto', terms: terms({ title_en: 'Plain child (test)', master_id: mid, renewal: 'automatic', renewal_months: 12, term_start: `${year + 1}-01-01`, term_end: `${year + 2}-12-31` }) }, 'r-p');
    await t.db.updateTable('agreements').set({ status: 'active' }).where('id', 'in', [mid, child.json().id, plain.json().id]).execute();
    await expireAgreements(t.db, `${year + 2}-07-01`);
    const c1 = await t.db.selectFrom('agreements').select(['status', 'term_end']).where('id', '=', child.json().id).executeTakeFirstOrThrow();
    assert.deepEqual(c1, { status: 'active', term_end: `${year + 2}-12-31` }, 'capped at the master’s end');
    await t.db.updateTable('agreements').set({ renewal: 'none' }).where('id', '=', mid).execute();
    base = smtp.inbox.length;
    await sendExpiryReminders(t.db, mailer, `${year + 2}-12-11`, 'http://localhost');
    const childMail = smtp.inbox.slice(base).map((m) => m.raw.replace(/=\r?\n/g, '')).find((m) => m.includes('Renewing child'));
    assert.ok(childMail && /Renew it with an amendment, or let it expire/.test(childMail), 'its master ends with it: an expiry reminder');
    await expireAgreements(t.db, `${year + 3}-01-01`);
    const ended = await t.db.selectFrom('agreements').select(['id', 'status', 'end_reason']).where('id', 'in', [mid, child.json().id, plain.json().id]).orderBy('title_en').execute();
    assert.deepEqual(ended.map((e) => e.status), ['expired', 'expired', 'expired']);
    mailer.close();
  });
});
