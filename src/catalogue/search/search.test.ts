import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/app';
import { sql } from 'kysely';
import { t } from '../../i18n/index';
import { fusedSearchCount, invalidateSearchIndex, searchServices, setSimpleSearch, simpleSearchCount, synonymSearchCount } from './index';
import { SYNONYMS } from './synonyms';

let ctx: TestApp;
before(async () => {
  ctx = await createTestApp({ catalogue: true });
});
after(async () => {
  await ctx?.close();
});

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await ctx.app.inject({ method: 'GET', url, headers });
  return { status: res.statusCode, body: res.json() as any };
}

async function publishedCount(): Promise<number> {
  const r = await ctx.db.selectFrom('services').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'published').executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('GET /api/v1/services', () => {
  it('lists every published service without q, by title, with facets', async () => {
    const { status, body } = await get('/api/v1/services?lang=en');
    assert.equal(status, 200);
    assert.equal(body.total, await publishedCount());
    assert.equal(body.total, 1716 + 10, 'the GC inventory plus the 10 demo services');
    assert.equal(body.items.length, 10);
    const titles = body.items.map((i: any) => i.title);
    const sorted = [...titles].sort((a, b) => a.localeCompare(b, 'en-CA', { sensitivity: 'base', numeric: true }));
    assert.deepEqual(titles, sorted);
    for (const item of body.items) {
      assert.match(item.url, /^\/en\/services\//);
      assert.equal(item.url, `/en/services/${item.id}`);
      assert.ok(item.organisation.id && item.organisation.name && item.organisation.level);
      assert.ok(Array.isArray(item.channels));
    }
    for (const f of ['audience', 'organisation', 'channel', 'lifeEvent', 'level']) assert.ok(body.facets[f].length > 0, f);
    const federal = body.facets.level.find((v: any) => v.value === 'federal');
    assert.equal(federal.count, 1716);
    assert.equal(federal.label, 'Federal');
    const orgSum = body.facets.organisation.reduce((s: number, v: any) => s + v.count, 0);
    assert.equal(orgSum, body.total, 'every service has one owner');
  });

  it('pages through results without overlap', async () => {
    const p1 = (await get('/api/v1/services?q=permit&pageSize=5&page=1')).body;
    const p2 = (await get('/api/v1/services?q=permit&pageSize=5&page=2')).body;
    const all = (await get('/api/v1/services?q=permit&pageSize=10&page=1')).body;
    assert.equal(p1.items.length, 5);
    assert.equal(p2.items.length, 5);
    assert.equal(p1.total, p2.total);
    assert.deepEqual([...p1.items, ...p2.items].map((i: any) => i.id), all.items.map((i: any) => i.id));
    const scores = all.items.map((i: any) => i.score);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'ranked by score');
    const beyond = (await get(`/api/v1/services?q=permit&pageSize=100&page=${Math.ceil(p1.total / 100) + 1}`)).body;
    assert.equal(beyond.items.length, 0);
    assert.equal(beyond.total, p1.total);
  });

  it('answers in the language asked, with the portal URL of that language', async () => {
    const en = (await get('/api/v1/services?q=passport&lang=en')).body;
    const fr = (await get('/api/v1/services?q=passeport&lang=fr')).body;
    const passports = ['gc-1242', 'gc-SRV03049'];
    assert.ok(passports.includes(en.items[0].id));
    assert.equal(en.items.find((i: any) => i.id === 'gc-1242').title, 'Canadian Passport');
    assert.ok(passports.includes(fr.items[0].id));
    const frPassport = fr.items.find((i: any) => i.id === 'gc-1242');
    assert.equal(frPassport.title, 'Passeport canadien');
    assert.equal(frPassport.url, '/fr/services/gc-1242');
    const channelFr = fr.facets.channel.find((v: any) => v.value === 'online');
    assert.equal(channelFr.label, 'En ligne');
    // Without lang, Accept-Language decides.
    const byHeader = (await get('/api/v1/services?q=passeport', { 'accept-language': 'fr-CA,fr;q=0.9' })).body;
    assert.match(byHeader.items[0].url, /^\/fr\/services\/gc-/);
    assert.equal(byHeader.items[0].title, fr.items[0].title);
  });

  it('is accent-insensitive and tolerates one typo', async () => {
    const a = (await get('/api/v1/services?q=d%C3%A9m%C3%A9nagement&lang=fr')).body;
    const b = (await get('/api/v1/services?q=demenagement&lang=fr')).body;
    const c = (await get('/api/v1/services?q=dem%C3%A9nagement&lang=fr')).body;
    assert.ok(a.total > 0);
    assert.deepEqual(b.items.map((i: any) => i.id), a.items.map((i: any) => i.id));
    assert.deepEqual(c.items.map((i: any) => i.id), a.items.map((i: any) => i.id));
    const typo = (await get('/api/v1/services?q=pasport&lang=en')).body;
    assert.ok(['gc-1242', 'gc-SRV03049'].includes(typo.items[0].id));
    // Short words (under 5 letters) are not corrected: "visq" must not become "visa".
    const short = (await get('/api/v1/services?q=visq&lang=en')).body;
    assert.equal(short.total, 0);
  });

  it('expands citizens’ words with the bilingual synonyms', async () => {
    const gun = (await get('/api/v1/services?q=gun+licence&lang=en')).body;
    assert.equal(gun.items[0].id, 'gc-926', 'gun -> firearm');
    const boat = (await get('/api/v1/services?q=boat+licence&lang=en')).body;
    assert.equal(boat.items[0].id, 'gc-SRV03509', 'boat -> pleasure craft');
    const avion = (await get('/api/v1/services?q=avion+immatriculation&lang=fr')).body;
    assert.equal(avion.items[0].id, 'gc-SRV03551', 'avion -> aéronef');
    const pardon = (await get('/api/v1/services?q=pardon&lang=en')).body;
    assert.ok(['gc-1892', 'gc-SRV02789'].includes(pardon.items[0].id), 'pardon -> record suspension');
  });

  it('filters by audience, organisation, channel, level and life event, with disjunctive facets', async () => {
    const base = (await get('/api/v1/services?q=benefits&lang=en&pageSize=100')).body;
    const cra = (await get('/api/v1/services?q=benefits&lang=en&pageSize=100&organisation=cra-arc')).body;
    assert.ok(cra.total > 0 && cra.total < base.total);
    assert.ok(cra.items.every((i: any) => i.organisation.id === 'cra-arc'));
    assert.equal(cra.total, base.facets.organisation.find((v: any) => v.value === 'cra-arc').count);
    // The organisation facet still shows the other organisations (counts without its own filter).
    assert.deepEqual(cra.facets.organisation, base.facets.organisation);

    const two = (await get('/api/v1/services?q=benefits&lang=en&pageSize=100&organisation=cra-arc,esdc-edsc')).body;
    const esdc = base.facets.organisation.find((v: any) => v.value === 'esdc-edsc').count;
    assert.equal(two.total, cra.total + esdc);

    const online = (await get('/api/v1/services?lang=en&pageSize=100&channel=online')).body;
    assert.ok(online.items.every((i: any) => i.channels.includes('online')));
    assert.equal(online.total, (await get('/api/v1/services?lang=en')).body.facets.channel.find((v: any) => v.value === 'online').count);

    const econ = (await get('/api/v1/services?lang=en&audience=ECONOM')).body;
    const rows = await ctx.db.selectFrom('services').select('id').where('status', '=', 'published').where(sql<boolean>`audiences @> array['ECONOM']`).execute();
    assert.equal(econ.total, rows.length);
    assert.equal(econ.facets.audience.find((v: any) => v.value === 'ECONOM').label, 'Businesses');

    const municipal = (await get('/api/v1/services?lang=en&level=municipal')).body;
    assert.ok(municipal.total > 0);
    assert.ok(municipal.items.every((i: any) => i.organisation.level === 'municipal'));

    const baby = (await get('/api/v1/services?lang=en&pageSize=100&lifeEvent=having-a-baby')).body;
    const steps = await ctx.db.selectFrom('event_steps').select('service_id').where('event_id', '=', 'having-a-baby').where('service_id', 'is not', null).execute();
    assert.deepEqual(baby.items.map((i: any) => i.id).sort(), [...new Set(steps.map((s) => s.service_id))].sort());
    const lifeFacet = (await get('/api/v1/services?lang=fr')).body.facets.lifeEvent.find((v: any) => v.value === 'having-a-baby');
    assert.equal(lifeFacet.label, 'Avoir un bébé');
    assert.equal(lifeFacet.count, baby.total);

    const none = (await get('/api/v1/services?lang=en&organisation=no-such-org')).body;
    assert.equal(none.total, 0);
    assert.deepEqual(none.items, []);
  });

  it('returns only published services and follows invalidateSearchIndex()', async () => {
    const before = await searchServices(ctx.db, { q: 'passport', lang: 'en', page: 1, pageSize: 10 });
    assert.ok(before.items.some((i) => i.id === 'gc-1242'));
    await ctx.db.updateTable('services').set({ status: 'withdrawn' }).where('id', '=', 'gc-1242').execute();
    try {
      const stale = await searchServices(ctx.db, { q: 'passport', lang: 'en', page: 1, pageSize: 10 });
      assert.ok(stale.items.some((i) => i.id === 'gc-1242'), 'the index is kept until invalidated');
      invalidateSearchIndex();
      const fresh = await searchServices(ctx.db, { q: 'passport', lang: 'en', page: 1, pageSize: 10 });
      assert.ok(!fresh.items.some((i) => i.id === 'gc-1242'));
      const all = (await get('/api/v1/services')).body;
      assert.equal(all.total, (await publishedCount()));
    } finally {
      await ctx.db.updateTable('services').set({ status: 'published' }).where('id', '=', 'gc-1242').execute();
      invalidateSearchIndex();
    }
    const back = await searchServices(ctx.db, { q: 'passport', lang: 'en', page: 1, pageSize: 10 });
    assert.ok(back.items.some((i) => i.id === 'gc-1242'));
  });

  it('rejects bad parameters with 400 and a machine-readable code, in the request language', async () => {
    const lang = await get('/api/v1/services?lang=de');
    assert.equal(lang.status, 400);
    assert.equal(lang.body.error.code, 'VALIDATION_ERROR');
    assert.equal(lang.body.error.details[0].field, 'querystring.lang');
    assert.equal(lang.body.error.details[0].code, 'notAllowed');

    const negative = await get('/api/v1/services?pageSize=-1');
    assert.equal(negative.status, 400);
    assert.deepEqual(negative.body.error.details.map((d: any) => [d.field, d.code]), [['querystring.pageSize', 'tooSmall']]);

    const huge = await get('/api/v1/services?pageSize=100000', { 'accept-language': 'fr' });
    assert.equal(huge.status, 400);
    assert.equal(huge.body.error.details[0].code, 'tooLarge');
    assert.equal(huge.body.error.message, t('fr', 'errors.VALIDATION_ERROR'));
    assert.equal(huge.body.error.details[0].message, t('fr', 'field.tooLarge'));

    const longQ = await get(`/api/v1/services?q=${'a'.repeat(10 * 1024)}`);
    assert.equal(longQ.status, 400);
    assert.equal(longQ.body.error.details[0].code, 'tooLong');

    const page = await get('/api/v1/services?page=0');
    assert.equal(page.status, 400);
    const notNumber = await get('/api/v1/services?page=abc');
    assert.equal(notNumber.status, 400);
    const channel = await get('/api/v1/services?channel=pigeon');
    assert.equal(channel.status, 400);
    const event = await get('/api/v1/services?lifeEvent=%3Cscript%3E');
    assert.equal(event.status, 400);
  });

  it('copes with queries made only of stop words, punctuation or unknown words', async () => {
    for (const q of ['the', '¿¡!!', 'zzzzqqqq', "l'", '   ']) {
      const r = await get(`/api/v1/services?q=${encodeURIComponent(q)}`);
      assert.equal(r.status, 200, q);
      assert.ok(Array.isArray(r.body.items));
    }
    const blank = (await get('/api/v1/services?q=%20%20')).body;
    assert.equal(blank.total, await publishedCount(), 'a blank query lists everything');
    const unknown = (await get('/api/v1/services?q=zzzzqqqq')).body;
    assert.equal(unknown.total, 0);
  });
});

describe('GET /api/v1/organisations', () => {
  it('lists every organisation by name with its number of published services', async () => {
    const { status, body } = await get('/api/v1/organisations?lang=en&pageSize=100');
    assert.equal(status, 200);
    const orgs = await ctx.db.selectFrom('organisations').select('id').execute();
    assert.equal(body.total, orgs.length);
    const names = body.items.map((o: any) => o.name);
    assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b, 'en-CA', { sensitivity: 'base', numeric: true })));
    const cra = body.items.find((o: any) => o.id === 'cra-arc');
    const n = await ctx.db.selectFrom('services').select((eb) => eb.fn.countAll<number>().as('n')).where('owner_org_id', '=', 'cra-arc').where('status', '=', 'published').executeTakeFirstOrThrow();
    assert.equal(cra.services, Number(n.n));
    assert.equal(cra.url, '/en/organisations/cra-arc');
  });

  it('finds organisations by name or acronym in either language, and filters by level', async () => {
    const en = (await get('/api/v1/organisations?q=revenue+agency&lang=en')).body;
    assert.equal(en.items[0].id, 'cra-arc');
    const fr = (await get('/api/v1/organisations?q=ARC&lang=fr')).body;
    assert.equal(fr.items[0].id, 'cra-arc');
    assert.equal(fr.items[0].acronym, 'ARC');
    assert.equal(fr.items[0].url, '/fr/organisations/cra-arc');
    const typo = (await get('/api/v1/organisations?q=imigration&lang=en')).body;
    assert.ok(typo.total > 0);
    assert.ok(typo.items.every((o: any) => /immigration/i.test(o.name)), 'imigration -> immigration');
    const municipal = (await get('/api/v1/organisations?level=municipal')).body;
    assert.ok(municipal.total > 0);
    assert.ok(municipal.items.every((o: any) => o.level === 'municipal'));
    const bad = await get('/api/v1/organisations?level=galactic');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'VALIDATION_ERROR');
  });
});

describe('simple queries (one or two plain words) answered without reading every posting', () => {
  it('give exactly the results of the general path: items, scores, totals and facets', async () => {
    const rows = await ctx.db.selectFrom('services').select(['title_en', 'title_fr']).where('status', '=', 'published').orderBy('id').execute();
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
    const vocab = { en: rows.flatMap((r) => r.title_en.split(/\s+/)), fr: rows.flatMap((r) => r.title_fr.split(/\s+/)) };
    const queries: Array<{ q: string; lang: 'en' | 'fr'; page: number; pageSize: number }> = [
      { q: 'canada services', lang: 'en', page: 1, pageSize: 10 },
      { q: 'passport passport', lang: 'en', page: 1, pageSize: 10 },
      { q: 'permis', lang: 'fr', page: 3, pageSize: 7 },
      // A rare word and a common one (the common one only adds to the rare one's documents), in both orders.
      { q: 'passport canada', lang: 'en', page: 1, pageSize: 10 },
      { q: 'canada passport', lang: 'en', page: 2, pageSize: 5 },
      { q: 'canada pêche', lang: 'fr', page: 1, pageSize: 10 },
    ];
    for (let i = 0; i < 300; i++) {
      const lang = rnd() < 0.5 ? 'en' : 'fr';
      const q = Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => pick(vocab[lang])).join(' ');
      queries.push({ q, lang, page: 1 + Math.floor(rnd() * 3), pageSize: pick([1, 5, 10, 50]) });
    }
    // Facet histograms from 20 documents on, so that both the precomputed and the per-query ones are used.
    setSimpleSearch(true, { termFacetsDf: 20 });
    invalidateSearchIndex();
    try {
      const before = simpleSearchCount();
      const fast = [];
      for (const p of queries) fast.push(await searchServices(ctx.db, p, { cache: false }));
      const used = simpleSearchCount() - before;
      assert.ok(used > 150, `the simple path answered ${used} of ${queries.length} queries`);
      setSimpleSearch(false);
      for (let i = 0; i < queries.length; i++) {
        const general = await searchServices(ctx.db, queries[i], { cache: false });
        assert.deepEqual(fast[i], general, JSON.stringify(queries[i]));
      }
      assert.ok(fast.filter((r) => r.total > 20).length > 50, 'broad queries are among them');
    } finally {
      setSimpleSearch(true);
      invalidateSearchIndex();
    }
  });
});

describe('synonym queries (one or two clauses, one with synonyms) answered without reading every posting', () => {
  it('give exactly the results of the general path: items, scores, totals and facets', async () => {
    const rows = await ctx.db.selectFrom('services').select(['title_en', 'title_fr']).where('status', '=', 'published').orderBy('id').execute();
    let seed = 11;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
    const vocab = { en: rows.flatMap((r) => r.title_en.split(/\s+/)), fr: rows.flatMap((r) => r.title_fr.split(/\s+/)) };
    const phrases = { en: SYNONYMS.flatMap((g) => g.en), fr: SYNONYMS.flatMap((g) => g.fr) };
    const queries: Array<{ q: string; lang: 'en' | 'fr'; page: number; pageSize: number }> = [
      { q: 'unemployment benefits', lang: 'en', page: 1, pageSize: 10 },
      { q: 'first nations inuit', lang: 'en', page: 1, pageSize: 10 },
      { q: 'boat licence', lang: 'en', page: 2, pageSize: 5 },
      { q: 'pardon', lang: 'en', page: 1, pageSize: 10 },
      { q: 'passport canada', lang: 'en', page: 1, pageSize: 10 },
      { q: 'chomage', lang: 'fr', page: 1, pageSize: 50 },
    ];
    for (let i = 0; i < 400; i++) {
      const lang = rnd() < 0.5 ? 'en' : 'fr';
      // A synonym phrase (sometimes of the other language), alone or with a title word before or after it.
      const phrase = pick(phrases[rnd() < 0.85 ? lang : lang === 'en' ? 'fr' : 'en']);
      const r = rnd();
      const q = r < 0.3 ? phrase : r < 0.65 ? `${phrase} ${pick(vocab[lang])}` : `${pick(vocab[lang])} ${phrase}`;
      queries.push({ q, lang, page: 1 + Math.floor(rnd() * 3), pageSize: pick([1, 5, 10, 50]) });
    }
    // Three to five words (the general path, with the facets and the page counted in its final pass).
    for (let i = 0; i < 150; i++) {
      const lang = rnd() < 0.5 ? 'en' : 'fr';
      const q = Array.from({ length: 3 + Math.floor(rnd() * 3) }, () => (rnd() < 0.2 ? pick(phrases[lang]) : pick(vocab[lang]))).join(' ');
      queries.push({ q, lang, page: 1 + Math.floor(rnd() * 3), pageSize: pick([1, 5, 10, 50]) });
    }
    // Every synonym query of one or two clauses through the synonym path, however many documents its phrases match
    // (by default only those whose matches come mostly from one list).
    setSimpleSearch(true, { termFacetsDf: 20, synonymRatio: 0 });
    invalidateSearchIndex();
    try {
      const before = synonymSearchCount();
      const fusedBefore = fusedSearchCount();
      const fast = [];
      for (const p of queries) fast.push(await searchServices(ctx.db, p, { cache: false }));
      const used = synonymSearchCount() - before;
      assert.ok(used > 150, `the synonym path answered ${used} of ${queries.length} queries`);
      // The others (three clauses or more, several forms of a word, many synonym documents) take the general path,
      // with the facets and the page counted in its final pass: compared too.
      const fused = fusedSearchCount() - fusedBefore;
      assert.ok(fused > 120, `the general path with counting in its final pass answered ${fused} of ${queries.length} queries`);
      setSimpleSearch(false);
      for (let i = 0; i < queries.length; i++) {
        const general = await searchServices(ctx.db, queries[i], { cache: false });
        assert.deepEqual(fast[i], general, JSON.stringify(queries[i]));
      }
      assert.ok(fast.filter((r) => r.total > 20).length > 50, 'broad queries are among them');
    } finally {
      setSimpleSearch(true);
      invalidateSearchIndex();
    }
  });
});

describe('OpenAPI', () => {
  it('documents the search endpoints under the catalogue tag', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/docs/json' });
    const spec = res.json() as any;
    assert.deepEqual(spec.paths['/api/v1/services'].get.tags, ['catalogue']);
    assert.deepEqual(spec.paths['/api/v1/organisations'].get.tags, ['catalogue']);
    const params = spec.paths['/api/v1/services'].get.parameters.map((p: any) => p.name);
    for (const p of ['q', 'lang', 'audience', 'lifeEvent', 'organisation', 'channel', 'page', 'pageSize']) assert.ok(params.includes(p), p);
  });
});
