import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataFactory, type Store } from 'n3';
import { createTestApp, type TestApp } from '../../../test/support/app';
import { buildCatalogueJsonLd, exportCatalogue, invalidateCatalogueExport } from './export';
import { jsonLdToStore, remoteContextCause, validateCpsv, type Violation } from './rdf';
import { NS } from './vocabularies';

const { namedNode, literal } = DataFactory;
const P = (prefix: keyof typeof NS, local: string) => namedNode(NS[prefix] + local);
const RDF_TYPE = P('rdf', 'type');

function printViolations(v: Violation[]) {
  for (const x of v.slice(0, 50)) console.error(`  ${x.focusNode} ${x.path ?? ''}: ${x.message}${x.value ? ` (${x.value})` : ''}`);
}

describe('CPSV-AP 3.2.0 export', () => {
  let t: TestApp;
  let base: string;
  let body: string;
  let store: Store;
  const svc = (id: string) => namedNode(`${base}/id/service/${id}`);

  before(async () => {
    t = await createTestApp({ catalogue: true });
    base = t.config.publicBaseUrl;
    invalidateCatalogueExport();
    const started = Date.now();
    const res = await t.app.inject('/api/v1/catalogue.jsonld');
    console.log(`export of the full catalogue: ${Date.now() - started} ms, ${res.body.length} bytes`);
    assert.equal(res.statusCode, 200);
    body = res.body;
    assert.match(res.headers['content-type'] as string, /^application\/ld\+json/);
    // safe mode: jsonld throws if any term of the export could not be mapped to an IRI (nothing silently dropped).
    store = await jsonLdToStore(JSON.parse(body), { safe: true });
  });
  after(async () => t.close());

  it('exports every published service and every organisation', async () => {
    const published = Number((await t.db.selectFrom('services').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'published').executeTakeFirstOrThrow()).n);
    const orgs = Number((await t.db.selectFrom('organisations').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    assert.ok(published >= 1726, `seeded catalogue has ${published} published services`);
    assert.equal(store.getSubjects(RDF_TYPE, P('cpsv', 'PublicService'), null).length, published);
    assert.equal(store.getSubjects(RDF_TYPE, P('cv', 'PublicOrganisation'), null).length, orgs);
    const dataset = namedNode(`${base}/id/catalogue`);
    assert.equal(store.getObjects(dataset, P('dct', 'hasPart'), null).length, published);
  });

  it('validates against the official CPSV-AP 3.2.0 SHACL shapes with zero violations', async () => {
    const started = Date.now();
    const violations = await validateCpsv(store);
    console.log(`SHACL validation of ${store.size} triples: ${Date.now() - started} ms, ${violations.length} violations`);
    if (violations.length) printViolations(violations);
    assert.equal(violations.length, 0);
  });

  it('types every controlled-vocabulary value as a skos:Concept with English and French labels and a scheme', () => {
    const props = [
      P('dct', 'type'), P('dct', 'audience'), P('cv', 'thematicArea'), P('adms', 'status'), P('org', 'classification'), P('cv', 'role'), P('cv', 'currency'), P('gch', 'channel'),
    ];
    const concepts = new Set<string>();
    for (const p of props) for (const o of store.getObjects(null, p, null)) concepts.add(o.value);
    assert.ok(concepts.size > 30, `found ${concepts.size} concepts`);
    for (const c of concepts) {
      const node = namedNode(c);
      assert.ok(store.has(DataFactory.quad(node, RDF_TYPE, P('skos', 'Concept'))), `${c} is a skos:Concept`);
      const labels = store.getObjects(node, P('skos', 'prefLabel'), null) as Array<{ language: string }>;
      assert.ok(labels.some((l) => l.language === 'en') && labels.some((l) => l.language === 'fr'), `${c} has en and fr labels`);
      const scheme = store.getObjects(node, P('skos', 'inScheme'), null);
      assert.equal(scheme.length, 1, `${c} is in one scheme`);
      assert.ok(store.has(DataFactory.quad(scheme[0] as any, RDF_TYPE, P('skos', 'ConceptScheme'))), `${scheme[0].value} is a scheme`);
    }
    // Level of government of a provincial partner and the channel type of an online channel.
    assert.ok(store.has(DataFactory.quad(namedNode(`${base}/id/organisation/on-mto`), P('org', 'classification'), namedNode(`${base}/id/concept/government-level/provincial`))), 'MTO is classified as provincial');
    const online = namedNode(`${base}/id/service/demo-driver-licence/channel/online`);
    assert.equal(store.getObjects(online, P('dct', 'type'), null)[0].value, `${base}/id/concept/channel-type/online`);
  });

  it('maps costs, processing time, delivering partners, requirements, outputs and events', () => {
    // Cost: integer cents -> xsd:double, currency from the EU authority table.
    const cost = namedNode(`${base}/id/service/demo-driver-licence/cost/1`);
    assert.ok(store.has(DataFactory.quad(svc('demo-driver-licence'), P('cv', 'hasCost'), cost)), 'the licence has a cost');
    const value = store.getObjects(cost, P('cv', 'hasValue'), null);
    assert.equal(value.length, 1);
    assert.equal((value[0] as any).datatype.value, NS.xsd + 'double');
    assert.equal(Number(value[0].value), 90);
    assert.equal(store.getObjects(cost, P('cv', 'currency'), null)[0].value, 'http://publications.europa.eu/resource/authority/currency/CAD');
    const cheap = store.getObjects(namedNode(`${base}/id/service/demo-outdoors-card/cost/1`), P('cv', 'hasValue'), null)[0];
    assert.equal(Number(cheap.value), 8.57);
    // Processing time from the standard's parsed duration (15 business days).
    assert.ok(store.has(DataFactory.quad(svc('demo-birth-certificate'), P('cv', 'processingTime'), literal('P15D', P('xsd', 'duration')))), 'birth certificate: P15D');
    assert.ok(store.has(DataFactory.quad(svc('demo-driver-licence'), P('cv', 'processingTime'), literal('PT3M', P('xsd', 'duration')))), 'driver licence: PT3M');
    // The one-stop delivers on the ministry's behalf: competent authority MOH, participation of the one-stop.
    assert.ok(store.has(DataFactory.quad(svc('demo-health-card'), P('cv', 'hasCompetentAuthority'), namedNode(`${base}/id/organisation/on-moh`))), 'MOH is the competent authority');
    const participants = store
      .getObjects(svc('demo-health-card'), P('cv', 'hasParticipation'), null)
      .flatMap((p) => store.getObjects(p, P('cv', 'hasParticipant'), null).map((o) => o.value));
    assert.ok(participants.includes(`${base}/id/organisation/guichet`), 'the one-stop participates');
    // Requirements with their evidence, outputs.
    const reqs = store.getObjects(svc('demo-health-card'), P('cv', 'holdsRequirement'), null);
    assert.equal(reqs.length, 3);
    for (const r of reqs) {
      assert.ok(store.has(DataFactory.quad(r as any, RDF_TYPE, P('cv', 'Requirement'))), 'requirement typed');
      const ev = store.getObjects(r, P('cv', 'hasSupportingEvidence'), null)[0];
      assert.ok(store.has(DataFactory.quad(svc('demo-health-card'), P('cpsv', 'hasInput'), ev as any)), 'evidence is an input of the service');
    }
    const out = store.getObjects(svc('demo-health-card'), P('cpsv', 'produces'), null)[0];
    assert.ok(store.has(DataFactory.quad(out as any, P('dct', 'title'), literal('Carte Santé', 'fr'))), 'output title in French');
    // Life and business events group the services of their steps, across levels of government.
    const baby = namedNode(`${base}/id/event/having-a-baby`);
    assert.ok(store.has(DataFactory.quad(baby, RDF_TYPE, P('cv', 'LifeEvent'))), 'having a baby is a life event');
    assert.ok(store.has(DataFactory.quad(svc('demo-register-birth'), P('cv', 'isGroupedBy'), baby)), 'register a birth is grouped by having a baby');
    assert.ok(store.has(DataFactory.quad(svc('gc-1292'), P('cv', 'isGroupedBy'), baby)), 'a federal service is grouped by the life event too');
    assert.ok(store.has(DataFactory.quad(namedNode(`${base}/id/event/starting-a-business`), RDF_TYPE, P('cv', 'BusinessEvent'))), 'starting a business is a business event');
    // Service standards: Guichet extension, with target and the duration.
    const std = store.getObjects(svc('demo-birth-certificate'), P('gch', 'hasServiceStandard'), null)[0];
    assert.equal(Number(store.getObjects(std, P('gch', 'target'), null)[0].value), 1);
  });

  it('never exports agent notes (internal information)', () => {
    assert.ok(!body.includes('Photo cards must be renewed in person'), 'agent notes are not exported');
    assert.ok(!body.includes('agent_notes'), 'no internal column names');
  });

  it('answers from the cache, honours If-None-Match, and follows changes to services', async () => {
    const first = await t.app.inject('/api/v1/catalogue.jsonld');
    const etag = first.headers.etag as string;
    assert.ok(etag, 'an ETag is sent');
    const started = Date.now();
    const again = await exportCatalogue(t.db, base);
    assert.equal(again.cached, true);
    console.log(`cached export: ${Date.now() - started} ms`);
    const notModified = await t.app.inject({ url: '/api/v1/catalogue.jsonld', headers: { 'if-none-match': etag } });
    assert.equal(notModified.statusCode, 304);

    await t.db.updateTable('services').set({ title_en: 'Dog, cat and rabbit licence', updated_at: new Date() }).where('id', '=', 'demo-dog-licence').execute();
    const changed = await t.app.inject('/api/v1/catalogue.jsonld');
    assert.notEqual(changed.headers.etag, etag);
    assert.ok(changed.body.includes('Dog, cat and rabbit licence'), 'the new title is exported');
    // A withdrawn service leaves the export.
    await t.db.updateTable('services').set({ status: 'withdrawn', updated_at: new Date() }).where('id', '=', 'demo-dog-licence').execute();
    invalidateCatalogueExport();
    const withdrawn = await t.app.inject('/api/v1/catalogue.jsonld');
    const graph = JSON.parse(withdrawn.body)['@graph'] as Array<Record<string, unknown>>;
    assert.ok(!graph.some((n) => n['@id'] === `${base}/id/service/demo-dog-licence`), 'the withdrawn service is not described');
    assert.ok(graph.some((n) => n['@id'] === `${base}/id/service/demo-property-tax-address`), 'other services still are');
    assert.ok(!withdrawn.body.includes('Dog, cat and rabbit licence'), 'a withdrawn service is not exported');
  });

  it('is listed in the OpenAPI document under the catalogue tag', async () => {
    const doc = (await t.app.inject('/docs/json')).json();
    assert.deepEqual(doc.paths['/api/v1/catalogue.jsonld'].get.tags, ['catalogue']);
    assert.deepEqual(doc.paths['/api/v1/catalogue.jsonld'].post.tags, ['catalogue']);
  });

  it('the validation is real: a service without a title, a cost with a text value and an untyped concept are violations', async () => {
    const doc = (await buildCatalogueJsonLd(t.db, { baseUrl: base, serviceIds: ['demo-driver-licence', 'demo-health-card'] })) as any;
    const ok = await validateCpsv(await jsonLdToStore(doc));
    assert.deepEqual(ok, []);

    const broken = structuredClone(doc);
    const s = broken['@graph'].find((n: any) => n['@id'] === `${base}/id/service/demo-driver-licence`);
    delete s['dct:title'];
    s['cv:hasCost'][0]['cv:hasValue'] = 'ninety dollars';
    const h = broken['@graph'].find((n: any) => n['@id'] === `${base}/id/service/demo-health-card`);
    h['dct:audience'] = [{ '@id': 'http://example.org/not-a-concept' }];
    const violations = await validateCpsv(await jsonLdToStore(broken));
    const has = (focus: string, path: string) => violations.some((v) => v.focusNode === focus && v.path === path);
    assert.ok(has(`${base}/id/service/demo-driver-licence`, NS.dct + 'title'), 'missing title is reported');
    assert.ok(has(`${base}/id/service/demo-driver-licence/cost/1`, NS.cv + 'hasValue'), 'a text cost value is reported');
    assert.ok(has(`${base}/id/service/demo-health-card`, NS.dct + 'audience'), 'an audience that is not a skos:Concept is reported');
    assert.equal(violations.length, 3, JSON.stringify(violations, null, 1));
  });

  it('never fetches a remote context', async () => {
    await assert.rejects(
      jsonLdToStore({ '@context': 'https://example.org/context.jsonld', '@id': 'http://example.org/x', name: 'x' }),
      (e) => remoteContextCause(e)?.url === 'https://example.org/context.jsonld',
    );
  });
});
