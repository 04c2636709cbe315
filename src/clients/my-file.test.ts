/**
 * "My file" pages and API, and the authorisation matrix: a client sees only their own file; staff see a client
 * only with consent (one-time code) or a legal basis, every access is logged, and denials do not leak existence.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from '../../test/support/app';
import { clientCookie, createTestClient } from '../../test/support/clients';
import { grantConsent } from './consent';
import { getClient, addressHistory } from './accounts';
import { accessLogFor } from './access-log';

const form = (cookie: string, fields: Record<string, string | string[]>) => {
  const p = new URLSearchParams();
  p.set('_csrf', csrfFrom(cookie));
  for (const [k, v] of Object.entries(fields)) for (const x of ([] as string[]).concat(v)) p.append(k, x);
  return { payload: p.toString(), headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } };
};
const errorFields = (html: string) => [...html.matchAll(/data-field="([^"]+)" data-code="([^"]+)"/g)].map((m) => `${m[1]}:${m[2]}`);

describe('My file / Mon dossier', () => {
  let t: TestApp;
  let a: string; // client A
  let b: string; // client B
  let cookieA: string;
  let cookieB: string;

  before(async () => {
    t = await createTestApp({ catalogue: true });
    a = await createTestClient(t.db, { givenName: 'Ada', familyName: 'Ashe' });
    b = await createTestClient(t.db, { givenName: 'Bea', familyName: 'Brun' });
    cookieA = await clientCookie(t.app, t.db, a);
    cookieB = await clientCookie(t.app, t.db, b);
  });
  after(async () => t?.close());

  it('sends visitors who are not signed in to sign-in, keeping where they were going', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/en/my-file/consents', headers: { accept: 'text/html' } });
    assert.equal(r.statusCode, 303);
    assert.equal(r.headers.location, '/en/sign-in?returnTo=%2Fen%2Fmy-file%2Fconsents');
    const api = await t.app.inject({ method: 'GET', url: '/api/v1/me' });
    assert.equal(api.statusCode, 401);
    assert.equal(api.json().error.code, 'UNAUTHENTICATED');
    const page = await t.app.inject({ method: 'GET', url: '/fr/connexion' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Connexion/);
  });

  it('shows the file in English and French, with links to notices and requests', async () => {
    const en = await t.app.inject({ method: 'GET', url: '/en/my-file', headers: { cookie: cookieA } });
    assert.equal(en.statusCode, 200);
    assert.match(en.body, /Ada Ashe/);
    assert.match(en.body, /href="\/en\/my-file\/notices"/);
    assert.match(en.body, /href="\/en\/my-file\/requests"/);
    assert.match(en.body, /110 Laurier Avenue West/);
    const fr = await t.app.inject({ method: 'GET', url: '/fr/mon-dossier', headers: { cookie: cookieA } });
    assert.equal(fr.statusCode, 200);
    assert.match(fr.body, /<html lang="fr"/);
    assert.match(fr.body, /Mon dossier/);
    assert.match(fr.body, /href="\/fr\/mon-dossier\/avis"/);
    assert.match(fr.body, /hreflang="en" href="\/en\/my-file"/);
  });

  it('profile: bad input answers 400 with one code per field and stores nothing; good input is saved', async () => {
    const future = new Date(Date.now() + 5 * 86400_000).toISOString().slice(0, 10);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/en/my-file/profile',
      ...form(cookieA, { givenName: '', familyName: 'Ashe', birthDate: future, email: 'nope', preferredLang: 'en', contact: ['email'] }),
    });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(errorFields(bad.body), ['givenName:required', 'birthDate:future', 'email:email']);
    assert.match(bad.body, /This date cannot be in the future/);
    assert.match(bad.body, /value="nope"/, 'the form keeps what was typed');
    assert.equal((await getClient(t.db, a))?.given_name, 'Ada');

    const frBad = await t.app.inject({ method: 'POST', url: '/fr/mon-dossier/profil', ...form(cookieA, { givenName: 'Ada', familyName: 'Ashe', birthDate: '1990-13-01' }) });
    assert.equal(frBad.statusCode, 400);
    assert.match(frBad.body, /Ceci n’est pas valide/);

    const ok = await t.app.inject({
      method: 'POST',
      url: '/en/my-file/profile',
      ...form(cookieA, { givenName: 'Adèle', familyName: 'Ashe', birthDate: '1990-01-31', email: 'adele@example.ca', phone: '613 555 0100', preferredLang: 'fr', contact: ['email', 'sms'], accessibilityNeeds: 'Large print' }),
    });
    assert.equal(ok.statusCode, 303);
    assert.equal(ok.headers.location, '/en/my-file?saved=profile');
    const c = await getClient(t.db, a);
    assert.equal(c?.given_name, 'Adèle');
    assert.equal(c?.birth_date, '1990-01-31');
    assert.equal(c?.preferred_lang, 'fr');
    assert.deepEqual(c?.contact_preferences, { email: true, sms: true, mail: false });
    assert.equal(c?.accessibility_needs, 'Large print');
  });

  it('profile API: 400 VALIDATION_ERROR with field codes in the asked language, nothing stored', async () => {
    const res = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/me/profile?lang=fr',
      headers: { cookie: cookieB, 'x-csrf-token': csrfFrom(cookieB) },
      payload: { givenName: 'Bea', familyName: 'Brun', birthDate: '2999-01-01', phone: '12' },
    });
    assert.equal(res.statusCode, 400);
    const err = res.json().error;
    assert.equal(err.code, 'VALIDATION_ERROR');
    assert.deepEqual(err.details.map((d: any) => [d.field, d.code]), [['birthDate', 'future'], ['phone', 'phone']]);
    assert.match(err.details[0].message, /futur/);
    assert.equal((await getClient(t.db, b))?.birth_date, '1985-04-12');
    // schema-level validation too (unknown field)
    const unknown = await t.app.inject({ method: 'PUT', url: '/api/v1/me/profile', headers: { cookie: cookieB, 'x-csrf-token': csrfFrom(cookieB) }, payload: { isAdmin: true } });
    assert.equal(unknown.statusCode, 400);
    // CSRF is required with a session cookie
    const noCsrf = await t.app.inject({ method: 'PUT', url: '/api/v1/me/profile', headers: { cookie: cookieB }, payload: { givenName: 'X', familyName: 'Y' } });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal(noCsrf.json().error.code, 'CSRF_INVALID');
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: cookieB } });
    assert.equal(me.json().givenName, 'Bea');
    assert.equal(me.json().currentAddress.postalCode, 'K1P 1J1');
  });

  it('addresses: a bad postal code is refused; a new address closes the previous one', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/en/my-file/addresses', ...form(cookieB, { line1: '1 Main St', city: 'Ottawa', province: 'ON', postalCode: 'ABC 123' }) });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(errorFields(bad.body), ['postalCode:postalCode']);
    assert.equal((await addressHistory(t.db, b)).length, 1);
    const ok = await t.app.inject({ method: 'POST', url: '/en/my-file/addresses', ...form(cookieB, { line1: '1 Main St', city: 'Ottawa', province: 'ON', postalCode: 'k2p2j8', validFrom: '2025-06-01' }) });
    assert.equal(ok.statusCode, 303);
    const hist = await addressHistory(t.db, b);
    assert.deepEqual(hist.map((h) => [h.postal_code, h.valid_from, h.valid_to]), [['K2P 2J8', '2025-06-01', null], ['K1P 1J1', '2020-01-01', '2025-06-01']]);
    const page = await t.app.inject({ method: 'GET', url: '/en/my-file/addresses', headers: { cookie: cookieB } });
    assert.match(page.body, /K2P 2J8/);
    assert.match(page.body, /K1P 1J1/);
  });

  it('consents: listed with their basis; the client withdraws theirs; another client cannot', async () => {
    const mine = await grantConsent(t.db, { clientId: a, orgId: 'cra-arc', purpose: 'tell-us-once:change-of-address', fields: ['address'], legalBasis: 'consent' });
    await grantConsent(t.db, { clientId: a, orgId: 'esdc-edsc', purpose: 'benefits', fields: ['address', 'birth_date'], legalBasis: 'law', lawReference: 'Employment Insurance Act, s. 50' });
    const page = await t.app.inject({ method: 'GET', url: '/en/my-file/consents', headers: { cookie: cookieA } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Employment Insurance Act, s. 50/);
    assert.equal((page.body.match(/>Withdraw</g) ?? []).length, 1, 'only the consent can be withdrawn, not the legal basis');

    // client B tries to withdraw A's consent: 404, unchanged
    const other = await t.app.inject({ method: 'POST', url: `/en/my-file/consents/${mine}/withdraw`, ...form(cookieB, {}) });
    assert.equal(other.statusCode, 404);
    const apiOther = await t.app.inject({ method: 'POST', url: `/api/v1/me/consents/${mine}/withdraw`, headers: { cookie: cookieB, 'x-csrf-token': csrfFrom(cookieB) } });
    assert.equal(apiOther.statusCode, 404);
    assert.equal(apiOther.json().error.code, 'CONSENT_NOT_FOUND');
    const bList = await t.app.inject({ method: 'GET', url: '/api/v1/me/consents', headers: { cookie: cookieB } });
    assert.deepEqual(bList.json(), []);

    const ok = await t.app.inject({ method: 'POST', url: `/en/my-file/consents/${mine}/withdraw`, ...form(cookieA, {}) });
    assert.equal(ok.statusCode, 303);
    const row = await t.db.selectFrom('consents').selectAll().where('id', '=', mine).executeTakeFirstOrThrow();
    assert.ok(row.withdrawn_at);
    const after = await t.app.inject({ method: 'GET', url: '/fr/mon-dossier/consentements', headers: { cookie: cookieA } });
    assert.match(after.body, /Retiré le/);
  });

  it('staff: without consent a client file answers 404 exactly like a missing one, and nothing is logged', async () => {
    const agent = await staffCookie(t.app, 'staff-agent');
    const real = await t.app.inject({ method: 'GET', url: `/en/staff/clients/${b}`, headers: { cookie: agent } });
    const missing = await t.app.inject({ method: 'GET', url: '/en/staff/clients/00000000-0000-0000-0000-000000000000', headers: { cookie: agent } });
    assert.equal(real.statusCode, 404);
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(real.json(), missing.json());
    assert.doesNotMatch(real.body, /Bea/);
    assert.deepEqual(await accessLogFor(t.db, b), []);
    // not staff at all: sent to staff sign-in; an editor without agent role: 403
    const asClient = await t.app.inject({ method: 'GET', url: `/en/staff/clients/${b}`, headers: { cookie: cookieB, accept: 'text/html' } });
    assert.equal(asClient.statusCode, 303);
    assert.equal(asClient.headers.location, '/en/staff/sign-in');
    const editor = await staffCookie(t.app, 'staff-mto-editor');
    const ed = await t.app.inject({ method: 'GET', url: '/en/staff/clients/lookup', headers: { cookie: editor } });
    assert.equal(ed.statusCode, 403);
  });

  it('staff: with the client’s one-time code the agent opens the file, the access is logged and shown to the client', async () => {
    const codePage = await t.app.inject({ method: 'POST', url: '/en/my-file/agent-code', ...form(cookieB, {}) });
    assert.equal(codePage.statusCode, 200);
    assert.equal(codePage.headers['cache-control'], 'no-store');
    const code = /data-code="(\d{8})"/.exec(codePage.body)![1];

    const agent = await staffCookie(t.app, 'staff-agent');
    const wrong = await t.app.inject({ method: 'POST', url: '/en/staff/clients/lookup', ...form(agent, { code: '1234' }) });
    assert.equal(wrong.statusCode, 400);
    assert.deepEqual(errorFields(wrong.body), ['code:accessCode']);

    const redeem = await t.app.inject({ method: 'POST', url: '/en/staff/clients/lookup', ...form(agent, { code: `${code.slice(0, 4)} ${code.slice(4)}` }) });
    assert.equal(redeem.statusCode, 303);
    assert.equal(redeem.headers.location, `/en/staff/clients/${b}`);
    const file = await t.app.inject({ method: 'GET', url: redeem.headers.location!, headers: { cookie: agent } });
    assert.equal(file.statusCode, 200);
    assert.match(file.body, /Bea Brun/);
    assert.match(file.body, /K2P 2J8/);
    assert.match(file.body, /client’s consent/);

    // the code is spent
    const again = await t.app.inject({ method: 'POST', url: '/en/staff/clients/lookup', ...form(agent, { code }) });
    assert.equal(again.statusCode, 400);
    assert.match(again.body, /already used, or expired/);

    // another organisation's staff still cannot open it
    const cra = await staffCookie(t.app, 'staff-cra-partner');
    const craView = await t.app.inject({ method: 'GET', url: `/en/staff/clients/${b}`, headers: { cookie: cra } });
    assert.equal(craView.statusCode, 404);

    // logged: who, organisation, fields, purpose, basis
    const log = await accessLogFor(t.db, b);
    assert.equal(log.length, 1);
    assert.equal(log[0].actor_id, 'staff-agent');
    assert.equal(log[0].org_id, 'guichet');
    assert.equal(log[0].purpose, 'agent-access');
    assert.equal(log[0].legal_basis, 'consent');
    assert.ok(log[0].fields.includes('address'));
    const page = await t.app.inject({ method: 'GET', url: '/en/my-file/access-log', headers: { cookie: cookieB } });
    assert.match(page.body, /Alex Agent/);
    assert.match(page.body, /Help you at a counter or on the phone/);
    const api = await t.app.inject({ method: 'GET', url: '/api/v1/me/access-log', headers: { cookie: cookieB } });
    assert.equal(api.json()[0].actorName, 'Alex Agent');
    // client A's log does not show B's entries
    assert.deepEqual((await t.app.inject({ method: 'GET', url: '/api/v1/me/access-log', headers: { cookie: cookieA } })).json(), []);

    // the client withdraws the agent access: the agent is denied again
    const consent = await t.db.selectFrom('consents').select('id').where('client_id', '=', b).where('purpose', '=', 'agent-access').executeTakeFirstOrThrow();
    await t.app.inject({ method: 'POST', url: `/en/my-file/consents/${consent.id}/withdraw`, ...form(cookieB, {}) });
    const denied = await t.app.inject({ method: 'GET', url: `/en/staff/clients/${b}`, headers: { cookie: agent } });
    assert.equal(denied.statusCode, 404);
  });

  it('a person registers a business they own and sees it in their file', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/en/my-file/businesses', ...form(cookieA, { businessName: 'Ashe Bakery', businessNumber: '12' }) });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(errorFields(bad.body), ['businessNumber:businessNumber']);
    const ok = await t.app.inject({ method: 'POST', url: '/en/my-file/businesses', ...form(cookieA, { businessName: 'Ashe Bakery', businessNumber: '987654321' }) });
    assert.equal(ok.statusCode, 303);
    const page = await t.app.inject({ method: 'GET', url: '/en/my-file', headers: { cookie: cookieA } });
    assert.match(page.body, /Ashe Bakery \(987654321\) – owner/);
  });
});
