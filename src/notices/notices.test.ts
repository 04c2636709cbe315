/**
 * Tell Us Once end to end on the test database (PGlite or PostgreSQL): declarations fan out to real partner HTTP
 * servers (fast, slow, flapping, rejecting, failing, timing out) and a pull partner; each notice carries only its
 * entitled fields; statuses, consents, access log and staff alerts are checked; bad input stores nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, staffCookie, csrfFrom, type TestApp } from '../../test/support/app';
import { clientCookie, createTestClient } from '../../test/support/clients';
import { startPartner, type Partner } from '../../test/support/partners';
import { waitFor } from '../../test/support/wait';
import { saveSubscription, createApiKey, type SubscriptionInput } from './service';
import { verifyAccessLog } from '../clients/access-log';
import { seedDemoSubscriptions } from './demo';
import { sign } from './signing';

const ENV = {
  GUICHET_NOTICE_RETRY_BASE_S: '0.2',
  GUICHET_NOTICE_RETRY_MAX_S: '0.6',
  // long enough for the flapping partner's third attempt on a loaded machine (at 3 s a run at load average 10 dead-
  // lettered it before it answered); the failing and timing-out partners still fail within the waits below
  GUICHET_NOTICE_RETRY_WINDOW_S: '10',
  GUICHET_NOTICE_HTTP_TIMEOUT_MS: '400',
  GUICHET_NOTICE_POLL_S: '0.5',
  GUICHET_NOTICE_JOB_EXPIRE_S: '5',
  GUICHET_JOBS_MAINTENANCE_S: '1',
};

const base = (over: Partial<SubscriptionInput>): SubscriptionInput => ({
  orgId: 'on-moh',
  programEn: 'Program',
  programFr: 'Programme',
  purposeEn: 'Why',
  purposeFr: 'Pourquoi',
  eventTypes: ['change-of-address', 'death'],
  fields: ['subject.name', 'newAddress', 'effectiveDate'],
  legalBasis: 'consent',
  delivery: 'webhook',
  ...over,
});

const address = {
  newAddress: { line1: '50 Rideau Street', city: 'Ottawa', province: 'on', postalCode: 'k1n9j7' },
  effectiveDate: new Date().toISOString().slice(0, 10),
};

describe('tell us once', () => {
  let t: TestApp;
  const partners: Record<string, Partner> = {};
  let pullKey = '';
  let otherKey = '';

  before(async () => {
    t = await createTestApp({ catalogue: true, background: true, env: ENV });
    const specs: Array<[string, string, Parameters<typeof startPartner>[0], Partial<SubscriptionInput>]> = [
      ['fast', 'on-moh', { behaviour: 'fast' }, { fields: ['subject.name', 'subject.birthDate', 'newAddress', 'effectiveDate', 'deceasedName', 'dateOfDeath'], legalBasis: 'law', lawReference: 'Health Insurance Act (test)' }],
      ['slow', 'on-mto', { behaviour: 'slow', delayMs: 250 }, { fields: ['subject.name', 'newAddress'] }],
      ['flapping', 'ottawa', { behaviour: 'flapping', failures: 2 }, { fields: ['newAddress', 'previousAddress'] }],
      ['reject', 'on-mnr', { behaviour: 'reject', reason: 'We have no outdoors card for this person.' }, { fields: ['subject.name', 'newAddress'] }],
      ['fail', 'on-org', { behaviour: 'fail' }, { fields: ['newAddress'] }],
      ['timeout', 'on-pbr', { behaviour: 'timeout' }, { fields: ['newAddress'] }],
    ];
    for (const [name, org, behaviour, over] of specs) {
      const p = await startPartner(behaviour);
      const r = await saveSubscription(t.db, base({ id: `test-${name}`, orgId: org, programEn: `Test ${name}`, webhookUrl: p.url, ...over }), { staffId: 'staff-admin', allowLoopback: true });
      p.setSecret(r.signingSecret!);
      partners[name] = p;
    }
    await saveSubscription(t.db, base({ id: 'test-pull', orgId: 'cra-arc', delivery: 'pull', fields: ['subject.name', 'newAddress', 'effectiveDate'] }), { staffId: 'staff-admin', allowLoopback: true });
    pullKey = (await createApiKey(t.db, 'cra-arc', 'test', null)).key;
    otherKey = (await createApiKey(t.db, 'esdc-edsc', 'other', null)).key;
    // a subscription to another event type only
    await saveSubscription(t.db, base({ id: 'test-births-only', eventTypes: ['birth-of-a-child'], fields: ['childName'], webhookUrl: partners.fast.url }), { staffId: 'staff-admin', allowLoopback: true });
  });

  after(async () => {
    await t?.close();
    for (const p of Object.values(partners)) await p.close();
  });

  test('one declaration fans out to discrete notices, each with only its entitled fields, and reaches every final status', async () => {
    const clientId = await createTestClient(t.db, { givenName: 'Aline', familyName: 'Chrétien' } as any);
    const cookie = await clientCookie(t.app, t.db, clientId);
    const recipients = ['test-fast', 'test-slow', 'test-flapping', 'test-reject', 'test-fail', 'test-timeout', 'test-pull'];
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/me/declarations',
      headers: { cookie, 'x-csrf-token': csrfFrom(cookie) },
      payload: { eventType: 'change-of-address', data: { ...address, previousAddress: { line1: '110 Laurier Avenue West', city: 'Ottawa', province: 'ON', postalCode: 'K1P 1J1' } }, recipients },
    });
    assert.equal(res.statusCode, 201, res.body);
    const { declarationId, notices } = res.json() as { declarationId: string; notices: Array<{ id: string; subscriptionId: string }> };
    assert.equal(notices.length, recipients.length);
    assert.equal(new Set(notices.map((n) => n.id)).size, recipients.length);
    const idOf = (sub: string) => notices.find((n) => n.subscriptionId === sub)!.id;

    const statusOf = async (sub: string) => (await t.db.selectFrom('notices').select(['status', 'reason', 'attempts']).where('id', '=', idOf(sub)).executeTakeFirstOrThrow());
    await waitFor('fast delivered', async () => (await statusOf('test-fast')).status === 'delivered');
    await waitFor('slow delivered', async () => (await statusOf('test-slow')).status === 'delivered');
    await waitFor('flapping delivered', async () => (await statusOf('test-flapping')).status === 'delivered');
    await waitFor('reject rejected', async () => (await statusOf('test-reject')).status === 'rejected');
    await waitFor('fail failed', async () => (await statusOf('test-fail')).status === 'failed', 60_000);
    await waitFor('timeout failed', async () => (await statusOf('test-timeout')).status === 'failed', 60_000);

    // each partner got ONLY its entitled items
    const fastPayload = partners.fast.payloads.get(idOf('test-fast'));
    const ev = (p: any) => p.events['urn:guichet:tell-us-once:event:change-of-address:v1'];
    assert.deepEqual(Object.keys(ev(fastPayload)).sort(), ['effectiveDate', 'newAddress', 'subject.birthDate', 'subject.name']);
    assert.equal(ev(fastPayload).newAddress.postalCode, 'K1N 9J7');
    assert.equal(ev(fastPayload).newAddress.province, 'ON');
    assert.equal(fastPayload.jti, idOf('test-fast'));
    assert.equal(fastPayload.txn, declarationId);
    assert.deepEqual(Object.keys(ev(partners.slow.payloads.get(idOf('test-slow')))).sort(), ['newAddress', 'subject.name']);
    const flap = ev(partners.flapping.payloads.get(idOf('test-flapping')));
    assert.deepEqual(Object.keys(flap).sort(), ['newAddress', 'previousAddress']);
    assert.equal(flap['subject.name'], undefined);
    // pairwise subject ids differ per organisation
    assert.notEqual(fastPayload.sub_id.id, partners.slow.payloads.get(idOf('test-slow')).sub_id.id);

    // flapping: retried until it succeeded, applied once
    assert.equal(partners.flapping.attempts.get(idOf('test-flapping')), 3);
    assert.equal(partners.flapping.applied.get(idOf('test-flapping')), 1);
    assert.equal((await statusOf('test-reject')).reason, 'We have no outdoors card for this person.');
    assert.ok((await statusOf('test-fail')).attempts >= 3, 'failing partner retried several times');
    assert.ok(partners.timeout.received >= 2, 'timing-out partner retried');
    for (const p of Object.values(partners)) assert.equal(p.badSignatures, 0);

    // dead letters alert staff
    const alerts = await t.db.selectFrom('notice_alerts').select(['notice_id', 'kind']).where('resolved_at', 'is', null).execute();
    assert.ok(alerts.some((a) => a.notice_id === idOf('test-fail') && a.kind === 'dead-letter'));
    assert.ok(alerts.some((a) => a.notice_id === idOf('test-timeout')));

    // pull partner: not delivered until pulled; pulling delivers and logs; ack acknowledges
    assert.equal((await statusOf('test-pull')).status, 'pending');
    const feed = await t.app.inject({ method: 'GET', url: '/api/v1/partners/cra-arc/notices', headers: { authorization: `Bearer ${pullKey}` } });
    assert.equal(feed.statusCode, 200, feed.body);
    const items = feed.json().notices as Array<{ id: string; payload: any; status: string }>;
    const mine = items.find((n) => n.id === idOf('test-pull'))!;
    assert.ok(mine, 'pull feed lists the notice');
    assert.deepEqual(Object.keys(ev(mine.payload)).sort(), ['effectiveDate', 'newAddress', 'subject.name']);
    assert.equal((await statusOf('test-pull')).status, 'delivered');
    const ack = await t.app.inject({ method: 'POST', url: `/api/v1/partners/cra-arc/notices/${idOf('test-pull')}/ack`, headers: { authorization: `Bearer ${pullKey}` } });
    assert.equal(ack.statusCode, 200, ack.body);
    assert.equal((await statusOf('test-pull')).status, 'acknowledged');
    const feed2 = await t.app.inject({ method: 'GET', url: '/api/v1/partners/cra-arc/notices', headers: { authorization: `Bearer ${pullKey}` } });
    assert.ok(!(feed2.json().notices as any[]).some((n) => n.id === idOf('test-pull')), 'acknowledged notices leave the feed');

    // consent recorded per recipient; access log has one "received" entry per delivered/rejected/pulled notice, chain valid
    const consents = await t.db.selectFrom('consents').select(['org_id', 'purpose', 'fields', 'legal_basis']).where('client_id', '=', clientId).execute();
    assert.equal(consents.length, recipients.length);
    assert.ok(consents.every((c) => c.purpose === 'tell-us-once:change-of-address'));
    assert.equal(consents.find((c) => c.org_id === 'on-moh')!.legal_basis, 'law');
    const log = await t.db.selectFrom('access_log').select(['org_id', 'action', 'fields']).where('client_id', '=', clientId).execute();
    assert.deepEqual(log.map((l) => l.org_id).sort(), ['cra-arc', 'on-mnr', 'on-moh', 'on-mto', 'ottawa']);
    assert.ok(log.every((l) => l.action === 'received'));
    assert.deepEqual((await verifyAccessLog(t.db)).ok, true);

    // the client sees each recipient's status, in both languages, with the partner's reason
    const page = await t.app.inject({ method: 'GET', url: '/en/my-file/notices', headers: { cookie, accept: 'text/html' } });
    assert.equal(page.statusCode, 200);
    for (const s of ['Delivered', 'Refused by the program', 'Could not be delivered', 'Applied by the program']) assert.ok(page.body.includes(s), s);
    assert.ok(page.body.includes('We have no outdoors card for this person.'));
    const fr = await t.app.inject({ method: 'GET', url: '/fr/mon-dossier/avis', headers: { cookie, accept: 'text/html' } });
    assert.ok(fr.body.includes('Refusé par le programme') && fr.body.includes('Livré'));
  });

  test('the client adds recipients later: the new one gets its own notice', async () => {
    const clientId = await createTestClient(t.db);
    const cookie = await clientCookie(t.app, t.db, clientId);
    const h = { cookie, 'x-csrf-token': csrfFrom(cookie) };
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/me/declarations', headers: h, payload: { eventType: 'change-of-address', data: address, recipients: ['test-fast'] } });
    assert.equal(r.statusCode, 201, r.body);
    const { declarationId } = r.json();
    const again = await t.app.inject({ method: 'POST', url: `/api/v1/me/declarations/${declarationId}/recipients`, headers: h, payload: { recipients: ['test-fast'] } });
    assert.equal(again.statusCode, 400);
    assert.equal(again.json().error.details[0].code, 'alreadyTold');
    // through the page (no JavaScript): a form post
    const page = await t.app.inject({ method: 'POST', url: `/en/my-file/notices/${declarationId}/recipients`, headers: { cookie, accept: 'text/html' }, payload: { _csrf: csrfFrom(cookie), recipients: 'test-slow' } });
    assert.equal(page.statusCode, 303, page.body.slice(0, 300));
    const notices = await t.db.selectFrom('notices').select(['id', 'subscription_id']).where('declaration_id', '=', declarationId).execute();
    assert.deepEqual(notices.map((n) => n.subscription_id).sort(), ['test-fast', 'test-slow']);
    const slowId = notices.find((n) => n.subscription_id === 'test-slow')!.id;
    await waitFor('added recipient delivered', async () => partners.slow.applied.get(slowId) === 1);
  });

  test('bad input: malformed, oversized, inconsistent declarations answer 400 with field codes and store nothing', async () => {
    const clientId = await createTestClient(t.db);
    const cookie = await clientCookie(t.app, t.db, clientId);
    const h = { cookie, 'x-csrf-token': csrfFrom(cookie), 'content-type': 'application/json' };
    const count = async () => {
      const d = await t.db.selectFrom('declarations').select((eb) => eb.fn.countAll<number>().as('n')).where('client_id', '=', clientId).executeTakeFirstOrThrow();
      const n = await t.db.selectFrom('notices').select((eb) => eb.fn.countAll<number>().as('n')).where('client_id', '=', clientId).executeTakeFirstOrThrow();
      const c = await t.db.selectFrom('consents').select((eb) => eb.fn.countAll<number>().as('n')).where('client_id', '=', clientId).executeTakeFirstOrThrow();
      return Number(d.n) + Number(n.n) + Number(c.n);
    };
    const post = (payload: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/me/declarations?lang=fr', headers: h, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
    const codes = (r: { json(): any }) => Object.fromEntries((r.json().error.details ?? []).map((d: any) => [d.field, d.code]));
    const tomorrow = new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);

    let r = await post('{"eventType": "change-of-address", "data": {');
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().error.code, 'INVALID_JSON');

    r = await post({ eventType: 'change-of-address', data: { newAddress: { line1: '1 Main St', city: 'Ottawa', province: 'ZZ', postalCode: '12345' }, effectiveDate: '2026-02-30' }, recipients: ['test-fast'] });
    assert.equal(r.statusCode, 400);
    assert.deepEqual(codes(r), { 'data.newAddress.province': 'notAllowed', 'data.newAddress.postalCode': 'postalCode', 'data.effectiveDate': 'date' });
    assert.match(r.json().error.details[1].message, /code postal canadien/);

    r = await post({ eventType: 'death', data: { deceasedName: { givenName: 'Jean', familyName: 'Roy' }, deceasedBirthDate: '1950-05-01', dateOfDeath: '1949-01-01', placeOfDeath: 'Ottawa', declarantRole: 'executor' }, recipients: ['test-fast'] });
    assert.equal(r.statusCode, 400);
    assert.deepEqual(codes(r), { 'data.dateOfDeath': 'deathBeforeBirth' });

    r = await post({ eventType: 'birth-of-a-child', data: { childName: { givenName: 'Léa', familyName: 'Roy' }, childBirthDate: tomorrow, birthPlace: 'Ottawa' }, recipients: ['test-births-only'] });
    assert.deepEqual(codes(r), { 'data.childBirthDate': 'dateInFuture' });

    r = await post({ eventType: 'change-of-address', data: { ...address, newAddress: { ...address.newAddress, line1: 'x'.repeat(500) } }, recipients: ['test-fast'] });
    assert.deepEqual(codes(r), { 'data.newAddress.line1': 'tooLong' });

    r = await post({ eventType: 'change-of-address', data: { ...address, ssn: '123' }, recipients: ['test-fast'] });
    assert.deepEqual(codes(r), { 'data.ssn': 'unknown' });

    // inconsistent: a recipient that does not subscribe to this event, an unknown one, duplicates, none
    r = await post({ eventType: 'change-of-address', data: address, recipients: ['test-fast', 'test-births-only'] });
    assert.deepEqual(codes(r), { recipients: 'notAllowed' });
    r = await post({ eventType: 'change-of-address', data: address, recipients: ['test-fast', 'test-fast'] });
    assert.deepEqual(codes(r), { recipients: 'duplicate' });
    r = await post({ eventType: 'change-of-address', data: address, recipients: [] });
    assert.deepEqual(codes(r), { recipients: 'chooseOne' });
    r = await post({ eventType: 'business-change-of-address', data: address, recipients: ['test-fast'] });
    assert.equal(r.statusCode, 400);
    r = await post({ eventType: 'teleportation', data: address, recipients: ['test-fast'] });
    assert.deepEqual(codes(r), { eventType: 'notAllowed' });
    r = await post({ eventType: 'change-of-address', data: address, recipients: Array.from({ length: 60 }, (_, i) => `s-${i}`) });
    assert.equal(r.statusCode, 400);
    assert.deepEqual(codes(r), { recipients: 'tooLong' });
    r = await post({ eventType: 'change-of-address', data: { ...address, blob: 'x'.repeat(40_000) }, recipients: ['test-fast'] });
    assert.equal(r.statusCode, 413);

    // the form page: error summary with a link per bad field, nothing stored
    const form = await t.app.inject({
      method: 'POST',
      url: '/fr/dites-le-nous-une-fois/changement-d-adresse/verifier',
      headers: { cookie, accept: 'text/html' },
      payload: { _csrf: csrfFrom(cookie), 'newAddress.line1': '', 'newAddress.city': 'Ottawa', 'newAddress.province': 'ON', 'newAddress.postalCode': 'ABC', effectiveDate: '' },
    });
    assert.equal(form.statusCode, 400);
    assert.ok(form.body.includes('govuk-error-summary'));
    assert.ok(form.body.includes('href="#f-newAddress-line1"') && form.body.includes('href="#f-newAddress-postalCode"') && form.body.includes('href="#f-effectiveDate"'));
    assert.ok(form.body.includes('Entrez un code postal canadien'));
    assert.equal(await count(), 0, 'nothing stored');
  });

  test('pages: declare through the forms without JavaScript, in French', async () => {
    const clientId = await createTestClient(t.db);
    const cookie = await clientCookie(t.app, t.db, clientId);
    const start = await t.app.inject({ method: 'GET', url: '/fr/dites-le-nous-une-fois', headers: { cookie, accept: 'text/html' } });
    assert.equal(start.statusCode, 200);
    assert.ok(start.body.includes('Changement d’adresse'));
    const form = await t.app.inject({ method: 'GET', url: '/fr/dites-le-nous-une-fois/changement-d-adresse', headers: { cookie, accept: 'text/html' } });
    assert.equal(form.statusCode, 200);
    assert.ok(form.body.includes('name="newAddress.postalCode"'));
    const fields = { 'newAddress.line1': '50 rue Rideau', 'newAddress.line2': '', 'newAddress.city': 'Ottawa', 'newAddress.province': 'ON', 'newAddress.postalCode': 'K1N 9J7', effectiveDate: address.effectiveDate };
    const check = await t.app.inject({ method: 'POST', url: '/fr/dites-le-nous-une-fois/changement-d-adresse/verifier', headers: { cookie, accept: 'text/html' }, payload: { _csrf: csrfFrom(cookie), ...fields } });
    assert.equal(check.statusCode, 200, check.body.slice(0, 500));
    assert.ok(check.body.includes('value="test-fast"'), 'recipients offered');
    assert.ok(!check.body.includes('value="test-births-only"'), 'only subscribers of this event are offered');
    assert.ok(check.body.includes('Health Insurance Act (test)'), 'legal basis explained');
    const noChoice = await t.app.inject({ method: 'POST', url: '/fr/dites-le-nous-une-fois/changement-d-adresse/envoyer', headers: { cookie, accept: 'text/html' }, payload: { _csrf: csrfFrom(cookie), 'newAddress.line1': '50 rue Rideau', 'newAddress.city': 'Ottawa', 'newAddress.province': 'ON', 'newAddress.postalCode': 'K1N 9J7', effectiveDate: address.effectiveDate } });
    assert.equal(noChoice.statusCode, 400);
    assert.ok(noChoice.body.includes('Choisissez au moins un programme.'));
    const send = await t.app.inject({
      method: 'POST',
      url: '/fr/dites-le-nous-une-fois/changement-d-adresse/envoyer',
      headers: { cookie, accept: 'text/html' },
      payload: { _csrf: csrfFrom(cookie), 'newAddress.line1': '50 rue Rideau', 'newAddress.city': 'Ottawa', 'newAddress.province': 'ON', 'newAddress.postalCode': 'K1N 9J7', effectiveDate: address.effectiveDate, recipients: ['test-fast', 'test-slow'] },
    });
    assert.equal(send.statusCode, 303, send.body.slice(0, 300));
    assert.match(send.headers.location as string, /^\/fr\/mon-dossier\/avis\/[0-9a-f-]{36}\?sent=1$/);
    const id = /avis\/([0-9a-f-]{36})/.exec(send.headers.location as string)![1];
    const ids = (await t.db.selectFrom('notices').select('id').where('declaration_id', '=', id).execute()).map((n) => n.id);
    await waitFor('both delivered', async () => ids.every((n) => partners.fast.applied.has(n) || partners.slow.applied.has(n)));
    const detail = await t.app.inject({ method: 'GET', url: send.headers.location as string, headers: { cookie, accept: 'text/html' } });
    assert.equal(detail.statusCode, 200);
    assert.ok(detail.body.includes('Vos avis sont en route'));
    // the public list, in both languages
    const who = await t.app.inject({ method: 'GET', url: '/en/tell-us-once/who-can-be-told', headers: { accept: 'text/html' } });
    assert.equal(who.statusCode, 200);
    assert.ok(who.body.includes('Test fast') && who.body.includes('Health Insurance Act (test)'));
    assert.ok(!who.body.includes('whsec_'), 'no secrets on the public page');
  });

  test('pages: a declaration form is sent once (Back, then Send again); dates in the locale; honest pre-selection hint', async () => {
    const clientId = await createTestClient(t.db);
    const cookie = await clientCookie(t.app, t.db, clientId);
    const fields = { 'newAddress.line1': '50 Rideau Street', 'newAddress.city': 'Ottawa', 'newAddress.province': 'ON', 'newAddress.postalCode': 'K1N 9J7', effectiveDate: address.effectiveDate };
    const check = await t.app.inject({ method: 'POST', url: '/en/tell-us-once/change-of-address/check', headers: { cookie, accept: 'text/html' }, payload: { _csrf: csrfFrom(cookie), ...fields } });
    assert.equal(check.statusCode, 200, check.body.slice(0, 300));
    const token = /name="formToken" value="([0-9a-f-]{36})"/.exec(check.body)?.[1];
    assert.ok(token, 'the send form carries a one-time token');
    // the effective date in the reader's language, not ISO
    const [y, m, d] = address.effectiveDate.split('-').map(Number);
    const month = new Date(Date.UTC(y, m - 1, d, 12)).toLocaleString('en-CA', { month: 'long', timeZone: 'UTC' });
    assert.ok(check.body.includes(`${month} ${d}, ${y}`), `date shown as ${month} ${d}, ${y}`);
    assert.ok(!check.body.includes(`>${address.effectiveDate}<`) && !new RegExp(`\\s${address.effectiveDate}\\s`).test(check.body));
    // a new client deals with no program yet: the hint does not claim that some are selected
    assert.ok(!/checked/.test(check.body.split('name="recipients"')[1] ?? ''), 'nothing pre-selected');
    assert.ok(check.body.includes('Choose the programs to tell.'));
    assert.ok(!check.body.includes('Programs you already deal with are selected'));
    const send = () =>
      t.app.inject({ method: 'POST', url: '/en/tell-us-once/change-of-address/send', headers: { cookie, accept: 'text/html' }, payload: { _csrf: csrfFrom(cookie), formToken: token!, ...fields, recipients: ['test-fast'] } });
    const first = await send();
    assert.equal(first.statusCode, 303, first.body.slice(0, 300));
    const again = await send();
    assert.equal(again.statusCode, 303);
    assert.equal(again.headers.location, first.headers.location, 'the second send shows the first declaration');
    const [a1, a2] = await Promise.all([send(), send()]);
    assert.deepEqual([a1.headers.location, a2.headers.location], [first.headers.location, first.headers.location]);
    const decls = await t.db.selectFrom('declarations').select('id').where('client_id', '=', clientId).execute();
    assert.equal(decls.length, 1, 'one declaration');
    const notices = await t.db.selectFrom('notices').select('id').where('client_id', '=', clientId).execute();
    assert.equal(notices.length, 1, 'one notice');
    // now the client deals with that program: the next check page pre-selects it and says so
    const next = await t.app.inject({ method: 'POST', url: '/en/tell-us-once/change-of-address/check', headers: { cookie, accept: 'text/html' }, payload: { _csrf: csrfFrom(cookie), ...fields } });
    assert.ok(next.body.includes('Programs you already deal with are selected'));
    assert.match(next.body, /value="test-fast" checked/);
    assert.notEqual(/name="formToken" value="([0-9a-f-]{36})"/.exec(next.body)?.[1], token, 'a new form, a new token');
  });

  test('authorisation matrix: partners see only their own notices, clients only their own file; denials do not leak', async () => {
    const a = await createTestClient(t.db);
    const b = await createTestClient(t.db);
    const ca = await clientCookie(t.app, t.db, a);
    const cb = await clientCookie(t.app, t.db, b);
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/me/declarations', headers: { cookie: ca, 'x-csrf-token': csrfFrom(ca) }, payload: { eventType: 'change-of-address', data: address, recipients: ['test-pull'] } });
    assert.equal(r.statusCode, 201, r.body);
    const { declarationId, notices } = r.json();
    const noticeId = notices[0].id;

    // partner: no key / bad key → 401; another org's key on this org's feed → 404; on its own feed it does not see cra's notices
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/partners/cra-arc/notices' })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/partners/cra-arc/notices', headers: { authorization: 'Bearer gpk_' + 'x'.repeat(43) } })).statusCode, 401);
    const cross = await t.app.inject({ method: 'GET', url: '/api/v1/partners/cra-arc/notices', headers: { authorization: `Bearer ${otherKey}` } });
    assert.equal(cross.statusCode, 404);
    const own = await t.app.inject({ method: 'GET', url: '/api/v1/partners/esdc-edsc/notices', headers: { authorization: `Bearer ${otherKey}` } });
    assert.equal(own.statusCode, 200);
    assert.equal(own.json().notices.length, 0);
    // acking another org's notice through its own path: 404, same answer as a notice that does not exist
    const ackOther = await t.app.inject({ method: 'POST', url: `/api/v1/partners/esdc-edsc/notices/${noticeId}/ack`, headers: { authorization: `Bearer ${otherKey}` } });
    const ackNone = await t.app.inject({ method: 'POST', url: `/api/v1/partners/esdc-edsc/notices/00000000-0000-4000-8000-000000000000/ack`, headers: { authorization: `Bearer ${otherKey}` } });
    assert.equal(ackOther.statusCode, 404);
    assert.equal(ackNone.statusCode, 404);
    assert.deepEqual(ackOther.json(), ackNone.json());
    const rejOther = await t.app.inject({ method: 'POST', url: `/api/v1/partners/cra-arc/notices/${noticeId}/reject`, headers: { authorization: `Bearer ${otherKey}` }, payload: { reason: 'no' } });
    assert.equal(rejOther.statusCode, 404);
    // a partner key is not a client session: no access to clients' declarations or profiles
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/me/declarations', headers: { authorization: `Bearer ${pullKey}` } })).statusCode, 401);
    // reject needs a reason; the right partner can reject with one
    const noReason = await t.app.inject({ method: 'POST', url: `/api/v1/partners/cra-arc/notices/${noticeId}/reject`, headers: { authorization: `Bearer ${pullKey}` }, payload: { reason: '' } });
    assert.equal(noReason.statusCode, 400);
    const rej = await t.app.inject({ method: 'POST', url: `/api/v1/partners/cra-arc/notices/${noticeId}/reject`, headers: { authorization: `Bearer ${pullKey}` }, payload: { reason: 'Not our client <b>at all</b>' } });
    assert.equal(rej.statusCode, 200, rej.body);
    const row = await t.db.selectFrom('notices').select(['status', 'reason']).where('id', '=', noticeId).executeTakeFirstOrThrow();
    assert.deepEqual(row, { status: 'rejected', reason: 'Not our client b at all /b' });

    // client B cannot see or extend client A's declaration (404, like a missing one)
    const pageB = await t.app.inject({ method: 'GET', url: `/en/my-file/notices/${declarationId}`, headers: { cookie: cb, accept: 'text/html' } });
    assert.equal(pageB.statusCode, 404);
    const addB = await t.app.inject({ method: 'POST', url: `/api/v1/me/declarations/${declarationId}/recipients`, headers: { cookie: cb, 'x-csrf-token': csrfFrom(cb) }, payload: { recipients: ['test-fast'] } });
    assert.equal(addB.statusCode, 404);
    const listB = await t.app.inject({ method: 'GET', url: '/api/v1/me/declarations', headers: { cookie: cb } });
    assert.equal(listB.json().declarations.length, 0);
    // not signed in
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/me/declarations' })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: '/en/my-file/notices', headers: { accept: 'text/html' } })).statusCode, 401);
    // CSRF: a cookie-authenticated POST without the token is refused
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/me/declarations', headers: { cookie: ca }, payload: { eventType: 'change-of-address', data: address, recipients: ['test-fast'] } })).statusCode, 403);

    // subscriptions: only one-stop admin/manager staff
    const sub = { orgId: 'on-moh', programEn: 'X', programFr: 'X', purposeEn: 'x', purposeFr: 'x', eventTypes: ['death'], fields: ['deceasedName'], legalBasis: 'consent', delivery: 'pull' };
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/notice-subscriptions', headers: { cookie: ca, 'x-csrf-token': csrfFrom(ca) }, payload: sub })).statusCode, 401);
    const agent = await staffCookie(t.app, 'staff-agent');
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/notice-subscriptions', headers: { cookie: agent, 'x-csrf-token': csrfFrom(agent) }, payload: sub })).statusCode, 403);
    const admin = await staffCookie(t.app, 'staff-admin');
    const ok = await t.app.inject({ method: 'POST', url: '/api/v1/notice-subscriptions', headers: { cookie: admin, 'x-csrf-token': csrfFrom(admin) }, payload: sub });
    assert.equal(ok.statusCode, 201, ok.body);
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/notice-subscriptions', headers: { cookie: admin, 'x-csrf-token': csrfFrom(admin) }, payload: { ...sub, fields: ['newAddress'], delivery: 'webhook', webhookUrl: 'ftp://x' } });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(bad.json().error.details.map((d: any) => [d.field, d.code]), [['fields', 'notInEvents'], ['webhookUrl', 'url']]);
    const staffPage = await t.app.inject({ method: 'GET', url: '/en/staff/tell-us-once', headers: { cookie: admin, accept: 'text/html' } });
    assert.equal(staffPage.statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: '/en/staff/tell-us-once', headers: { cookie: agent, accept: 'text/html' } })).statusCode, 403);
  });

  test('demo subscriptions (npm start): seeded once, their inbox verifies signatures', async () => {
    assert.equal(await seedDemoSubscriptions(t.db, 'http://localhost:3000'), 6);
    assert.equal(await seedDemoSubscriptions(t.db, 'http://localhost:3000'), 0, 'idempotent');
    const s = await t.db.selectFrom('notice_subscriptions').select(['webhook_url', 'signing_secret']).where('id', '=', 'demo-health-card').executeTakeFirstOrThrow();
    assert.equal(s.webhook_url, 'http://localhost:3000/demo/partner-inbox/demo-health-card');
    const body = JSON.stringify({ jti: 'x' });
    const ok = await t.app.inject({ method: 'POST', url: '/demo/partner-inbox/demo-health-card', headers: { 'content-type': 'application/json', 'guichet-signature': sign(s.signing_secret!, body) }, payload: body });
    assert.equal(ok.statusCode, 200, ok.body);
    const bad = await t.app.inject({ method: 'POST', url: '/demo/partner-inbox/demo-health-card', headers: { 'content-type': 'application/json', 'guichet-signature': sign('wrong', body) }, payload: body });
    assert.equal(bad.statusCode, 401);
    // the check page names each program once with its organisation, never "(…) (Canada Revenue Agency)"
    const cookie = await clientCookie(t.app, t.db, await createTestClient(t.db));
    const fields = { 'newAddress.line1': '50 Rideau Street', 'newAddress.city': 'Ottawa', 'newAddress.province': 'ON', 'newAddress.postalCode': 'K1N 9J7', effectiveDate: address.effectiveDate };
    for (const [url, org] of [['/en/tell-us-once/change-of-address/check', 'Canada Revenue Agency'], ['/fr/dites-le-nous-une-fois/changement-d-adresse/verifier', 'Agence du revenu du Canada']]) {
      const check = await t.app.inject({ method: 'POST', url, headers: { cookie, accept: 'text/html' }, payload: { _csrf: csrfFrom(cookie), ...fields } });
      assert.equal(check.statusCode, 200);
      assert.ok(check.body.includes('value="demo-cra-benefits"'));
      assert.ok(!check.body.includes(`) (${org})`), `no doubled organisation: ${org}`);
      assert.ok(/Ontario health card \(OHIP\) \(Ontario Ministry of Health|Carte Santé de l’Ontario \(Assurance-santé\) \(Ministère de la Santé/.test(check.body), 'other programs keep their organisation');
    }
  });
});
