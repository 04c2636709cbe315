/** Unit tests of the search engine and its normalisation (no database). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deletes1, editDistance, fold, stem, words } from './normalise';
import { TextIndex, type FieldDef } from './engine';
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
