/**
 * In-process full-text engine: an inverted index with BM25F weights (field boosts and per-field length
 * normalisation), bilingual terms (every term is 'en:<stem>' or 'fr:<stem>'), one-edit typo tolerance through a
 * symmetric-delete dictionary, and query expansion with the bilingual synonym list.
 *
 * Pure: knows nothing of the database. Build once from documents, then query synchronously.
 */
import { analyse, deletes1, editDistance, fold, isStopWord, stem, words, type SearchLang } from './normalise';
import { SYNONYMS } from './synonyms';

export interface FieldDef {
  name: string;
  boost: number;
  /** BM25 length normalisation for this field (0 = none, 1 = full). */
  b: number;
}

export interface FieldText {
  field: number; // index in the field definitions
  lang: SearchLang;
  text: string;
}

export const K1 = 1.2;
/** Weight of a word matched in the other language than the query's (a French word typed on the English site). */
export const CROSS_LANG = 0.4;
/** Weight of a one-edit typo correction. */
export const FUZZY = 0.75;
/** Weight of a synonym of the words typed (same language; halved again across languages). */
export const SYNONYM = 0.8;

/** A clause matching more than this share of the documents (and 50) is a "common term" (see search()). */
export const COMMON_DF = 0.25;
/** Synonym phrases whose rarest word is in more than this share of the documents (and 1,000) are not searched. */
export const SYNONYM_MAX_DF = 0.05;
/** synonymQuery() is used only when its lists hold this many times more documents than its other alternatives. */
export const SYNONYM_PATH_RATIO = 3;

const LANG_BIT: Record<SearchLang, number> = { en: 1, fr: 2 };
const other = (l: SearchLang): SearchLang => (l === 'en' ? 'fr' : 'en');

interface Posting {
  docs: Int32Array;
  scores: Float32Array;
}

interface Variant {
  key: string;
  weight: number;
}
interface Term {
  variants: Variant[];
}
interface Alternative {
  terms: Term[];
  weight: number;
  requireAll: boolean;
}
interface Clause {
  alternatives: Alternative[];
}

export interface QueryPlan {
  clauses: Clause[];
  /** For explanations and tests: what each word became. */
  explain: string[];
}

/**
 * A query of one or two clauses that are each one word in one form: its matches are exactly the documents of one
 * posting list, or of the union of two, or (a rare word and a common one) of the rare word's list. A document's
 * score is `(0 + w₁·s₁) + w₂·s₂` when it matches both clauses, `w·s · coord` when one of two (coord = (1/2)^1.5),
 * `w·s` for a one-clause query. index.ts answers these without reading every posting (see simpleSearch there).
 */
export interface SimpleQuery {
  /** The lists whose documents match, in the order search() adds them (query order). */
  lists: Array<{ docs: Int32Array; scores: Float32Array; weight: number }>;
  /**
   * With one list: the other clause, a common term (see search()), which only adds `(formWeight·s)·altWeight` to
   * the documents of the list that it contains (after the list's own score, as search() adds deferred clauses).
   */
  common?: { docs: Int32Array; scores: Float32Array; formWeight: number; altWeight: number };
  /** Coordination factor of a document in one list of two (Math.pow(1 / 2, 1.5), as search() computes it). */
  coord1: number;
}

/**
 * A query of one or two clauses, at least one of them with synonyms (alternatives), no common clause deferred and
 * no word with several forms: clause i matches the documents of one posting list Lᵢ (its longest one-word
 * alternative, or the word itself for a plain clause; possibly empty) plus its `extra` documents (those its other
 * alternatives match, with their best score). A document's clause score is `(a·s)·b` for posting s of Lᵢ when it
 * is not an extra, else the larger of that and its extra score — exactly as search() computes them; its score is
 * `(0 + c₁) + c₂` when it matches both clauses, `c·coord1` when one of two, `c` for a one-clause query.
 */
export interface SynonymQuery {
  clauses: SynonymClause[];
  coord1: number;
}
export interface SynonymClause {
  docs: Int32Array;
  scores: Float32Array;
  a: number;
  b: number;
  /** Documents matched by the clause's other alternatives (in no particular order) and their best score. */
  extraDocs: Int32Array;
  extraScores: Float64Array;
}

/**
 * Where search() can put the matches instead of returning them (no filter: every match is a result): each match's
 * packed facet word (see index.ts) is counted into the histograms and the match offered to a bounded heap of the
 * best results, in the final pass itself.
 */
export interface MatchSink {
  facetKey: Int32Array;
  evStart: Int32Array;
  evList: Int32Array;
  orgPass: Int32Array;
  audHist: Int32Array;
  chHist: Int32Array;
  evCount: Int32Array;
  heap: { floor: number; push(d: number, s: number): void };
}
/** Bit of a packed facet word (MatchSink.facetKey) set when the document has life events. */
export const FK_EVENTS = 1 << 28;

export interface Matches {
  /**
   * Matching document numbers (in ascending order) and their scores; only the first `count` entries are valid, and
   * only until the next search of the same index (the arrays are the index's scratch space: copy them to keep them).
   */
  docs: Int32Array;
  scores: Float64Array;
  count: number;
}

/** Synonym phrases by language and stem sequence ('en|pleasur craft') -> group numbers. */
const synonymIndex = new Map<string, number[]>();
const synonymPhrases: Array<Array<{ lang: SearchLang; stems: string[] }>> = [];
const MAX_PHRASE = 5;
SYNONYMS.forEach((group, g) => {
  const phrases: Array<{ lang: SearchLang; stems: string[] }> = [];
  for (const lang of ['en', 'fr'] as const) {
    for (const p of group[lang]) {
      const stems = analyse(p, lang).map((a) => a.stem);
      if (!stems.length || stems.length > MAX_PHRASE) continue;
      phrases.push({ lang, stems });
      const key = `${lang}|${stems.join(' ')}`;
      const list = synonymIndex.get(key) ?? [];
      if (!list.includes(g)) list.push(g);
      synonymIndex.set(key, list);
    }
  }
  synonymPhrases.push(phrases);
});

/** Position of document d in a posting list (ascending document numbers), or -1. */
function find(docs: Int32Array, d: number): number {
  let lo = 0;
  let hi = docs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const x = docs[mid];
    if (x < d) lo = mid + 1;
    else if (x > d) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/**
 * First position at or after `from` whose document is >= d (ascending document numbers), or docs.length: galloping
 * (1, 2, 4, ... ahead) then binary search. Looking up ascending documents one after the other this way costs the
 * logarithm of the gap between them, not of the whole list.
 */
export function seek(docs: Int32Array, from: number, d: number): number {
  const len = docs.length;
  if (from >= len || docs[from] >= d) return from;
  let lo = from; // docs[lo] < d
  let step = 1;
  let hi = lo + 1;
  while (hi < len && docs[hi] < d) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  if (hi > len) hi = len;
  lo++;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (docs[mid] < d) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of set bits of a bit set. */
function popcount(bits: Int32Array): number {
  let c = 0;
  for (let i = 0; i < bits.length; i++) {
    let x = bits[i];
    x -= (x >>> 1) & 0x55555555;
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    c += (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
  }
  return c;
}

export class TextIndex {
  readonly size: number;
  private readonly postings = new Map<string, Posting>();
  /** Folded surface words -> languages they occur in (bit 1 en, bit 2 fr). */
  private readonly vocabulary = new Map<string, number>();
  /** Symmetric-delete dictionary: a word and each of its one-deletion forms -> the vocabulary words. */
  private readonly deletes = new Map<string, string[]>();
  // Scratch space reused by every query (search is synchronous, so never shared between two queries).
  private readonly altScore: Float64Array;
  private readonly altStamp: Int32Array;
  private readonly altCount: Uint8Array;
  private readonly termStamp: Int32Array;
  private readonly clauseScore: Float64Array;
  private readonly clauseStamp: Int32Array;
  /**
   * The query's accumulators: each document's score so far and number of matched clauses. They are zero outside a
   * search: the final pass resets every document it reads. `hit` is the set of documents touched (one bit each).
   */
  private readonly total: Float64Array;
  private readonly matched: Uint8Array;
  private readonly hit: Int32Array;
  private readonly clauseTouched: Int32Array;
  /** Documents in clauseTouched (one bit each; small enough to stay in the processor's nearest cache). */
  private readonly clauseHit: Int32Array;
  private readonly altTouched: Int32Array;
  private readonly outDocs: Int32Array;
  private readonly outScores: Float64Array;
  private serial = 0;

  private constructor(size: number) {
    this.size = size;
    this.altScore = new Float64Array(size);
    this.altStamp = new Int32Array(size);
    this.altCount = new Uint8Array(size);
    this.termStamp = new Int32Array(size);
    this.clauseScore = new Float64Array(size);
    this.clauseStamp = new Int32Array(size);
    this.total = new Float64Array(size);
    this.matched = new Uint8Array(size);
    this.hit = new Int32Array((size + 31) >>> 5);
    this.clauseTouched = new Int32Array(size);
    this.clauseHit = new Int32Array((size + 31) >>> 5);
    this.altTouched = new Int32Array(size);
    this.outDocs = new Int32Array(size);
    this.outScores = new Float64Array(size);
  }

  /** Builds the index. `docs(i)` gives the texts of document i (called twice per document). */
  static build(size: number, fields: FieldDef[], docs: (i: number) => FieldText[]): TextIndex {
    const index = new TextIndex(size);
    // Pass 1: field lengths (content words) per field and language, for length normalisation.
    const slot = (f: FieldText) => f.field * 2 + (f.lang === 'fr' ? 1 : 0);
    const lengths = fields.flatMap(() => [new Float32Array(size), new Float32Array(size)]);
    const sums = lengths.map(() => 0);
    // Folded word -> term number (-1 for a stop word); one cache per language. Terms are keys 'en:<stem>'.
    const termNo: Record<SearchLang, Map<string, number>> = { en: new Map(), fr: new Map() };
    const keys: string[] = [];
    const keyNo = new Map<string, number>();
    const termOf = (w: string, lang: SearchLang) => {
      const cache = termNo[lang];
      let n = cache.get(w);
      if (n === undefined) {
        if (isStopWord(w, lang)) n = -1;
        else {
          const key = `${lang}:${stem(w, lang)}`;
          n = keyNo.get(key);
          if (n === undefined) {
            n = keys.length;
            keys.push(key);
            keyNo.set(key, n);
          }
          index.vocabulary.set(w, (index.vocabulary.get(w) ?? 0) | LANG_BIT[lang]);
        }
        cache.set(w, n);
      }
      return n;
    };
    for (let i = 0; i < size; i++) {
      for (const f of docs(i)) {
        let n = 0;
        for (const w of words(f.text)) if (termOf(w, f.lang) >= 0) n++;
        lengths[slot(f)][i] += n;
        sums[slot(f)] += n;
      }
    }
    const avg = sums.map((s) => Math.max(1, s / Math.max(1, size)));
    // Pass 2: BM25F pseudo term frequencies per (term, document).
    const pDocs: number[][] = [];
    const pW: number[][] = [];
    let local = new Float64Array(Math.max(1024, keys.length));
    const touched: number[] = [];
    for (let i = 0; i < size; i++) {
      for (const f of docs(i)) {
        const def = fields[f.field];
        const norm = 1 - def.b + (def.b * lengths[slot(f)][i]) / avg[slot(f)];
        const inc = def.boost / norm;
        for (const w of words(f.text)) {
          const t = termOf(w, f.lang);
          if (t < 0) continue;
          if (t >= local.length) {
            const bigger = new Float64Array(local.length * 2 + t);
            bigger.set(local);
            local = bigger;
          }
          if (local[t] === 0) touched.push(t);
          local[t] += inc;
        }
      }
      for (const t of touched) {
        if (pDocs[t] === undefined) {
          pDocs[t] = [];
          pW[t] = [];
        }
        pDocs[t].push(i);
        pW[t].push(local[t]);
        local[t] = 0;
      }
      touched.length = 0;
    }
    for (let t = 0; t < keys.length; t++) {
      const docsOf = pDocs[t];
      if (!docsOf) continue;
      const w = pW[t];
      const df = docsOf.length;
      const idf = Math.log(1 + (size - df + 0.5) / (df + 0.5));
      const scores = new Float32Array(df);
      for (let j = 0; j < df; j++) scores[j] = (idf * w[j] * (K1 + 1)) / (K1 + w[j]);
      index.postings.set(keys[t], { docs: Int32Array.from(docsOf), scores });
    }
    for (const word of index.vocabulary.keys()) {
      if (word.length < 4 || /^[0-9]+$/.test(word)) continue;
      for (const d of [word, ...deletes1(word)]) {
        const list = index.deletes.get(d);
        if (list) {
          if (list[list.length - 1] !== word) list.push(word);
        } else index.deletes.set(d, [word]);
      }
    }
    return index;
  }

  get terms(): number {
    return this.postings.size;
  }

  /** Every posting list (for per-term data computed at index time, e.g. facet histograms). */
  postingLists(): IterableIterator<Readonly<Posting>> {
    return this.postings.values();
  }

  /** The plan as a SimpleQuery when it is one (see SimpleQuery), else null. */
  simple(plan: QueryPlan): SimpleQuery | null {
    const { clauses } = plan;
    const n = clauses.length;
    if (n < 1 || n > 2) return null;
    const lists: SimpleQuery['lists'] = [];
    const commons: NonNullable<SimpleQuery['common']>[] = [];
    for (const c of clauses) {
      if (c.alternatives.length !== 1 || c.alternatives[0].terms.length !== 1 || c.alternatives[0].terms[0].variants.length !== 1) return null;
      const v = c.alternatives[0].terms[0].variants[0];
      const p = this.postings.get(v.key)!;
      lists.push({ docs: p.docs, scores: p.scores, weight: v.weight * c.alternatives[0].weight });
      // Same rule as search(): a common term is deferred (it cannot match on its own) unless every clause is common.
      if (p.docs.length > Math.max(50, COMMON_DF * this.size)) commons.push({ docs: p.docs, scores: p.scores, formWeight: v.weight, altWeight: c.alternatives[0].weight });
    }
    const coord1 = Math.pow(1 / 2, 1.5);
    if (commons.length === 1 && n === 2) {
      const rare = lists.find((l) => l.docs !== commons[0].docs)!;
      return { lists: [rare], common: commons[0], coord1 };
    }
    return { lists, coord1 };
  }

  /** The posting list of a term ('en:<stem>'): ascending document numbers and their scores. For tests. */
  postingList(key: string): Readonly<Posting> | undefined {
    return this.postings.get(key);
  }

  private df(key: string): number {
    return this.postings.get(key)?.docs.length ?? 0;
  }

  /** Vocabulary words one edit away from a word of 5+ letters that the catalogue does not contain. */
  corrections(word: string): string[] {
    if (word.length < 5 || this.vocabulary.has(word) || /[0-9]/.test(word)) return [];
    const found = new Set<string>();
    for (const d of [word, ...deletes1(word)]) {
      for (const c of this.deletes.get(d) ?? []) if (c !== word && !found.has(c) && editDistance(word, c, 1) <= 1) found.add(c);
    }
    const freq = (c: string) => Math.max(this.df(`en:${stem(c, 'en')}`), this.df(`fr:${stem(c, 'fr')}`));
    return [...found].sort((a, b) => freq(b) - freq(a) || (a < b ? -1 : 1)).slice(0, 3);
  }

  private term(word: string, lang: SearchLang): Term {
    const variants = new Map<string, number>();
    const add = (key: string, weight: number) => {
      if (this.postings.has(key) && (variants.get(key) ?? 0) < weight) variants.set(key, weight);
    };
    add(`${lang}:${stem(word, lang)}`, 1);
    // The other language only for a word the query's language does not know (passeport on the English site).
    if (!variants.size) add(`${other(lang)}:${stem(word, other(lang))}`, CROSS_LANG);
    for (const c of this.corrections(word)) {
      const bits = this.vocabulary.get(c) ?? 0;
      if (bits & LANG_BIT[lang]) add(`${lang}:${stem(c, lang)}`, FUZZY);
      else if (bits & LANG_BIT[other(lang)]) add(`${other(lang)}:${stem(c, other(lang))}`, FUZZY * CROSS_LANG);
    }
    return { variants: [...variants].map(([key, weight]) => ({ key, weight })) };
  }

  /** Turns the citizen's words into clauses: each word (or synonym phrase) with its variants and alternatives. */
  plan(query: string, lang: SearchLang): QueryPlan {
    const o = other(lang);
    const tokens: string[] = [];
    for (const w of words(query)) {
      if (tokens.length >= 32) break;
      if (isStopWord(w, lang)) continue;
      if (isStopWord(w, o) && !this.postings.has(`${lang}:${stem(w, lang)}`)) continue;
      tokens.push(w);
    }
    // For synonym matching, an unknown word counts as its best correction.
    const surface = tokens.map((w) => this.corrections(w)[0] ?? w);
    const stems = { en: surface.map((w) => stem(w, 'en')), fr: surface.map((w) => stem(w, 'fr')) };
    const clauses: Clause[] = [];
    const explain: string[] = [];
    let i = 0;
    while (i < tokens.length) {
      let groups: number[] | undefined;
      let len = 0;
      let matchedLang: SearchLang = lang;
      for (let l = Math.min(MAX_PHRASE, tokens.length - i); l >= 1 && !groups; l--) {
        for (const pl of [lang, o]) {
          const g = synonymIndex.get(`${pl}|${stems[pl].slice(i, i + l).join(' ')}`);
          if (g) {
            groups = g;
            len = l;
            matchedLang = pl;
            break;
          }
        }
      }
      if (!groups) {
        const t = this.term(tokens[i], lang);
        if (t.variants.length) clauses.push({ alternatives: [{ terms: [t], weight: 1, requireAll: false }] });
        explain.push(`${tokens[i]}→${t.variants.map((v) => v.key).join('|') || '∅'}`);
        i++;
        continue;
      }
      const alternatives: Alternative[] = [];
      const original = tokens.slice(i, i + len).map((w) => this.term(w, lang)).filter((t) => t.variants.length);
      // The words as typed must all be there when they form a known phrase ("regime de pension du canada" must not
      // match every document that says "canada").
      if (original.length) alternatives.push({ terms: original, weight: 1, requireAll: original.length > 1 });
      const seen = new Set<string>();
      for (const g of groups) {
        for (const p of synonymPhrases[g]) {
          // Phrases of the other language only when the words typed were of the other language.
          if (p.lang !== lang && matchedLang === lang) continue;
          const keys = p.stems.map((s) => `${p.lang}:${s}`);
          const id = keys.join(' ');
          if (seen.has(id) || !keys.every((k) => this.postings.has(k))) continue;
          // A synonym made only of very common words discriminates little and costs a long scan: leave it out.
          if (Math.min(...keys.map((k) => this.df(k))) > Math.max(1000, SYNONYM_MAX_DF * this.size)) continue;
          seen.add(id);
          alternatives.push({
            terms: keys.map((key) => ({ variants: [{ key, weight: 1 }] })),
            weight: SYNONYM * (p.lang === lang ? 1 : 0.5),
            requireAll: true,
          });
        }
      }
      if (alternatives.length) clauses.push({ alternatives });
      explain.push(`${tokens.slice(i, i + len).join(' ')}⇒${[...seen].join('|') || '∅'}`);
      i += len;
    }
    return { clauses, explain };
  }

  /** Estimated documents matched by a clause: per alternative, its rarest word (all variants together). */
  private estimate(c: Clause): number {
    return c.alternatives.reduce((sum, a) => sum + Math.min(...a.terms.map((t) => t.variants.reduce((x, v) => x + this.df(v.key), 0))), 0);
  }

  /** The common clauses that search() defers (see there): none when every clause is common. */
  private deferred(clauses: Clause[]): Set<Clause> {
    const common = clauses.filter((c) => this.estimate(c) > Math.max(50, COMMON_DF * this.size));
    return common.length < clauses.length ? new Set(common) : new Set<Clause>();
  }

  /**
   * The plan as a SynonymQuery when it is one (see SynonymQuery), else null. Reads the synonym clauses' phrases and
   * other alternatives (not their longest one-word alternative): the documents they match, with their best score.
   */
  synonymQuery(plan: QueryPlan, ratio = SYNONYM_PATH_RATIO): SynonymQuery | null {
    const { clauses } = plan;
    const n = clauses.length;
    if (n < 1 || n > 2 || this.deferred(clauses).size) return null;
    let synonyms = 0;
    for (const c of clauses) {
      if (c.alternatives.length === 1 && c.alternatives[0].terms.length === 1) {
        if (c.alternatives[0].terms[0].variants.length !== 1) return null;
      } else synonyms++;
    }
    if (!synonyms) return null;
    // Worth it only when most matches come from the lists: every extra document (and every document of L₁ ∩ L₂) is
    // scored one at a time, at several times the cost of a posting the general path would read. The extra documents
    // are estimated, before reading them, by each other alternative's rarest word.
    let listed = 0;
    let extra = 0;
    for (const c of clauses) {
      const direct = c.alternatives.length === 1 && c.alternatives[0].terms.length === 1 ? c.alternatives[0] : this.directOf(c);
      if (direct) listed += this.df(direct.terms[0].variants[0].key);
      for (const alt of c.alternatives) {
        if (alt !== direct) extra += Math.min(...alt.terms.map((t) => t.variants.reduce((x, v) => x + this.df(v.key), 0)));
      }
    }
    if (extra * ratio > listed) return null;
    const out: SynonymClause[] = [];
    for (const c of clauses) {
      if (c.alternatives.length === 1 && c.alternatives[0].terms.length === 1) {
        const v = c.alternatives[0].terms[0].variants[0];
        const p = this.postings.get(v.key)!;
        out.push({ docs: p.docs, scores: p.scores, a: v.weight * c.alternatives[0].weight, b: 1, extraDocs: new Int32Array(0), extraScores: new Float64Array(0) });
        continue;
      }
      const direct = this.directOf(c);
      const nExtra = this.collectAlternatives(c, direct);
      const extraDocs = this.clauseTouched.slice(0, nExtra);
      const extraScores = new Float64Array(nExtra);
      const { clauseScore, clauseHit } = this;
      for (let j = 0; j < nExtra; j++) {
        const d = extraDocs[j];
        extraScores[j] = clauseScore[d];
        clauseHit[d >>> 5] = 0;
      }
      if (direct) {
        const v = direct.terms[0].variants[0];
        const p = this.postings.get(v.key)!;
        out.push({ docs: p.docs, scores: p.scores, a: v.weight, b: direct.weight, extraDocs, extraScores });
      } else out.push({ docs: new Int32Array(0), scores: new Float32Array(0), a: 0, b: 0, extraDocs, extraScores });
    }
    return { clauses: out, coord1: Math.pow(1 / 2, 1.5) };
  }

  /** The longest one-word, one-form alternative of a clause (read last, straight into the totals), if any. */
  private directOf(clause: Clause): Alternative | undefined {
    let direct: Alternative | undefined;
    let directDf = 0;
    for (const alt of clause.alternatives) {
      if (alt.terms.length !== 1 || alt.terms[0].variants.length !== 1) continue;
      const df = this.df(alt.terms[0].variants[0].key);
      if (df > directDf) {
        direct = alt;
        directDf = df;
      }
    }
    return direct;
  }

  /**
   * Reads every alternative of a clause except `direct`: each document matched gets the best alternative's score in
   * `clauseScore`, is listed in `clauseTouched` and marked in `clauseHit` (the caller clears those bits). Returns the
   * number of documents listed.
   */
  private collectAlternatives(clause: Clause, direct: Alternative | undefined): number {
    const { altScore, altStamp, altCount, termStamp, clauseScore, clauseTouched, clauseHit, altTouched } = this;
    let nClause = 0;
    for (const alt of clause.alternatives) {
      if (alt === direct) continue;
      if (alt.terms.length === 1 && alt.terms[0].variants.length === 1) {
        // One word, one form (most synonyms): its score is the alternative's, straight into the clause's best.
        const v = alt.terms[0].variants[0];
        const { docs, scores } = this.postings.get(v.key)!;
        const w = v.weight;
        const aw = alt.weight;
        for (let j = 0; j < docs.length; j++) {
          const d = docs[j];
          const s = w * scores[j] * aw;
          const bit = 1 << (d & 31);
          if ((clauseHit[d >>> 5] & bit) === 0) {
            clauseHit[d >>> 5] |= bit;
            clauseScore[d] = s;
            clauseTouched[nClause++] = d;
          } else if (s > clauseScore[d]) clauseScore[d] = s;
        }
        continue;
      }
      const aStamp = ++this.serial;
      let nAlt = 0;
      if (alt.requireAll && alt.terms.length > 1) {
        // Every word is required: only the documents of the rarest word can match. They are the candidates; each
        // word (in the phrase's order, so scores add up exactly as in a full scan) then looks them up: by galloping
        // through its list when the candidates are in ascending order (the rarest word has one form), else by a
        // scan of its postings or, when its list is much longer than the candidates, by binary search.
        let rarest = alt.terms[0];
        let rarestDf = Infinity;
        for (const term of alt.terms) {
          const df = term.variants.reduce((x, v) => x + this.df(v.key), 0);
          if (df < rarestDf) {
            rarest = term;
            rarestDf = df;
          }
        }
        for (const v of rarest.variants) {
          const { docs } = this.postings.get(v.key)!;
          for (let j = 0; j < docs.length; j++) {
            const d = docs[j];
            if (altStamp[d] !== aStamp) {
              altStamp[d] = aStamp;
              altScore[d] = 0;
              altCount[d] = 0;
              altTouched[nAlt++] = d;
            }
          }
        }
        // One form of the rarest word: the candidates are in ascending order (a posting list's order).
        const sorted = rarest.variants.length === 1;
        for (const term of alt.terms) {
          const tStamp = ++this.serial;
          for (const v of term.variants) {
            const { docs, scores } = this.postings.get(v.key)!;
            const w = v.weight;
            if (sorted) {
              // Ascending candidates: walk the list once, galloping from one candidate to the next.
              let at = 0;
              for (let j = 0; j < nAlt; j++) {
                const d = altTouched[j];
                at = seek(docs, at, d);
                if (at === docs.length) break;
                if (docs[at] !== d) continue;
                altScore[d] += w * scores[at];
                if (termStamp[d] !== tStamp) {
                  termStamp[d] = tStamp;
                  altCount[d]++;
                }
              }
            } else if (docs.length > 16 * nAlt) {
              for (let j = 0; j < nAlt; j++) {
                const d = altTouched[j];
                const at = find(docs, d);
                if (at < 0) continue;
                altScore[d] += w * scores[at];
                if (termStamp[d] !== tStamp) {
                  termStamp[d] = tStamp;
                  altCount[d]++;
                }
              }
            } else {
              for (let j = 0; j < docs.length; j++) {
                const d = docs[j];
                if (altStamp[d] !== aStamp) continue;
                altScore[d] += w * scores[j];
                if (termStamp[d] !== tStamp) {
                  termStamp[d] = tStamp;
                  altCount[d]++;
                }
              }
            }
          }
        }
      } else {
        for (const term of alt.terms) {
          const tStamp = ++this.serial;
          for (const v of term.variants) {
            const { docs, scores } = this.postings.get(v.key)!;
            const w = v.weight;
            for (let j = 0; j < docs.length; j++) {
              const d = docs[j];
              if (altStamp[d] !== aStamp) {
                altStamp[d] = aStamp;
                altScore[d] = 0;
                altCount[d] = 0;
                altTouched[nAlt++] = d;
              }
              altScore[d] += w * scores[j];
              if (termStamp[d] !== tStamp) {
                termStamp[d] = tStamp;
                altCount[d]++;
              }
            }
          }
        }
      }
      const need = alt.requireAll ? alt.terms.length : 1;
      const nTerms = alt.terms.length;
      for (let j = 0; j < nAlt; j++) {
        const d = altTouched[j];
        if (altCount[d] < need) continue;
        // Partial matches of a multi-word original phrase count in proportion.
        const s = altScore[d] * alt.weight * (alt.requireAll ? 1 : altCount[d] / nTerms);
        const bit = 1 << (d & 31);
        if ((clauseHit[d >>> 5] & bit) === 0) {
          clauseHit[d >>> 5] |= bit;
          clauseScore[d] = s;
          clauseTouched[nClause++] = d;
        } else if (s > clauseScore[d]) clauseScore[d] = s;
      }
    }
    return nClause;
  }

  /**
   * Documents matching enough clauses, with BM25F scores and a coordination factor; in ascending document order.
   *
   * Term at a time: each clause's posting lists are read once, in order, into per-document accumulators. The hot
   * loops are branch-free: `total` and `matched` are zero outside a search (the final pass resets what it read),
   * so a posting only adds to them and sets its document's bit in `hit`, the set of touched documents (no
   * "first time this query?" stamp to test, whose outcome the processor cannot predict on the second clause). The
   * final pass walks `hit` in document order, so the matches come out sorted and the facet pass after it reads the
   * per-document arrays sequentially. Every score is the same sum, added in the same order, as in a straightforward
   * evaluation (engine.test.ts checks this against a reference implementation on random queries).
   * With a `sink`, the final pass counts each match's facets and offers it to the sink's heap instead of returning
   * it: only `count` is set (the result's arrays are empty).
   */
  search(query: string, lang: SearchLang, plan: QueryPlan = this.plan(query, lang), sink?: MatchSink): Matches {
    const { clauses } = plan;
    const n = clauses.length;
    if (this.serial > 2_000_000_000) {
      for (const a of [this.altStamp, this.termStamp, this.clauseStamp]) a.fill(0);
      this.serial = 0;
    }
    const out: Matches = { docs: new Int32Array(0), scores: new Float64Array(0), count: 0 };
    if (!n) return out;
    const minMatch = n <= 2 ? 1 : Math.max(2, Math.floor(n / 2));
    const { clauseScore, clauseStamp, total, matched, hit, clauseTouched, clauseHit } = this;
    // Common-terms handling: a one-word clause whose word is in more than COMMON_DF of the documents ("canada",
    // "services") does not make a document match on its own when the query has rarer words; it only adds its score
    // to the documents those match (looked up by binary search instead of scanning a posting list of every document).
    const isSimple = (c: Clause) => c.alternatives.length === 1 && c.alternatives[0].terms.length === 1;
    const deferred = this.deferred(clauses);
    for (const clause of clauses) {
      if (deferred.has(clause)) continue;
      const cStamp = ++this.serial;
      if (isSimple(clause)) {
        // Fast path (one word, possibly with typo or cross-language variants): straight into the totals.
        const variants = clause.alternatives[0].terms[0].variants;
        if (variants.length === 1) {
          // One form: a posting list holds each document once, so every posting is a new match of this clause.
          const { docs, scores } = this.postings.get(variants[0].key)!;
          const w = variants[0].weight * clause.alternatives[0].weight;
          for (let j = 0; j < docs.length; j++) {
            const d = docs[j];
            total[d] += w * scores[j];
            matched[d]++;
            hit[d >>> 5] |= 1 << (d & 31);
          }
          continue;
        }
        for (const v of variants) {
          const { docs, scores } = this.postings.get(v.key)!;
          const w = v.weight * clause.alternatives[0].weight;
          for (let j = 0; j < docs.length; j++) {
            const d = docs[j];
            total[d] += w * scores[j];
            hit[d >>> 5] |= 1 << (d & 31);
            if (clauseStamp[d] !== cStamp) {
              clauseStamp[d] = cStamp;
              matched[d]++;
            }
          }
        }
        continue;
      }
      // A clause with alternatives (synonyms): its score is the best alternative's, kept in `clauseScore` for the
      // documents of `clauseTouched`, which `clauseHit` marks (empty outside this loop: cleared in the merge below).
      // The longest one-word, one-form alternative (usually the word as typed, next to rarer synonym phrases) is
      // read last and straight into the totals: a document it matches that no other alternative matched gets its
      // score at once; only the documents the other alternatives also matched go through `clauseScore` (the best of
      // the alternatives, as before; the maximum does not depend on the order the alternatives are read in).
      const direct = this.directOf(clause);
      const nClause = this.collectAlternatives(clause, direct);
      if (direct) {
        const v = direct.terms[0].variants[0];
        const { docs, scores } = this.postings.get(v.key)!;
        const w = v.weight;
        const aw = direct.weight;
        for (let j = 0; j < docs.length; j++) {
          const d = docs[j];
          const s = w * scores[j] * aw;
          if (((clauseHit[d >>> 5] >>> (d & 31)) & 1) === 0) {
            total[d] += s;
            matched[d]++;
            hit[d >>> 5] |= 1 << (d & 31);
          } else if (s > clauseScore[d]) clauseScore[d] = s;
        }
      }
      for (let j = 0; j < nClause; j++) {
        const d = clauseTouched[j];
        total[d] += clauseScore[d];
        clauseHit[d >>> 5] = 0;
        matched[d]++;
        hit[d >>> 5] |= 1 << (d & 31);
      }
    }
    const words = hit.length;
    for (const clause of deferred) {
      if (isSimple(clause) && clause.alternatives[0].terms[0].variants.length === 1) {
        const v = clause.alternatives[0].terms[0].variants[0];
        const { docs, scores } = this.postings.get(v.key)!;
        const w = v.weight;
        const aw = clause.alternatives[0].weight;
        if (docs.length < 8 * popcount(hit)) {
          // The common word's list is not much longer than the documents found: one pass over it beats a binary
          // search per document (same score as below: one term, one form).
          for (let j = 0; j < docs.length; j++) {
            const d = docs[j];
            if (((hit[d >>> 5] >>> (d & 31)) & 1) === 0) continue;
            const s = w * scores[j] * aw * 1;
            if (s > 0) {
              total[d] += s;
              matched[d]++;
            }
          }
          continue;
        }
      }
      const alts = clause.alternatives.map((a) => ({
        weight: a.weight,
        requireAll: a.requireAll,
        terms: a.terms.map((t) => t.variants.map((v) => ({ ...this.postings.get(v.key)!, w: v.weight, at: 0 }))),
      }));
      // The documents come in ascending order (bit set order): each list is looked up from where the previous
      // document was found (galloping), not from its start.
      for (let wi = 0; wi < words; wi++) {
        for (let x = hit[wi]; x !== 0; ) {
          const low = x & -x;
          x ^= low;
          const d = (wi << 5) | (31 - Math.clz32(low));
          let best = 0;
          for (const a of alts) {
            let sc = 0;
            let cnt = 0;
            for (const variants of a.terms) {
              let found = false;
              for (const v of variants) {
                const at = (v.at = seek(v.docs, v.at, d));
                if (at < v.docs.length && v.docs[at] === d) {
                  sc += v.w * v.scores[at];
                  found = true;
                }
              }
              if (found) cnt++;
            }
            if (cnt === 0 || (a.requireAll && cnt < a.terms.length)) continue;
            const s = sc * a.weight * (a.requireAll ? 1 : cnt / a.terms.length);
            if (s > best) best = s;
          }
          if (best > 0) {
            total[d] += best;
            matched[d]++;
          }
        }
      }
    }
    // Coordination factors (m / n)^1.5, one per possible number of matched clauses, computed once per query:
    // Math.pow costs some 40 ns, as much as all the rest of the work on a match, and gives the same value for every
    // document with the same m (the table holds the very values Math.pow returns: scores are bit-for-bit the same).
    const coord = new Float64Array(n + 1);
    for (let m = 1; m < n; m++) coord[m] = Math.pow(m / n, 1.5);
    const outDocs = this.outDocs;
    const outScores = this.outScores;
    let k = 0;
    if (sink) {
      // The same pass, the matches counted in the facets and offered to the heap instead of returned.
      const { facetKey, evStart, evList, orgPass, audHist, chHist, evCount, heap } = sink;
      for (let wi = 0; wi < words; wi++) {
        let x = hit[wi];
        if (x === 0) continue;
        hit[wi] = 0;
        while (x !== 0) {
          const low = x & -x;
          x ^= low;
          const d = (wi << 5) | (31 - Math.clz32(low));
          const m = matched[d];
          const t = total[d];
          matched[d] = 0;
          total[d] = 0;
          if (m < minMatch) continue;
          const sc = m === n ? t : t * coord[m];
          k++;
          const f = facetKey[d];
          orgPass[f & 0xfff]++;
          audHist[(f >>> 12) & 0xff]++;
          chHist[(f >>> 20) & 0xff]++;
          if ((f & FK_EVENTS) !== 0) for (let q = evStart[d], e = evStart[d + 1]; q < e; q++) evCount[evList[q]]++;
          if (sc >= heap.floor) heap.push(d, sc);
        }
      }
      out.count = k;
      return out;
    }
    for (let wi = 0; wi < words; wi++) {
      let x = hit[wi];
      if (x === 0) continue;
      hit[wi] = 0;
      while (x !== 0) {
        const low = x & -x;
        x ^= low;
        const d = (wi << 5) | (31 - Math.clz32(low));
        const m = matched[d];
        const t = total[d];
        matched[d] = 0;
        total[d] = 0;
        if (m < minMatch) continue;
        outDocs[k] = d;
        outScores[k] = m === n ? t : t * coord[m];
        k++;
      }
    }
    out.docs = outDocs;
    out.scores = outScores;
    out.count = k;
    return out;
  }
}

/** For callers that only need the folded form (filters, sort keys). */
export { fold };
