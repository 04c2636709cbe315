/**
 * The intake of new services: a partner proposes, managers score, the ranked backlog, the board decides, the partner
 * asks for re-evaluation, an approved proposal becomes a draft catalogue service and a draft agreement amendment.
 * API and pages, with authorisation; PGlite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from '../../test/support/app';
import { seedDemoAgreements } from './demo';
import { scoreOf } from './intake';

describe('agreements: intake of new services', () => {
  let t: TestApp;
  const who: Record<string, string> = {};
  const api = (as: string, method: 'GET' | 'POST', url: string, payload?: unknown, key?: string) =>
    t.app.inject({ method, url, payload: payload as any, headers: { cookie: who[as], 'x-csrf-token': csrfFrom(who[as]), ...(key ? { 'idempotency-key': key } : {}) } });
  const scores = (v: number, r: number) => ({ law_requires: v, promotes_one_stop: v, client_demand: v, agency_benefit: v, government_benefit: v, effort: r, scope: r, technical_fit: 5 - r, urgency: 3 });
  const today = new Date().toISOString().slice(0, 10);
  before(async () => {
    t = await createTestApp({ catalogue: true });
    await seedDemoAgreements(t.db);
    for (const [k, s] of Object.entries({ manager: 'staff-reviewer', board: 'staff-board', mto: 'staff-mto-partner', ottawa: 'staff-ottawa-partner' })) who[k] = await staffCookie(t.app, s);
  });
  after(() => t.close());

  it('scores: value weighs double; the resources favour small, well-fitting, urgent work', () => {
    assert.deepEqual(scoreOf(scores(5, 0) as any), { value: 25, resources: 18, total: 68 });
    assert.deepEqual(scoreOf(scores(0, 5) as any), { value: 0, resources: 3, total: 3 });
  });

  it('proposal → score → ranked backlog → re-evaluation → approval: a draft service and a draft amendment', async () => {
    const body = { title_en: 'Renew a vehicle permit online', title_fr: 'Renouveler un certificat d’immatriculation en ligne', business_case_en: '1.2 million renewals a year; counter cost $40 each.', business_case_fr: '1,2 million de renouvellements par année; 40 $ chacun au comptoir.' };
    assert.equal((await api('manager', 'POST', '/api/v1/proposals', body, 'p-0')).statusCode, 403, 'partners propose');
    const p1 = await api('mto', 'POST', '/api/v1/proposals', body, 'p-1');
    assert.equal(p1.statusCode, 201, p1.body);
    const id = p1.json().id;
    const p2 = await api('ottawa', 'POST', '/api/v1/proposals', { ...body, title_en: 'Pay parking tickets', title_fr: 'Payer les contraventions' }, 'p-2');
    const id2 = p2.json().id;
    assert.equal((await api('ottawa', 'GET', `/api/v1/proposals/${id}`)).statusCode, 404, 'another partner’s proposal');
    assert.equal((await api('board', 'POST', `/api/v1/proposals/${id}/decision`, { decision: 'approve', decision_date: today, decision_reference: 'B-1' })).json().error.code, 'PROPOSAL_NOT_SCORED');
    const bad = await api('manager', 'POST', `/api/v1/proposals/${id}/score`, { ...scores(3, 2), urgency: 6 });
    assert.equal(bad.statusCode, 400);
    assert.equal((await api('mto', 'POST', `/api/v1/proposals/${id}/score`, scores(3, 2))).statusCode, 403);
    assert.equal((await api('manager', 'POST', `/api/v1/proposals/${id}/score`, scores(2, 4))).json().status, 'scored');
    await api('manager', 'POST', `/api/v1/proposals/${id2}/score`, scores(4, 1));
    const ranked = (await api('board', 'GET', '/api/v1/proposals')).json().items.filter((p: any) => [id, id2].includes(p.id));
    assert.deepEqual(ranked.map((p: any) => p.id), [id2, id], 'higher score first');
    assert.equal((await api('mto', 'GET', '/api/v1/proposals')).json().items.every((p: any) => p.partner_org_id === 'on-mto'), true);
    const rej = await api('board', 'POST', `/api/v1/proposals/${id}/decision`, { decision: 'reject', decision_date: today, decision_reference: 'B-2' });
    assert.equal(rej.json().status, 'rejected');
    const re = await api('mto', 'POST', `/api/v1/proposals/${id}/reevaluation`, { reason: 'New law from next year' });
    assert.equal(re.json().status, 'reevaluation');
    await api('manager', 'POST', `/api/v1/proposals/${id}/score`, scores(5, 1));
    const ok = await api('board', 'POST', `/api/v1/proposals/${id}/decision`, { decision: 'approve', decision_date: today, decision_reference: 'B-3' });
    assert.equal(ok.statusCode, 200, ok.body);
    const p = ok.json();
    assert.equal(p.status, 'approved');
    const svc = await t.db.selectFrom('services').select(['status', 'owner_org_id', 'title_fr']).where('id', '=', p.service_id).executeTakeFirstOrThrow();
    assert.deepEqual(svc, { status: 'draft', owner_org_id: 'on-mto', title_fr: body.title_fr });
    const v = await t.db.selectFrom('agreement_versions').select(['status', 'snapshot']).where('agreement_id', '=', p.agreement_id).where('version', '=', p.amendment_version).executeTakeFirstOrThrow();
    assert.equal(v.status, 'draft');
    assert.ok((v.snapshot as any).services.some((s: any) => s.service_id === p.service_id && s.channels.includes('online')));
    const twice = await api('board', 'POST', `/api/v1/proposals/${id}/decision`, { decision: 'approve', decision_date: today, decision_reference: 'B-4' });
    assert.equal(twice.statusCode, 409);
    const services = await t.db.selectFrom('services').select('id').where('title_en', '=', body.title_en).execute();
    assert.equal(services.length, 1, 'no second draft service');
    // Ottawa's agreement: the amendment opened by the first approval is reused as long as it is a draft.
    await api('board', 'POST', `/api/v1/proposals/${id2}/decision`, { decision: 'approve', decision_date: today, decision_reference: 'B-5' });
    const page = await t.app.inject({ method: 'GET', url: `/en/staff/agreements/${p.agreement_id}`, headers: { cookie: who.manager, accept: 'text/html' } });
    assert.match(page.body, new RegExp(p.service_id));
  });

  it('pages: the backlog and a proposal, bilingual; the partner’s form with errors', async () => {
    const list = await t.app.inject({ method: 'GET', url: '/fr/personnel/propositions', headers: { cookie: who.board, accept: 'text/html' } });
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /Nouveaux services proposés/);
    assert.match(list.body, /id="backlog"/);
    const bad = await t.app.inject({ method: 'POST', url: '/en/staff/proposals', payload: new URLSearchParams({ title_en: 'x', _csrf: csrfFrom(who.mto) }).toString(), headers: { cookie: who.mto, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /govuk-error-summary/);
    const ok = await t.app.inject({ method: 'POST', url: '/en/staff/proposals', payload: new URLSearchParams({ title_en: 'Book a road test', title_fr: 'Réserver un examen de conduite', business_case_en: 'Demand', business_case_fr: 'Demande', _csrf: csrfFrom(who.mto) }).toString(), headers: { cookie: who.mto, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } });
    assert.equal(ok.statusCode, 303);
    const view = await t.app.inject({ method: 'GET', url: ok.headers.location as string, headers: { cookie: who.manager, accept: 'text/html' } });
    assert.equal(view.statusCode, 200);
    assert.match(view.body, /Record the scores/);
    const other = await t.app.inject({ method: 'GET', url: (ok.headers.location as string).split('?')[0], headers: { cookie: who.ottawa, accept: 'text/html' } });
    assert.equal(other.statusCode, 404);
  });
});
