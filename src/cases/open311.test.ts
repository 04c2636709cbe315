/** Open311 GeoReport v2 with requests shaped as the specification shows (form-encoded POST, .json paths). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../test/support/app';
import { call, makeStaff } from './test/helpers';
import { endOfDayToronto } from './open311';

const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('Open311 GeoReport v2', () => {
  let t: TestApp;
  let apiKey: string;
  let mtoKey: string;
  before(async () => {
    t = await createTestApp({ catalogue: true });
    const mgr = await makeStaff(t, 'staff-ottawa-mgr', 'ottawa', ['manager']);
    const k = await call(t, mgr, 'POST', '/api/v1/cases/open311-keys', { label: '311 app' });
    assert.equal(k.status, 201);
    apiKey = k.body.apiKey;
    const mtoMgr = await makeStaff(t, 'staff-mto-mgr', 'on-mto', ['manager']);
    mtoKey = (await call(t, mtoMgr, 'POST', '/api/v1/cases/open311-keys', { label: 'MTO' })).body.apiKey;
    const agent = await makeStaff(t, 'staff-ottawa-agent-only', 'ottawa', ['agent']);
    assert.equal((await call(t, agent, 'POST', '/api/v1/cases/open311-keys', { label: 'x' })).status, 403, 'only managers create keys');
  });
  after(async () => t.close());

  it('expected_datetime carries the Toronto offset of that day (EST or EDT)', () => {
    assert.equal(endOfDayToronto('2026-01-15'), '2026-01-15T23:59:59-05:00');
    assert.equal(endOfDayToronto('2026-07-15'), '2026-07-15T23:59:59-04:00');
  });

  it('GET services.json lists municipal services; jurisdiction_id filters; French with lang=fr', async () => {
    const res = await t.app.inject('/open311/v2/services.json');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /application\/json/);
    const list = res.json();
    const dog = list.find((s: any) => s.service_code === 'demo-dog-licence');
    assert.ok(dog);
    assert.deepEqual(Object.keys(dog).sort(), ['description', 'group', 'keywords', 'metadata', 'service_code', 'service_name', 'type']);
    assert.equal(dog.type, 'realtime');
    assert.equal(dog.service_name, 'Dog and cat licence');
    assert.ok(!list.some((s: any) => s.service_code === 'demo-birth-certificate'), 'provincial services are not in the default municipal list');
    const on = (await t.app.inject('/open311/v2/services.json?jurisdiction_id=CA-ON&lang=fr')).json();
    assert.ok(on.some((s: any) => s.service_code === 'demo-birth-certificate' && s.service_name === 'Certificat de naissance'));
    assert.ok(on.some((s: any) => s.service_code === 'demo-dog-licence'), 'CA-ON includes CA-ON-ottawa');
  });

  it('GET services/{code}.json gives the definition; unknown codes answer the Open311 error format', async () => {
    const def = await t.app.inject('/open311/v2/services/demo-dog-licence.json');
    assert.equal(def.statusCode, 200);
    assert.equal(def.json().service_code, 'demo-dog-licence');
    assert.equal(def.json().attributes[0].code, 'contact_preference');
    assert.equal(def.json().attributes[0].datatype, 'singlevaluelist');
    // A service with an online form exposes its fields as attributes.
    const part = await makeStaff(t, 'staff-ottawa-partner', 'ottawa', ['partner']);
    const form = await call(t, part, 'PUT', '/api/v1/cases/forms/demo-dog-licence', {
      definition: {
        title: { en: 'Pet licence', fr: 'Permis d’animal' },
        pages: [{ id: 'pet', title: { en: 'Your pet', fr: 'Votre animal' }, fields: [
          { name: 'species', type: 'radio', required: true, label: { en: 'Species', fr: 'Espèce' }, options: [{ value: 'dog', label: { en: 'Dog', fr: 'Chien' } }, { value: 'cat', label: { en: 'Cat', fr: 'Chat' } }] },
          { name: 'pet_name', type: 'text', label: { en: 'Name', fr: 'Nom' } },
        ] }],
      },
    });
    assert.equal(form.status, 201, JSON.stringify(form.body));
    const withForm = (await t.app.inject('/open311/v2/services/demo-dog-licence.json?lang=fr')).json();
    const species = withForm.attributes.find((a: any) => a.code === 'species');
    assert.equal(species.datatype, 'singlevaluelist');
    assert.equal(species.required, true);
    assert.equal(species.description, 'Espèce');
    assert.deepEqual(species.values, [{ key: 'dog', name: 'Chien' }, { key: 'cat', name: 'Chat' }]);
    assert.equal(withForm.attributes.find((a: any) => a.code === 'pet_name').datatype, 'string');
    const missing = await t.app.inject('/open311/v2/services/nope.json');
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(Object.keys(missing.json()[0]).sort(), ['code', 'description']);
    assert.equal(missing.json()[0].code, 404);
    const xml = await t.app.inject('/open311/v2/services/demo-dog-licence.xml');
    assert.equal(xml.statusCode, 404);
    assert.equal(xml.json()[0].code, 404);
  });

  it('POST requests.json creates a case from a form-encoded request and GET finds it', async () => {
    const post = await t.app.inject({
      method: 'POST',
      url: '/open311/v2/requests.json',
      headers: FORM,
      payload: form({
        api_key: apiKey,
        service_code: 'demo-dog-licence',
        lat: '45.4215',
        long: '-75.6972',
        address_string: '110 Laurier Ave W, Ottawa',
        email: 'reporter@example.org',
        first_name: 'Pat',
        last_name: 'Doe',
        phone: '613-555-0142',
        description: 'Found a dog without a tag near City Hall',
        'attribute[contact_preference]': 'email',
      }),
    });
    assert.equal(post.statusCode, 200, post.body);
    const [created] = post.json();
    assert.match(created.service_request_id, /^G-\d{4}-\d{6}$/);
    assert.ok(created.service_notice);
    const c = await t.db.selectFrom('cases').selectAll().where('reference', '=', created.service_request_id).executeTakeFirstOrThrow();
    assert.equal(c.responsible_org_id, 'ottawa');
    assert.equal(c.latitude, 45.4215);
    assert.equal(c.created_by_kind, 'partner');
    assert.deepEqual(c.form_data, { open311_attributes: { contact_preference: 'email' } });
    const reporter = await t.db.selectFrom('clients').selectAll().where('id', '=', c.client_id).executeTakeFirstOrThrow();
    assert.equal(reporter.oidc_subject, null, 'an unverified contact, never merged into a signed-in account');
    assert.equal(reporter.contact_preferences.email, true);
    const quiet = await t.app.inject({ method: 'POST', url: '/open311/v2/requests.json', headers: FORM, payload: form({ api_key: apiKey, service_code: 'demo-dog-licence', address_string: 'Bank St', email: 'quiet@example.org', 'attribute[contact_preference]': 'none' }) });
    assert.equal(quiet.statusCode, 200);
    const quietCase = await t.db.selectFrom('cases').select('client_id').where('reference', '=', quiet.json()[0].service_request_id).executeTakeFirstOrThrow();
    const quietClient = await t.db.selectFrom('clients').select('contact_preferences').where('id', '=', quietCase.client_id).executeTakeFirstOrThrow();
    assert.equal(quietClient.contact_preferences.email, false, 'attribute[contact_preference]=none is honoured');

    const one = await t.app.inject({ url: `/open311/v2/requests/${created.service_request_id}.json`, headers: { 'x-api-key': apiKey } });
    assert.equal(one.statusCode, 200);
    const [r] = one.json();
    assert.equal(r.status, 'open');
    assert.equal(r.service_code, 'demo-dog-licence');
    assert.equal(r.lat, 45.4215);
    assert.equal(r.long, -75.6972);
    assert.equal(r.address, '110 Laurier Ave W, Ottawa');
    assert.match(r.requested_datetime, /^\d{4}-\d{2}-\d{2}T/);
    assert.ok(!('email' in r), 'no personal contact data in the list');

    const list = await t.app.inject({ url: `/open311/v2/requests.json?service_code=demo-dog-licence&status=open`, headers: { 'x-api-key': apiKey } });
    assert.ok(list.json().some((x: any) => x.service_request_id === created.service_request_id));
    const closed = await t.app.inject({ url: `/open311/v2/requests.json?status=closed`, headers: { 'x-api-key': apiKey } });
    assert.ok(!closed.json().some((x: any) => x.service_request_id === created.service_request_id));
    // Another organisation's key does not see the city's requests.
    const other = await t.app.inject({ url: `/open311/v2/requests/${created.service_request_id}.json`, headers: { 'x-api-key': mtoKey } });
    assert.equal(other.statusCode, 404);
  });

  it('answers bad requests with arrays of { code, description }, and writes nothing', async () => {
    const count = async () => Number((await t.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const cases: Array<[Record<string, string>, number, RegExp]> = [
      [{ service_code: 'demo-dog-licence', address_string: 'x' }, 403, /api_key/],
      [{ api_key: 'wrong', service_code: 'demo-dog-licence', address_string: 'x' }, 403, /api_key/],
      [{ api_key: apiKey, address_string: 'x' }, 400, /service_code/],
      [{ api_key: apiKey, service_code: 'nope', address_string: 'x' }, 404, /nope/],
      [{ api_key: apiKey, service_code: 'demo-dog-licence' }, 400, /location|lat/i],
      [{ api_key: apiKey, service_code: 'demo-dog-licence', lat: '45.4' }, 400, /lat/],
      [{ api_key: apiKey, service_code: 'demo-dog-licence', lat: 'abc', long: '-75' }, 400, /lat/],
      [{ api_key: apiKey, service_code: 'demo-dog-licence', address_string: 'x', email: 'not-an-email' }, 400, /email/],
      [{ api_key: apiKey, service_code: 'demo-birth-certificate', address_string: 'x' }, 403, /api_key/],
    ];
    for (const [payload, status, re] of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/open311/v2/requests.json', headers: FORM, payload: form(payload) });
      assert.equal(res.statusCode, status, `${JSON.stringify(payload)} → ${res.body}`);
      const body = res.json();
      assert.ok(Array.isArray(body));
      assert.equal(body[0].code, status);
      assert.match(body[0].description, re);
    }
    const fr = await t.app.inject({ method: 'POST', url: '/open311/v2/requests.json?lang=fr', headers: FORM, payload: form({ api_key: apiKey, service_code: 'demo-dog-licence' }) });
    assert.match(fr.json()[0].description, /Un lieu est obligatoire/);
    const badDate = await t.app.inject({ url: `/open311/v2/requests.json?start_date=yesterday`, headers: { 'x-api-key': apiKey } });
    assert.equal(badDate.statusCode, 400);
    assert.match(badDate.json()[0].description, /start_date/);
    const noKey = await t.app.inject('/open311/v2/requests.json');
    assert.equal(noKey.statusCode, 403);
    assert.equal(await count(), before);
  });
});
