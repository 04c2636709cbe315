/** Online forms: partner-defined, versioned, accessible pages, drafts, pre-fill with consent, delivery to the partner. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../test/support/app';
import { verifySignature } from '../notices/signing';
import { birthCertificateForm, call, csrf, makeClient, makeStaff } from './test/helpers';

const definition = birthCertificateForm([
  { name: 'child_birth', type: 'date', label: { en: 'Date of birth', fr: 'Date de naissance' }, help: { en: 'For example 2026-03-02', fr: 'Par exemple 2026-03-02' }, required: true, dateRange: 'past' },
]);

describe('online forms', () => {
  let t: TestApp;
  let partner: string;
  let hook: http.Server;
  const received: Array<{ body: string; headers: http.IncomingHttpHeaders }> = [];
  let failFirst = true;
  let secret = '';
  before(async () => {
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        if (failFirst) {
          failFirst = false;
          res.writeHead(503).end('try later');
        } else res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"received"}');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    t = await createTestApp({ catalogue: true, background: true, env: { GUICHET_CASES_DELIVERY_RETRY_S: '1' } });
    partner = await makeStaff(t, 'staff-org-partner', 'on-org', ['partner']);
  });
  after(async () => {
    await t.close();
    await new Promise<void>((r) => hook.close(() => r()));
  });

  it('a partner publishes versioned forms; bad definitions are refused with their paths', async () => {
    const url = `http://127.0.0.1:${(hook.address() as { port: number }).port}/cases`;
    const bad = await call(t, partner, 'PUT', '/api/v1/cases/forms/demo-birth-certificate', {
      definition: { title: { en: 'x' }, pages: [{ id: 'p', title: { en: 'a', fr: 'b' }, fields: [{ name: 'a', type: 'colour', label: { en: 'A', fr: 'A' }, condition: { field: 'later', equals: 'x' } }] }] },
    });
    assert.equal(bad.status, 400);
    const fields = bad.body.error.details.map((d: any) => `${d.field}:${d.code}`);
    assert.ok(fields.includes('definition.title:bilingualRequired'), fields.join());
    assert.ok(fields.includes('definition.pages.0.fields.0.type:notAllowed'));
    assert.ok(fields.includes('definition.pages.0.fields.0.condition:invalid'));
    const other = await makeStaff(t, 'staff-mto-partner', 'on-mto', ['partner']);
    assert.equal((await call(t, other, 'PUT', '/api/v1/cases/forms/demo-birth-certificate', { definition })).status, 404);
    const v1 = await call(t, partner, 'PUT', '/api/v1/cases/forms/demo-birth-certificate', { definition, webhookUrl: url });
    assert.equal(v1.status, 201, JSON.stringify(v1.body));
    assert.equal(v1.body.version, 1);
    assert.match(v1.body.signingSecret, /^whsec_/);
    secret = v1.body.signingSecret;
    const v2 = await call(t, partner, 'PUT', '/api/v1/cases/forms/demo-birth-certificate', { definition, webhookUrl: url });
    assert.equal(v2.body.version, 2);
    assert.equal(v2.body.signingSecret, null, 'the secret is shown once and kept across versions');
    const got = await call(t, null, 'GET', '/api/v1/cases/forms/demo-birth-certificate');
    assert.equal(got.body.version, 2);
    // JSON null removes the webhook (the body validation once turned null into '' and answered invalidUrl)
    const v3 = await call(t, partner, 'PUT', '/api/v1/cases/forms/demo-birth-certificate', { definition, webhookUrl: null });
    assert.equal(v3.status, 201, JSON.stringify(v3.body));
    const saved = await t.db.selectFrom('case_forms').select(['webhook_url', 'signing_secret']).where('service_id', '=', 'demo-birth-certificate').where('version', '=', 3).executeTakeFirstOrThrow();
    assert.deepEqual(saved, { webhook_url: null, signing_secret: null });
    const v4 = await call(t, partner, 'PUT', '/api/v1/cases/forms/demo-birth-certificate', { definition, webhookUrl: url });
    assert.equal(v4.body.version, 4);
    assert.match(v4.body.signingSecret, /^whsec_/, 'a webhook set again gets a new secret, shown once');
    secret = v4.body.signingSecret;
  });

  it('a client fills it in without JavaScript: pre-fill with consent, per-field errors, conditional page, draft, submission, signed delivery', async () => {
    const c = await makeClient(t, { given: 'Chloé', email: 'chloe.forms@client.example', lang: 'fr' });
    const headers = { cookie: c.cookie, accept: 'text/html' };
    const chooser = await t.app.inject({ url: '/fr/mon-dossier/demandes/nouvelle', headers });
    assert.match(chooser.body, /href="\/fr\/mon-dossier\/formulaires\/demo-birth-certificate"/);
    const start = await t.app.inject({ url: '/fr/mon-dossier/formulaires/demo-birth-certificate', headers });
    assert.equal(start.statusCode, 200);
    assert.match(start.body, /Utiliser les renseignements de votre dossier/);
    const begun = await t.app.inject({ method: 'POST', url: '/fr/mon-dossier/formulaires/demo-birth-certificate', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf(c.cookie)}&prefill=yes` });
    assert.equal(begun.statusCode, 303);
    const page1Url = begun.headers.location as string;
    assert.match(page1Url, /\/fr\/mon-dossier\/formulaires\/brouillons\/[0-9a-f-]{36}\/pages\/1$/);
    const consent = await t.db.selectFrom('consents').selectAll().where('client_id', '=', c.id).where('purpose', '=', 'form-prefill').executeTakeFirstOrThrow();
    assert.equal(consent.org_id, 'on-org');
    assert.deepEqual([...consent.fields].sort(), ['profile.email', 'profile.given_name']);
    const page1 = await t.app.inject({ url: page1Url, headers });
    assert.match(page1.body, /value="Chloé"/);
    assert.match(page1.body, /value="chloe.forms@client.example"/);
    assert.match(page1.body, /page 1 de 2/);

    const form = (payload: string) => t.app.inject({ method: 'POST', url: page1Url, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf(c.cookie)}&${payload}` });
    const bad = await form('given_name=&email=nope&action=continue');
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /href="#given_name"/);
    assert.match(bad.body, /href="#email"/);
    assert.match(bad.body, /href="#relationship"/);
    assert.match(bad.body, /Entrez une adresse de courriel/);
    assert.match(bad.body, /aria-describedby="email-error"/);
    // Save and come back later keeps partial answers.
    const saved = await form('given_name=Chlo%C3%A9&email=chloe.forms%40client.example&action=save');
    assert.equal(saved.statusCode, 303);
    const mine = await t.app.inject({ url: saved.headers.location as string, headers });
    assert.match(mine.body, /Vos réponses sont enregistrées/);
    assert.match(mine.body, /id="my-drafts"[\s\S]*href="\/fr\/mon-dossier\/formulaires\/demo-birth-certificate"/);
    const resumed = await t.app.inject({ method: 'POST', url: '/fr/mon-dossier/formulaires/demo-birth-certificate', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf(c.cookie)}` });
    assert.equal(resumed.headers.location, page1Url, 'resumes on the first incomplete page');

    const ok1 = await form('given_name=Chlo%C3%A9&email=chloe.forms%40client.example&relationship=child&action=continue');
    assert.equal(ok1.statusCode, 303);
    const page2Url = ok1.headers.location as string;
    assert.match(page2Url, /pages\/2$/, 'the child page appears because relationship = child');
    const future = await t.app.inject({ method: 'POST', url: page2Url, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf(c.cookie)}&child_name=Lou&child_birth=2999-01-01` });
    assert.equal(future.statusCode, 400);
    assert.match(future.body, /La date doit être aujourd’hui ou dans le passé/);
    const ok2 = await t.app.inject({ method: 'POST', url: page2Url, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf(c.cookie)}&child_name=Lou%20Tremblay&child_birth=2026-03-02` });
    const page3Url = ok2.headers.location as string;
    assert.match(page3Url, /pages\/3$/);
    const tooMany = await t.app.inject({ method: 'POST', url: page3Url, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf(c.cookie)}&copies=9` });
    assert.equal(tooMany.statusCode, 400);
    assert.match(tooMany.body, /trop grand/);
    const ok3 = await t.app.inject({ method: 'POST', url: page3Url, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf(c.cookie)}&copies=2` });
    const reviewUrl = ok3.headers.location as string;
    assert.match(reviewUrl, /verification$/);
    const review = await t.app.inject({ url: reviewUrl, headers });
    assert.match(review.body, /Celui de mon enfant/);
    assert.match(review.body, /Lou Tremblay/);
    assert.match(review.body, /Modifier<span class="govuk-visually-hidden"> Nom complet de l’enfant/);

    // Switching to "self" hides the child page: its answers are not submitted.
    await form('given_name=Chlo%C3%A9&email=chloe.forms%40client.example&relationship=self&action=continue');
    const submitted = await t.app.inject({ method: 'POST', url: reviewUrl, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf(c.cookie)}` });
    assert.equal(submitted.statusCode, 303);
    const caseId = (submitted.headers.location as string).split('/').pop()!;
    const row = await t.db.selectFrom('cases').selectAll().where('id', '=', caseId).executeTakeFirstOrThrow();
    assert.equal(row.form_version, 4);
    assert.deepEqual(row.form_data, { given_name: 'Chloé', email: 'chloe.forms@client.example', relationship: 'self', copies: '2' });
    assert.match(row.summary, /Nombre de copies: 2/);
    assert.ok(row.due_date);
    const again = await t.app.inject({ method: 'POST', url: reviewUrl, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf(c.cookie)}` });
    assert.equal(again.statusCode, 303, 'a submitted draft goes to its case');
    assert.equal((await t.db.selectFrom('cases').select('id').where('client_id', '=', c.id).execute()).length, 1, 'submitted once');

    // Delivered to the partner, signed, after one retry (the partner answered 503 first).
    const deadline = Date.now() + 45_000;
    let delivery;
    while (Date.now() < deadline) {
      delivery = await t.db.selectFrom('case_deliveries').selectAll().where('case_id', '=', caseId).executeTakeFirst();
      if (delivery?.status === 'delivered') break;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.equal(delivery?.status, 'delivered');
    assert.equal(delivery?.attempts, 2);
    const last = received[received.length - 1];
    assert.equal(last.headers['idempotency-key'], caseId);
    assert.ok(verifySignature(secret, last.body, last.headers['guichet-signature'] as string));
    const payload = JSON.parse(last.body);
    assert.equal(payload.type, 'guichet.case.submitted');
    assert.equal(payload.answers.copies, '2');
  });

  it('drafts belong to their client', async () => {
    const a = await makeClient(t);
    const b = await makeClient(t);
    const begun = await t.app.inject({ method: 'POST', url: '/en/my-file/forms/demo-birth-certificate', headers: { cookie: a.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf(a.cookie)}` });
    const url = begun.headers.location as string;
    assert.equal((await t.app.inject({ url, headers: { cookie: a.cookie, accept: 'text/html' } })).statusCode, 200);
    assert.equal((await t.app.inject({ url, headers: { cookie: b.cookie, accept: 'text/html' } })).statusCode, 404);
    const noForm = await t.app.inject({ url: '/en/my-file/forms/demo-dog-licence', headers: { cookie: a.cookie, accept: 'text/html' } });
    assert.equal(noForm.statusCode, 404);
  });
});
