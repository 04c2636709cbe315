import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from '../../../test/support/app';
import { createTestDb, type TestDatabase } from '../../../test/support/db';
import { buildCatalogueJsonLd } from './export';
import { CpsvImportError, importCpsv, importCpsvFile } from './import';
import { jsonLdToStore } from './rdf';

const BASE = 'http://localhost:3000';

/** The normalised form of an export: its RDF triples as sorted strings, without the catalogue's modification time. */
async function normalised(doc: unknown): Promise<string[]> {
  const store = await jsonLdToStore(doc);
  return store
    .getQuads(null, null, null, null)
    .filter((q) => !(q.subject.value === `${BASE}/id/catalogue` && q.predicate.value === 'http://purl.org/dc/terms/modified'))
    .map((q) => {
      const o = q.object as any;
      const obj = o.termType === 'Literal' ? `${JSON.stringify(o.value)}${o.language ? `@${o.language}` : `^^${o.datatype.value}`}` : `<${o.value}>`;
      return `<${q.subject.value}> <${q.predicate.value}> ${obj}`;
    })
    .sort();
}

const count = async (db: TestDatabase['db'], table: 'services' | 'organisations' | 'events' | 'service_costs' | 'service_versions') =>
  Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describe('CPSV-AP 3.2.0 import', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  let exported: Record<string, any>;

  before(async () => {
    [source, target] = await Promise.all([createTestDb({ catalogue: true }), createTestDb()]);
    exported = await buildCatalogueJsonLd(source.db, { baseUrl: BASE });
  });
  after(async () => {
    await source.cleanup();
    await target.cleanup();
  });

  it('round-trips: export, import into an empty database, export again describes the same services', async () => {
    assert.equal(await count(target.db, 'services'), 0);
    const started = Date.now();
    const report = await importCpsv(target.db, JSON.parse(JSON.stringify(exported)));
    console.log(`import of the full catalogue: ${Date.now() - started} ms, ${report.triples} triples`);
    const published = Number((await source.db.selectFrom('services').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'published').executeTakeFirstOrThrow()).n);
    assert.equal(report.services.inserted, published);
    assert.equal(report.services.updated, 0);
    assert.equal(report.organisations.inserted, await count(source.db, 'organisations'));
    assert.equal(report.events.inserted, await count(source.db, 'events'));
    assert.equal(report.standards, Number((await source.db.selectFrom('service_standards').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n));
    assert.deepEqual(report.warnings, []);

    const again = await buildCatalogueJsonLd(target.db, { baseUrl: BASE });
    const [a, b] = await Promise.all([normalised(exported), normalised(again)]);
    const setA = new Set(a);
    const setB = new Set(b);
    const onlyFirst = a.filter((x) => !setB.has(x));
    const onlySecond = b.filter((x) => !setA.has(x));
    assert.deepEqual({ onlyFirst: onlyFirst.slice(0, 20), onlySecond: onlySecond.slice(0, 20) }, { onlyFirst: [], onlySecond: [] });
    assert.equal(a.length, b.length);
    assert.ok(a.length > 100_000, `${a.length} triples compared`);

    // Spot checks on the rows themselves.
    const cost = await target.db.selectFrom('service_costs').selectAll().where('service_id', '=', 'demo-outdoors-card').executeTakeFirstOrThrow();
    assert.equal(cost.amount_cents, 857);
    assert.equal(cost.currency, 'CAD');
    const hc = await target.db.selectFrom('services').selectAll().where('id', '=', 'demo-health-card').executeTakeFirstOrThrow();
    assert.equal(hc.owner_org_id, 'on-moh');
    assert.equal(hc.agent_notes_en, null, 'agent notes are not in the export, so not imported');
    const deliv = await target.db.selectFrom('service_delivering_orgs').select('org_id').where('service_id', '=', 'demo-health-card').orderBy('org_id').execute();
    assert.deepEqual(deliv.map((d) => d.org_id), ['guichet', 'on-moh']);
    const steps = await target.db.selectFrom('event_steps').selectAll().where('event_id', '=', 'having-a-baby').orderBy('position').execute();
    assert.equal(steps[0].service_id, 'demo-register-birth');
  });

  it('importing the same file again updates in place: no duplicates, a new version per service', async () => {
    const services = await count(target.db, 'services');
    const versions = await count(target.db, 'service_versions');
    const subset = await buildCatalogueJsonLd(source.db, { baseUrl: BASE, serviceIds: ['demo-driver-licence', 'demo-health-card'] });
    const report = await importCpsv(target.db, subset);
    assert.deepEqual(report.services, { inserted: 0, updated: 2 });
    assert.equal(await count(target.db, 'services'), services);
    assert.equal(await count(target.db, 'service_versions'), versions + 2);
    const dl = await target.db.selectFrom('services').select(['version']).where('id', '=', 'demo-driver-licence').executeTakeFirstOrThrow();
    assert.equal(dl.version, 2);
    assert.equal(await count(target.db, 'service_costs'), 5, 'costs replaced, not duplicated');
  });

  it('rejects a file that violates the shapes, with a report, and writes nothing', async () => {
    const doc = await buildCatalogueJsonLd(source.db, { baseUrl: BASE, serviceIds: ['demo-driver-licence', 'demo-dog-licence'] });
    const broken = structuredClone(doc) as any;
    const dog = broken['@graph'].find((n: any) => n['@id'] === `${BASE}/id/service/demo-dog-licence`);
    delete dog['dct:title'];
    const driver = broken['@graph'].find((n: any) => n['@id'] === `${BASE}/id/service/demo-driver-licence`);
    driver['dct:title'] = [{ '@value': 'Changed title that must not be written', '@language': 'en' }];
    const before = await target.db.selectFrom('services').select(['title_en', 'version']).where('id', '=', 'demo-driver-licence').executeTakeFirstOrThrow();
    await assert.rejects(importCpsv(target.db, broken), (e: unknown) => {
      assert.ok(e instanceof CpsvImportError, 'a CpsvImportError');
      assert.equal(e.status, 422);
      assert.equal(e.code, 'CPSV_SHAPES_VIOLATION');
      assert.ok(e.issues.some((p) => p.field === `${BASE}/id/service/demo-dog-licence http://purl.org/dc/terms/title` && p.code === 'required'), JSON.stringify(e.issues));
      return true;
    });
    const after = await target.db.selectFrom('services').select(['title_en', 'version']).where('id', '=', 'demo-driver-licence').executeTakeFirstOrThrow();
    assert.deepEqual(after, before);
  });

  it('rejects a file with a problem the shapes cannot see (negative cost) as a whole: the valid service is not written either', async () => {
    const doc = (await buildCatalogueJsonLd(source.db, { baseUrl: BASE, serviceIds: ['demo-outdoors-card', 'demo-birth-certificate'] })) as any;
    const outdoors = doc['@graph'].find((n: any) => n['@id'] === `${BASE}/id/service/demo-outdoors-card`);
    outdoors['dct:title'] = [{ '@value': 'Should not be written', '@language': 'en' }, { '@value': 'Ne doit pas être écrit', '@language': 'fr' }];
    const birth = doc['@graph'].find((n: any) => n['@id'] === `${BASE}/id/service/demo-birth-certificate`);
    birth['cv:hasCost'][0]['cv:hasValue'] = { '@value': '-25', '@type': 'xsd:double' };
    await assert.rejects(importCpsv(target.db, doc), (e: unknown) => {
      assert.ok(e instanceof CpsvImportError, 'a CpsvImportError');
      assert.equal(e.code, 'CPSV_INVALID');
      assert.ok(e.issues.some((p) => p.field.endsWith('/demo-birth-certificate/cost/1 cv:hasValue')), JSON.stringify(e.issues));
      return true;
    });
    const row = await target.db.selectFrom('services').select('title_en').where('id', '=', 'demo-outdoors-card').executeTakeFirstOrThrow();
    assert.notEqual(row.title_en, 'Should not be written');
  });

  it('reports values the database could not hold instead of failing (duplicate source identifiers, huge numbers)', async () => {
    const doc = (await buildCatalogueJsonLd(source.db, { baseUrl: BASE, serviceIds: ['demo-outdoors-card', 'demo-birth-certificate'] })) as any;
    for (const id of ['demo-outdoors-card', 'demo-birth-certificate']) {
      const n = doc['@graph'].find((x: any) => x['@id'] === `${BASE}/id/service/${id}`);
      n['gch:source'] = 'other-catalogue';
      n['gch:sourceIdentifier'] = 'same-id';
      n['gch:version'] = { '@value': '99999999999', '@type': 'xsd:integer' };
      n['gch:guaranteeDays'] = { '@value': '99999999999', '@type': 'xsd:integer' };
    }
    await assert.rejects(importCpsv(target.db, doc), (e: unknown) => {
      assert.ok(e instanceof CpsvImportError, 'a CpsvImportError');
      assert.equal(e.code, 'CPSV_INVALID');
      assert.ok(e.issues.some((p) => p.code === 'cpsvConflict' && p.reason.includes('same-id')), JSON.stringify(e.issues));
      assert.ok(e.issues.some((p) => p.field.endsWith('gch:guaranteeDays')), JSON.stringify(e.issues));
      return true;
    });
  });

  it('refuses remote contexts and documents without services', async () => {
    await assert.rejects(importCpsv(target.db, { '@context': 'https://example.org/ctx.jsonld', '@id': 'x' }), (e: any) => e.code === 'CPSV_INVALID_JSONLD' && e.status === 400);
    await assert.rejects(importCpsv(target.db, { '@context': { dct: 'http://purl.org/dc/terms/' }, '@id': 'http://example.org/x', 'dct:title': 'x' }), (e: any) => e.code === 'CPSV_EMPTY' && e.status === 422);
    await assert.rejects(importCpsv(target.db, 'not an object'), (e: any) => e.code === 'CPSV_INVALID_JSONLD');
  });

  it('imports a plain CPSV-AP file from elsewhere (no Guichet extensions)', async () => {
    const doc = {
      '@context': { cpsv: 'http://purl.org/vocab/cpsv#', cv: 'http://data.europa.eu/m8g/', dct: 'http://purl.org/dc/terms/', skos: 'http://www.w3.org/2004/02/skos/core#' },
      '@graph': [
        {
          '@id': 'http://example.org/service/parking-permit', '@type': 'cpsv:PublicService', 'dct:identifier': 'ex-parking-permit',
          'dct:title': { '@value': 'Résidentiel : vignette de stationnement', '@language': 'fr' },
          'dct:description': { '@value': 'Vignette pour les résidents.', '@language': 'fr' },
          'cv:hasCompetentAuthority': { '@id': 'http://example.org/org/gatineau' },
          'cv:isGroupedBy': { '@id': 'http://example.org/event/moving-in' },
        },
        {
          '@id': 'http://example.org/org/gatineau', '@type': 'cv:PublicOrganisation',
          'skos:prefLabel': [{ '@value': 'City of Gatineau', '@language': 'en' }, { '@value': 'Ville de Gatineau', '@language': 'fr' }],
          'dct:spatial': { '@id': 'http://example.org/place/CA-QC-gatineau', '@type': 'dct:Location' },
        },
        { '@id': 'http://example.org/event/moving-in', '@type': ['cv:LifeEvent', 'cv:Event'], 'dct:identifier': 'moving-in', 'dct:title': { '@value': 'Moving in', '@language': 'en' } },
      ],
    };
    const report = await importCpsv(target.db, doc);
    assert.deepEqual(report.services, { inserted: 1, updated: 0 });
    assert.ok(report.warnings.some((w) => w.includes('level of government')), JSON.stringify(report.warnings));
    const s = await target.db.selectFrom('services').selectAll().where('id', '=', 'ex-parking-permit').executeTakeFirstOrThrow();
    assert.equal(s.title_en, 'Résidentiel : vignette de stationnement', 'English falls back on French');
    assert.equal(s.owner_org_id, 'gatineau');
    assert.equal(s.source, 'cpsv-import');
    const org = await target.db.selectFrom('organisations').selectAll().where('id', '=', 'gatineau').executeTakeFirstOrThrow();
    assert.equal(org.jurisdiction, 'CA-QC-gatineau');
    const steps = await target.db.selectFrom('event_steps').selectAll().where('event_id', '=', 'moving-in').execute();
    assert.deepEqual(steps.map((x) => x.service_id), ['ex-parking-permit']);
  });

  it('CLI entry point: reads a file, reports bad JSON with its line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cpsv-'));
    try {
      const bad = path.join(dir, 'bad.jsonld');
      fs.writeFileSync(bad, '{\n  "@context": {},\n  "x": [1, 2,,]\n}\n');
      await assert.rejects(importCpsvFile(target.db, bad), (e: any) => {
        assert.equal(e.code, 'INVALID_JSON');
        assert.equal(e.problems[0].file, 'bad.jsonld');
        assert.equal(e.problems[0].line, 3);
        return true;
      });
      await assert.rejects(importCpsvFile(target.db, path.join(dir, 'missing.jsonld')), (e: any) => e.code === 'CPSV_UNREADABLE');
      const good = path.join(dir, 'good.jsonld');
      fs.writeFileSync(good, JSON.stringify(await buildCatalogueJsonLd(source.db, { baseUrl: BASE, serviceIds: ['demo-food-support'] })));
      const report = await importCpsvFile(target.db, good);
      assert.deepEqual(report.services, { inserted: 0, updated: 1 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CPSV-AP import API', () => {
  let t: TestApp;
  let doc: Record<string, any>;
  before(async () => {
    t = await createTestApp({ catalogue: true });
    doc = await buildCatalogueJsonLd(t.db, { baseUrl: t.config.publicBaseUrl, serviceIds: ['demo-dog-licence'] });
  });
  after(async () => t.close());

  const post = (payload: unknown, cookie?: string, extra: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/catalogue.jsonld',
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      headers: { 'content-type': 'application/ld+json', ...(cookie ? { cookie, 'x-csrf-token': csrfFrom(cookie) } : {}), ...extra },
    });

  it('requires a signed-in admin', async () => {
    assert.equal((await post(doc)).statusCode, 401);
    const agent = await staffCookie(t.app, 'staff-agent');
    const res = await post(doc, agent);
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'FORBIDDEN');
  });

  it('imports for an admin and the export shows the change', async () => {
    const admin = await staffCookie(t.app, 'staff-admin');
    const changed = structuredClone(doc);
    const s = changed['@graph'].find((n: any) => n['@id']?.endsWith('/id/service/demo-dog-licence'));
    s['dct:title'] = [{ '@value': 'Pet licence', '@language': 'en' }, { '@value': 'Permis d’animal', '@language': 'fr' }];
    const res = await post(changed, admin);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().services, { inserted: 0, updated: 1 });
    const row = await t.db.selectFrom('services').select(['title_fr']).where('id', '=', 'demo-dog-licence').executeTakeFirstOrThrow();
    assert.equal(row.title_fr, 'Permis d’animal');
    const exp = await t.app.inject('/api/v1/catalogue.jsonld');
    assert.ok(exp.body.includes('Permis d’animal'), 'the export was refreshed');
  });

  it('accepts application/json and files larger than the 1 MB default body limit', async () => {
    const admin = await staffCookie(t.app, 'staff-admin');
    const big = JSON.stringify(doc, null, 1) + ' '.repeat(1_500_000);
    assert.ok(big.length > 1024 * 1024, 'body over 1 MB');
    const res = await post(big, admin, { 'content-type': 'application/json' });
    assert.equal(res.statusCode, 200, res.body.slice(0, 500));
    assert.deepEqual(res.json().services, { inserted: 0, updated: 1 });
  });

  it('answers bad input with translated 4xx errors', async () => {
    const admin = await staffCookie(t.app, 'staff-admin');
    const notJson = await post('{ "@graph": [', admin);
    assert.equal(notJson.statusCode, 400);
    assert.equal(notJson.json().error.code, 'INVALID_JSON');

    const broken = structuredClone(doc);
    delete broken['@graph'].find((n: any) => n['@id']?.endsWith('/id/service/demo-dog-licence'))['dct:title'];
    const fr = await post(broken, admin, { 'accept-language': 'fr-CA' });
    assert.equal(fr.statusCode, 422);
    const err = fr.json().error;
    assert.equal(err.code, 'CPSV_SHAPES_VIOLATION');
    assert.match(err.message, /n’est pas conforme à CPSV-AP 3\.2\.0 : 1 violation/);
    assert.equal(err.details.length, 1);
    assert.equal(err.details[0].code, 'required');
    assert.match(err.details[0].field, /demo-dog-licence http:\/\/purl\.org\/dc\/terms\/title$/);
    assert.equal(err.details[0].message, 'Entrez ce renseignement.');

    const remote = await post({ '@context': 'https://example.org/c.jsonld' }, admin);
    assert.equal(remote.statusCode, 400);
    assert.equal(remote.json().error.code, 'CPSV_INVALID_JSONLD');
  });
});
