/** Warm referral of a question (no case): refer with consent, the receiving organisation answers, declines or opens a case. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../test/support/app';
import { call, csrf, makeClient, makeStaff, serve } from './test/helpers';

describe('warm referral of a question', () => {
  let t: TestApp;
  let agent: string;
  let moh: string;
  let mto: string;
  before(async () => {
    t = await createTestApp({ catalogue: true });
    agent = await makeStaff(t, 'staff-agent-q', 'guichet', ['agent']);
    moh = await makeStaff(t, 'staff-moh-q', 'on-moh', ['agent']);
    mto = await makeStaff(t, 'staff-mto-q', 'on-mto', ['agent']);
  });
  after(async () => t.close());

  const get = (cookie: string | null, url: string) => t.app.inject({ url, headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) } });
  const post = (cookie: string, url: string, payload: Record<string, string>) =>
    t.app.inject({ method: 'POST', url, headers: { cookie, accept: 'text/html' }, payload: { _csrf: csrf(cookie), ...payload } });
  const questionCount = async (clientId: string) => (await t.db.selectFrom('case_questions').select('id').where('client_id', '=', clientId).execute()).length;

  async function refer(clientId: string, toOrgId: string, question: string, channel = 'phone') {
    const r = await post(agent, `/en/staff/console/clients/${clientId}/questions`, { toOrgId, question, summary: `Context for ${question}`, clientConsent: 'yes', channel });
    assert.equal(r.statusCode, 303, r.body.slice(0, 300));
    return (r.headers.location as string).split('/').pop()!;
  }

  it('the agent refers a question with consent; the receiving organisation answers it; the client and the agent see the answer', async () => {
    const c = await makeClient(t, { lang: 'fr', given: 'Chloé' });
    await serve(t, c.cookie, agent);
    const consolePage = await get(agent, `/en/staff/console?client=${c.id}`);
    assert.match(consolePage.body, new RegExp(`id="refer-question-link" href="/en/staff/console/clients/${c.id}/questions"`));
    const url = `/en/staff/console/clients/${c.id}/questions`;
    const form = await get(agent, url);
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /Serving Chloé Tremblay/);
    const frForm = await get(agent, `/fr/personnel/console/clients/${c.id}/questions`);
    assert.match(frForm.body, /Aiguiller une question vers une autre organisation/);

    const missing = await post(agent, url, { toOrgId: 'on-moh', question: '', summary: 'Baby born in March', channel: 'phone' });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /href="#question"/);
    assert.match(missing.body, /href="#clientConsent"/);
    const same = await post(agent, url, { toOrgId: 'guichet', question: 'Q', summary: 'S', clientConsent: 'yes', channel: 'phone' });
    assert.equal(same.statusCode, 400);
    assert.match(same.body, /href="#toOrgId"/);
    const unknown = await post(agent, url, { toOrgId: 'no-such-org', question: 'Q', summary: 'S', clientConsent: 'yes', channel: 'phone' });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.body, /href="#toOrgId"/);
    assert.equal(await questionCount(c.id), 0, 'nothing written on refusal');
    assert.equal((await t.db.selectFrom('consents').select('id').where('client_id', '=', c.id).where('purpose', '=', 'case-referral').execute()).length, 0, 'no consent left behind');

    const id = await refer(c.id, 'on-moh', 'Does my baby need a health card right away?');
    const consent = await t.db.selectFrom('consents').selectAll().where('client_id', '=', c.id).where('purpose', '=', 'case-referral').executeTakeFirstOrThrow();
    assert.equal(consent.org_id, 'on-moh');
    assert.deepEqual([...consent.fields].sort(), ['profile.contact', 'question']);
    const row = await t.db.selectFrom('case_questions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.consent_id, consent.id);
    assert.equal(row.from_org_id, 'guichet');
    assert.equal(row.referred_by, 'staff-agent-q');

    // The client sees who has it now, not the internal summary.
    const list = await get(c.cookie, '/fr/mon-dossier/demandes');
    assert.match(list.body, /id="my-questions"[\s\S]*En attente de réponse[\s\S]*Ministère de la Santé/);
    const mine = await get(c.cookie, `/fr/mon-dossier/questions/${id}`);
    assert.equal(mine.statusCode, 200);
    assert.match(mine.body, /id="question-org">\s*Ministère de la Santé/);
    assert.doesNotMatch(mine.body, /Context for/);

    // MOH sees it in its referral queue, with the context and the client's contact.
    const queue = await get(moh, '/en/staff/cases?queue=referred');
    assert.match(queue.body, new RegExp(`id="question-queue"[\\s\\S]*href="/en/staff/questions/${id}"`));
    const page = await get(moh, `/en/staff/questions/${id}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Context for Does my baby/);
    assert.match(page.body, /613-555-0199/);
    assert.match(page.body, /id="question-answer-form"/);
    const read = await t.db.selectFrom('access_log').selectAll().where('client_id', '=', c.id).where('org_id', '=', 'on-moh').execute();
    assert.ok(read.some((r) => r.purpose === 'case-referral'), 'the receiving organisation’s read is in the client’s access log');

    const noFlag = await post(moh, `/en/staff/questions/${id}/answer`, { answer: 'Yes: register within 30 days.' });
    assert.equal(noFlag.statusCode, 400);
    assert.match(noFlag.body, /href="#noRepeat"/);
    const noText = await post(moh, `/en/staff/questions/${id}/answer`, { answer: ' ', noRepeat: 'yes' });
    assert.equal(noText.statusCode, 400);
    assert.match(noText.body, /href="#answer"/);
    const byReferrer = await post(agent, `/en/staff/questions/${id}/answer`, { answer: 'x', noRepeat: 'yes' });
    assert.equal(byReferrer.statusCode, 403, 'only the receiving organisation answers');
    const ok = await post(moh, `/en/staff/questions/${id}/answer`, { answer: 'Yes: register within 30 days.', noRepeat: 'yes' });
    assert.equal(ok.statusCode, 303);
    const again = await post(moh, `/en/staff/questions/${id}/answer`, { answer: 'Again', noRepeat: 'yes' });
    assert.equal(again.statusCode, 409);
    const answered = await t.db.selectFrom('case_questions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(answered.status, 'answered');
    assert.equal(answered.no_repeat, true);
    assert.equal(answered.answered_by, 'staff-moh-q');

    const clientSees = await get(c.cookie, `/fr/mon-dossier/questions/${id}`);
    assert.match(clientSees.body, /Répondue/);
    assert.match(clientSees.body, /Yes: register within 30 days\./);
    assert.doesNotMatch(clientSees.body, /Staff staff-moh-q/, 'no staff names for the client');
    const agentSees = await get(agent, `/en/staff/questions/${id}`);
    assert.match(agentSees.body, /Yes: register within 30 days\./);
    assert.doesNotMatch(agentSees.body, /id="question-answer-form"/);

    // Counted with case referrals: answered, with no repeat of information.
    const stats = await call(t, moh, 'GET', '/api/v1/cases/referrals/stats');
    assert.equal(stats.status, 200);
    assert.equal(stats.body.questions.accepted, 1);
    assert.equal(stats.body.questions.noRepeat, 1);
    assert.equal(stats.body.accepted, 1);
    assert.equal(stats.body.noRepeatRate, 1);
    assert.match((await get(moh, '/en/staff/cases')).body, /needing no repeat of information: 100/);
  });

  it('the receiving organisation turns a question into a case for its own service, or declines one', async () => {
    const c = await makeClient(t, { given: 'Omar' });
    await serve(t, c.cookie, agent);
    const id = await refer(c.id, 'on-mto', 'My licence expires while I am abroad: what can I do?', 'counter');
    const page = await get(mto, `/en/staff/questions/${id}`);
    assert.match(page.body, /id="question-convert-form"/);
    const notOurs = await post(mto, `/en/staff/questions/${id}/case`, { serviceId: 'demo-health-card', convertNoRepeat: 'no' });
    assert.equal(notOurs.statusCode, 400);
    assert.match(notOurs.body, /href="#serviceId"/);
    const noFlag = await post(mto, `/en/staff/questions/${id}/case`, { serviceId: 'demo-driver-licence' });
    assert.equal(noFlag.statusCode, 400);
    assert.match(noFlag.body, /href="#convertNoRepeat"/);
    assert.equal((await t.db.selectFrom('cases').select('id').where('client_id', '=', c.id).execute()).length, 0);
    const made = await post(mto, `/en/staff/questions/${id}/case`, { serviceId: 'demo-driver-licence', convertNoRepeat: 'no' });
    assert.equal(made.statusCode, 303, made.body.slice(0, 300));
    const caseId = (made.headers.location as string).split('/').pop()!;
    assert.match(made.headers.location as string, /^\/en\/staff\/cases\//);
    const k = await t.db.selectFrom('cases').selectAll().where('id', '=', caseId).executeTakeFirstOrThrow();
    assert.equal(k.client_id, c.id);
    assert.equal(k.responsible_org_id, 'on-mto');
    assert.equal(k.origin_channel, 'counter');
    assert.equal(k.created_by_kind, 'staff');
    assert.equal(k.created_by_id, 'staff-mto-q');
    assert.equal(k.summary, 'My licence expires while I am abroad: what can I do?', 'the client’s question, said once');
    const inter = await t.db.selectFrom('case_interactions').selectAll().where('case_id', '=', caseId).orderBy('id').execute();
    assert.deepEqual(inter.map((i) => [i.outcome, i.actor_kind, i.actor_id, i.channel]), [
      ['case_opened', 'staff', 'staff-mto-q', 'counter'],
      ['referral_accepted', 'staff', 'staff-mto-q', 'counter'],
    ]);
    const q = await t.db.selectFrom('case_questions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(q.status, 'converted');
    assert.equal(q.case_id, caseId);
    assert.equal(q.no_repeat, false);
    // The client sees the new request and where it came from.
    const list = await get(c.cookie, '/en/my-file/requests');
    assert.match(list.body, new RegExp(caseId));
    const mine = await get(c.cookie, `/en/my-file/questions/${id}`);
    assert.match(mine.body, /Now a request/);
    assert.match(mine.body, new RegExp(`href="/en/my-file/requests/${caseId}"`));
    assert.equal((await get(mto, `/en/staff/cases/${caseId}`)).statusCode, 200);

    // Declined: it goes back to the one-stop; MOH no longer sees it; the client sees who has it now.
    const d = await refer(c.id, 'on-moh', 'Where do I renew my photo card?');
    const declined = await post(moh, `/fr/personnel/questions/${d}/refus`, { note: 'Handled by ServiceOntario' });
    assert.equal(declined.statusCode, 303);
    assert.equal((await get(moh, `/en/staff/questions/${d}`)).statusCode, 404, 'a declined question no longer opens for the receiving organisation');
    const mineDeclined = await get(c.cookie, `/en/my-file/questions/${d}`);
    assert.match(mineDeclined.body, /Back with Guichet/);
    assert.match(mineDeclined.body, /Handled by ServiceOntario/);
    assert.match((await get(agent, `/en/staff/questions/${d}`)).body, /Declined/);

    const stats = await call(t, mto, 'GET', '/api/v1/cases/referrals/stats');
    assert.equal(stats.body.questions.accepted, 1);
    assert.equal(stats.body.questions.noRepeat, 0);
    assert.equal(stats.body.noRepeatRate, 0);
  });

  it('JSON API: the same commands; bad input is a 400 with field codes and writes nothing', async () => {
    const c = await makeClient(t);
    await serve(t, c.cookie, agent);
    const bad = await call(t, agent, 'POST', '/api/v1/cases/questions', { clientId: c.id, toOrgId: 'on-moh', question: '', summary: 'S', clientConsent: true, channel: 'phone' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.details.map((d: any) => d.field), ['question']);
    const fax = await call(t, agent, 'POST', '/api/v1/cases/questions', { clientId: c.id, toOrgId: 'on-moh', question: 'Q', summary: 'S', clientConsent: true, channel: 'fax' });
    assert.equal(fax.status, 400);
    assert.ok(fax.body.error.details.some((d: any) => d.field === 'channel'), JSON.stringify(fax.body));
    const noConsent = await call(t, agent, 'POST', '/api/v1/cases/questions', { clientId: c.id, toOrgId: 'on-moh', question: 'Q', summary: 'S', clientConsent: false, channel: 'phone' });
    assert.equal(noConsent.status, 400);
    assert.equal(noConsent.body.error.details[0].field, 'clientConsent');
    const unknownOrg = await call(t, agent, 'POST', '/api/v1/cases/questions', { clientId: c.id, toOrgId: "x' or 1=1 --", question: 'Q', summary: 'S', clientConsent: true, channel: 'phone' });
    assert.equal(unknownOrg.status, 400);
    assert.equal(unknownOrg.body.error.details[0].field, 'toOrgId');
    assert.equal(await questionCount(c.id), 0);
    const notServed = await call(t, agent, 'POST', '/api/v1/cases/questions', { clientId: crypto.randomUUID(), toOrgId: 'on-moh', question: 'Q', summary: 'S', clientConsent: true, channel: 'phone' });
    assert.equal(notServed.status, 404);
    assert.equal(notServed.body.error.code, 'CASE_CLIENT_NOT_FOUND');
    const made = await call(t, agent, 'POST', '/api/v1/cases/questions', { clientId: c.id, toOrgId: 'on-moh', question: 'Is the clinic open Saturday?', summary: 'Internal context', clientConsent: true, channel: 'email' });
    assert.equal(made.status, 201);
    const queue = await call(t, moh, 'GET', '/api/v1/cases/questions');
    assert.ok(queue.body.items.some((x: any) => x.id === made.body.id));
    const asClient = await call(t, c.cookie, 'GET', `/api/v1/cases/questions/${made.body.id}`);
    assert.equal(asClient.status, 200);
    assert.equal(asClient.body.summary, '', 'the context summary is not shown to the client');
    assert.equal(asClient.body.toOrg.id, 'on-moh');
    assert.equal((await call(t, mto, 'GET', `/api/v1/cases/questions/${made.body.id}`)).status, 404);
    const noFlag = await call(t, moh, 'POST', `/api/v1/cases/questions/${made.body.id}/answer`, { answer: 'Yes' });
    assert.equal(noFlag.status, 400);
    const converted = await call(t, moh, 'POST', `/api/v1/cases/questions/${made.body.id}/case`, { serviceId: 'demo-health-card', noRepeat: true });
    assert.equal(converted.status, 201);
    const k = await call(t, c.cookie, 'GET', `/api/v1/cases/${converted.body.caseId}`);
    assert.equal(k.status, 200);
    assert.equal(k.body.originChannel, 'email');
    assert.equal(k.body.responsibleOrg.id, 'on-moh');
    const twice = await call(t, moh, 'POST', `/api/v1/cases/questions/${made.body.id}/decline`, {});
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'QUESTION_ALREADY_ANSWERED');
    const mine = await call(t, c.cookie, 'GET', '/api/v1/cases/questions');
    assert.equal(mine.body.items[0].status, 'converted');
  });

  it('authorisation: only the client, the receiving organisation and the referring side see a question; guessed ids look the same', async () => {
    const c = await makeClient(t);
    const other = await makeClient(t);
    await serve(t, c.cookie, agent);
    const id = await refer(c.id, 'on-moh', 'A private question');
    const notServing = await makeStaff(t, 'staff-agent-q2', 'guichet', ['agent']);
    const editor = await makeStaff(t, 'staff-moh-ed-q', 'on-moh', ['editor']);
    const pages = (qid: string) => [`/en/staff/questions/${qid}`, `/fr/personnel/questions/${qid}`];
    for (const who of [mto, notServing]) {
      for (const u of [...pages(id), ...pages(crypto.randomUUID()), ...pages('G-2026-000001'), ...pages("1'%20or%20'1'='1")]) {
        const r = await get(who, u);
        assert.equal(r.statusCode, 404, u);
      }
      const api = await call(t, who, 'GET', `/en/staff/questions/${id}`);
      assert.equal(api.body.error.code, 'QUESTION_NOT_FOUND');
      for (const action of ['answer', 'decline', 'case']) {
        const r = await call(t, who, 'POST', `/en/staff/questions/${id}/${action}`, { answer: 'x', noRepeat: 'yes', serviceId: 'demo-health-card', convertNoRepeat: 'yes' });
        assert.equal(r.status, 404, `${action}`);
        assert.equal(r.body.error.code, 'QUESTION_NOT_FOUND');
      }
    }
    // Referring a question needs to be serving the client now (a guessed client id is refused alike).
    for (const cid of [c.id, crypto.randomUUID()]) {
      const r = await post(notServing, `/en/staff/console/clients/${cid}/questions`, { toOrgId: 'on-moh', question: 'Q', summary: 'S', clientConsent: 'yes', channel: 'phone' });
      assert.equal(r.statusCode, 404);
      assert.equal((await get(notServing, `/en/staff/console/clients/${cid}/questions`)).statusCode, 404);
    }
    assert.equal(await questionCount(c.id), 1);
    assert.equal((await get(editor, `/en/staff/questions/${id}`)).statusCode, 403);
    assert.equal((await get(other.cookie, `/en/my-file/questions/${id}`)).statusCode, 404);
    // signed out: the page sends to sign-in and back (issue 16), never the question
    const signedOut = await get(null, `/en/my-file/questions/${id}`);
    assert.equal(signedOut.statusCode, 303);
    assert.match(String(signedOut.headers.location), /sign-in\?returnTo=/);
    assert.equal((await get(null, `/en/staff/questions/${id}`)).statusCode, 303);
    assert.equal((await get(c.cookie, `/en/my-file/questions/${id}`)).statusCode, 200);
    assert.equal((await get(moh, `/en/staff/questions/${id}`)).statusCode, 200);
    // The referring agent keeps seeing what they referred; another one-stop agent only while serving the client.
    await t.db.updateTable('consents').set({ withdrawn_at: new Date() }).where('client_id', '=', c.id).where('purpose', '=', 'agent-access').execute();
    assert.equal((await get(agent, `/en/staff/questions/${id}`)).statusCode, 200);
    assert.equal((await get(notServing, `/en/staff/questions/${id}`)).statusCode, 404);
    await serve(t, c.cookie, notServing);
    assert.equal((await get(notServing, `/en/staff/questions/${id}`)).statusCode, 200);
  });
});
