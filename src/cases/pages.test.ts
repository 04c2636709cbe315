/** The pages, without JavaScript: form posts, redirects, errors shown per field, both languages. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, staffCookie, type TestApp } from '../../test/support/app';
import { csrf, makeClient, makeStaff } from './test/helpers';
import { invalidateSearchIndex } from '../catalogue/search/index';

describe('case pages', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalogue: true });
  });
  after(async () => t.close());

  const get = (cookie: string, url: string) => t.app.inject({ url, headers: { cookie, accept: 'text/html' } });
  const post = (cookie: string, url: string, payload: Record<string, string>) =>
    t.app.inject({ method: 'POST', url, headers: { cookie, accept: 'text/html' }, payload: { _csrf: csrf(cookie), ...payload } });

  it('the information bank finds services by their agent notes, first, in both languages, and never shows notes publicly', async () => {
    const svc = await t.db.selectFrom('services').select(['id', 'title_en', 'title_fr']).where('status', '=', 'published').where('is_demo', '=', false).orderBy('id').executeTakeFirstOrThrow();
    await t.db
      .updateTable('services')
      .set({ agent_notes_en: 'Ask for the Zorbolan form when the caller lives abroad.', agent_notes_fr: 'Demandez le formulaire Zorbolan si la personne vit à l’étranger.' })
      .where('id', '=', svc.id)
      .execute();
    invalidateSearchIndex();
    const agent = await staffCookie(t.app, 'staff-agent');
    const en = await get(agent, '/en/staff/console?q=zorbolan');
    assert.equal(en.statusCode, 200);
    assert.match(en.body, /Ask for the Zorbolan form when the caller lives abroad/);
    assert.ok(en.body.includes(svc.title_en.replace(/&/g, '&amp;').replace(/'/g, '&#39;')) || en.body.includes(svc.id));
    const fr = await get(agent, '/fr/personnel/console?q=ZORBOLAN');
    assert.equal(fr.statusCode, 200, fr.body.slice(0, 200));
    assert.match(fr.body, /Demandez le formulaire Zorbolan/);
    // The portal's search does not read agent notes, and its answer never carries them.
    const pub = await t.app.inject({ url: '/api/v1/services?q=zorbolan&lang=en' });
    assert.equal(pub.json().total, 0);
    assert.doesNotMatch(pub.body, /Zorbolan/);
  });

  it('client → agent console → referral → counter, all with forms', async () => {
    const c = await makeClient(t, { lang: 'fr', given: 'Chloé' });
    // The client starts online, in French; a missing description is shown on the field.
    const empty = await post(c.cookie, '/fr/mon-dossier/demandes/nouvelle', { serviceId: 'demo-birth-certificate', summary: '' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /govuk-error-summary/);
    assert.match(empty.body, /href="#summary"/);
    assert.match(empty.body, /Entrez ce renseignement/);
    const created = await post(c.cookie, '/fr/mon-dossier/demandes/nouvelle', { serviceId: 'demo-birth-certificate', summary: 'Certificat pour ma fille née le 2 mars' });
    assert.equal(created.statusCode, 303);
    const caseUrl = created.headers.location as string;
    assert.match(caseUrl, /^\/fr\/mon-dossier\/demandes\/[0-9a-f-]{36}$/);
    const id = caseUrl.split('/').pop()!;
    const page = await get(c.cookie, caseUrl);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<html lang="fr"/);
    assert.match(page.body, /Soumise/);
    assert.match(page.body, /Bureau du registraire général/);
    assert.match(page.body, /jours ouvrables/);
    assert.match(page.body, /ou vos droits remboursés/);
    const list = await get(c.cookie, '/fr/mon-dossier/demandes');
    assert.match(list.body, new RegExp(id));

    // The client calls the contact centre and reads out a code.
    const codePage = await post(c.cookie, '/fr/mon-dossier/demandes/code-agent', {});
    assert.equal(codePage.statusCode, 200);
    const code = /id="agent-code">(\d{4}) (\d{4})</.exec(codePage.body)!;
    const agent = await staffCookie(t.app, 'staff-agent');
    const wrong = await post(agent, '/en/staff/console/code', { code: '00000000' });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /This code is not valid/);
    assert.match(wrong.body, /href="#code"/);
    const found = await post(agent, '/en/staff/console/code', { code: `${code[1]} ${code[2]}` });
    assert.equal(found.statusCode, 303);
    const consoleUrl = found.headers.location as string;
    const consolePage = await get(agent, `${consoleUrl}&q=birth`);
    assert.match(consolePage.body, /Serving Chloé Tremblay/);
    assert.match(consolePage.body, new RegExp(id));
    assert.match(consolePage.body, /id="info-results"/);
    // Information bank: agent notes are visible to agents.
    const notes = await get(agent, `${consoleUrl}&q=health%20card`);
    assert.match(notes.body, /Photo cards must be renewed in person/);

    // The agent logs the call and refers the case to the Ministry of Health; the consent box is required.
    assert.equal((await post(agent, `/en/staff/cases/${id}/interactions`, { channel: 'phone', outcome: 'information_given', note: 'Explained delays' })).statusCode, 303);
    const noConsent = await post(agent, `/en/staff/cases/${id}/referrals`, { toOrgId: 'on-moh', summary: 'Also needs a health card for the baby' });
    assert.equal(noConsent.statusCode, 400);
    assert.match(noConsent.body, /href="#clientConsent"/);
    const referred = await post(agent, `/en/staff/cases/${id}/referrals`, { toOrgId: 'on-moh', summary: 'Also needs a health card for the baby', clientConsent: 'yes', channel: 'phone' });
    assert.equal(referred.statusCode, 303);
    const clientSees = await get(c.cookie, caseUrl);
    assert.match(clientSees.body, /En cours de transfert à Ministère de la Santé/);

    // MOH sees it in its referred queue and accepts, recording that nothing was repeated.
    const moh = await makeStaff(t, 'staff-moh-pages', 'on-moh', ['agent']);
    const queue = await get(moh, '/en/staff/cases?queue=referred');
    assert.match(queue.body, new RegExp(id));
    const casePage = await get(moh, `/en/staff/cases/${id}`);
    assert.match(casePage.body, /This case was referred to your organisation/);
    const rid = /referrals\/([0-9a-f-]{36})\/answer/.exec(casePage.body)![1];
    const noFlag = await post(moh, `/en/staff/cases/${id}/referrals/${rid}/answer`, { answer: 'accept' });
    assert.equal(noFlag.statusCode, 400);
    assert.match(noFlag.body, /href="#noRepeat"/);
    assert.equal((await post(moh, `/en/staff/cases/${id}/referrals/${rid}/answer`, { answer: 'accept', noRepeat: 'yes' })).statusCode, 303);
    const nowWith = await get(c.cookie, caseUrl);
    assert.match(nowWith.body, /id="case-org">Ministère de la Santé/);
    const stats = await get(moh, '/en/staff/cases');
    assert.match(stats.body, /needing no repeat of information: 100/);

    // Finished at a counter by MOH staff: decided, with the decision shown to the client.
    const bad = await post(moh, `/fr/personnel/dossiers/${id}/statut`, { status: 'decided', decision: '', channel: 'counter' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /href="#decision"/);
    assert.equal((await post(moh, `/fr/personnel/dossiers/${id}/statut`, { status: 'decided', decision: 'Carte Santé remise au comptoir', channel: 'counter' })).statusCode, 303);
    const done = await get(c.cookie, caseUrl);
    assert.match(done.body, /Décision rendue/);
    assert.match(done.body, /Carte Santé remise au comptoir/);
    assert.match(done.body, /Comptoir/);
    // The client writes a message; the agency sees it.
    assert.equal((await post(c.cookie, `${caseUrl}/messages`, { body: 'Merci beaucoup!' })).statusCode, 303);
    assert.match((await get(moh, `/en/staff/cases/${id}`)).body, /Merci beaucoup!/);
  });

  it('the one-stop agent opens a case on the client’s behalf from the console', async () => {
    const c = await makeClient(t, { given: 'Omar' });
    const agent = await makeStaff(t, 'staff-agent-pages', 'guichet', ['agent']);
    const codePage = await post(c.cookie, '/en/my-file/requests/agent-code', {});
    const code = /id="agent-code">(\d{4}) (\d{4})</.exec(codePage.body)!;
    const found = await post(agent, '/en/staff/console/code', { code: code[1] + code[2] });
    const bad = await post(agent, '/en/staff/console/cases', { clientId: c.id, serviceId: '', channel: 'counter', summary: '' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /href="#serviceId"/);
    assert.match(bad.body, /Serving Omar/);
    const ok = await post(agent, '/en/staff/console/cases', { clientId: c.id, serviceId: 'demo-dog-licence', channel: 'counter', summary: 'New puppy' });
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 300));
    assert.match(found.headers.location as string, /client=/);
    const view = await get(c.cookie, '/en/my-file/requests');
    assert.match(view.body, /City of Ottawa/);
  });
});
