/** Assisted online forms: an agent serving a client fills in a service's online form with them, without JavaScript. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../test/support/app';
import { grantConsent } from '../clients/consent';
import { birthCertificateForm, call, csrf, makeClient, makeStaff, serve } from './test/helpers';

const definition = birthCertificateForm();

describe('assisted online forms', () => {
  let t: TestApp;
  let agent: string;
  before(async () => {
    t = await createTestApp({ catalogue: true });
    const partner = await makeStaff(t, 'staff-org-partner-as', 'on-org', ['partner']);
    const pub = await call(t, partner, 'PUT', '/api/v1/cases/forms/demo-birth-certificate', { definition });
    assert.equal(pub.status, 201, JSON.stringify(pub.body));
    agent = await makeStaff(t, 'staff-agent-assist', 'guichet', ['agent']);
  });
  after(async () => t.close());

  const get = (cookie: string | null, url: string) => t.app.inject({ url, headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) } });
  const post = (cookie: string, url: string, payload: string) =>
    t.app.inject({ method: 'POST', url, headers: { cookie, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf(cookie)}${payload ? '&' + payload : ''}` });

  it('the agent fills in the form with the client: pre-fill with consent, draft under the client with the agent recorded, case on the counter channel', async () => {
    const c = await makeClient(t, { given: 'Chloé', email: 'chloe.assist@client.example', lang: 'fr' });
    await serve(t, c.cookie, agent);
    const consolePage = await get(agent, `/en/staff/console?client=${c.id}`);
    assert.match(consolePage.body, new RegExp(`id="assisted-form-link" href="/en/staff/console/clients/${c.id}/forms"`));
    const chooser = await get(agent, `/en/staff/console/clients/${c.id}/forms`);
    assert.equal(chooser.statusCode, 200);
    const startUrl = `/en/staff/console/clients/${c.id}/forms/demo-birth-certificate`;
    assert.match(chooser.body, new RegExp(`href="${startUrl}"`));
    const start = await get(agent, startUrl);
    assert.equal(start.statusCode, 200);
    assert.match(start.body, /Assisted: you are filling in this form with Chloé Tremblay/);
    assert.match(start.body, /The client agrees: fill in from their file/);
    const fr = await get(agent, `/fr/personnel/console/clients/${c.id}/formulaires/demo-birth-certificate`);
    assert.match(fr.body, /<html lang="fr"/);
    assert.match(fr.body, /Le client accepte : remplir à partir de son dossier/);

    const begun = await post(agent, startUrl, 'prefill=yes');
    assert.equal(begun.statusCode, 303);
    const page1Url = begun.headers.location as string;
    assert.match(page1Url, /^\/en\/staff\/console\/drafts\/[0-9a-f-]{36}\/pages\/1$/);
    const draftId = page1Url.split('/')[5];
    const draft = await t.db.selectFrom('case_form_drafts').selectAll().where('id', '=', draftId).executeTakeFirstOrThrow();
    assert.equal(draft.client_id, c.id, 'the draft is the client’s');
    assert.equal(draft.assisted_by, 'staff-agent-assist', 'the agent is recorded');
    const consent = await t.db.selectFrom('consents').selectAll().where('client_id', '=', c.id).where('purpose', '=', 'form-prefill').executeTakeFirstOrThrow();
    assert.equal(consent.org_id, 'on-org');
    assert.match(String(consent.granted_by), /assisted, staff:staff-agent-assist/);
    const read = await t.db.selectFrom('access_log').selectAll().where('client_id', '=', c.id).where('actor_id', '=', 'staff-agent-assist').where('purpose', '=', 'agent-access').execute();
    assert.ok(read.some((r) => r.fields.includes('email') && r.fields.includes('given_name')), 'the pre-fill read is in the client’s access log');

    const page1 = await get(agent, page1Url);
    assert.match(page1.body, /value="Chloé"/);
    assert.match(page1.body, /value="chloe.assist@client.example"/);
    const bad = await post(agent, page1Url, 'given_name=&email=nope&action=continue');
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /href="#given_name"/);
    assert.match(bad.body, /href="#relationship"/);
    // Save and come back later: back to the console; the client sees the draft in their file and can finish online.
    const saved = await post(agent, page1Url, 'given_name=Chlo%C3%A9&email=chloe.assist%40client.example&action=save');
    assert.equal(saved.statusCode, 303);
    assert.equal(saved.headers.location, `/en/staff/console?client=${c.id}&draft=saved`);
    const back = await get(agent, saved.headers.location as string);
    assert.match(back.body, /govuk-notification-banner--success[\s\S]*The form is saved as the client’s draft/);
    assert.doesNotMatch((await get(agent, `/en/staff/console?client=${c.id}`)).body, /govuk-notification-banner--success/);
    const mine = await get(c.cookie, '/fr/mon-dossier/demandes');
    assert.match(mine.body, /id="my-drafts"[\s\S]*href="\/fr\/mon-dossier\/formulaires\/demo-birth-certificate"/);
    const resumed = await post(agent, startUrl, '');
    assert.equal(resumed.headers.location, page1Url, 'the agent resumes the same draft');

    const ok1 = await post(agent, page1Url, 'given_name=Chlo%C3%A9&email=chloe.assist%40client.example&relationship=self&action=continue');
    assert.match(ok1.headers.location as string, /pages\/3$/);
    const ok3 = await post(agent, ok1.headers.location as string, 'copies=1');
    const reviewUrl = ok3.headers.location as string;
    assert.match(reviewUrl, /^\/en\/staff\/console\/drafts\/[0-9a-f-]{36}\/review$/);
    const review = await get(agent, reviewUrl);
    assert.match(review.body, /How is the client with you\?/);
    assert.match(review.body, /Mine/);
    const noChannel = await post(agent, reviewUrl, '');
    assert.equal(noChannel.statusCode, 400);
    assert.match(noChannel.body, /href="#channel"/);
    const webChannel = await post(agent, reviewUrl, 'channel=web');
    assert.equal(webChannel.statusCode, 400, 'only phone or counter');
    assert.equal((await t.db.selectFrom('cases').select('id').where('client_id', '=', c.id).execute()).length, 0, 'nothing written on refusal');

    const submitted = await post(agent, reviewUrl, 'channel=counter');
    assert.equal(submitted.statusCode, 303);
    assert.match(submitted.headers.location as string, /^\/en\/staff\/cases\/[0-9a-f-]{36}$/);
    const caseId = (submitted.headers.location as string).split('/').pop()!;
    const row = await t.db.selectFrom('cases').selectAll().where('id', '=', caseId).executeTakeFirstOrThrow();
    assert.equal(row.client_id, c.id);
    assert.equal(row.origin_channel, 'counter');
    assert.equal(row.created_by_kind, 'staff');
    assert.equal(row.created_by_id, 'staff-agent-assist');
    assert.equal(row.responsible_org_id, 'on-org');
    assert.deepEqual(row.form_data, { given_name: 'Chloé', email: 'chloe.assist@client.example', relationship: 'self', copies: '1' });
    assert.match(row.summary, /Nombre de copies: 1/, 'summary in the client’s language');
    const inter = await t.db.selectFrom('case_interactions').selectAll().where('case_id', '=', caseId).execute();
    assert.deepEqual(
      inter.map((i) => [i.outcome, i.channel, i.actor_kind, i.actor_id, i.org_id]),
      [['case_opened', 'counter', 'staff', 'staff-agent-assist', 'guichet']],
    );
    const after = await t.db.selectFrom('case_form_drafts').select(['submitted_case_id', 'assisted_by']).where('id', '=', draftId).executeTakeFirstOrThrow();
    assert.equal(after.submitted_case_id, caseId);
    const staffView = await get(agent, submitted.headers.location as string);
    assert.equal(staffView.statusCode, 200, 'the agent serving the client sees the case');
    // The client sees it in their file, opened at the counter.
    const list = await get(c.cookie, '/fr/mon-dossier/demandes');
    assert.match(list.body, new RegExp(caseId));
    const mineCase = await get(c.cookie, `/fr/mon-dossier/demandes/${caseId}`);
    assert.match(mineCase.body, /Comptoir/);
    // Submitted drafts go to their case; submitting again creates nothing.
    assert.equal((await get(agent, reviewUrl)).statusCode, 303);
    await post(agent, reviewUrl, 'channel=counter');
    assert.equal((await t.db.selectFrom('cases').select('id').where('client_id', '=', c.id).execute()).length, 1);
  });

  it('pre-fills only what the agent’s access covers (a recorded legal basis for some fields)', async () => {
    const c = await makeClient(t, { given: 'Ana', email: 'ana.law@client.example' });
    const lawAgent = await makeStaff(t, 'staff-agent-law', 'guichet', ['agent']);
    await grantConsent(t.db, { clientId: c.id, orgId: 'guichet', purpose: 'agent-access', fields: ['given_name'], legalBasis: 'law', lawReference: 'Test Act, s. 1' });
    const startUrl = `/en/staff/console/clients/${c.id}/forms/demo-birth-certificate`;
    const start = await get(lawAgent, startUrl);
    assert.equal(start.statusCode, 200);
    assert.match(start.body, /fill in Given name from their file/);
    assert.doesNotMatch(start.body, /Given name, E-mail/);
    const begun = await post(lawAgent, startUrl, 'prefill=yes');
    const page1 = await get(lawAgent, begun.headers.location as string);
    assert.match(page1.body, /value="Ana"/);
    assert.doesNotMatch(page1.body, /ana\.law@client\.example/, 'the e-mail is not covered by the access');
  });

  it('staff not serving the client, other organisations and guessed ids all get the same 404', async () => {
    const c = await makeClient(t);
    await serve(t, c.cookie, agent);
    const begun = await post(agent, `/en/staff/console/clients/${c.id}/forms/demo-birth-certificate`, '');
    const page1Url = begun.headers.location as string;
    const draftId = page1Url.split('/')[5];
    const reviewUrl = `/en/staff/console/drafts/${draftId}/review`;
    const notServing = await makeStaff(t, 'staff-agent-ns', 'guichet', ['agent']);
    const otherOrg = await makeStaff(t, 'staff-mto-as', 'on-mto', ['agent']);
    const guessedClient = crypto.randomUUID();
    const guessedDraft = crypto.randomUUID();
    for (const who of [notServing, otherOrg]) {
      for (const url of [`/en/staff/console/clients/${c.id}/forms`, `/en/staff/console/clients/${c.id}/forms/demo-birth-certificate`, page1Url, reviewUrl, `/en/staff/console/clients/${guessedClient}/forms`, `/en/staff/console/drafts/${guessedDraft}/pages/1`, `/fr/personnel/console/brouillons/${guessedDraft}/verification`]) {
        assert.equal((await get(who, url)).statusCode, 404, url);
      }
      assert.equal((await post(who, page1Url, 'given_name=X&action=save')).statusCode, 404);
      assert.equal((await post(who, reviewUrl, 'channel=phone')).statusCode, 404);
      assert.equal((await post(who, `/en/staff/console/clients/${c.id}/forms/demo-birth-certificate`, 'prefill=yes')).statusCode, 404);
    }
    const api = await call(t, notServing, 'GET', page1Url);
    assert.equal(api.status, 404);
    assert.equal(api.body.error.code, 'DRAFT_NOT_FOUND');
    assert.equal((await get(null, page1Url)).statusCode, 303, 'signed-out staff go to sign in');
    const asClient = await get(c.cookie, page1Url);
    assert.equal(asClient.statusCode, 303, 'the client uses their own form pages');
    // staff pages visited by someone who is not staff go to the staff sign-in and come back (issue 16)
    assert.match(String(asClient.headers.location), /^\/en\/staff\/login\?returnTo=%2Fen%2Fstaff%2Fconsole%2Fdrafts%2F/);
    const editor = await makeStaff(t, 'staff-guichet-ed', 'guichet', ['editor']);
    assert.equal((await get(editor, page1Url)).statusCode, 403);
    const d = await t.db.selectFrom('case_form_drafts').select(['data']).where('id', '=', draftId).executeTakeFirstOrThrow();
    assert.deepEqual(d.data, {}, 'nothing saved by those refused');
    // The access ends with the consent: the serving agent gets 404 too.
    await t.db.updateTable('consents').set({ withdrawn_at: new Date() }).where('client_id', '=', c.id).where('purpose', '=', 'agent-access').execute();
    assert.equal((await get(agent, page1Url)).statusCode, 404);
    assert.equal((await post(agent, reviewUrl, 'channel=phone')).statusCode, 404);
    assert.equal((await t.db.selectFrom('cases').select('id').where('client_id', '=', c.id).execute()).length, 0);
  });
});
