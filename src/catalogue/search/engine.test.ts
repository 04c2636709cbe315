/** Unit tests of the search engine and its normalisation (no database). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deletes1, editDistance, fold, stem, words } from './normalise';
import { COMMON_DF, FK_EVENTS, TextIndex, type FieldDef } from './engine';
import { SYNONYMS } from './synonyms';

const FIELDS: FieldDef[] = [
  { name: 'title', boost: 4, b: 0.5 },
  { name: 'description', boost: 1, b: 0.75 },
];
const DOCS = [
  { en: ['Canadian Passport', 'Apply for or renew a passport to travel abroad.'], fr: ['Passeport canadien', 'Demander ou renouveler un passeport pour voyager.'] },
  { en: ['Firearms Licensing for individuals', 'Possession and acquisition licence for firearms.'], fr: ["Permis d'armes à feu pour les particuliers", "Permis de possession et d'acquisition d'armes à feu."] },
  { en: ['Pleasure Craft Licence', 'A licence for a pleasure craft with a motor.'], fr: ["Permis d'embarcation de plaisance", 'Un permis pour une embarcation de plaisance à moteur.'] },
  { en: ['Aircraft registration', 'Register an aircraft and get a registration mark.'], fr: ["Immatriculation d'aéronef", "Immatriculer un aéronef et obtenir une marque d'immatriculation."] },
  { en: ['Change of address', 'Tell us you are moving.'], fr: ["Changement d'adresse", 'Dites-nous que vous déménagez : déménagement.'] },
  { en: ['Travel health advice', 'Advice on health for travellers, not a passport service.'], fr: ['Conseils de santé aux voyageurs', 'Des conseils de santé pour les voyageurs.'] },
];
const index = TextIndex.build(DOCS.length, FIELDS, (i) => [
  { field: 0, lang: 'en', text: DOCS[i].en[0] },
  { field: 0, lang: 'fr', text: DOCS[i].fr[0] },
  { field: 1, lang: 'en', text: DOCS[i].en[1] },
  { field: 1, lang: 'fr', text: DOCS[i].fr[1] },
]);

function ranked(q: string, lang: 'en' | 'fr'): number[] {
  const m = index.search(q, lang);
  const order = Array.from(m.docs.subarray(0, m.count)).map((d, j) => ({ d, s: m.scores[j] }));
  return order.sort((a, b) => b.s - a.s).map((x) => x.d);
}

describe('normalisation', () => {
  it('folds accents, ligatures and case, and splits on apostrophes and hyphens', () => {
    assert.equal(fold('Déménagement ŒUVRE Ça'), 'demenagement oeuvre ca');
    assert.deepEqual(words("d'assurance-emploi  l’impôt"), ['d', 'assurance', 'emploi', 'l', 'impot']);
  });
  it('stems French and English so that word forms meet', () => {
    assert.equal(stem('demenagement', 'fr'), stem('demenager', 'fr'));
    assert.equal(stem('passeports', 'fr'), stem('passeport', 'fr'));
    assert.equal(stem('firearms', 'en'), stem('firearm', 'en'));
    assert.equal(stem('license', 'en'), stem('licence', 'en'), 'US spelling brought to the Canadian one');
  });
  it('measures one edit (insertion, deletion, substitution, transposition)', () => {
    assert.equal(editDistance('pasport', 'passport'), 1);
    assert.equal(editDistance('passprot', 'passport'), 1);
    assert.equal(editDistance('passpert', 'passport'), 1);
    assert.equal(editDistance('pssprt', 'passport'), 2);
    assert.deepEqual(deletes1('abc'), ['bc', 'ac', 'ab']);
  });
});

describe('TextIndex', () => {
  it('ranks a title match above a description match', () => {
    assert.deepEqual(ranked('passport', 'en').slice(0, 2), [0, 5]);
  });
  it('is accent-insensitive in both directions', () => {
    assert.equal(ranked('déménagement', 'fr')[0], 4);
    assert.equal(ranked('demenagement', 'fr')[0], 4);
    assert.equal(ranked('DEMÉNAGER', 'fr')[0], 4);
  });
  it('corrects one typo in words of five letters or more, not in shorter words', () => {
    assert.deepEqual(index.corrections('pasport'), ['passport']);
    assert.equal(ranked('pasport', 'en')[0], 0);
    assert.deepEqual(index.corrections('pasprot'), [], 'two edits are too many');
    assert.deepEqual(index.corrections('mrk'), []);
  });
  it('expands synonyms, including multi-word ones and across languages', () => {
    assert.equal(ranked('gun', 'en')[0], 1, 'gun -> firearm');
    assert.equal(ranked('boat', 'en')[0], 2, 'boat -> pleasure craft');
    assert.equal(ranked('avion', 'fr')[0], 3, 'avion -> aéronef');
    assert.equal(ranked('plane registration', 'en')[0], 3);
    assert.equal(ranked('bateau', 'en')[0], 2, 'a French word on the English site');
  });
  it('finds nothing for stop words only or unknown words', () => {
    assert.equal(index.search('the of and', 'en').count, 0);
    assert.equal(index.search('zzzzqqqq', 'fr').count, 0);
    assert.equal(index.search('', 'fr').count, 0);
  });
});

describe('synonym list', () => {
  it('is substantial and bilingual', () => {
    assert.ok(SYNONYMS.length >= 100);
    for (const g of SYNONYMS) assert.ok(g.en.length > 0 && g.fr.length > 0, JSON.stringify(g));
    const has = (en: string, fr: string) => SYNONYMS.some((g) => g.en.includes(en) && g.fr.includes(fr));
    assert.ok(has('gun', 'arme à feu'));
    assert.ok(has('pleasure craft', 'bateau'));
    assert.ok(has('plane', 'aéronef'));
    assert.ok(has('record suspension', 'pardon'));
  });
});

/**
 * The straightforward evaluation of a query plan, one document at a time: the reference the optimised engine
 * (accumulators, bit set of touched documents, candidates of multi-word phrases, common terms looked up, the
 * longest alternative read last) must match exactly — same documents, same scores to the last bit.
 */
function referenceSearch(ix: TextIndex, query: string, lang: 'en' | 'fr'): Map<number, number> {
  const { clauses } = ix.plan(query, lang);
  const n = clauses.length;
  const result = new Map<number, number>();
  if (!n) return result;
  type Clause = (typeof clauses)[number];
  const df = (key: string) => ix.postingList(key)?.docs.length ?? 0;
  const scoreIn = (key: string, d: number): number | undefined => {
    const p = ix.postingList(key)!;
    const at = p.docs.indexOf(d);
    return at < 0 ? undefined : p.scores[at];
  };
  const estimate = (c: Clause) => c.alternatives.reduce((sum, a) => sum + Math.min(...a.terms.map((t) => t.variants.reduce((x, v) => x + df(v.key), 0))), 0);
  const common = clauses.filter((c) => estimate(c) > Math.max(50, COMMON_DF * ix.size));
  const deferred = common.length < n ? common : [];
  // A clause's score for document d (undefined: no match), computed as the engine's paths compute it.
  const clauseScore = (c: Clause, d: number): number | undefined => {
    if (c.alternatives.length === 1 && c.alternatives[0].terms.length === 1 && !deferred.includes(c)) {
      // Simple clause: each form adds its own term to the total (the caller adds them one by one).
      return undefined;
    }
    let best: number | undefined;
    for (const a of c.alternatives) {
      let s: number | undefined;
      if (a.terms.length === 1 && a.terms[0].variants.length === 1) {
        const x = scoreIn(a.terms[0].variants[0].key, d);
        if (x !== undefined) s = a.terms[0].variants[0].weight * x * a.weight;
      } else {
        let sc = 0;
        let cnt = 0;
        for (const t of a.terms) {
          let found = false;
          for (const v of t.variants) {
            const x = scoreIn(v.key, d);
            if (x !== undefined) {
              sc += v.weight * x;
              found = true;
            }
          }
          if (found) cnt++;
        }
        if (cnt > 0 && (!a.requireAll || cnt === a.terms.length)) s = sc * a.weight * (a.requireAll ? 1 : cnt / a.terms.length);
      }
      if (s !== undefined && (best === undefined || s > best)) best = s;
    }
    return best;
  };
  const minMatch = n <= 2 ? 1 : Math.max(2, Math.floor(n / 2));
  for (let d = 0; d < ix.size; d++) {
    let total = 0;
    let m = 0;
    for (const c of clauses) {
      if (deferred.includes(c)) continue;
      if (c.alternatives.length === 1 && c.alternatives[0].terms.length === 1) {
        let found = false;
        for (const v of c.alternatives[0].terms[0].variants) {
          const x = scoreIn(v.key, d);
          if (x === undefined) continue;
          total += v.weight * c.alternatives[0].weight * x;
          found = true;
        }
        if (found) m++;
      } else {
        const s = clauseScore(c, d);
        if (s !== undefined) {
          total += s;
          m++;
        }
      }
    }
    if (m === 0) continue;
    for (const c of deferred) {
      const s = clauseScore(c, d);
      if (s !== undefined) {
        total += s;
        m++;
      }
    }
    if (m >= minMatch) result.set(d, m === n ? total : total * Math.pow(m / n, 1.5));
  }
  return result;
}

describe('TextIndex against the straightforward evaluation', () => {
  // A random catalogue whose words are taken from the synonym list (so that phrases, synonyms and cross-language
  // words occur), with very common words (common-terms path), rare words, and random queries with typos.
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
  const vocab = { en: [...new Set(SYNONYMS.flatMap((g) => g.en.join(' ').split(' ')))], fr: [...new Set(SYNONYMS.flatMap((g) => g.fr.join(' ').split(' ')))] };
  const phrases = { en: SYNONYMS.flatMap((g) => g.en), fr: SYNONYMS.flatMap((g) => g.fr) };
  const common = { en: ['canada', 'services', 'information'], fr: ['canada', 'services', 'renseignements'] };
  const SIZE = 3000;
  const text = (lang: 'en' | 'fr', len: number) => {
    const out: string[] = [];
    for (let i = 0; i < len; i++) {
      const r = rnd();
      if (r < 0.15) out.push(pick(phrases[lang]));
      else if (r < 0.25) out.push(pick(common[lang]));
      else out.push(pick(vocab[lang]));
    }
    return out.join(' ');
  };
  const docs = Array.from({ length: SIZE }, (_, i) => ({
    en: [text('en', 2 + (i % 5)), text('en', 6 + (i % 17))],
    fr: [text('fr', 2 + (i % 4)), text('fr', 5 + (i % 13))],
    common: rnd() < 0.4,
  }));
  const big = TextIndex.build(SIZE, FIELDS, (i) => [
    { field: 0, lang: 'en', text: docs[i].en[0] },
    { field: 0, lang: 'fr', text: docs[i].fr[0] },
    { field: 1, lang: 'en', text: docs[i].en[1] + (docs[i].common ? ' canada' : '') },
    { field: 1, lang: 'fr', text: docs[i].fr[1] + (docs[i].common ? ' canada' : '') },
  ]);
  const typo = (w: string) => (w.length >= 5 ? w.slice(0, 2) + w.slice(3) : w);

  it('returns exactly the same documents and scores on random queries', () => {
    let compared = 0;
    for (let q = 0; q < 400; q++) {
      const lang = rnd() < 0.5 ? 'en' : 'fr';
      const parts: string[] = [];
      const len = 1 + Math.floor(rnd() * 5);
      for (let i = 0; i < len; i++) {
        const r = rnd();
        if (r < 0.25) parts.push(pick(phrases[rnd() < 0.8 ? lang : lang === 'en' ? 'fr' : 'en']));
        else if (r < 0.4) parts.push(pick(common[lang]));
        else if (r < 0.5) parts.push(typo(pick(vocab[lang])));
        else parts.push(pick(vocab[lang]));
      }
      const query = parts.join(' ');
      const want = referenceSearch(big, query, lang);
      // Twice: the second search must not see anything left over from the first.
      for (let round = 0; round < 2; round++) {
        const m = big.search(query, lang);
        const got = new Map<number, number>();
        for (let j = 0; j < m.count; j++) {
          if (j > 0) assert.ok(m.docs[j] > m.docs[j - 1], 'ascending document order');
          got.set(m.docs[j], m.scores[j]);
        }
        assert.equal(got.size, want.size, `${lang}: ${query} (${big.plan(query, lang).explain.join(' ; ')})`);
        for (const [d, s] of want) assert.equal(got.get(d), s, `${lang}: ${query}: document ${d}`);
      }
      compared += want.size;
    }
    assert.ok(compared > 10_000, `the random queries match documents (${compared})`);
  });

  const randomQuery = () => {
    const lang: 'en' | 'fr' = rnd() < 0.5 ? 'en' : 'fr';
    const parts: string[] = [];
    const len = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < len; i++) {
      const r = rnd();
      if (r < 0.4) parts.push(pick(phrases[rnd() < 0.8 ? lang : lang === 'en' ? 'fr' : 'en']));
      else if (r < 0.5) parts.push(pick(common[lang]));
      else if (r < 0.55) parts.push(typo(pick(vocab[lang])));
      else parts.push(pick(vocab[lang]));
    }
    return { query: parts.join(' '), lang };
  };

  it('counts facets and keeps the best documents in its final pass (MatchSink) exactly as from the returned matches', () => {
    // Packed facet words as index.ts builds them: owner in bits 0-11, audience mask 12-19, channel mask 20-27, events.
    const facetKey = new Int32Array(SIZE);
    const evStart = new Int32Array(SIZE + 1);
    const ev: number[] = [];
    for (let d = 0; d < SIZE; d++) {
      const events = rnd() < 0.2 ? [Math.floor(rnd() * 5)] : [];
      ev.push(...events);
      evStart[d + 1] = ev.length;
      facetKey[d] = Math.floor(rnd() * 20) | (Math.floor(rnd() * 256) << 12) | (Math.floor(rnd() * 256) << 20) | (events.length ? FK_EVENTS : 0);
    }
    const evList = Int32Array.from(ev);
    let compared = 0;
    for (let q = 0; q < 200; q++) {
      const { query, lang } = randomQuery();
      const m = big.search(query, lang);
      const want = { orgPass: new Int32Array(21), audHist: new Int32Array(256), chHist: new Int32Array(256), evCount: new Int32Array(5) };
      const all: Array<[number, number]> = [];
      for (let j = 0; j < m.count; j++) {
        const d = m.docs[j];
        const f = facetKey[d];
        want.orgPass[f & 0xfff]++;
        want.audHist[(f >>> 12) & 0xff]++;
        want.chHist[(f >>> 20) & 0xff]++;
        for (let k = evStart[d]; k < evStart[d + 1]; k++) want.evCount[evList[k]]++;
        all.push([d, m.scores[j]]);
      }
      all.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      const kept: Array<[number, number]> = [];
      let floor = -Infinity;
      const K = 10;
      const heap = {
        get floor() {
          return floor;
        },
        push(d: number, s: number) {
          kept.push([d, s]);
          kept.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
          kept.length = Math.min(kept.length, K);
          if (kept.length === K) floor = kept[K - 1][1];
        },
      };
      const got = { orgPass: new Int32Array(21), audHist: new Int32Array(256), chHist: new Int32Array(256), evCount: new Int32Array(5) };
      const r = big.search(query, lang, big.plan(query, lang), { facetKey, evStart, evList, ...got, heap });
      assert.equal(r.count, m.count, `${lang}: ${query}`);
      assert.deepEqual(got, want, `${lang}: ${query}`);
      assert.deepEqual(kept, all.slice(0, K), `${lang}: ${query}`);
      compared += m.count;
    }
    assert.ok(compared > 5_000, `the random queries match documents (${compared})`);
  });

  it('splits synonym queries into lists and extra documents (synonymQuery) that give the same scores', () => {
    let used = 0;
    for (let q = 0; q < 400; q++) {
      const { query, lang } = randomQuery();
      const plan = big.plan(query, lang);
      const sq = big.synonymQuery(plan, 0);
      if (!sq) continue;
      used++;
      const want = referenceSearch(big, query, lang);
      const n = sq.clauses.length;
      // Every document of a list or an extra set, scored as synonymSearch (index.ts) scores it.
      const got = new Map<number, number>();
      const candidates = new Set<number>();
      for (const c of sq.clauses) {
        for (const d of c.docs) candidates.add(d);
        for (const d of c.extraDocs) candidates.add(d);
      }
      for (const d of candidates) {
        let t = 0;
        let m = 0;
        for (const c of sq.clauses) {
          const at = c.docs.indexOf(d);
          const e = c.extraDocs.indexOf(d);
          if (at < 0 && e < 0) continue;
          let cs = e >= 0 ? c.extraScores[e] : c.a * c.scores[at] * c.b;
          if (e >= 0 && at >= 0 && c.a * c.scores[at] * c.b > cs) cs = c.a * c.scores[at] * c.b;
          t += cs;
          m++;
        }
        got.set(d, m === n ? t : t * sq.coord1);
      }
      assert.equal(got.size, want.size, `${lang}: ${query} (${plan.explain.join(' ; ')})`);
      for (const [d, s] of want) assert.equal(got.get(d), s, `${lang}: ${query}: document ${d}`);
      // The general search afterwards sees nothing left over.
      const m = big.search(query, lang, plan);
      assert.equal(m.count, want.size);
    }
    assert.ok(used > 100, `synonym queries (${used})`);
  });
});
