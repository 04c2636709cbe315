/**
 * Authorisation matrix: every case route × every kind of caller, on a real case and on guessed ids.
 * A caller who may not see a case gets exactly the same answer for it as for an id that does not exist.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestApp, staffCookie, type TestApp } from '../../test/support/app';
import { call, csrf, makeClient, makeStaff, serve } from './test/helpers';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), crypto.randomBytes(64)]);

function multipart(cookie: string | null, name: string, type: string, content: Buffer) {
  const boundary = '----guichet' + crypto.randomBytes(6).toString('hex');
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n`),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${boundary}` };
  if (cookie) {
    headers.cookie = cookie;
    headers['x-csrf-token'] = csrf(cookie);
  }
  return { headers, payload: body };
}

describe('cases authorisation matrix', () => {
  let t: TestApp;
  const who: Record<string, string | null> = {};
  let caseId: string;
  let referralId: string;
  let docId: string;
  let ownerId: string;
  let questionId: string;
  before(async () => {
    t = await createTestApp({ catalogue: true });
    const owner = await makeClient(t);
    ownerId = owner.id;
    const other = await makeClient(t);
    who.anonymous = null;
    who.owner = owner.cookie;
    who.otherClient = other.cookie;
    who.ownerOrg = await makeStaff(t, 'staff-org-a', 'on-org', ['agent']);
    who.referredOrg = await makeStaff(t, 'staff-moh-a', 'on-moh', ['agent']);
    who.otherOrg = await makeStaff(t, 'staff-mto-a', 'on-mto', ['agent']);
    who.editorOwnerOrg = await makeStaff(t, 'staff-org-ed', 'on-org', ['editor']);
    who.oneStopServing = await staffCookie(t.app, 'staff-agent');
    who.oneStopNotServing = await makeStaff(t, 'staff-agent-2', 'guichet', ['agent']);
    // A case, referred (pending) to MOH, with a document; the one-stop agent serves the owner.
    const c = await call(t, owner.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-birth-certificate', summary: 'Matrix case' });
    caseId = c.body.id;
    await serve(t, owner.cookie, who.oneStopServing!);
    // The other client gave the second one-stop agent access to THEIR file: it must not open the owner's case.
    await serve(t, other.cookie, who.oneStopNotServing!);
    const r = await call(t, who.ownerOrg, 'POST', `/api/v1/cases/${caseId}/referrals`, { toOrgId: 'on-moh', summary: 'Health card question', clientConsent: true });
    referralId = r.body.id;
    // A question the serving one-stop agent handed to MOH (warm referral without a case).
    const q = await call(t, who.oneStopServing, 'POST', `/en/staff/console/clients/${ownerId}/questions`, { toOrgId: 'on-moh', question: 'Matrix question', summary: 'ctx', clientConsent: 'yes', channel: 'phone' });
    assert.equal(q.status, 303);
    questionId = String(q.res.headers.location).split('/').pop()!;
    const up = await t.app.inject({ method: 'POST', url: `/api/v1/cases/${caseId}/documents`, ...multipart(owner.cookie, 'proof.png', 'image/png', PNG) });
    assert.equal(up.statusCode, 201, up.body);
    docId = up.json().id;
  });
  after(async () => t.close());

  type Expect = Record<string, number>;
  const read: Expect = { anonymous: 401, owner: 200, otherClient: 404, ownerOrg: 200, referredOrg: 200, otherOrg: 404, editorOwnerOrg: 403, oneStopServing: 200, oneStopNotServing: 404 };
  const deny = { anonymous: 401, otherClient: 404, otherOrg: 404, editorOwnerOrg: 403, oneStopNotServing: 404 };

  const routes: Array<{ name: string; method: 'GET' | 'POST'; url: (id: string) => string; body?: unknown; expect: Expect }> = [
    { name: 'GET case', method: 'GET', url: (id) => `/api/v1/cases/${id}`, expect: read },
    { name: 'GET document', method: 'GET', url: (id) => `/api/v1/cases/${id}/documents/${docId}`, expect: read },
    { name: 'POST message', method: 'POST', url: (id) => `/api/v1/cases/${id}/messages`, body: { body: 'hi' }, expect: { ...deny, owner: 201, ownerOrg: 201, referredOrg: 201, oneStopServing: 201 } },
    { name: 'POST interaction', method: 'POST', url: (id) => `/api/v1/cases/${id}/interactions`, body: { channel: 'phone', outcome: 'information_given' }, expect: { ...deny, otherClient: 403, owner: 403, ownerOrg: 201, referredOrg: 201, oneStopServing: 201 } },
    { name: 'POST assign', method: 'POST', url: (id) => `/api/v1/cases/${id}/assign`, body: { team: 'Vital statistics' }, expect: { ...deny, otherClient: 403, owner: 403, ownerOrg: 200, referredOrg: 403, oneStopServing: 403 } },
    { name: 'POST status', method: 'POST', url: (id) => `/api/v1/cases/${id}/status`, body: { status: 'in_progress' }, expect: { ...deny, owner: 403, ownerOrg: 200, referredOrg: 403, oneStopServing: 409 } },
    { name: 'POST referral', method: 'POST', url: (id) => `/api/v1/cases/${id}/referrals`, body: { toOrgId: 'ottawa', summary: 's', clientConsent: true }, expect: { ...deny, otherClient: 403, owner: 403, ownerOrg: 409, referredOrg: 403, oneStopServing: 409 } },
    // Staff page forms (staff only: clients are not signed in as staff → 401; no session cookie → CSRF 403).
    { name: 'POST assign (page)', method: 'POST', url: (id) => `/en/staff/cases/${id}/assign`, body: { team: 'Vital statistics' }, expect: { ...deny, anonymous: 403, otherClient: 401, owner: 401, ownerOrg: 303, referredOrg: 403, oneStopServing: 403 } },
    { name: 'POST interaction (page)', method: 'POST', url: (id) => `/fr/personnel/dossiers/${id}/interactions`, body: { channel: 'phone', outcome: 'other' }, expect: { ...deny, anonymous: 403, otherClient: 401, owner: 401, ownerOrg: 303, referredOrg: 303, oneStopServing: 303 } },
  ];

  for (const route of routes) {
    it(`${route.name}: every caller gets the expected answer; guessed ids are indistinguishable`, async () => {
      for (const [role, expected] of Object.entries(route.expect)) {
        const r = await call(t, who[role], route.method, route.url(caseId), route.body);
        assert.equal(r.status, expected, `${route.name} as ${role}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        if (!(role in deny)) {
          // Callers who may see this case: a guessed id is simply not found (or refused by role), never served.
          const g = await call(t, who[role], route.method, route.url(crypto.randomUUID()), route.body);
          assert.ok(g.status === 404 || (g.status === expected && (expected === 403 || expected === 401)), `${role} guessing: ${g.status}`);
        } else {
          if (expected === 404) assert.equal(r.body.error.code, 'CASE_NOT_FOUND', `${role} learns nothing`);
          for (const guess of [crypto.randomUUID(), 'G-2026-000001', '../../etc/passwd', "1' or '1'='1"]) {
            const g = await call(t, who[role], route.method, route.url(encodeURIComponent(guess)), route.body);
            assert.equal(g.status, expected, `${role} guessing ${guess}`);
            assert.deepEqual(g.body.error, r.body.error, `${role}: same answer for a guessed id as for a real one`);
          }
        }
      }
    });
  }

  /** A matrix for routes keyed by another id (questions, served clients, drafts): real id vs guessed ids. */
  async function matrix(name: string, method: 'GET' | 'POST', url: (id: string) => string, realId: string, expect: Expect, body?: unknown) {
    for (const [role, expected] of Object.entries(expect)) {
      const r = await call(t, who[role], method, url(realId), body);
      assert.equal(r.status, expected, `${name} as ${role}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      // Those who may not see it (or are refused by role / sign-in) get the same answer for guessed ids; those who see it
      // (200, 400, or 403 for an action that is not theirs) get 404 for a guessed id.
      const sees = ![401, 303, 404].includes(expected) && !(role === 'editorOwnerOrg' || (role === 'anonymous' && expected === 403));
      for (const guess of [crypto.randomUUID(), 'G-2026-000001', "1' or '1'='1"]) {
        const g = await call(t, who[role], method, url(encodeURIComponent(guess)), body);
        assert.equal(g.status, sees ? 404 : expected, `${name} as ${role} guessing ${guess}`);
        if (!sees && expected !== 303) assert.deepEqual(g.body.error, r.body.error, `${name} as ${role}: same answer for a guessed id`);
      }
    }
  }
  const staffPage = { anonymous: 303, owner: 303, otherClient: 303, editorOwnerOrg: 403 };
  const staffPost = { anonymous: 403, owner: 401, otherClient: 401, editorOwnerOrg: 403 };

  it('question referral pages: the client, the receiving organisation and the referring agent only', async () => {
    await matrix('GET staff question', 'GET', (id) => `/en/staff/questions/${id}`, questionId, { ...staffPage, ownerOrg: 404, referredOrg: 200, otherOrg: 404, oneStopServing: 200, oneStopNotServing: 404 });
    await matrix('GET question (API)', 'GET', (id) => `/api/v1/cases/questions/${id}`, questionId, { anonymous: 401, owner: 200, otherClient: 404, ownerOrg: 404, referredOrg: 200, otherOrg: 404, editorOwnerOrg: 403, oneStopServing: 200, oneStopNotServing: 404 });
    await matrix('GET my question', 'GET', (id) => `/fr/mon-dossier/questions/${id}`, questionId, { anonymous: 401, owner: 200, otherClient: 404, ownerOrg: 401, referredOrg: 401, otherOrg: 401, oneStopServing: 401 });
    // noRepeat missing: the receiving organisation reaches validation (400); the referring agent may not answer (403).
    await matrix('POST answer question', 'POST', (id) => `/en/staff/questions/${id}/answer`, questionId, { ...staffPost, ownerOrg: 404, referredOrg: 400, otherOrg: 404, oneStopServing: 403, oneStopNotServing: 404 }, { answer: 'x' });
    await matrix('POST convert question', 'POST', (id) => `/en/staff/questions/${id}/case`, questionId, { ...staffPost, ownerOrg: 404, referredOrg: 400, otherOrg: 404, oneStopServing: 403, oneStopNotServing: 404 }, { serviceId: '' });
    await matrix('POST refer question', 'POST', (id) => `/en/staff/console/clients/${id}/questions`, ownerId, { ...staffPost, ownerOrg: 404, referredOrg: 404, otherOrg: 404, oneStopServing: 400, oneStopNotServing: 404 }, { toOrgId: 'on-mto' });
    const row = await t.db.selectFrom('case_questions').select(['status']).where('id', '=', questionId).executeTakeFirstOrThrow();
    assert.equal(row.status, 'pending', 'nothing changed by the refused calls');
  });

  it('assisted online form pages: only the agent serving the client', async () => {
    const partner = await makeStaff(t, 'staff-org-partner-az', 'on-org', ['partner']);
    const definition = {
      title: { en: 'Order', fr: 'Commander' },
      pages: [{ id: 'p', title: { en: 'Copies', fr: 'Copies' }, fields: [{ name: 'copies', type: 'number', label: { en: 'Copies', fr: 'Copies' }, required: true, min: 1, max: 5 }] }],
    };
    assert.equal((await call(t, partner, 'PUT', '/api/v1/cases/forms/demo-birth-certificate', { definition })).status, 201);
    await matrix('GET assisted forms', 'GET', (id) => `/en/staff/console/clients/${id}/forms`, ownerId, { ...staffPage, ownerOrg: 404, referredOrg: 404, otherOrg: 404, oneStopServing: 200, oneStopNotServing: 404 });
    await matrix('GET assisted start', 'GET', (id) => `/fr/personnel/console/clients/${id}/formulaires/demo-birth-certificate`, ownerId, { ...staffPage, ownerOrg: 404, referredOrg: 404, otherOrg: 404, oneStopServing: 200, oneStopNotServing: 404 });
    // A draft of the owner's (started online by the owner): only the serving agent opens it, and may resume it.
    const begun = await t.app.inject({ method: 'POST', url: '/en/my-file/forms/demo-birth-certificate', headers: { cookie: who.owner!, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf(who.owner!)}` });
    assert.equal(begun.statusCode, 303);
    const draftId = String(begun.headers.location).split('/')[5];
    await matrix('GET assisted draft page', 'GET', (id) => `/en/staff/console/drafts/${id}/pages/1`, draftId, { ...staffPage, ownerOrg: 404, referredOrg: 404, otherOrg: 404, oneStopServing: 200, oneStopNotServing: 404 });
    // No channel picked: the serving agent reaches validation (400); nobody else learns the draft exists.
    await matrix('POST assisted review', 'POST', (id) => `/en/staff/console/drafts/${id}/review`, draftId, { ...staffPost, ownerOrg: 404, referredOrg: 404, otherOrg: 404, oneStopServing: 400, oneStopNotServing: 404 }, {});
    await matrix('POST assisted page', 'POST', (id) => `/en/staff/console/drafts/${id}/pages/1`, draftId, { ...staffPost, ownerOrg: 404, referredOrg: 404, otherOrg: 404, oneStopServing: 400, oneStopNotServing: 404 }, { copies: '' });
    await matrix('POST assisted start', 'POST', (id) => `/en/staff/console/clients/${id}/forms/demo-birth-certificate`, ownerId, { ...staffPost, ownerOrg: 404, referredOrg: 404, otherOrg: 404, oneStopNotServing: 404 }, {});
    const resumed = await call(t, who.oneStopServing, 'POST', `/en/staff/console/clients/${ownerId}/forms/demo-birth-certificate`, {});
    assert.equal(resumed.status, 303);
    assert.equal(resumed.res.headers.location, `/en/staff/console/drafts/${draftId}/pages/1`, 'the agent resumes the client’s own draft');
    assert.equal((await t.db.selectFrom('cases').select('id').where('client_id', '=', ownerId).execute()).length, 1, 'no case created by any of these calls');
  });

  it('attaching from the case page (multipart): same answers as the API, guessed ids look the same', async () => {
    const expect: Expect = { anonymous: 401, owner: 401, otherClient: 401, editorOwnerOrg: 403, otherOrg: 404, oneStopNotServing: 404 };
    const before = (await t.db.selectFrom('case_documents').select('id').where('case_id', '=', caseId).execute()).length;
    for (const [role, expected] of Object.entries(expect)) {
      for (const id of [caseId, crypto.randomUUID(), 'G-2026-000001']) {
        const m = multipart(who[role], 'p.png', 'image/png', PNG);
        const r = await t.app.inject({ method: 'POST', url: `/en/staff/cases/${encodeURIComponent(id)}/documents`, headers: m.headers, payload: m.payload });
        assert.equal(r.statusCode, expected, `${role} ${id}`);
        if (expected === 404) assert.equal(r.json().error.code, 'CASE_NOT_FOUND');
      }
    }
    assert.equal((await t.db.selectFrom('case_documents').select('id').where('case_id', '=', caseId).execute()).length, before);
  });

  it('answering a referral: only the receiving organisation', async () => {
    const url = `/api/v1/cases/${caseId}/referrals/${referralId}/answer`;
    for (const role of ['ownerOrg', 'oneStopServing']) {
      const r = await call(t, who[role], 'POST', url, { accept: true, noRepeat: true });
      assert.equal(r.status, 404, role);
      assert.equal(r.body.error.code, 'REFERRAL_NOT_FOUND');
    }
    for (const role of ['otherOrg', 'oneStopNotServing']) {
      const r = await call(t, who[role], 'POST', url, { accept: true, noRepeat: true });
      assert.equal(r.status, 404, role);
      assert.equal(r.body.error.code, 'CASE_NOT_FOUND');
    }
    assert.equal((await call(t, who.otherClient, 'POST', url, { accept: true, noRepeat: true })).status, 403, 'clients never answer referrals');
    const guess = await call(t, who.referredOrg, 'POST', `/api/v1/cases/${caseId}/referrals/${crypto.randomUUID()}/answer`, { accept: true, noRepeat: true });
    assert.equal(guess.status, 404);
    const ok = await call(t, who.referredOrg, 'POST', url, { accept: false, note: 'Not ours' });
    assert.equal(ok.status, 200);
    const again = await call(t, who.referredOrg, 'GET', `/api/v1/cases/${caseId}`);
    assert.equal(again.status, 404, 'a declined referral no longer opens the case');
  });

  it('lists: each caller sees only what they may', async () => {
    const expectIn: Record<string, boolean> = { owner: true, otherClient: false, ownerOrg: true, otherOrg: false, oneStopServing: true, oneStopNotServing: false };
    for (const [role, visible] of Object.entries(expectIn)) {
      const r = await call(t, who[role], 'GET', '/api/v1/cases');
      assert.equal(r.status, 200, role);
      assert.equal(r.body.items.some((x: any) => x.id === caseId), visible, role);
    }
    assert.equal((await call(t, null, 'GET', '/api/v1/cases')).status, 401);
    assert.equal((await call(t, who.editorOwnerOrg, 'GET', '/api/v1/cases')).status, 403);
    const served = await call(t, who.oneStopNotServing, 'GET', `/api/v1/cases/agent/clients/${ownerId}`);
    assert.equal(served.status, 404);
    const serving = await call(t, who.oneStopServing, 'GET', `/api/v1/cases/agent/clients/${ownerId}`);
    assert.equal(serving.status, 200);
    assert.ok(serving.body.cases.some((x: any) => x.id === caseId));
  });

  it('the one-stop loses access when the consent ends', async () => {
    await t.db.updateTable('consents').set({ withdrawn_at: new Date() }).where('client_id', '=', ownerId).where('org_id', '=', 'guichet').execute();
    const r = await call(t, who.oneStopServing, 'GET', `/api/v1/cases/${caseId}`);
    assert.equal(r.status, 404);
    const list = await call(t, who.oneStopServing, 'GET', '/api/v1/cases');
    assert.ok(!list.body.items.some((x: any) => x.id === caseId));
  });

  it('one-time codes (src/clients/access.ts): single use, staff only, bound to the agent who redeemed it', async () => {
    const c = await makeClient(t);
    const code = await call(t, c.cookie, 'POST', '/api/v1/cases/access-codes', {});
    assert.match(code.body.code, /^\d{8}$/);
    const a = await makeStaff(t, 'staff-agent-3', 'guichet', ['agent']);
    assert.equal((await call(t, a, 'POST', '/api/v1/cases/agent/redeem', { code: code.body.code })).status, 200);
    const reuse = await call(t, a, 'POST', '/api/v1/cases/agent/redeem', { code: code.body.code });
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error.code, 'AGENT_CODE_INVALID');
    const staffOnly = await call(t, c.cookie, 'POST', '/api/v1/cases/agent/redeem', { code: code.body.code });
    assert.equal(staffOnly.status, 401);
    // The consent is the one-stop's, but only the agent who took the code serves the client.
    const mine = await call(t, c.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-dog-licence', summary: 'x' });
    const b = await makeStaff(t, 'staff-agent-4', 'guichet', ['agent']);
    assert.equal((await call(t, a, 'GET', `/api/v1/cases/${mine.body.id}`)).status, 200);
    assert.equal((await call(t, b, 'GET', `/api/v1/cases/${mine.body.id}`)).status, 404);
    let last = 0;
    for (let i = 0; i < 11; i++) last = (await call(t, b, 'POST', '/api/v1/cases/agent/redeem', { code: String(10000000 + i) })).status;
    assert.equal(last, 429);
  });

  it('documents: type checked by content, size limited, nothing stored on refusal, served only to those who may see the case', async () => {
    const fake = await t.app.inject({ method: 'POST', url: `/api/v1/cases/${caseId}/documents`, ...multipart(who.owner, 'x.pdf', 'application/pdf', Buffer.from('MZ not a pdf')) });
    assert.equal(fake.statusCode, 415);
    assert.equal(fake.json().error.code, 'DOCUMENT_TYPE_NOT_ALLOWED');
    const big = await t.app.inject({ method: 'POST', url: `/api/v1/cases/${caseId}/documents`, ...multipart(who.owner, 'big.pdf', 'application/pdf', Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(5 * 1024 * 1024)])) });
    assert.equal(big.statusCode, 413);
    const stranger = await t.app.inject({ method: 'POST', url: `/api/v1/cases/${caseId}/documents`, ...multipart(who.otherClient, 'p.png', 'image/png', PNG) });
    assert.equal(stranger.statusCode, 404);
    const docs = await t.db.selectFrom('case_documents').select('id').where('case_id', '=', caseId).execute();
    assert.equal(docs.length, 1);
    const dl = await t.app.inject({ url: `/api/v1/cases/${caseId}/documents/${docId}`, headers: { cookie: who.owner! } });
    assert.equal(dl.statusCode, 200);
    assert.equal(dl.headers['content-type'], 'image/png');
    assert.match(String(dl.headers['content-disposition']), /^attachment/);
    assert.ok(dl.rawPayload.equals(PNG));
    const wrongCase = await makeClient(t);
    const other = await call(t, wrongCase.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-dog-licence', summary: 'x' });
    const cross = await t.app.inject({ url: `/api/v1/cases/${other.body.id}/documents/${docId}`, headers: { cookie: wrongCase.cookie } });
    assert.equal(cross.statusCode, 404, 'a document id under another case is not served');
  });

  it('pages follow the same rules', async () => {
    const html = (cookie: string | null, url: string) => t.app.inject({ url, headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) } });
    assert.equal((await html(who.owner, `/en/my-file/requests/${caseId}`)).statusCode, 200);
    assert.equal((await html(who.otherClient, `/fr/mon-dossier/demandes/${caseId}`)).statusCode, 404);
    // signed out: to sign-in, and back to this page afterwards (issue 16)
    const signedOut = await html(null, `/en/my-file/requests/${caseId}`);
    assert.equal(signedOut.statusCode, 303);
    assert.equal(signedOut.headers.location, `/en/sign-in?returnTo=${encodeURIComponent(`/en/my-file/requests/${caseId}`)}`);
    assert.equal((await html(who.ownerOrg, `/en/staff/cases/${caseId}`)).statusCode, 200);
    assert.equal((await html(who.otherOrg, `/en/staff/cases/${caseId}`)).statusCode, 404);
    assert.equal((await html(who.otherOrg, `/en/staff/cases/${crypto.randomUUID()}`)).statusCode, 404);
    assert.equal((await html(who.editorOwnerOrg, `/en/staff/cases/${caseId}`)).statusCode, 403);
    assert.equal((await html(null, '/en/staff/cases')).statusCode, 303);
    const post = await t.app.inject({
      method: 'POST',
      url: `/en/staff/cases/${caseId}/interactions`,
      headers: { cookie: who.otherOrg!, accept: 'text/html' },
      payload: { _csrf: csrf(who.otherOrg!), channel: 'phone', outcome: 'other' },
    });
    assert.equal(post.statusCode, 404);
  });
});
