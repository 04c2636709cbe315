/**
 * Text normalisation for search: accent folding, tokenising, stop words, spelling variants and Snowball stemming
 * (English and French). The same pipeline runs on the catalogue at index time and on the citizen's words at
 * query time, so "Déménagement", "demenagement" and "déménager" meet on the same stem.
 */
import snowball from 'snowball-stemmers';

export type SearchLang = 'en' | 'fr';

/** Lower case, ligatures expanded, accents and other combining marks removed. */
export function fold(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text.toLowerCase();
  return text
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .replace(/ß/g, 'ss')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '');
}

/** Folded words (letters and digits); apostrophes, hyphens and punctuation separate words ("d'impôt" -> d, impot). */
export function words(text: string): string[] {
  const out = fold(text).split(/[^a-z0-9]+/);
  return out.filter((w) => w.length > 0);
}

/** Folded stop words. Short function words and the filler of questions ("how do I ..."), never content words. */
const STOP: Record<SearchLang, Set<string>> = {
  en: new Set(
    `a an and are as at be been being but by can could do does did for from had has have how i if in into is it its
    me my mine of off on or our ours so such than that the their them then there these they this those to too us
    was we were what when where which who whom why will with would you your yours am any all also about please
    want need needs get getting got find where's whats should shall may might must just some s t d ll m o re ve y`.split(/\s+/),
  ),
  fr: new Set(
    `a au aux avec ce ces c ca cela celle celui cet cette comment d dans de des du elle elles en est et etre eu il ils
    j je l la le les leur leurs lui m ma mais me meme mes moi mon n ne nos notre nous on ou par pas pour qu que quel
    quelle quelles quels qui s sa sans se ses si son sont sur t ta te tes toi ton tu un une vos votre vous y faut
    veux voudrais besoin puis peux dois obtenir ai as avons avez ont suis es sommes etes ete chez lors afin cet`.split(/\s+/),
  ),
};

export function isStopWord(word: string, lang: SearchLang): boolean {
  return STOP[lang].has(word);
}

/** Spelling variants brought to one form before stemming (US/UK/Canadian English; French spelling reform). */
const VARIANTS: Record<string, string> = {
  license: 'licence', licenses: 'licences', licensed: 'licenced', licensing: 'licencing', licencing: 'licencing',
  center: 'centre', centers: 'centres', program: 'programme', programs: 'programmes', organization: 'organisation',
  organizations: 'organisations', defense: 'defence', labor: 'labour', harbor: 'harbour', harbors: 'harbours',
  color: 'colour', honor: 'honour', neighbor: 'neighbour', neighborhood: 'neighbourhood', enrollment: 'enrolment',
  enroll: 'enrol', catalog: 'catalogue', traveler: 'traveller', travelers: 'travellers', traveling: 'travelling',
  fulfill: 'fulfil', aging: 'ageing', favor: 'favour', behavior: 'behaviour',
  gray: 'grey', jewelry: 'jewellery', mold: 'mould', plow: 'plough', tire: 'tyre', tires: 'tyres', theater: 'theatre',
  // French: accents fold away; a few alternative spellings:
  clef: 'cle', clefs: 'cles', grand: 'grand', payes: 'paies', paye: 'paie',
};

export function variant(word: string): string {
  return VARIANTS[word] ?? word;
}

const stemmers: Record<SearchLang, { stem(w: string): string }> = {
  en: snowball.newStemmer('english'),
  fr: snowball.newStemmer('french'),
};
const stemCache: Record<SearchLang, Map<string, string>> = { en: new Map(), fr: new Map() };

/** Snowball stem of a folded word (memoised: the vocabulary is small next to the text). */
export function stem(word: string, lang: SearchLang): string {
  const cache = stemCache[lang];
  let s = cache.get(word);
  if (s === undefined) {
    const w = variant(word);
    s = /^[0-9]+$/.test(w) || w.length < 3 ? w : stemmers[lang].stem(w);
    if (cache.size < 500_000) cache.set(word, s);
  }
  return s;
}

/** Content words of a text in one language: folded, stop words removed, each with its stem. */
export function analyse(text: string, lang: SearchLang): Array<{ word: string; stem: string }> {
  const out: Array<{ word: string; stem: string }> = [];
  for (const w of words(text)) {
    if (STOP[lang].has(w)) continue;
    out.push({ word: w, stem: stem(w, lang) });
  }
  return out;
}

/** Optimal string alignment distance, stopping early once it exceeds max (returns max + 1). */
export function editDistance(a: string, b: string, max = 1): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = a.length;
  const m = b.length;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= m; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m];
}

/** Every string obtained by deleting one character (the symmetric-delete neighbourhood at distance 1). */
export function deletes1(word: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < word.length; i++) out.push(word.slice(0, i) + word.slice(i + 1));
  return out;
}
