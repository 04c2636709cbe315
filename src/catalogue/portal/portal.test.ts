/** Portal pages (issue 2), through app.inject over the seeded catalogue (GC inventory + demo set). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/app';
import { haversineKm, parsePostalCode } from './locator';

let t: TestApp;
before(async () => {
  t = await createTestApp({ catalogue: true });
});
after(async () => {
  await t?.close();
});

const get = (url: string) => t.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
const jsonLd = (html: string) => {
  const m = /<script type="application\/ld\+json"[^>]*>([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'JSON-LD script present');
  return JSON.parse(m[1]);
};

describe('locator helpers', () => {
  test('parses Canadian postal codes and rejects bad ones', () => {
    assert.deepEqual(parsePostalCode('k1p1j1'), { display: 'K1P 1J1', fsa: 'K1P' });
    assert.deepEqual(parsePostalCode(' K2G 5K7 '), { display: 'K2G 5K7', fsa: 'K2G' });
    assert.deepEqual(parsePostalCode('k1n'), { display: 'K1N', fsa: 'K1N' });
    for (const bad of ['', '12345', 'D1P 1J1', 'K1P 1J', 'KKP 1J1', 'W1A 1AA', 'K1P-1J1', 'K1P 1J1 X']) assert.equal(parsePostalCode(bad), null, bad);
  });
  test('haversine distance', () => {
    assert.equal(haversineKm(45.42, -75.69, 45.42, -75.69), 0);
    // Ottawa → Montreal is about 166 km as the crow flies.
    const d = haversineKm(45.4215, -75.6972, 45.5017, -73.5673);
    assert.ok(d > 160 && d < 172, String(d));
  });
});

describe('home', () => {
  for (const lang of ['en', 'fr'] as const) {
    test(`/${lang} has the search form, life events, audiences and popular services`, async () => {
      const res = await get(`/${lang}`);
      assert.equal(res.statusCode, 200);
      const html = res.body;
      assert.match(html, new RegExp(`<form method="get" action="/${lang}/${lang === 'en' ? 'search' : 'recherche'}"`));
      assert.match(html, lang === 'en' ? /Having a baby/ : /Avoir un bébé/);
      assert.match(html, lang === 'en' ? /Starting a business/ : /Démarrer une entreprise/);
      assert.match(html, new RegExp(`href="/${lang}/${lang === 'en' ? 'search' : 'recherche'}\\?audience=PERSON"`));
      assert.match(html, lang === 'en' ? /Most used services/ : /Services les plus utilisés/);
      // Popular services come from service_volumes: the list has links to service pages.
      const popular = /class="govuk-list guichet-popular">([\s\S]*?)<\/ul>/.exec(html);
      assert.ok(popular && (popular[1].match(/href="\/(en|fr)\/services\//g) ?? []).length >= 5);
      // by what people do through the service's channels (applications), not specialist information services
      const ids = [...popular[1].matchAll(/href="\/(?:en|fr)\/services\/([^"]+)"/g)].map((m) => m[1]);
      assert.ok(!ids.includes('gc-1677'), `the Canadian Astronomy Data Centre is not a most used service: ${ids}`);
      assert.ok(!ids.includes('gc-1149') && !ids.includes('gc-1995'), `website visits do not count: ${ids}`);
      const types = await t.db.selectFrom('services').select(['id', 'service_type', 'audiences']).where('id', 'in', ids).execute();
      for (const s of types) {
        assert.notEqual(s.service_type, 'INFO', s.id);
        assert.ok(s.audiences.length === 0 || s.audiences.includes('PERSON'), s.id);
      }
      // The language toggle points at the other home page.
      assert.match(html, new RegExp(`class="guichet-header__lang" href="/${lang === 'en' ? 'fr' : 'en'}"`));
    });
  }
});

describe('search', () => {
  test('results, facets and paging in English', async () => {
    const res = await get('/en/search?q=passport');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /services found/);
    assert.match(res.body, /name="audience"/);
    assert.match(res.body, /name="level"/);
    assert.match(res.body, /href="\/en\/services\/gc-/);
    assert.match(res.body, /hreflang="fr" href="\/fr\/recherche\?q=passport"/);
  });
  test('facet filter narrows results and pagination keeps the filters', async () => {
    const all = await get('/en/search');
    const filtered = await get('/en/search?level=municipal');
    const n = (html: string) => Number(/<strong>(\d[\d,]*) services? found/.exec(html)![1].replace(/,/g, ''));
    assert.ok(n(all.body) > 1000, 'whole catalogue listed without a query');
    assert.ok(n(filtered.body) > 0 && n(filtered.body) < 20, String(n(filtered.body)));
    assert.match(filtered.body, /Dog and cat licence/);
    assert.match(filtered.body, /value="municipal" checked/);
    // Page 2 link of the unfiltered list, and of a filtered list keeps the filter.
    assert.match(all.body, /href="\/en\/search\?page=2"/);
    const fed = await get('/en/search?level=federal&page=2');
    assert.equal(fed.statusCode, 200);
    assert.match(fed.body, /href="\/en\/search\?level=federal&amp;page=3"/);
    assert.match(fed.body, /href="\/en\/search\?level=federal"/); // previous = page 1
    assert.equal((fed.body.match(/aria-label="Page 3"/g) ?? []).length, 1, 'one aria-label per page link');
    const frPage = await get('/fr/recherche?level=federal');
    assert.match(frPage.body, /Suivante/);
    assert.match(frPage.body, /aria-label="Pages de résultats"/);
  });
  test('French search page', async () => {
    const res = await get('/fr/recherche?q=permis');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<html lang="fr"/);
    assert.match(res.body, /Résultats pour « permis »/);
    assert.match(res.body, /href="\/fr\/services\//);
  });
  test('no result, and bad paging input is a 400 page, never a 500', async () => {
    const none = await get('/en/search?q=zzqqxxnonexistentword');
    assert.equal(none.statusCode, 200);
    assert.match(none.body, /No services match your search/);
    // a page past the last: the count and the page agree (no "No services match" beside "11 services found")
    const past = await get('/en/search?q=passport&page=999');
    assert.equal(past.statusCode, 200);
    assert.doesNotMatch(past.body, /No services match your search/);
    assert.match(past.body, /There is no page 999: these results end at page \d+\./);
    assert.match(past.body, /services? found/);
    const pastFr = await get('/fr/recherche?q=passeport&page=999');
    assert.match(pastFr.body, /Il n’y a pas de page 999/);
    const bad = await get('/en/search?page=abc');
    assert.equal(bad.statusCode, 400);
    const bad2 = await get(`/fr/recherche?q=${'x'.repeat(300)}`);
    assert.equal(bad2.statusCode, 400);
    assert.match(bad2.body, /Il y a un problème/);
  });
});

describe('service page', () => {
  test('demo service: channels, documents, fees, standards, owner credit, JSON-LD; never agent notes', async () => {
    const res = await get('/en/services/demo-health-card');
    assert.equal(res.statusCode, 200);
    const html = res.body;
    assert.match(html, /<h1 class="govuk-heading-l">Health card: apply, renew or change your address/);
    assert.match(html, /govuk-tag--yellow guichet-demo-tag">Demo</);
    assert.match(html, /href="https:\/\/example.org\/demo\/health-card"/);
    assert.match(html, /href="tel:1-800-555-0101"/);
    assert.match(html, /Ben Franklin Place shared service centre/);
    assert.match(html, /href="\/en\/offices\?service=demo-health-card"/);
    assert.match(html, /Proof of residency in the province/);
    assert.match(html, /Mail your new card within 20 business days/);
    assert.match(html, /90%/); // target 0.9
    // Partner credit: Guichet leads, the owner is named with an accessible acronym badge, the deliverer too.
    assert.match(html, /Offered through Guichet/);
    assert.match(html, /<abbr class="guichet-badge" title="Ontario Ministry of Health \(demo\)"><span aria-hidden="true">MOH<\/span>/);
    assert.match(html, /Delivered on their behalf by/);
    assert.match(html, /Guichet Ottawa Region One-Stop \(demo\)/);
    // Internal notes never appear.
    assert.doesNotMatch(html, /Photo cards must be renewed in person/);
    const ld = jsonLd(html);
    assert.equal(ld['@type'], 'GovernmentService');
    assert.equal(ld.name, 'Health card: apply, renew or change your address');
    assert.equal(ld.serviceOperator['@type'], 'GovernmentOrganization');
    assert.equal(ld.serviceOperator.name, 'Ontario Ministry of Health (demo)');
    assert.equal(ld.provider[0].name, 'Guichet Ottawa Region One-Stop (demo)');
    assert.equal(ld.areaServed.name, 'Ontario');
    assert.ok(ld.availableChannel.some((c: any) => c.serviceUrl === 'https://example.org/demo/health-card'));
    assert.ok(ld.availableChannel.some((c: any) => c.servicePhone?.telephone === '1-800-555-0101'));
    assert.ok(ld.availableChannel.some((c: any) => c.serviceLocation?.['@type'] === 'GovernmentOffice'));
    assert.doesNotMatch(JSON.stringify(ld), /Photo cards/);
  });
  test('fees are formatted from integer cents in both languages', async () => {
    const en = await get('/en/services/demo-driver-licence');
    assert.match(en.body, /\$90\.00/);
    const fr = await get('/fr/services/demo-outdoors-card');
    assert.match(fr.body, /8,57\s*\$/);
    assert.equal(jsonLd(fr.body).offers[0].price, '8.57');
    assert.match(fr.body, /hreflang="en" href="\/en\/services\/demo-outdoors-card"/);
  });
  test('GC service: standards with NA/ND shown as words, never as zero', async () => {
    const row = await t.db
      .selectFrom('service_standards')
      .innerJoin('services', 'services.id', 'service_standards.service_id')
      .select(['service_standards.service_id', 'service_standards.source_id', 'service_standards.performance', 'service_standards.missing'])
      .where('services.status', '=', 'published')
      .where('service_standards.performance', 'is', null)
      .orderBy('service_standards.fiscal_year', 'desc')
      .executeTakeFirst();
    assert.ok(row, 'the GC inventory has standards without results');
    // Only check when this missing result is the latest year of that standard (the page shows the latest).
    const latest = await t.db.selectFrom('service_standards').select(['fiscal_year', 'performance']).where('source_id', '=', row.source_id).where('service_id', '=', row.service_id).orderBy('fiscal_year', 'desc').executeTakeFirstOrThrow();
    const res = await get(`/en/services/${row.service_id}`);
    assert.equal(res.statusCode, 200);
    if (latest.performance === null) assert.match(res.body, /(No data|Not applicable)/);
    const fr = await get(`/fr/services/${row.service_id}`);
    if (latest.performance === null) assert.match(fr.body, /(Aucune donnée|Sans objet)/);
    assert.match(res.body, /Our service standards/);
  });
  test('unknown or unpublished service → 404 page in the right language', async () => {
    const en = await get('/en/services/no-such-service');
    assert.equal(en.statusCode, 404);
    assert.match(en.body, /We could not find this service/);
    const fr = await get('/fr/services/no-such-service');
    assert.equal(fr.statusCode, 404);
    assert.match(fr.body, /Nous n’avons pas trouvé ce service/);
    await t.db.updateTable('services').set({ status: 'draft' }).where('id', '=', 'demo-food-support').execute();
    try {
      assert.equal((await get('/en/services/demo-food-support')).statusCode, 404);
    } finally {
      await t.db.updateTable('services').set({ status: 'published' }).where('id', '=', 'demo-food-support').execute();
    }
  });
});

describe('organisations', () => {
  test('list with level filter and counts', async () => {
    const all = await get('/en/organisations');
    assert.equal(all.statusCode, 200);
    assert.match(all.body, /Employment and Social Development Canada/);
    assert.match(all.body, /City of Ottawa \(demo\)/);
    const muni = await get('/en/organisations?level=municipal');
    assert.match(muni.body, /City of Ottawa \(demo\)/);
    assert.doesNotMatch(muni.body, /Employment and Social Development Canada/);
    assert.match(muni.body, /value="municipal" checked/);
    assert.equal((await get('/en/organisations?level=galactic')).statusCode, 400);
    const fr = await get('/fr/organisations?level=federal');
    assert.equal(fr.statusCode, 200);
    assert.match(fr.body, /Emploi et Développement social Canada/);
  });
  test('organisation page: level, contact, services, offices; unknown → 404', async () => {
    const res = await get('/en/organisations/ottawa');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Municipal government/);
    assert.match(res.body, /href="tel:311"/);
    assert.match(res.body, /Dog and cat licence/);
    assert.match(res.body, /Ottawa City Hall client service centre/);
    const one = await get('/fr/organisations/guichet');
    assert.match(one.body, /Services offerts pour d’autres organisations/);
    assert.equal((await get('/en/organisations/nope')).statusCode, 404);
    const esdc = await get('/en/organisations/esdc-edsc?page=2');
    assert.equal(esdc.statusCode, 200);
    assert.match(esdc.body, /href="\/en\/organisations\/esdc-edsc\?page=3"|href="\/en\/organisations\/esdc-edsc"/);
  });
});

describe('life events', () => {
  test('list and event page with steps across organisations and levels', async () => {
    const list = await get('/fr/evenements-de-vie');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /Avoir un bébé/);
    assert.match(list.body, /Événements d’affaires/);
    const ev = await get('/en/life-events/having-a-baby');
    assert.equal(ev.statusCode, 200);
    assert.match(ev.body, /Register the birth/);
    assert.match(ev.body, /href="\/en\/services\/demo-register-birth"/);
    assert.match(ev.body, /Federal government/);
    assert.match(ev.body, /Provincial or territorial government/);
    assert.match(ev.body, /hreflang="fr" href="\/fr\/evenements-de-vie\/having-a-baby"/);
    assert.equal((await get('/en/life-events/nope')).statusCode, 404);
  });
});

describe('offices', () => {
  test('postal code → nearest offices with distance, model, organisations, hours', async () => {
    const res = await get('/en/offices?postcode=k2g5k7');
    assert.equal(res.statusCode, 200);
    const first = /<li class="guichet-result guichet-office">([\s\S]*?)<\/li>\s*<li/.exec(res.body);
    assert.ok(first);
    assert.match(first[1], /Ben Franklin Place/);
    assert.match(first[1], /km away/);
    assert.match(first[1], /One counter for everything/);
    assert.match(first[1], /Monday/);
    assert.match(res.body, /nearest to K2G 5K7/);
  });
  test('coordinates and service filter', async () => {
    const res = await get('/en/offices?lat=45.48&lon=-75.51&service=demo-dog-licence');
    assert.equal(res.statusCode, 200);
    const names = [...res.body.matchAll(/<h3 class="govuk-heading-s govuk-!-margin-bottom-1"><a class="govuk-link" href="\/en\/offices\/([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(names[0], 'ottawa-orleans');
    assert.ok(!names.includes('ottawa-kanata'), 'Kanata does not offer pet licences');
  });
  test('bad postal code → 400 with a translated error, in both languages', async () => {
    const en = await get('/en/offices?postcode=12345');
    assert.equal(en.statusCode, 400);
    assert.match(en.body, /Enter a Canadian postal code/);
    assert.match(en.body, /govuk-error-summary/);
    const fr = await get('/fr/bureaux?postcode=ZZZ');
    assert.equal(fr.statusCode, 400);
    assert.match(fr.body, /Entrez un code postal canadien/);
    const unknown = await get('/en/offices?postcode=V6B 1A1');
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.body, /near V6B/);
    assert.equal((await get('/en/offices?lat=200&lon=0')).statusCode, 400);
    assert.equal((await get('/en/offices?lat=abc&lon=1')).statusCode, 400);
    assert.equal((await get('/en/offices?service=not-a-service')).statusCode, 400);
  });
  test('office page with hours and exceptions; unknown → 404', async () => {
    const res = await get('/fr/bureaux/ottawa-ben-franklin');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Samedi/);
    assert.match(res.body, /09:00–13:00/);
    assert.match(res.body, /Dimanche<\/th>\s*<td class="govuk-table__cell">Fermé/);
    assert.match(res.body, /Jour de Noël/);
    assert.match(res.body, /Ville d’Ottawa \(démo\)/);
    assert.match(res.body, /hreflang="en" href="\/en\/offices\/ottawa-ben-franklin"/);
    // "Heures d’ouverture" is read once on screen (the heading; the table's caption is for screen readers only)
    const visible = res.body.replace(/<caption class="govuk-table__caption govuk-visually-hidden">[^<]*<\/caption>/g, '');
    assert.equal((visible.match(/Heures d’ouverture/g) ?? []).length, 1);
    // the page leads to booking and to the waiting-room screen
    assert.match(res.body, /href="\/fr\/bureaux\/ottawa-ben-franklin\/rendez-vous">Prendre rendez-vous/);
    assert.match(res.body, /href="\/fr\/bureaux\/ottawa-ben-franklin\/tableau"/);
    const en = await get('/en/offices/ottawa-ben-franklin');
    assert.equal((en.body.replace(/<caption class="govuk-table__caption govuk-visually-hidden">[^<]*<\/caption>/g, '').match(/Opening hours/g) ?? []).length, 1);
    assert.match(en.body, /href="\/en\/offices\/ottawa-ben-franklin\/appointments">Book an appointment/);
    assert.match(en.body, /href="\/en\/offices\/ottawa-ben-franklin\/board"/);
    assert.equal((await get('/en/offices/nope')).statusCode, 404);
  });
});
