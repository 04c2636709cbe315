/**
 * A business's own file for its representatives: a person who represents a business acts for it ("Acting for"),
 * sees its profile, notices, consents and access log, and declares a business change of address through Tell Us
 * Once; anyone else gets 404, exactly as for a business that does not exist. Every view and the declaration are
 * recorded in the business's access log.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createTestApp, csrfFrom, type TestApp } from '../../test/support/app';
import { clientCookie, createTestClient } from '../../test/support/clients';
import { addRepresentative } from './accounts';
import { verifyAccessLog } from './access-log';
import { saveSubscription } from '../notices/service';

const today = new Date().toISOString().slice(0, 10);
const fields = { 'newAddress.line1': '200 Elgin Street', 'newAddress.line2': '', 'newAddress.city': 'Ottawa', 'newAddress.province': 'ON', 'newAddress.postalCode': 'k2p 1l5', effectiveDate: today };

describe('business file for its representatives', () => {
  let t: TestApp;
  let owner: string; // person who represents `biz`
  let accountant: string; // person who represents `other` only
  let stranger: string; // person who represents nothing
  let biz: string;
  let other: string;
  let ownerCookie: string;
  let accountantCookie: string;
  let strangerCookie: string;

  before(async () => {
    t = await createTestApp({ catalogue: true, background: true });
    owner = await createTestClient(t.db, { givenName: 'Rosalie', familyName: 'Owner' });
    accountant = await createTestClient(t.db, { givenName: 'Amir', familyName: 'Accountant' });
    stranger = await createTestClient(t.db, { givenName: 'Sacha', familyName: 'Stranger' });
    biz = await createTestClient(t.db, { kind: 'business', businessName: 'Boulangerie Rideau inc.', businessNumber: '123456789', email: 'info@boulangerie.example' });
    other = await createTestClient(t.db, { kind: 'business', businessName: 'Comptables Associés', businessNumber: '987654321' });
    await addRepresentative(t.db, biz, owner, 'owner');
    await addRepresentative(t.db, other, accountant, 'accountant');
    ownerCookie = await clientCookie(t.app, t.db, owner);
    accountantCookie = await clientCookie(t.app, t.db, accountant);
    strangerCookie = await clientCookie(t.app, t.db, stranger);
    await saveSubscription(
      t.db,
      {
        id: 'biz-registry',
        orgId: 'on-pbr',
        programEn: 'Business registry (test)',
        programFr: 'Registre des entreprises (test)',
        purposeEn: 'Keeps the registered office address up to date.',
        purposeFr: 'Tient à jour l’adresse du siège.',
        eventTypes: ['business-change-of-address'],
        fields: ['business.name', 'business.number', 'newAddress', 'effectiveDate'],
        legalBasis: 'law',
        lawReference: 'Business Corporations Act (test)',
        delivery: 'pull',
      },
      { staffId: 'staff-admin', allowLoopback: true },
    );
  });
  after(async () => t?.close());

  const get = (url: string, cookie?: string) => t.app.inject({ method: 'GET', url, headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) } });
  const post = (url: string, cookie: string, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url, headers: { accept: 'text/html', cookie }, payload: { _csrf: csrfFrom(cookie), ...payload } });
  const pages = (id: string) => [
    `/en/my-file/businesses/${id}`,
    `/fr/mon-dossier/entreprises/${id}`,
    `/en/my-file/businesses/${id}/consents`,
    `/fr/mon-dossier/entreprises/${id}/consentements`,
    `/en/my-file/businesses/${id}/access-log`,
    `/fr/mon-dossier/entreprises/${id}/journal-des-acces`,
    `/en/my-file/businesses/${id}/notices`,
    `/fr/mon-dossier/entreprises/${id}/avis`,
    `/en/my-file/businesses/${id}/tell-us-once/business-change-of-address`,
    `/fr/mon-dossier/entreprises/${id}/dites-le-nous-une-fois/changement-d-adresse-d-entreprise`,
  ];
  const logOf = (clientId: string) => t.db.selectFrom('access_log').selectAll().where('client_id', '=', clientId).orderBy('seq').execute();

  test('a representative switches to act for the business from My file and sees its file, in both languages', async () => {
    const myFile = await get('/en/my-file', ownerCookie);
    assert.equal(myFile.statusCode, 200);
    assert.ok(myFile.body.includes(`href="/en/my-file/businesses/${biz}"`), 'My file offers to act for the business');
    assert.ok(myFile.body.includes('Act for this business'));

    const en = await get(`/en/my-file/businesses/${biz}`, ownerCookie);
    assert.equal(en.statusCode, 200);
    assert.ok(en.body.includes('Acting for: Boulangerie Rideau inc.'));
    assert.ok(en.body.includes('123456789'));
    assert.ok(en.body.includes('info@boulangerie.example'));
    assert.ok(en.body.includes('110 Laurier Avenue West'), 'its current address');
    assert.match(en.body, /Rosalie Owner – owner/);
    assert.equal(en.headers['cache-control'], 'no-store');
    const fr = await get(`/fr/mon-dossier/entreprises/${biz}`, ownerCookie);
    assert.equal(fr.statusCode, 200);
    assert.ok(fr.body.includes('Vous agissez pour : Boulangerie Rideau inc.'));
    assert.ok(fr.body.includes('Dossier de l’entreprise'));
    assert.ok(fr.body.includes(`href="/en/my-file/businesses/${biz}"`), 'language toggle keeps the business');

    // the business's access log records the representative's visits (actor: the person, basis: their role)
    const log = await logOf(biz);
    const reads = log.filter((e) => e.actor_kind === 'client' && e.actor_id === owner && e.action === 'read' && e.purpose === 'business-representative');
    assert.equal(reads.length, 2);
    assert.equal(reads[0].legal_basis, 'representative:owner');
    assert.deepEqual((await logOf(owner)).length, 0, 'nothing is written to the person’s own log');
  });

  test('a person who is not a representative, or a representative of another business, gets 404 exactly as for a business that does not exist', async () => {
    const missing = crypto.randomUUID();
    for (const url of pages(biz)) {
      const lang = url.startsWith('/fr') ? 'fr' : 'en';
      const none = await get(url.replace(biz, missing), ownerCookie);
      assert.equal(none.statusCode, 404, url);
      for (const cookie of [strangerCookie, accountantCookie]) {
        const res = await get(url, cookie);
        assert.equal(res.statusCode, 404, `${url} must be 404`);
        assert.ok(!res.body.includes('Boulangerie'), 'nothing of the business leaks');
        const norm = (html: string) => html.replaceAll(biz, 'ID').replaceAll(missing, 'ID').replace(/nonce-[^"']+|value="[^"]*"|nonce="[^"]*"/g, '');
        assert.equal(norm(res.body), norm(none.body), `${url}: same page as a missing business (${lang})`);
      }
    }
    // the owner of one business is a stranger to another one, and a person is not a business
    assert.equal((await get(`/en/my-file/businesses/${other}`, ownerCookie)).statusCode, 404);
    assert.equal((await get(`/en/my-file/businesses/${owner}`, ownerCookie)).statusCode, 404);
    assert.equal((await get(`/en/my-file/businesses/${other}`, accountantCookie)).statusCode, 200, 'the accountant acts for the other business');
    // not signed in: sign in first
    const anon = await get(`/en/my-file/businesses/${biz}`);
    assert.equal(anon.statusCode, 303);
    assert.match(anon.headers.location as string, /^\/en\/sign-in\?returnTo=/);
    assert.equal((await get(`/en/my-file/businesses/${biz}/notices`)).statusCode, 401);
    // denials write nothing to the business's log
    assert.ok(!(await logOf(biz)).some((e) => e.actor_id === stranger || e.actor_id === accountant));
    // and a stranger cannot declare for it
    const before = await t.db.selectFrom('declarations').select('id').where('client_id', '=', biz).execute();
    const send = await post(`/en/my-file/businesses/${biz}/tell-us-once/business-change-of-address/send`, strangerCookie, { ...fields, recipients: ['biz-registry'] });
    assert.equal(send.statusCode, 404);
    const check = await post(`/en/my-file/businesses/${biz}/tell-us-once/business-change-of-address/check`, strangerCookie, fields);
    assert.equal(check.statusCode, 404);
    assert.equal((await t.db.selectFrom('declarations').select('id').where('client_id', '=', biz).execute()).length, before.length);
  });

  test('the representative declares a business change of address through Tell Us Once; it is the business’s, recorded as done by the representative', async () => {
    const start = await get('/en/tell-us-once', ownerCookie);
    assert.ok(start.body.includes(`href="/en/my-file/businesses/${biz}/notices"`), 'Tell Us Once offers to declare for the business');

    const form = await get(`/en/my-file/businesses/${biz}/tell-us-once/business-change-of-address`, ownerCookie);
    assert.equal(form.statusCode, 200);
    assert.ok(form.body.includes('Acting for: Boulangerie Rideau inc.'));
    assert.ok(form.body.includes(`action="/en/my-file/businesses/${biz}/tell-us-once/business-change-of-address/check"`));
    assert.ok(form.body.includes('name="_csrf"'));
    // a person's event is not offered for a business
    assert.equal((await get(`/en/my-file/businesses/${biz}/tell-us-once/change-of-address`, ownerCookie)).statusCode, 404);

    const bad = await post(`/en/my-file/businesses/${biz}/tell-us-once/business-change-of-address/check`, ownerCookie, { ...fields, 'newAddress.postalCode': '12345' });
    assert.equal(bad.statusCode, 400);
    assert.ok(bad.body.includes('govuk-error-summary'));
    const check = await post(`/fr/mon-dossier/entreprises/${biz}/dites-le-nous-une-fois/changement-d-adresse-d-entreprise/verifier`, ownerCookie, fields);
    assert.equal(check.statusCode, 200, check.body.slice(0, 300));
    assert.ok(check.body.includes('Vous agissez pour : Boulangerie Rideau inc.'));
    assert.ok(check.body.includes('value="biz-registry"'));
    assert.ok(check.body.includes(`action="/fr/mon-dossier/entreprises/${biz}/dites-le-nous-une-fois/changement-d-adresse-d-entreprise/envoyer"`));

    // CSRF is required
    const forged = await t.app.inject({ method: 'POST', url: `/en/my-file/businesses/${biz}/tell-us-once/business-change-of-address/send`, headers: { accept: 'text/html', cookie: ownerCookie }, payload: { ...fields, recipients: ['biz-registry'] } });
    assert.equal(forged.statusCode, 403);
    const noChoice = await post(`/en/my-file/businesses/${biz}/tell-us-once/business-change-of-address/send`, ownerCookie, fields);
    assert.equal(noChoice.statusCode, 400);
    assert.equal((await t.db.selectFrom('declarations').select('id').where('client_id', '=', biz).execute()).length, 0, 'nothing stored on error');

    const send = await post(`/en/my-file/businesses/${biz}/tell-us-once/business-change-of-address/send`, ownerCookie, { ...fields, recipients: ['biz-registry'] });
    assert.equal(send.statusCode, 303, send.body.slice(0, 300));
    assert.equal(send.headers.location, `/en/my-file/businesses/${biz}/notices?sent=1`);

    const [decl] = await t.db.selectFrom('declarations').selectAll().where('client_id', '=', biz).execute();
    assert.equal(decl.event_type, 'business-change-of-address');
    assert.equal(decl.declared_by, owner);
    const [n] = await t.db.selectFrom('notices').selectAll().where('declaration_id', '=', decl.id).execute();
    assert.equal(n.client_id, biz);
    assert.equal(n.status, 'pending');
    const ev = (n.payload as any).events['urn:guichet:tell-us-once:event:business-change-of-address:v1'];
    assert.equal(ev['business.name'], 'Boulangerie Rideau inc.');
    assert.equal(ev['business.number'], '123456789');
    assert.equal(ev.newAddress.postalCode, 'K2P 1L5');
    assert.equal(ev['subject.name'], undefined, 'nothing of the representative is sent');
    const consent = await t.db.selectFrom('consents').selectAll().where('id', '=', n.consent_id!).executeTakeFirstOrThrow();
    assert.equal(consent.client_id, biz);
    assert.equal(consent.legal_basis, 'law');
    // the person's own file has no declaration: it is the business's
    const mine = await t.app.inject({ method: 'GET', url: '/api/v1/me/declarations', headers: { cookie: ownerCookie } });
    assert.equal(mine.json().declarations.length, 0);

    // recorded in the business's access log: the representative declared, as its owner
    const declared = (await logOf(biz)).find((e) => e.action === 'declared');
    assert.ok(declared);
    assert.equal(declared.actor_kind, 'client');
    assert.equal(declared.actor_id, owner);
    assert.equal(declared.purpose, 'tell-us-once:business-change-of-address');
    assert.equal(declared.legal_basis, 'representative:owner');
    assert.deepEqual(declared.fields, ['effectiveDate', 'newAddress']);

    // the business's notices with the per-recipient status, its consents and its access log
    const list = await get(`/en/my-file/businesses/${biz}/notices?sent=1`, ownerCookie);
    assert.equal(list.statusCode, 200);
    assert.ok(list.body.includes('Acting for: Boulangerie Rideau inc.'));
    assert.ok(list.body.includes('Business registry (test)'));
    assert.ok(list.body.includes(`data-notice="${n.id}" data-status="pending"`));
    assert.ok(list.body.includes('Declared by Rosalie Owner'));
    const consents = await get(`/fr/mon-dossier/entreprises/${biz}/consentements`, ownerCookie);
    assert.equal(consents.statusCode, 200);
    assert.ok(consents.body.includes(`data-consent="${n.consent_id}"`));
    assert.ok(consents.body.includes('Business Corporations Act (test)'));
    assert.ok(!consents.body.includes('/retirer'), 'read-only for representatives');
    const log = await get(`/en/my-file/businesses/${biz}/access-log`, ownerCookie);
    assert.equal(log.statusCode, 200);
    assert.ok(log.body.includes('Rosalie Owner (representative)'));
    assert.ok(log.body.includes('Acts for the business as its owner'));
    assert.ok(log.body.includes('declared'));
    const logFr = await get(`/fr/mon-dossier/entreprises/${biz}/journal-des-acces`, ownerCookie);
    assert.ok(logFr.body.includes('Rosalie Owner (représentant)'));
    assert.ok(logFr.body.includes('Agit pour l’entreprise à titre de propriétaire'));

    // the partner pulls it like any other notice; the chain of the access log is intact
    assert.equal((await verifyAccessLog(t.db)).ok, true);
  });
});
