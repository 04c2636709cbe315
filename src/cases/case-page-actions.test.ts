/** Staff case page forms for what was API-only: assign to a team / agent, attach a document (multipart, no JavaScript). */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestApp, staffCookie, type TestApp } from '../../test/support/app';
import { call, csrf, makeClient, makeStaff, serve } from './test/helpers';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), crypto.randomBytes(64)]);

/** A browser's multipart form post: the hidden _csrf field first, then the file. */
function upload(cookie: string | null, file: { name: string; type: string; content: Buffer } | null, token?: string | null) {
  const boundary = '----guichetpage' + crypto.randomBytes(6).toString('hex');
  const parts: Buffer[] = [];
  const tok = token === undefined ? (cookie ? csrf(cookie) : null) : token;
  if (tok !== null) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${tok}\r\n`));
  const f = file ?? { name: '', type: 'application/octet-stream', content: Buffer.alloc(0) };
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`), f.content, Buffer.from(`\r\n--${boundary}--\r\n`));
  const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${boundary}`, accept: 'text/html' };
  if (cookie) headers.cookie = cookie;
  return { headers, payload: Buffer.concat(parts) };
}

describe('case page: assign and attach', () => {
  let t: TestApp;
  let owner: { id: string; cookie: string };
  let caseId: string;
  let orgAgent: string;
  let orgColleague: string;
  let moh: string;
  let mto: string;
  let oneStop: string;
  before(async () => {
    t = await createTestApp({ catalogue: true });
    owner = await makeClient(t);
    orgAgent = await makeStaff(t, 'staff-org-pa', 'on-org', ['agent']);
    orgColleague = await makeStaff(t, 'staff-org-pb', 'on-org', ['agent']);
    await makeStaff(t, 'staff-org-editor-pa', 'on-org', ['editor']);
    moh = await makeStaff(t, 'staff-moh-pa', 'on-moh', ['agent']);
    mto = await makeStaff(t, 'staff-mto-pa', 'on-mto', ['agent']);
    oneStop = await staffCookie(t.app, 'staff-agent');
    const c = await call(t, owner.cookie, 'POST', '/api/v1/cases', { serviceId: 'demo-birth-certificate', summary: 'Page actions case' });
    caseId = c.body.id;
    await serve(t, owner.cookie, oneStop);
    const r = await call(t, orgAgent, 'POST', `/api/v1/cases/${caseId}/referrals`, { toOrgId: 'on-moh', summary: 'Question for MOH', clientConsent: true });
    assert.equal(r.status, 201);
  });
  after(async () => t.close());

  const get = (cookie: string | null, url: string) => t.app.inject({ url, headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) } });
  const post = (cookie: string, url: string, payload: Record<string, string>) =>
    t.app.inject({ method: 'POST', url, headers: { cookie, accept: 'text/html' }, payload: { _csrf: csrf(cookie), ...payload } });
  const assigned = () => t.db.selectFrom('cases').select(['assigned_team', 'assigned_staff_id', 'version']).where('id', '=', caseId).executeTakeFirstOrThrow();

  it('the responsible organisation assigns the case to a team and an agent from the case page', async () => {
    const page = await get(orgAgent, `/en/staff/cases/${caseId}`);
    assert.match(page.body, /id="assign-form"/);
    assert.match(page.body, /<option value="staff-org-pb"/);
    assert.doesNotMatch(page.body, /<option value="staff-org-editor-pa"/, 'only staff who work on cases');
    const before = await assigned();
    const foreign = await post(orgAgent, `/en/staff/cases/${caseId}/assign`, { team: 'Vital statistics', staffId: 'staff-moh-pa' });
    assert.equal(foreign.statusCode, 400);
    assert.match(foreign.body, /href="#staffId"/);
    const long = await post(orgAgent, `/fr/personnel/dossiers/${caseId}/attribution`, { team: 'x'.repeat(101), staffId: '' });
    assert.equal(long.statusCode, 400);
    assert.match(long.body, /href="#team"/);
    assert.match(long.body, /<html lang="fr"/);
    assert.deepEqual(await assigned(), before, 'nothing written on refusal');

    const ok = await post(orgAgent, `/en/staff/cases/${caseId}/assign`, { team: 'Vital statistics', staffId: 'staff-org-pb' });
    assert.equal(ok.statusCode, 303);
    assert.equal(ok.headers.location, `/en/staff/cases/${caseId}#case-summary`);
    const row = await assigned();
    assert.equal(row.assigned_team, 'Vital statistics');
    assert.equal(row.assigned_staff_id, 'staff-org-pb');
    const shown = await get(orgAgent, `/en/staff/cases/${caseId}`);
    assert.match(shown.body, /id="case-assigned">Vital statistics — Staff staff-org-pb/);
    const mine = await get(orgColleague, '/en/staff/cases?queue=mine');
    assert.match(mine.body, new RegExp(caseId));
    // Unassign: nobody, no team.
    assert.equal((await post(orgAgent, `/en/staff/cases/${caseId}/assign`, { team: '', staffId: '' })).statusCode, 303);
    assert.deepEqual([(await assigned()).assigned_team, (await assigned()).assigned_staff_id], [null, null]);
  });

  it('assigning: others are refused on the server (no form shown; 403 for those who see the case, 404 otherwise)', async () => {
    for (const who of [oneStop, moh]) {
      const page = await get(who, `/en/staff/cases/${caseId}`);
      assert.equal(page.statusCode, 200);
      assert.doesNotMatch(page.body, /id="assign-form"/);
      const r = await post(who, `/en/staff/cases/${caseId}/assign`, { team: 'Mine now', staffId: '' });
      assert.equal(r.statusCode, 403);
    }
    for (const id of [caseId, crypto.randomUUID(), 'G-2026-000001']) {
      const r = await call(t, mto, 'POST', `/en/staff/cases/${encodeURIComponent(id)}/assign`, { team: 'x' });
      assert.equal(r.status, 404);
      assert.equal(r.body.error.code, 'CASE_NOT_FOUND');
    }
    assert.equal((await call(t, owner.cookie, 'POST', `/en/staff/cases/${caseId}/assign`, { team: 'x' })).status, 401);
    assert.equal((await assigned()).assigned_team, null);
  });

  it('staff attach a document from the case page (multipart form, no JavaScript), with the API’s checks', async () => {
    const docs = async () => (await t.db.selectFrom('case_documents').select(['id', 'uploaded_by_kind', 'uploaded_by_id', 'filename']).where('case_id', '=', caseId).execute());
    const page = await get(orgAgent, `/en/staff/cases/${caseId}`);
    assert.match(page.body, /<form method="post" action="\/en\/staff\/cases\/[0-9a-f-]+\/documents" enctype="multipart\/form-data"/);

    const ok = await t.app.inject({ method: 'POST', url: `/en/staff/cases/${caseId}/documents`, ...upload(orgAgent, { name: 'proof.png', type: 'image/png', content: PNG }) });
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 300));
    assert.equal(ok.headers.location, `/en/staff/cases/${caseId}#documents`);
    const stored = await docs();
    assert.equal(stored.length, 1);
    assert.deepEqual([stored[0].uploaded_by_kind, stored[0].uploaded_by_id, stored[0].filename], ['staff', 'staff-org-pa', 'proof.png']);
    const inter = await t.db.selectFrom('case_interactions').selectAll().where('case_id', '=', caseId).where('outcome', '=', 'documents_received').execute();
    assert.equal(inter.length, 1);
    assert.equal(inter[0].actor_id, 'staff-org-pa');
    assert.match((await get(orgAgent, `/en/staff/cases/${caseId}`)).body, /id="documents"[\s\S]*proof\.png/);
    assert.match((await get(owner.cookie, `/en/my-file/requests/${caseId}`)).body, /proof\.png/, 'the client sees it too');

    // Refusals: shown on the file field, nothing stored.
    const fake = await t.app.inject({ method: 'POST', url: `/fr/personnel/dossiers/${caseId}/documents`, ...upload(orgAgent, { name: 'x.pdf', type: 'application/pdf', content: Buffer.from('MZ not a pdf') }) });
    assert.equal(fake.statusCode, 415);
    assert.match(fake.body, /href="#file"/);
    assert.match(fake.body, /Seuls les fichiers PDF, PNG et JPEG sont acceptés/);
    const empty = await t.app.inject({ method: 'POST', url: `/en/staff/cases/${caseId}/documents`, ...upload(orgAgent, null) });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /href="#file"/);
    const big = await t.app.inject({ method: 'POST', url: `/en/staff/cases/${caseId}/documents`, ...upload(orgAgent, { name: 'big.pdf', type: 'application/pdf', content: Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(5 * 1024 * 1024)]) }) });
    assert.equal(big.statusCode, 413);
    assert.match(big.body, /href="#file"/);
    const noToken = await t.app.inject({ method: 'POST', url: `/en/staff/cases/${caseId}/documents`, ...upload(orgAgent, { name: 'p.png', type: 'image/png', content: PNG }, null) });
    assert.equal(noToken.statusCode, 403, 'CSRF: the token is required');
    const badToken = await t.app.inject({ method: 'POST', url: `/en/staff/cases/${caseId}/documents`, ...upload(orgAgent, { name: 'p.png', type: 'image/png', content: PNG }, 'x'.repeat(32)) });
    assert.equal(badToken.statusCode, 403);
    assert.equal((await docs()).length, 1, 'nothing stored on refusal');
  });

  it('attaching: the same authorisation as the case (other organisations and guessed ids: the same 404)', async () => {
    const before = (await t.db.selectFrom('case_documents').select('id').where('case_id', '=', caseId).execute()).length;
    for (const id of [caseId, crypto.randomUUID(), 'G-2026-000001']) {
      const r = await t.app.inject({ method: 'POST', url: `/en/staff/cases/${encodeURIComponent(id)}/documents`, ...upload(mto, { name: 'p.png', type: 'image/png', content: PNG }) });
      assert.equal(r.statusCode, 404, id);
    }
    const editor = await makeStaff(t, 'staff-org-ed-pa2', 'on-org', ['editor']);
    assert.equal((await t.app.inject({ method: 'POST', url: `/en/staff/cases/${caseId}/documents`, ...upload(editor, { name: 'p.png', type: 'image/png', content: PNG }) })).statusCode, 403);
    assert.equal((await t.app.inject({ method: 'POST', url: `/en/staff/cases/${caseId}/documents`, ...upload(owner.cookie, { name: 'p.png', type: 'image/png', content: PNG }) })).statusCode, 401);
    assert.equal((await t.db.selectFrom('case_documents').select('id').where('case_id', '=', caseId).execute()).length, before);
    // The one-stop agent serving the client may attach (it may act on the case while serving).
    const served = await t.app.inject({ method: 'POST', url: `/en/staff/cases/${caseId}/documents`, ...upload(oneStop, { name: 'id.png', type: 'image/png', content: PNG }) });
    assert.equal(served.statusCode, 303);
    // A finished case takes no more documents.
    await t.db.updateTable('cases').set({ status: 'withdrawn' }).where('id', '=', caseId).execute();
    const closed = await t.app.inject({ method: 'POST', url: `/en/staff/cases/${caseId}/documents`, ...upload(orgAgent, { name: 'late.png', type: 'image/png', content: PNG }) });
    assert.equal(closed.statusCode, 409);
    assert.doesNotMatch(closed.body, /id="document-form"/);
  });
});
