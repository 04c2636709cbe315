/**
 * "Ownership is declared, not remembered" (src/http/ownership.ts): every registered route declares whose data it
 * touches, and the declarations hold for staff of every OTHER organisation: for every route with an organisation
 * owner, staff of each other organisation, in every role (manager and admin included), get 403 or 404 on another
 * organisation's real rows, never a success nor that organisation's data. The one-stop organisation's declared
 * powers are tested as declared.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registeredRoutes } from '../src/http/app';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from './support/app';
import { clientCookie } from './support/clients';
import { saveSubscription } from '../src/notices/service';

/** A staff member of an organisation with roles, signed in (cookie with its session-bound CSRF token). */
async function staffOf(t: TestApp, id: string, orgId: string, roles: string[]): Promise<string> {
  await t.db.insertInto('staff_users').values({ id, email: `${id}@staff.example`, name: `Staff ${id}`, org_id: orgId, roles, oidc_subject: null }).onConflict((oc) => oc.column('id').doNothing()).execute();
  return staffCookie(t.app, id);
}
const json = (t: TestApp, cookie: string | null, method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: method as 'POST', url, payload: payload as object, headers: { ...(cookie ? { cookie, 'x-csrf-token': csrfFrom(cookie) } : {}), ...headers } });
const form = (t: TestApp, cookie: string, url: string, fields: Record<string, string>) =>
  t.app.inject({ method: 'POST', url, payload: new URLSearchParams({ _csrf: csrfFrom(cookie), ...fields }).toString(), headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } });


describe('every route declares its owner', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalogue: true });
  });
  after(async () => t?.close());

  it('no registered route lacks a declaration', () => {
    const routes = registeredRoutes(t.app).filter((r) => r.method !== 'HEAD');
    assert.ok(routes.length > 300, `expected the whole app's routes, got ${routes.length}`);
    const missing = routes.filter((r) => !r.owner).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(missing, [], `routes without config.owner:\n${missing.join('\n')}`);
    for (const r of routes) {
      const o = r.owner!;
      if (typeof o === 'string') assert.ok(['none', 'client', 'staff-self', 'partner-key'].includes(o), `${r.method} ${r.url}: ${o}`);
      else {
        assert.ok(o.whose.length > 10, `${r.method} ${r.url}: say whose data it is`);
        // no role of the owning organisation may act only where the one-stop acts for it (e.g. setting a partner's rates)
        assert.ok(o.roles === 'any' || o.roles.length > 0 || (o.oneStop.may !== 'none' && (o.oneStop.roles?.length ?? 0) > 0), `${r.method} ${r.url}: roles`);
        assert.ok(['none', 'read', 'act', 'serving'].includes(o.oneStop.may), `${r.method} ${r.url}: one-stop powers`);
      }
    }
  });
});

describe('findings of issue 14: no organisation acts for another', () => {
  let t: TestApp;
  let ottawaManager: string;
  let mohManager: string;
  let oneStopAdmin: string;
  before(async () => {
    t = await createTestApp({ catalogue: true });
    ottawaManager = await staffOf(t, 'own-ottawa-manager', 'ottawa', ['manager', 'admin']);
    mohManager = await staffOf(t, 'own-moh-manager', 'on-moh', ['manager']);
    oneStopAdmin = await staffCookie(t.app, 'staff-admin');
  });
  after(async () => t?.close());

  it('partner API keys only for the caller’s own organisation (API and page form); the one-stop admin may not make one for another', async () => {
    const keys = async () => (await t.db.selectFrom('partner_api_keys').select('org_id').execute()).map((k) => k.org_id).sort();
    const other = await json(t, ottawaManager, 'POST', '/api/v1/partner-api-keys', { orgId: 'on-moh', label: 'stolen' });
    assert.equal(other.statusCode, 404, other.body);
    const page = await form(t, ottawaManager, '/en/staff/tell-us-once/api-keys', { orgId: 'on-moh', label: 'stolen' });
    assert.equal(page.statusCode, 404);
    const oneStop = await json(t, oneStopAdmin, 'POST', '/api/v1/partner-api-keys', { orgId: 'on-moh', label: 'stolen' });
    assert.equal(oneStop.statusCode, 404);
    assert.deepEqual(await keys(), [], 'no key written');
    const own = await json(t, mohManager, 'POST', '/api/v1/partner-api-keys', { orgId: 'on-moh', label: 'ours' });
    assert.equal(own.statusCode, 201, own.body);
    const ownPage = await form(t, ottawaManager, '/en/staff/tell-us-once/api-keys', { orgId: 'ottawa', label: 'ours' });
    assert.equal(ownPage.statusCode, 200);
    assert.deepEqual(await keys(), ['on-moh', 'ottawa']);
  });

  it('another organisation’s Tell Us Once subscription (and its webhook URL) cannot be changed; alerts are the recipient organisation’s', async () => {
    const base = { orgId: 'on-moh', programEn: 'Health card', programFr: 'Carte santé', purposeEn: 'x', purposeFr: 'x', eventTypes: ['change-of-address'], fields: ['newAddress'], legalBasis: 'consent' as const, delivery: 'webhook' as const, webhookUrl: 'https://moh.example/hook' };
    const { id } = await saveSubscription(t.db, base, { staffId: 'own-moh-manager', allowLoopback: true });
    const hook = async () => (await t.db.selectFrom('notice_subscriptions').select('webhook_url').where('id', '=', id).executeTakeFirstOrThrow()).webhook_url;
    const put = await json(t, ottawaManager, 'PUT', `/api/v1/notice-subscriptions/${id}`, { ...base, webhookUrl: 'https://attacker.example/hook' });
    assert.equal(put.statusCode, 404, put.body);
    const moved = await json(t, ottawaManager, 'PUT', `/api/v1/notice-subscriptions/${id}`, { ...base, orgId: 'ottawa', webhookUrl: 'https://attacker.example/hook' });
    assert.equal(moved.statusCode, 404);
    const pageGet = await t.app.inject({ url: `/en/staff/tell-us-once/subscriptions/${id}`, headers: { cookie: ottawaManager, accept: 'text/html' } });
    assert.equal(pageGet.statusCode, 404);
    assert.doesNotMatch(pageGet.body, /moh\.example/);
    const pagePost = await form(t, ottawaManager, `/en/staff/tell-us-once/subscriptions/${id}`, { orgId: 'on-moh', programEn: 'x', programFr: 'x', purposeEn: 'x', purposeFr: 'x', eventTypes: 'change-of-address', fields: 'newAddress', legalBasis: 'consent', delivery: 'webhook', webhookUrl: 'https://attacker.example/hook', active: 'yes' });
    assert.equal(pagePost.statusCode, 404);
    const created = await json(t, ottawaManager, 'POST', '/api/v1/notice-subscriptions', { ...base, webhookUrl: 'https://attacker.example/new' });
    assert.equal(created.statusCode, 404);
    assert.equal(await hook(), 'https://moh.example/hook');
    // the organisation's own manager, and the one-stop admin (declared: onboarding partners), may
    const own = await json(t, mohManager, 'PUT', `/api/v1/notice-subscriptions/${id}`, { ...base, webhookUrl: 'https://moh.example/hook2' });
    assert.equal(own.statusCode, 200, own.body);
    const oneStop = await json(t, oneStopAdmin, 'PUT', `/api/v1/notice-subscriptions/${id}`, { ...base, webhookUrl: 'https://moh.example/hook3' });
    assert.equal(oneStop.statusCode, 200, oneStop.body);
    assert.equal(await hook(), 'https://moh.example/hook3');

    // alerts: on-moh's dead letter is neither shown to nor resolved by Ottawa
    const alert = await t.db.insertInto('notice_alerts').values({ notice_id: null, org_id: 'on-moh', kind: 'dead-letter', message: 'MOH-ALERT-MARKER', resolved_at: null, resolved_by: null }).returning('id').executeTakeFirstOrThrow();
    const ottawaPage = await t.app.inject({ url: '/en/staff/tell-us-once', headers: { cookie: ottawaManager, accept: 'text/html' } });
    assert.equal(ottawaPage.statusCode, 200);
    assert.doesNotMatch(ottawaPage.body, /MOH-ALERT-MARKER|moh\.example/);
    const resolve = await form(t, ottawaManager, `/en/staff/tell-us-once/alerts/${alert.id}/resolve`, {});
    assert.equal(resolve.statusCode, 404);
    assert.equal((await t.db.selectFrom('notice_alerts').select('resolved_at').where('id', '=', alert.id).executeTakeFirstOrThrow()).resolved_at, null);
    const mohPage = await t.app.inject({ url: '/en/staff/tell-us-once', headers: { cookie: mohManager, accept: 'text/html' } });
    assert.match(mohPage.body, /MOH-ALERT-MARKER/);
    const oneStopPage = await t.app.inject({ url: '/en/staff/tell-us-once', headers: { cookie: oneStopAdmin, accept: 'text/html' } });
    assert.match(oneStopPage.body, /MOH-ALERT-MARKER/);
    assert.equal((await form(t, mohManager, `/en/staff/tell-us-once/alerts/${alert.id}/resolve`, {})).statusCode, 303);
    assert.notEqual((await t.db.selectFrom('notice_alerts').select('resolved_at').where('id', '=', alert.id).executeTakeFirstOrThrow()).resolved_at, null);
  });

  it('loans: nobody lends themselves or another organisation’s staff; a loan opens one office, not every office hosting that organisation', async () => {
    const OFFICE = 'ottawa-ben-franklin'; // hosts guichet, ottawa, on-mto, on-moh, esdc-edsc
    const ELSEWHERE = 'ottawa-orleans'; // hosts guichet, ottawa, on-moh (not on-mto)
    const mtoManager = await staffOf(t, 'own-mto-manager', 'on-mto', ['manager']);
    const mtoAgent = await staffOf(t, 'own-mto-agent', 'on-mto', ['agent']);
    const agents = (id: string) => `/api/v1/offices/${OFFICE}/agents/${id}`;
    const self = await json(t, mtoManager, 'PUT', agents('own-mto-manager'), { skills: [], languages: ['en'], lentToOrgId: 'ottawa' });
    assert.equal(self.statusCode, 403, self.body);
    assert.equal(self.json().error.code, 'LOAN_SELF');
    const others = await json(t, mtoManager, 'PUT', agents('staff-agent'), { skills: [], languages: ['en'], lentToOrgId: 'ottawa' });
    assert.equal(others.statusCode, 403, others.body);
    assert.equal(others.json().error.code, 'LOAN_OTHER_ORG');
    // an admin of another organisation is not an admin of every office
    const ottawaAtMtoOnly = await json(t, ottawaManager, 'PUT', `/api/v1/offices/ottawa-rideau/agents/own-mto-agent`, { skills: [], languages: ['en'], lentToOrgId: 'on-moh' });
    assert.equal(ottawaAtMtoOnly.statusCode, 404, ottawaAtMtoOnly.body);
    assert.equal((await t.db.selectFrom('agent_loans').selectAll().execute()).length, 0);
    // before: the MTO agent is not at Orléans
    assert.equal((await json(t, mtoAgent, 'GET', `/api/v1/offices/${ELSEWHERE}/tickets`)).statusCode, 404);
    const lent = await json(t, mtoManager, 'PUT', agents('own-mto-agent'), { skills: [], languages: ['en', 'fr'], lentToOrgId: 'ottawa' });
    assert.equal(lent.statusCode, 200, lent.body);
    assert.deepEqual(await t.db.selectFrom('agent_loans').select(['staff_id', 'office_id', 'lent_to_org_id']).execute(), [{ staff_id: 'own-mto-agent', office_id: OFFICE, lent_to_org_id: 'ottawa' }]);
    assert.equal((await json(t, mtoAgent, 'GET', `/api/v1/offices/${OFFICE}/tickets`)).statusCode, 200);
    const elsewhere = await json(t, mtoAgent, 'GET', `/api/v1/offices/${ELSEWHERE}/tickets`);
    assert.equal(elsewhere.statusCode, 404, 'the loan opens its own office only');
    assert.equal((await t.app.inject({ url: `/en/staff/offices/${ELSEWHERE}/team`, headers: { cookie: mtoAgent, accept: 'text/html' } })).statusCode, 404);
  });

  it('Open311 keys list only public Open311 requests, never a client’s private portal case; the key is read from a header, not the query', async () => {
    const client = await clientCookie(t.app, t.db);
    const privateCase = await json(t, client, 'POST', '/api/v1/cases', { serviceId: 'demo-dog-licence', summary: 'PRIVATE-PORTAL-MARKER my dog' });
    assert.equal(privateCase.statusCode, 201, privateCase.body);
    const key = await json(t, ottawaManager, 'POST', '/api/v1/cases/open311-keys', { label: '311 app' });
    assert.equal(key.statusCode, 201, key.body);
    const apiKey = key.json().apiKey as string;
    const posted = await t.app.inject({ method: 'POST', url: '/open311/v2/requests.json', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ api_key: apiKey, service_code: 'demo-dog-licence', address_string: '1 Bank St', description: 'PUBLIC-311-MARKER' }).toString() });
    assert.equal(posted.statusCode, 200, posted.body);
    const list = await t.app.inject({ url: '/open311/v2/requests.json', headers: { 'x-api-key': apiKey } });
    assert.equal(list.statusCode, 200, list.body);
    assert.match(list.body, /PUBLIC-311-MARKER/);
    assert.doesNotMatch(list.body, /PRIVATE-PORTAL-MARKER/);
    const privateRef = (await t.db.selectFrom('cases').select('reference').where('summary', 'like', 'PRIVATE-PORTAL-MARKER%').executeTakeFirstOrThrow()).reference;
    assert.equal((await t.app.inject({ url: `/open311/v2/requests/${privateRef}.json`, headers: { authorization: `Bearer ${apiKey}` } })).statusCode, 404);
    // the query string is not a place for keys (it is written in request logs)
    assert.equal((await t.app.inject({ url: `/open311/v2/requests.json?api_key=${encodeURIComponent(apiKey)}` })).statusCode, 403);
  });

  it('a read through a referral is logged with the client’s referral consent as its basis', async () => {
    const client = await clientCookie(t.app, t.db);
    const opened = await json(t, client, 'POST', '/api/v1/cases', { serviceId: 'demo-birth-certificate', summary: 'Referral basis' });
    assert.equal(opened.statusCode, 201, opened.body);
    const caseId = opened.json().id as string;
    const orgAgent = await staffOf(t, 'own-org-agent', 'on-org', ['agent']);
    const mohAgent = await staffOf(t, 'own-moh-agent', 'on-moh', ['agent']);
    const ref = await json(t, orgAgent, 'POST', `/api/v1/cases/${caseId}/referrals`, { toOrgId: 'on-moh', summary: 'Health card', clientConsent: true });
    assert.equal(ref.statusCode, 201, ref.body);
    const read = await json(t, mohAgent, 'GET', `/api/v1/cases/${caseId}`);
    assert.equal(read.statusCode, 200, read.body);
    const owner = (await t.db.selectFrom('cases').select('client_id').where('id', '=', caseId).executeTakeFirstOrThrow()).client_id;
    const entries = await t.db.selectFrom('access_log').select(['purpose', 'legal_basis']).where('client_id', '=', owner).where('org_id', '=', 'on-moh').where('action', '=', 'read').execute();
    assert.ok(entries.length >= 1, 'the referred organisation’s read is logged');
    for (const e of entries) assert.deepEqual(e, { purpose: 'case-referral', legal_basis: 'consent' });
  });

  it('the client’s access log is paged: limit, offset and a before cursor (API), older entries (page)', async () => {
    const { recordAccessBatch } = await import('../src/clients/access-log');
    const { createTestClient } = await import('./support/clients');
    const id = await createTestClient(t.db);
    await recordAccessBatch(t.db, Array.from({ length: 260 }, (_, i) => ({ clientId: id, actorKind: 'system' as const, actorId: 'paging', action: 'read', fields: [`f${i}`], purpose: 'test' })));
    const cookie = await clientCookie(t.app, t.db, id);
    const all = await json(t, cookie, 'GET', '/api/v1/me/access-log?limit=500');
    assert.equal(all.json().length, 260);
    const first = await json(t, cookie, 'GET', '/api/v1/me/access-log');
    assert.equal(first.json().length, 200);
    assert.match(String(first.headers.link), /rel="next"/);
    const second = await json(t, cookie, 'GET', '/api/v1/me/access-log?offset=200');
    assert.equal(second.json().length, 60);
    assert.deepEqual([...first.json(), ...second.json()].map((e: { seq: number }) => e.seq), all.json().map((e: { seq: number }) => e.seq));
    const cursor = first.json()[199].seq;
    const after = await json(t, cookie, 'GET', `/api/v1/me/access-log?before=${cursor}&limit=10`);
    assert.deepEqual(after.json().map((e: { seq: number }) => e.seq), all.json().slice(200, 210).map((e: { seq: number }) => e.seq));
    const page = await t.app.inject({ url: '/en/my-file/access-log', headers: { cookie, accept: 'text/html' } });
    assert.equal((page.body.match(/data-seq=/g) ?? []).length, 50);
    const older = /href="(\/en\/my-file\/access-log\?before=\d+)"/.exec(page.body);
    assert.ok(older, 'a link to older entries');
    const page2 = await t.app.inject({ url: older![1], headers: { cookie, accept: 'text/html' } });
    const seqs = [...page2.body.matchAll(/data-seq="(\d+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(seqs, all.json().slice(50, 100).map((e: { seq: number }) => e.seq));
  });

  it('shifts in the years 1900 and 9999 (or longer than a day) are refused with a translated 400 on the field', async () => {
    const manager = await staffCookie(t.app, 'staff-reviewer');
    const url = '/api/v1/offices/ottawa-ben-franklin/shifts';
    const before = (await t.db.selectFrom('agent_shifts').select('id').execute()).length;
    for (const [startsAt, endsAt, field] of [['1900-01-01T13:00:00Z', '1900-01-01T14:00:00Z', 'startsAt'], ['9999-12-31T13:00:00Z', '9999-12-31T14:00:00Z', 'startsAt'], ['2027-03-01T13:00:00Z', '2027-03-09T14:00:00Z', 'endsAt']]) {
      const res = await json(t, manager, 'POST', url, { staffId: 'staff-agent', startsAt, endsAt });
      assert.equal(res.statusCode, 400, `${startsAt}: ${res.body}`);
      assert.equal(res.json().error.details[0].field, field);
      const fr = await json(t, manager, 'POST', url, { staffId: 'staff-agent', startsAt, endsAt }, { 'accept-language': 'fr' });
      assert.match(fr.json().error.details[0].message, /quart/);
    }
    assert.equal((await t.db.selectFrom('agent_shifts').select('id').execute()).length, before);
  });

  it('POST /api/v1/cases takes an Idempotency-Key: same key and body → the first answer, another body → 409, per caller', async () => {
    const { createTestClient } = await import('./support/clients');
    const owner = await createTestClient(t.db);
    const client = await clientCookie(t.app, t.db, owner);
    const count = async () => (await t.db.selectFrom('cases').select('id').where('client_id', '=', owner).execute()).length;
    const body = { serviceId: 'demo-birth-certificate', summary: 'Idempotent case' };
    const first = await json(t, client, 'POST', '/api/v1/cases', body, { 'idempotency-key': 'retry-1' });
    assert.equal(first.statusCode, 201, first.body);
    const again = await json(t, client, 'POST', '/api/v1/cases', { summary: body.summary, serviceId: body.serviceId }, { 'idempotency-key': 'retry-1' });
    assert.equal(again.statusCode, 201);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.deepEqual(again.json(), first.json());
    assert.equal(await count(), 1, 'no second case');
    const other = await json(t, client, 'POST', '/api/v1/cases', { ...body, summary: 'Something else' }, { 'idempotency-key': 'retry-1' });
    assert.equal(other.statusCode, 409);
    assert.equal(other.json().error.code, 'IDEMPOTENCY_KEY_REUSED');
    const fr = await json(t, client, 'POST', '/api/v1/cases', { ...body, summary: 'Something else' }, { 'idempotency-key': 'retry-1', 'accept-language': 'fr' });
    assert.match(fr.json().error.message, /clé/);
    assert.equal(await count(), 1);
    // another caller's key of the same name is theirs
    const someoneElse = await clientCookie(t.app, t.db);
    assert.equal((await json(t, someoneElse, 'POST', '/api/v1/cases', body, { 'idempotency-key': 'retry-1' })).statusCode, 201);
    // a failed request frees its key; without a key nothing changes; a bad key is a 400
    const bad = await json(t, client, 'POST', '/api/v1/cases', { serviceId: 'no-such-service', summary: 'x' }, { 'idempotency-key': 'retry-2' });
    assert.ok(bad.statusCode >= 400 && bad.statusCode < 500, bad.body);
    assert.equal((await json(t, client, 'POST', '/api/v1/cases', body, { 'idempotency-key': 'retry-2' })).statusCode, 201);
    assert.equal((await json(t, client, 'POST', '/api/v1/cases', body)).statusCode, 201);
    const invalid = await json(t, client, 'POST', '/api/v1/cases', body, { 'idempotency-key': 'x'.repeat(300) });
    assert.equal(invalid.statusCode, 400);
    assert.equal(await count(), 3);
  });

  it('CSRF: an Authorization header does not exempt a request with a session cookie; the token is bound to the session', async () => {
    const client = await clientCookie(t.app, t.db);
    const sid = /guichet_sid=([^;]+)/.exec(client)![1];
    const withBearer = await t.app.inject({ method: 'POST', url: '/api/v1/cases/access-codes', headers: { cookie: `guichet_sid=${sid}`, authorization: 'Bearer anything' } });
    assert.equal(withBearer.statusCode, 403, withBearer.body);
    assert.equal(withBearer.json().error.code, 'CSRF_INVALID');
    // a token planted in the CSRF cookie (double submit of the attacker's own value) does not match the session
    const planted = 'p'.repeat(40);
    const plantedRes = await t.app.inject({ method: 'POST', url: '/api/v1/cases/access-codes', headers: { cookie: `guichet_csrf=${planted}; guichet_sid=${sid}`, 'x-csrf-token': planted } });
    assert.equal(plantedRes.statusCode, 403);
    // another session's token does not either
    const other = await clientCookie(t.app, t.db);
    const crossed = await t.app.inject({ method: 'POST', url: '/api/v1/cases/access-codes', headers: { cookie: client, 'x-csrf-token': csrfFrom(other) } });
    assert.equal(crossed.statusCode, 403);
    const ok = await t.app.inject({ method: 'POST', url: '/api/v1/cases/access-codes', headers: { cookie: client, 'x-csrf-token': csrfFrom(client) } });
    assert.equal(ok.statusCode, 201, ok.body);
  });
});

/**
 * The cross-organisation sweep: every route with an organisation owner, on real rows of a "victim" organisation,
 * called by staff of each other organisation in every role (one staff member per role, and one with all roles).
 * Expected: 403 or 404 (or a 400 from the route's schema, before any row is read), never a success, and never a
 * victim's data in the answer. The one-stop organisation is tested as declared: 'none' and 'serving' (it serves no
 * victim client here) like any other; 'read' may read but not write; 'act' is its declared power and is skipped.
 */
function multipartPng() {
  const boundary = '----sweep' + Math.random().toString(16).slice(2);
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32, 1)]);
  const payload = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`), png, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('cross-organisation sweep', () => {
  let t: TestApp;
  const ORGS = ['guichet', 'ottawa', 'on-mto', 'on-moh', 'on-org', 'cra-arc', 'esdc-edsc'];
  const ROLESETS: string[][] = [...['agent', 'editor', 'reviewer', 'partner', 'manager', 'auditor', 'admin', 'board'].map((r) => [r]), ['agent', 'editor', 'reviewer', 'partner', 'manager', 'auditor', 'admin', 'board']];
  const MARKERS = /VICTIM-CASE-MARKER|VICTIM-SUB-MARKER|VICTIM-ALERT-MARKER|VICTIM-AGREEMENT-MARKER|VICTIM-PROPOSAL-MARKER|VICTIM-PERF-MARKER|Victimclient|victim\.example/;
  const cookies = new Map<string, string>(); // `${org}|${roles}` → cookie
  const ids: Record<string, string> = {};
  before(async () => {
    t = await createTestApp({ catalogue: true });
    const { csrfTokenFor } = await import('../src/http/session');
    const crypto = await import('node:crypto');
    for (const org of ORGS)
      for (const roles of ROLESETS) {
        const id = `sweep-${org}-${roles.length > 1 ? 'all' : roles[0]}`;
        await t.db.insertInto('staff_users').values({ id, email: `${id}@staff.example`, name: id, org_id: org, roles, oidc_subject: null }).execute();
        const token = crypto.randomBytes(32).toString('base64url');
        await t.db.insertInto('sessions').values({ id: crypto.createHash('sha256').update(token).digest('hex'), kind: 'staff', subject_id: id, data: '{}', expires_at: new Date(Date.now() + 3600_000) }).execute();
        cookies.set(`${org}|${roles.join(',')}`, `guichet_csrf=${csrfTokenFor(token)}; guichet_sid=${token}`);
      }
    // the victims' rows: a client's case at on-org referred to on-moh, with a document; on-moh's subscription,
    // alert and service; an office hosting ottawa and on-moh (Orléans) with a counter, a shift and a ticket
    const { createTestClient } = await import('./support/clients');
    const clientId = await createTestClient(t.db, { givenName: 'Victimclient', email: 'victim@victim.example' } as never);
    const client = await clientCookie(t.app, t.db, clientId);
    const opened = await json(t, client, 'POST', '/api/v1/cases', { serviceId: 'demo-birth-certificate', summary: 'VICTIM-CASE-MARKER' });
    assert.equal(opened.statusCode, 201, opened.body);
    ids.case = opened.json().id;
    const orgAgent = cookies.get('on-org|agent')!;
    const ref = await json(t, orgAgent, 'POST', `/api/v1/cases/${ids.case}/referrals`, { toOrgId: 'on-moh', summary: 'VICTIM-CASE-MARKER', clientConsent: true });
    assert.equal(ref.statusCode, 201, ref.body);
    ids.referral = ref.json().id;
    const { grantConsent } = await import('../src/clients/consent');
    const consentId = await grantConsent(t.db, { clientId, orgId: 'on-moh', purpose: 'case-referral', fields: ['question'], legalBasis: 'consent' });
    ids.question = crypto.randomUUID();
    await t.db.insertInto('case_questions').values({ id: ids.question, client_id: clientId, from_org_id: 'on-org', to_org_id: 'on-moh', referred_by: 'sweep-on-org-agent', channel: 'phone', question: 'VICTIM-CASE-MARKER', summary: 'VICTIM-CASE-MARKER', consent_id: consentId, answer: null, answered_by: null, answered_at: null, no_repeat: null, case_id: null } as never).execute();
    const sub = await saveSubscription(t.db, { orgId: 'on-moh', programEn: 'VICTIM-SUB-MARKER', programFr: 'VICTIM-SUB-MARKER', purposeEn: 'x', purposeFr: 'x', eventTypes: ['change-of-address'], fields: ['newAddress'], legalBasis: 'consent', delivery: 'webhook', webhookUrl: 'https://victim.example/hook' }, { staffId: 'sweep-on-moh-manager', allowLoopback: true });
    ids.subscription = sub.id;
    ids.alert = String((await t.db.insertInto('notice_alerts').values({ notice_id: null, org_id: 'on-moh', kind: 'dead-letter', message: 'VICTIM-ALERT-MARKER', resolved_at: null, resolved_by: null }).returning('id').executeTakeFirstOrThrow()).id);
    ids.service = 'demo-health-card'; // owned by on-moh
    ids.office = 'ottawa-orleans'; // hosts guichet, ottawa, on-moh
    ids.client = clientId;
    const admin = await staffCookie(t.app, 'staff-admin');
    const counter = await json(t, admin, 'POST', `/api/v1/offices/${ids.office}/counters`, { label: 'V1' });
    assert.equal(counter.statusCode, 201, counter.body);
    ids.counter = counter.json().id;
    const tomorrow = new Date(Date.now() + 86_400_000);
    const shift = await json(t, admin, 'POST', `/api/v1/offices/${ids.office}/shifts`, { staffId: 'sweep-on-moh-agent', startsAt: tomorrow.toISOString(), endsAt: new Date(tomorrow.getTime() + 3600_000).toISOString() });
    assert.equal(shift.statusCode, 201, shift.body);
    ids.shift = shift.json().id;
    const ticket = await json(t, admin, 'POST', `/api/v1/offices/${ids.office}/tickets`, { services: ['demo-health-card'], language: 'en' });
    assert.equal(ticket.statusCode, 201, ticket.body);
    ids.ticket = ticket.json().id;

    // on-moh's agreement (in force, with a fee version), its proposal (scored) and its survey comments
    const { createAgreement, submit, approve, accept } = await import('../src/agreements/service');
    const { createFeeVersion } = await import('../src/agreements/fees');
    const { propose, score } = await import('../src/agreements/intake');
    const principal = (org: string, role: string) => ({ id: `sweep-${org}-${role}`, name: role, email: `${role}@staff.example`, orgId: org, roles: [role] });
    const [manager, board, partner] = [principal('guichet', 'manager'), principal('guichet', 'board'), principal('on-moh', 'partner')];
    const today = new Date().toISOString().slice(0, 10);
    const agreement = await createAgreement(t.db, manager, {
      partner_org_id: 'on-moh',
      terms: { title_en: 'VICTIM-AGREEMENT-MARKER', title_fr: 'VICTIM-AGREEMENT-MARKER', term_start: today, term_end: `${Number(today.slice(0, 4)) + 1}${today.slice(4, 8)}01`, services: [{ service_id: 'demo-health-card', channels: ['online'] }] },
    });
    ids.agreement = agreement.id;
    await submit(t.db, manager, agreement.id);
    await approve(t.db, board, agreement.id, { decision_date: today, decision_reference: 'SWEEP-1' });
    await accept(t.db, partner, agreement.id);
    ids.fee = (await createFeeVersion(t.db, { serviceId: 'demo-health-card', channel: 'online', validFrom: today, agreementId: agreement.id, statutoryCents: 1500, noteEn: 'VICTIM-AGREEMENT-MARKER', noteFr: 'VICTIM-AGREEMENT-MARKER' }, manager.id)).id;
    ids.proposal = await propose(t.db, partner, { title_en: 'VICTIM-PROPOSAL-MARKER', title_fr: 'VICTIM-PROPOSAL-MARKER', business_case_en: 'VICTIM-PROPOSAL-MARKER', business_case_fr: 'VICTIM-PROPOSAL-MARKER' });
    await score(t.db, manager, ids.proposal, { law_requires: 3, promotes_one_stop: 3, client_demand: 3, agency_benefit: 3, government_benefit: 3, effort: 3, scope: 3, technical_fit: 3, urgency: 3 });
    const { previousMonth } = await import('../src/performance/reports');
    for (const day of [today, `${previousMonth()}-15`])
      await t.db.insertInto('perf_survey_responses').values({ day, service_id: 'demo-health-card', org_id: 'on-moh', office_id: ids.office, channel: 'counter', score: 2, comment: 'VICTIM-PERF-MARKER', lang: 'en' }).execute();
    // billing: an agreement with on-moh and its rates; an invoice of on-moh with a line and an open dispute; a business
    // with a subscription (rows as src/billing writes them; years far ahead so that nothing overlaps real terms)
    {
      const { addAgreement } = await import('../src/billing/test/fixtures');
      const { setTerms } = await import('../src/billing/billing');
      const { subscribe } = await import('../src/billing/subscriptions');
      ids.billingAgreement = await addAgreement(t.db, 'on-moh');
      await setTerms(t.db, { id: 'sweep-guichet-manager', orgId: 'guichet', roles: ['manager'] }, { agreementId: ids.billingAgreement, model: 'per_transaction', frequency: 'monthly', transactionCents: 1400, validFrom: '2090-01-01', validTo: '2090-12-31' });
      const inv = await t.db.insertInto('billing_invoices').values({ agreement_id: ids.billingAgreement, partner_org_id: 'on-moh', period_start: '2090-01-01', period_end: '2090-02-01', year: 2090, number: 1, issued_on: '2090-02-01', due_on: '2090-02-21', total_cents: 1400 }).returning('id').executeTakeFirstOrThrow();
      ids.invoice = String(inv.id);
      const line = await t.db.insertInto('billing_invoice_lines').values({ invoice_id: Number(inv.id), source_kind: 'question', channel: 'phone', info_only: false, unit_cents: 1400, quantity: 1, amount_cents: 1400 }).returning('id').executeTakeFirstOrThrow();
      ids.invoiceLine = String(line.id);
      const dispute = await t.db.insertInto('billing_disputes').values({ invoice_id: Number(inv.id), line_id: Number(line.id), partner_org_id: 'on-moh', reason: 'VICTIM-CASE-MARKER', raised_by: 'sweep-on-moh-partner' }).returning('id').executeTakeFirstOrThrow();
      ids.billingDispute = String(dispute.id);
      ids.business = 'sweep-victim-business';
      await t.db.insertInto('clients').values({ id: ids.business, kind: 'business', business_name: 'Victimclient Business Inc.' } as never).execute();
      await subscribe(t.db, { businessId: ids.business, on: '2090-01-01' });
    }
    // payments: the demo fee schedules; a counter basket paid in cash at Orléans (payees ottawa and the one-stop,
    // the victim's e-mail on it), and the remittance batch that pays ottawa its share
    {
      const { seedDemoAgreements } = await import('../src/agreements/demo');
      const { runRemittance } = await import('../src/payments/remittance');
      const { localDate } = await import('../src/i18n/index');
      await seedDemoAgreements(t.db);
      const basket = await json(t, admin, 'POST', '/api/v1/payments/baskets', { channel: 'counter', officeId: ids.office, items: [{ serviceId: 'demo-dog-licence' }], email: 'victim@victim.example' }, { 'idempotency-key': crypto.randomUUID() });
      assert.equal(basket.statusCode, 201, basket.body);
      ids.basket = basket.json().id;
      const paid = await json(t, admin, 'POST', `/api/v1/payments/baskets/${ids.basket}/payments`, { method: 'cash' }, { 'idempotency-key': crypto.randomUUID() });
      assert.equal(paid.statusCode, 201, paid.body);
      assert.equal(paid.json().status, 'succeeded');
      ids.payment = paid.json().id;
      ids.paymentCents = String(paid.json().amountCents);
      const run = await runRemittance(t.db, { on: localDate(), cutoff: localDate(), orgIds: ['ottawa'] });
      assert.equal(run.batches.length, 1, JSON.stringify(run));
      ids.batch = run.batches[0].id;
    }
  });
  after(async () => t?.close());

  /** The real value of a path parameter for a route. */
  const valueFor = (url: string, name: string): string => {
    if (/\/billing\/|\/facturation\//.test(url)) {
      // billing: the invoice, its line, the dispute, the agreement and the business of the victim rows
      const billing: Record<string, string> = { id: /\/disputes\//.test(url) ? ids.billingDispute : ids.invoice, lineId: ids.invoiceLine, agreementId: ids.billingAgreement, businessId: ids.business };
      if (billing[name]) return billing[name];
    }
    if (name === 'id') {
      if (/\/agreements\/|\/ententes\//.test(url)) return ids.agreement;
      if (/\/proposals\/|\/propositions\//.test(url)) return ids.proposal;
      // payments
      if (/\/payments\/batches\/|\/paiements\/lots\//.test(url)) return ids.batch;
      if (/\/payments\/baskets\/|\/pay\/|\/payer\//.test(url)) return ids.basket;
      if (/\/api\/v1\/payments\/|\/receipts\/|\/recus\//.test(url)) return ids.payment;
      if (/\/questions\//.test(url)) return ids.question;
      if (/subscriptions\//.test(url) || /abonnements\//.test(url)) return ids.subscription;
      if (/alert/.test(url)) return ids.alert;
      if (/catalogue|services\//.test(url)) return ids.service;
      return ids.case;
    }
    const map: Record<string, string> = { officeId: ids.office, counterId: ids.counter, shiftId: ids.shift, ticketId: ids.ticket, staffId: 'sweep-on-moh-agent', serviceId: ids.service, clientId: ids.client, referralId: ids.referral, rid: ids.referral, docId: '00000000-0000-4000-8000-000000000000', contactId: '1', n: '1', draftId: '00000000-0000-4000-8000-000000000000', action: 'open', orgId: 'on-moh' };
    return map[name] ?? 'x';
  };
  /** A body naming the victim organisation wherever a body names one. */
  const bodyFor = (url: string): Record<string, unknown> => {
    // agreements and proposals: bodies their schemas accept, so that the answer is about who may, not the format
    const today = new Date().toISOString().slice(0, 10);
    if (url === '/api/v1/agreements') return { partner_org_id: 'on-moh', terms: { title_en: 'sweep', title_fr: 'sweep' } };
    if (/\/api\/v1\/agreements\/:id\/draft$/.test(url)) return { title_en: 'sweep' };
    if (/\/api\/v1\/agreements\/:id\/approve$/.test(url)) return { decision_date: today, decision_reference: 'sweep' };
    if (/\/api\/v1\/proposals\/:id\/decision$/.test(url)) return { decision: 'reject', decision_date: today, decision_reference: 'sweep' };
    if (/\/api\/v1\/(agreements|proposals)\/:id\/(send-back|terminate|reevaluation)$/.test(url)) return { reason: 'sweep' };
    if (/\/api\/v1\/agreements\/:id\/amendments$/.test(url)) return { note: 'sweep' };
    if (/\/api\/v1\/agreements\/:id\/fees$/.test(url)) return { service_id: 'demo-health-card', channel: 'online', valid_from: `${Number(today.slice(0, 4)) + 2}-01-01`, statutory_cents: 100 };
    if (/\/api\/v1\/agreements\/:id\/(submit|recall|accept|discard-amendment)$/.test(url)) return {};
    if (/\/remittance-pauses\//.test(url)) return { paused: true };
    if (url === '/api/v1/proposals') return { title_en: 'sweep', title_fr: 'sweep', business_case_en: 'sweep', business_case_fr: 'sweep' };
    if (/\/api\/v1\/proposals\/:id\/score$/.test(url)) return Object.fromEntries(['law_requires', 'promotes_one_stop', 'client_demand', 'agency_benefit', 'government_benefit', 'effort', 'scope', 'technical_fit', 'urgency'].map((f) => [f, 3]));
    if (/\/billing\/|\/facturation\//.test(url)) {
      // billing: each route's own valid body, so that the answer is about who may, not the format
      if (/\/terms\//.test(url)) return { model: 'per_transaction', frequency: 'monthly', transactionCents: 1, validFrom: '2091-01-01' };
      if (/\/runs$/.test(url)) return { frequency: 'monthly', periodStart: '2090-01-01' };
      if (/\/resolve$/.test(url)) return { decision: 'upheld' };
      if (/\/subscriptions$/.test(url)) return { businessId: ids.business };
      if (/\/cancel$/.test(url)) return {};
      return { reason: 'sweep' };
    }
    // payments
    if (/\/api\/v1\/payments\/baskets$/.test(url)) return { channel: 'counter', officeId: ids.office, items: [{ serviceId: 'demo-dog-licence' }] };
    if (/\/api\/v1\/payments\/baskets\/:id\/payments$/.test(url)) return { method: 'cash' };
    if (/\/api\/v1\/payments\/:id\/refunds$/.test(url)) return { amount: 100, refund_amount_available: Number(ids.paymentCents) };
    if (/^\/(en\/pay|fr\/payer)\//.test(url)) return {};
    if (/partner-api-keys|api-keys|cles-api/.test(url)) return { orgId: 'on-moh', label: 'sweep' };
    if (/subscriptions|abonnements/.test(url)) return { orgId: 'on-moh', programEn: 'x', programFr: 'x', purposeEn: 'x', purposeFr: 'x', eventTypes: ['change-of-address'], fields: ['newAddress'], legalBasis: 'consent', delivery: 'webhook', webhookUrl: 'https://attacker.example/hook' };
    if (/\/agents\//.test(url)) return { skills: [], languages: ['en'], lentToOrgId: 'on-moh' };
    return { orgId: 'on-moh', toOrgId: 'on-moh', partner_org_id: 'on-moh', lentToOrgId: 'on-moh', summary: 'sweep', body: 'sweep', label: 'sweep', status: 'in_progress', team: 'x', channel: 'phone', outcome: 'information_given', clientConsent: true, action: 'agent', staffId: 'sweep-on-moh-agent', languages: ['en'] };
  };

  /** A query naming the victim organisation where a route takes the organisation from its query. */
  const queryFor = (url: string): Record<string, string> => (/\/staff\/performance\/report$/.test(url) ? { org: 'on-moh' } : {});

  it('staff of every other organisation, in every role, get 403 or 404 on every owned route', { timeout: 600_000 }, async () => {
    const routes = registeredRoutes(t.app).filter((r) => r.method !== 'HEAD' && typeof r.owner === 'object' && !r.url.startsWith('/fr/') && !r.url.endsWith('/events'));
    assert.ok(routes.length > 60, `owned routes: ${routes.length}`);
    const failures: string[] = [];
    let requests = 0;
    let covered = 0;
    for (const route of routes) {
      const owner = route.owner as Exclude<NonNullable<typeof route.owner>, string>;
      const params: Record<string, string> = {};
      const query = queryFor(route.url);
      const url = route.url.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => (params[name] = valueFor(route.url, name))) + (Object.keys(query).length ? `?${new URLSearchParams(query)}` : '');
      const body = route.method === 'GET' ? undefined : bodyFor(route.url);
      let owners: string[];
      if (owner.org === 'caller') owners = ['on-org', 'on-moh']; // the victims' data must not show up for anyone else
      else {
        const r = await owner.org({ params, body, query, method: route.method, headers: {} } as never);
        if (r === null || r === undefined) {
          failures.push(`${route.method} ${route.url}: no real row to sweep (owner unresolved)`);
          continue;
        }
        owners = typeof r === 'string' ? [r] : [...r];
      }
      covered++;
      for (const org of ORGS.filter((o) => !owners.includes(o))) {
        for (const roles of ROLESETS) {
          const oneStopPower = org === 'guichet' && owner.oneStop.may !== 'none' && roles.some((r) => (owner.oneStop.roles ?? (owner.roles === 'any' ? roles : owner.roles)).includes(r));
          if (oneStopPower && (owner.oneStop.may === 'act' || (owner.oneStop.may === 'read' && route.method === 'GET'))) continue; // declared power
          const cookie = cookies.get(`${org}|${roles.join(',')}`)!;
          requests++;
          // a document upload is multipart: send one (a small PNG) so that the answer is about who may, not the format
          const upload = /\/documents$/.test(route.url) ? multipartPng() : null;
          const res = await t.app.inject({
            method: route.method as 'GET',
            url,
            payload: upload ? upload.payload : (body as object),
            headers: { cookie, 'x-csrf-token': csrfFrom(cookie), accept: route.url.startsWith('/api/') ? 'application/json' : 'text/html', ...(upload ? upload.headers : {}) },
          });
          const where = `${org} [${roles.length > 1 ? 'all roles' : roles[0]}] ${route.method} ${url}`;
          if (MARKERS.test(res.body)) failures.push(`${where} → ${res.statusCode} shows the victim's data`);
          if (owner.org === 'caller') {
            if (res.statusCode >= 500) failures.push(`${where} → ${res.statusCode}`);
            continue;
          }
          const schema400 = res.statusCode === 400 && /VALIDATION_ERROR|BAD_REQUEST|INVALID_JSON|"error"|govuk-error-summary/.test(res.body);
          if (!(res.statusCode === 403 || res.statusCode === 404 || schema400)) failures.push(`${where} → ${res.statusCode} ${res.body.slice(0, 120)}`);
        }
      }
    }
    assert.ok(covered > 40, `only ${covered} owned routes swept`);
    assert.ok(requests > 1000, `swept ${requests} requests`);
    assert.deepEqual(failures, [], `${failures.length} of ${requests}:\n${failures.slice(0, 80).join('\n')}`);
  });

  // billing: after the sweep, the victim's billing rows are as they were (nothing settled, reset, billed or cancelled)
  it('billing: the victim rows are untouched by the sweep', async () => {
    const d = await t.db.selectFrom('billing_disputes').select(['status', 'reason']).where('id', '=', Number(ids.billingDispute)).executeTakeFirstOrThrow();
    assert.deepEqual(d, { status: 'open', reason: 'VICTIM-CASE-MARKER' });
    assert.equal(Number((await t.db.selectFrom('billing_disputes').select((e) => e.fn.countAll().as('n')).where('invoice_id', '=', Number(ids.invoice)).executeTakeFirstOrThrow()).n), 1);
    const terms = await t.db.selectFrom('billing_terms').select('transaction_cents').where('agreement_id', '=', ids.billingAgreement).executeTakeFirstOrThrow();
    assert.equal(Number(terms.transaction_cents), 1400);
    // the rates form of on-moh's agreement (the agreement's billing-rates page) set nothing
    assert.equal(await t.db.selectFrom('billing_terms').select('agreement_id').where('agreement_id', '=', ids.agreement).executeTakeFirst(), undefined);
    assert.equal((await t.db.selectFrom('billing_subscriptions').select('status').where('business_id', '=', ids.business).executeTakeFirstOrThrow()).status, 'active');
    assert.equal(Number((await t.db.selectFrom('billing_invoices').select((e) => e.fn.countAll().as('n')).where('agreement_id', '=', ids.billingAgreement).executeTakeFirstOrThrow()).n), 1);
  });

  // payments
  it('payments: the sweep paid, refunded and made nothing for another organisation', async () => {
    assert.equal((await t.db.selectFrom('refunds').select('id').where('payment_id', '=', ids.payment).execute()).length, 0, 'no refund');
    assert.equal((await t.db.selectFrom('payments').select('id').where('basket_id', '=', ids.basket).execute()).length, 1, 'no second payment');
    assert.equal((await t.db.selectFrom('payment_baskets').select('id').where('office_id', '=', ids.office).execute()).length, 1, 'no counter basket made at Orléans by another organisation');
  });
});
