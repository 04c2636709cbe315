/**
 * Catalogue search: services and organisations, for the search API, the portal pages and the agent console.
 *
 * The published catalogue is read once from the database into an in-process index (see engine.ts) on first use;
 * invalidateSearchIndex() marks every index stale, and the next search rebuilds it (the editor calls it after a
 * change of a published service). Queries never touch the database. Results of recent queries are kept in a small
 * LRU cache that is dropped with the index.
 *
 * "All published services" includes the demo services (status 'published', is_demo true, flagged `isDemo` in the
 * items): on a database holding only the GC Service Inventory the total is exactly 1,716.
 */
import type { Database } from '../../db/database';
import { t, type Lang } from '../../i18n/index';
import { FK_EVENTS, seek, TextIndex, type FieldDef, type FieldText, type SimpleQuery, type SynonymQuery } from './engine';
import type { FacetValue, OrgSearchParams, OrgSearchResult, SearchItem, SearchParams, SearchResult } from './types';

/** Field boosts: title > keywords > program > description > organisation name. */
export const SERVICE_FIELDS: FieldDef[] = [
  { name: 'title', boost: 4, b: 0.5 },
  { name: 'keywords', boost: 2.5, b: 0.3 },
  { name: 'program', boost: 1, b: 0.5 },
  { name: 'description', boost: 1, b: 0.75 },
  { name: 'organisation', boost: 0.5, b: 0.3 },
];
const F_TITLE = 0;
const F_KEYWORDS = 1;
const F_PROGRAM = 2;
const F_DESCRIPTION = 3;
const F_ORG = 4;

const ORG_FIELDS: FieldDef[] = [
  { name: 'name', boost: 3, b: 0.3 },
  { name: 'acronym', boost: 3, b: 0 },
];

/** Optional filter by the owner's level of government (the `level` facet); an extension of the shared contract. */
export type ServiceSearchParams = SearchParams & { level?: string[] };

interface OrgRow {
  id: string;
  name_en: string;
  name_fr: string;
  acronym_en: string | null;
  acronym_fr: string | null;
  level: string;
  services: number;
}

interface Catalogue {
  builtAt: number;
  buildMs: number;
  index: TextIndex;
  orgIndex: TextIndex;
  size: number;
  ids: string[];
  identifiers: string[];
  title: Record<Lang, string[]>;
  description: Record<Lang, string[]>;
  org: Int32Array;
  isDemo: Uint8Array;
  /** Audience and channel sets as bit masks (bit i = code i; the first 32 codes). */
  audMask: Uint32Array;
  chMask: Uint32Array;
  channels: number[][];
  events: number[][];
  orgs: OrgRow[];
  orgLevel: Int32Array; // org number -> level number
  audienceCodes: string[];
  channelCodes: string[];
  levelCodes: string[];
  eventList: Array<{ id: string; title_en: string; title_fr: string }>;
  /** Documents in title order, and each document's rank in that order (tie-break of equal scores). */
  order: Record<Lang, Int32Array>;
  rank: Record<Lang, Int32Array>;
  orgOrder: Record<Lang, Int32Array>;
  /** Life events in compressed rows: the events of document d are evList[evStart[d] .. evStart[d + 1]). */
  evStart: Int32Array;
  evList: Int32Array;
  /**
   * Each document's facet values packed in one number, for the facet pass over the matches without filters (one
   * read per match instead of five): owner slot (organisation number, or orgs.length for none) in bits 0-11,
   * audience mask in bits 12-19, channel mask in bits 20-27, bit 28 set when it has life events. Null when the
   * catalogue does not fit (4,095 organisations or more, more than 8 audience or channel codes).
   */
  facetKey: Int32Array | null;
  /** Facet histograms and best score of each long posting list (keyed by its docs array); see listFacets(). */
  termFacets: Map<Int32Array, ListFacets>;
  /** Scratch bit set (one bit per document) of the simple-query path. */
  scratchBits: Int32Array;
  /** Scratch space of the synonym-query path: per clause, its extra documents (one bit each) and their scores. */
  extraBits: [Int32Array, Int32Array];
  extraScore: [Float64Array, Float64Array];
  /** Facet labels and their collation rank, per language, computed once (sorting labels per query is costly). */
  facetMeta: Record<Lang, Record<FacetName, FacetMeta>>;
  /** Document number of each service id. */
  docNo: Map<string, number>;
  /** Staff only, never in a public answer: the agent notes of the services that have some, per language. */
  agentNotes: Record<Lang, Map<number, { text: string; lower: string }>>;
  /** Scratch space of the query (searches are synchronous): the documents passing the filters and their scores. */
  hitDocs: Int32Array;
  hitScores: Float64Array;
  cache: Map<string, SearchResult>;
}

type FacetName = 'audience' | 'organisation' | 'channel' | 'lifeEvent' | 'level';
/** What the facet pass would count over the documents of one posting list, and the list's best score. */
interface ListFacets {
  orgPass: Int32Array;
  audHist: Int32Array;
  chHist: Int32Array;
  evCount: Int32Array;
  maxScore: number;
}
interface FacetMeta {
  values: string[];
  labels: string[];
  /** Position of each value in label order (collation of the language; equal labels in value order). */
  rank: Int32Array;
}

const CHANNEL_ORDER = ['online', 'phone', 'in_person', 'mail', 'email', 'fax', 'kiosk'];
const LEVEL_ORDER = ['federal', 'provincial', 'municipal', 'indigenous', 'ngo'];
const CACHE_SIZE = 1000;
/** Posting lists at least this long get their facet histograms at index time (shorter ones are counted per query). */
let termFacetsDf = 1000;
/** The simple-query path keeps a heap of page × pageSize results; deeper pages take the general path. */
const SIMPLE_MAX_END = 1000;
/**
 * Tests only: setSimpleSearch(false) answers simple queries through the general path too, to compare the two;
 * `termFacetsDf` changes the length from which lists get facet histograms (at the next index build); `synonymRatio`
 * replaces SYNONYM_PATH_RATIO (0: every synonym query of one or two clauses takes the synonym path).
 * simpleSearchCount() counts the queries answered by the simple path.
 */
let simpleSearchOff = false;
let simpleSearches = 0;
let synonymSearches = 0;
let fusedSearches = 0;
let synonymRatio: number | undefined;
export function setSimpleSearch(on: boolean, opts: { termFacetsDf?: number; synonymRatio?: number } = {}): void {
  simpleSearchOff = !on;
  termFacetsDf = opts.termFacetsDf ?? 1000;
  synonymRatio = opts.synonymRatio;
}
export function simpleSearchCount(): number {
  return simpleSearches;
}
/** Tests only: the queries answered by the general path with facets and page counted in its final pass. */
export function fusedSearchCount(): number {
  return fusedSearches;
}
/** Tests only: the queries answered by the synonym-query path (see synonymSearch). */
export function synonymSearchCount(): number {
  return synonymSearches;
}
const READ_CHUNK = 5000;

let generation = 0;
interface Entry {
  generation: number;
  promise: Promise<Catalogue>;
  /** The index of this generation, once built. */
  current?: Catalogue;
  /** The previous index, answering while this one is built when its own build was slow (large catalogues). */
  fallback?: Catalogue;
}
const catalogues = new WeakMap<Database, Entry>();
/** From this many services, searches keep using the previous index while the new one is built (builds take seconds). */
const STALE_WHILE_REBUILDING_SIZE = 20_000;

/** Marks every search index stale: the next search rebuilds it from the database. */
export function invalidateSearchIndex(): void {
  generation++;
}

async function getCatalogue(db: Database): Promise<Catalogue> {
  const entry = catalogues.get(db);
  if (entry && entry.generation === generation) return entry.current ?? entry.fallback ?? entry.promise;
  const previous = entry?.current ?? entry?.fallback;
  const next: Entry = { generation, promise: loadCatalogue(db) };
  // A small catalogue rebuilds in well under a second: searches wait, so a change is visible to the very next one.
  if (previous && previous.size >= STALE_WHILE_REBUILDING_SIZE) next.fallback = previous;
  catalogues.set(db, next);
  next.promise.then(
    (c) => {
      next.current = c;
      next.fallback = undefined;
    },
    () => {
      if (catalogues.get(db) === next) catalogues.delete(db);
    },
  );
  return next.fallback ?? next.promise;
}

/** Size and build time of the up-to-date index (waits for it to be built); for the benchmark and monitoring. */
export async function searchIndexStats(db: Database): Promise<{ services: number; organisations: number; terms: number; buildMs: number }> {
  await getCatalogue(db);
  const c = await catalogues.get(db)!.promise;
  return { services: c.size, organisations: c.orgs.length, terms: c.index.terms, buildMs: c.buildMs };
}

/** The up-to-date service index itself: for benchmarks and troubleshooting (engine time without facets). */
export async function serviceTextIndex(db: Database): Promise<TextIndex> {
  await getCatalogue(db);
  return (await catalogues.get(db)!.promise).index;
}

/** How the engine reads a query (words, stems, corrections, synonyms): for tests and troubleshooting. */
export async function explainQuery(db: Database, q: string, lang: Lang): Promise<string[]> {
  return (await getCatalogue(db)).index.plan(q, lang).explain;
}

function intern(list: string[], map: Map<string, number>, value: string): number {
  let i = map.get(value);
  if (i === undefined) {
    i = list.length;
    list.push(value);
    map.set(value, i);
  }
  return i;
}

async function loadCatalogue(db: Database): Promise<Catalogue> {
  const started = performance.now();
  const orgRows = await db
    .selectFrom('organisations')
    .select(['id', 'name_en', 'name_fr', 'acronym_en', 'acronym_fr', 'level'])
    .orderBy('id')
    .execute();
  const orgs: OrgRow[] = orgRows.map((o) => ({ ...o, services: 0 }));
  const orgNo = new Map(orgs.map((o, i) => [o.id, i]));
  const levelCodes: string[] = [];
  const levelNo = new Map<string, number>();
  for (const l of LEVEL_ORDER) intern(levelCodes, levelNo, l);
  const orgLevel = Int32Array.from(orgs.map((o) => intern(levelCodes, levelNo, o.level)));

  type Row = {
    id: string; identifier: string; owner_org_id: string; title_en: string; title_fr: string; description_en: string; description_fr: string;
    keywords_en: string[]; keywords_fr: string[]; program_name_en: string | null; program_name_fr: string | null; audiences: string[]; is_demo: boolean;
    agent_notes_en: string | null; agent_notes_fr: string | null;
  };
  const rows: Row[] = [];
  let after = '';
  for (;;) {
    const chunk = await db
      .selectFrom('services')
      .select([
        'id', 'identifier', 'owner_org_id', 'title_en', 'title_fr', 'description_en', 'description_fr', 'keywords_en', 'keywords_fr',
        'program_name_en', 'program_name_fr', 'audiences', 'is_demo', 'agent_notes_en', 'agent_notes_fr',
      ])
      .where('status', '=', 'published')
      .where('id', '>', after)
      .orderBy('id')
      .limit(READ_CHUNK)
      .execute();
    rows.push(...chunk);
    if (chunk.length < READ_CHUNK) break;
    after = chunk[chunk.length - 1].id;
  }
  const size = rows.length;
  const docNo = new Map(rows.map((r, i) => [r.id, i]));

  const audienceCodes: string[] = [];
  const audienceNo = new Map<string, number>();
  for (const a of ['PERSON', 'ECONOM', 'NGO', 'PTC', 'FOR', 'INTERN_GOV']) intern(audienceCodes, audienceNo, a);
  const channelCodes: string[] = [];
  const channelNo = new Map<string, number>();
  for (const c of CHANNEL_ORDER) intern(channelCodes, channelNo, c);

  const org = new Int32Array(size);
  const isDemo = new Uint8Array(size);
  const audMask = new Uint32Array(size);
  rows.forEach((r, i) => {
    let o = orgNo.get(r.owner_org_id);
    if (o === undefined) o = -1;
    else orgs[o].services++;
    org[i] = o;
    isDemo[i] = r.is_demo ? 1 : 0;
    for (const a of r.audiences ?? []) {
      const bit = intern(audienceCodes, audienceNo, a);
      if (bit < 32) audMask[i] |= 1 << bit;
    }
  });

  const channels: number[][] = rows.map(() => []);
  const channelRows = await db.selectFrom('service_channels').select(['service_id', 'channel']).execute();
  for (const c of channelRows) {
    const d = docNo.get(c.service_id);
    if (d === undefined) continue;
    const ch = intern(channelCodes, channelNo, c.channel);
    if (!channels[d].includes(ch)) channels[d].push(ch);
  }
  for (const list of channels) list.sort((a, b) => a - b);
  const chMask = new Uint32Array(size);
  channels.forEach((list, d) => {
    for (const ch of list) if (ch < 32) chMask[d] |= 1 << ch;
  });

  const events: number[][] = rows.map(() => []);
  const eventRows = await db
    .selectFrom('event_steps')
    .innerJoin('events', 'events.id', 'event_steps.event_id')
    .select(['event_steps.service_id', 'events.id', 'events.title_en', 'events.title_fr', 'events.position'])
    .where('event_steps.service_id', 'is not', null)
    .orderBy('events.position')
    .orderBy('events.id')
    .execute();
  const eventList: Catalogue['eventList'] = [];
  const eventNo = new Map<string, number>();
  for (const e of eventRows) {
    let n = eventNo.get(e.id);
    if (n === undefined) {
      n = eventList.length;
      eventList.push({ id: e.id, title_en: e.title_en, title_fr: e.title_fr });
      eventNo.set(e.id, n);
    }
    const d = docNo.get(e.service_id!);
    if (d !== undefined && !events[d].includes(n)) events[d].push(n);
  }

  const texts = (i: number): FieldText[] => {
    const r = rows[i];
    const o = org[i] >= 0 ? orgs[org[i]] : null;
    const out: FieldText[] = [
      { field: F_TITLE, lang: 'en', text: r.title_en },
      { field: F_TITLE, lang: 'fr', text: r.title_fr },
      { field: F_DESCRIPTION, lang: 'en', text: r.description_en },
      { field: F_DESCRIPTION, lang: 'fr', text: r.description_fr },
    ];
    // The names of the life events a service is a step of are indexed with its keywords: they are the words people
    // use for their situation ("Perdre son emploi" finds Employment Insurance; issue 16).
    const evNames = (lang: 'en' | 'fr') => events[i].map((n) => (lang === 'en' ? eventList[n].title_en : eventList[n].title_fr));
    const kwEn = [...(r.keywords_en ?? []), ...evNames('en')];
    const kwFr = [...(r.keywords_fr ?? []), ...evNames('fr')];
    if (kwEn.length) out.push({ field: F_KEYWORDS, lang: 'en', text: kwEn.join(' , ') });
    if (kwFr.length) out.push({ field: F_KEYWORDS, lang: 'fr', text: kwFr.join(' , ') });
    if (r.program_name_en) out.push({ field: F_PROGRAM, lang: 'en', text: r.program_name_en });
    if (r.program_name_fr) out.push({ field: F_PROGRAM, lang: 'fr', text: r.program_name_fr });
    if (o) {
      out.push({ field: F_ORG, lang: 'en', text: `${o.name_en} ${o.acronym_en ?? ''}` });
      out.push({ field: F_ORG, lang: 'fr', text: `${o.name_fr} ${o.acronym_fr ?? ''}` });
    }
    return out;
  };
  const index = TextIndex.build(size, SERVICE_FIELDS, texts);
  const orgIndex = TextIndex.build(orgs.length, ORG_FIELDS, (i) => {
    const o = orgs[i];
    return [
      { field: 0, lang: 'en', text: o.name_en },
      { field: 0, lang: 'fr', text: o.name_fr },
      { field: 1, lang: 'en', text: o.acronym_en ?? '' },
      { field: 1, lang: 'fr', text: o.acronym_fr ?? '' },
    ];
  });

  const title = { en: rows.map((r) => r.title_en), fr: rows.map((r) => r.title_fr) };
  const sortBy = (n: number, lang: Lang, key: (i: number) => string) => {
    const collator = collators[lang];
    const keys = Array.from({ length: n }, (_, i) => key(i));
    return Int32Array.from(Array.from({ length: n }, (_, i) => i).sort((a, b) => collator.compare(keys[a], keys[b]) || a - b));
  };
  const order = { en: sortBy(size, 'en', (i) => title.en[i]), fr: sortBy(size, 'fr', (i) => title.fr[i]) };
  const rank = { en: new Int32Array(size), fr: new Int32Array(size) };
  for (const l of ['en', 'fr'] as const) order[l].forEach((d, r) => (rank[l][d] = r));
  const orgOrder = { en: sortBy(orgs.length, 'en', (i) => orgs[i].name_en), fr: sortBy(orgs.length, 'fr', (i) => orgs[i].name_fr) };

  const evStart = new Int32Array(size + 1);
  for (let d = 0; d < size; d++) evStart[d + 1] = evStart[d] + events[d].length;
  const evList = new Int32Array(evStart[size]);
  for (let d = 0; d < size; d++) evList.set(events[d], evStart[d]);

  let facetKey: Int32Array | null = null;
  if (orgs.length < 0xfff && audienceCodes.length <= 8 && channelCodes.length <= 8) {
    facetKey = new Int32Array(size);
    for (let d = 0; d < size; d++) {
      facetKey[d] = (org[d] >= 0 ? org[d] : orgs.length) | (audMask[d] << 12) | (chMask[d] << 20) | (evStart[d + 1] > evStart[d] ? FK_EVENTS : 0);
    }
  }

  const termFacets = new Map<Int32Array, ListFacets>();
  const nAud = Math.min(32, audienceCodes.length);
  const nCh = Math.min(32, channelCodes.length);
  if (facetKey) {
    for (const p of index.postingLists()) {
      if (p.docs.length >= termFacetsDf) termFacets.set(p.docs, listFacets(facetKey, evStart, evList, orgs.length, nAud, nCh, eventList.length, p.docs, p.scores));
    }
  }

  const meta = (lang: Lang, values: string[], labels: string[]): FacetMeta => {
    const collator = collators[lang];
    const sorted = labels.map((_, i) => i).sort((a, b) => collator.compare(labels[a], labels[b]) || a - b);
    const rank = new Int32Array(labels.length);
    sorted.forEach((i, r) => (rank[i] = r));
    return { values, labels, rank };
  };
  const facetMeta = {} as Catalogue['facetMeta'];
  for (const lang of ['en', 'fr'] as const) {
    const aud = audienceCodes.slice(0, 32);
    const ch = channelCodes.slice(0, 32);
    facetMeta[lang] = {
      audience: meta(lang, aud, aud.map((a) => label(lang, `search.audience.${a}`, a))),
      organisation: meta(lang, orgs.map((o) => o.id), orgs.map((o) => (lang === 'fr' ? o.name_fr : o.name_en))),
      channel: meta(lang, ch, ch.map((c) => label(lang, `search.channel.${c}`, c))),
      lifeEvent: meta(lang, eventList.map((e) => e.id), eventList.map((e) => (lang === 'fr' ? e.title_fr : e.title_en))),
      level: meta(lang, levelCodes, levelCodes.map((l) => label(lang, `search.level.${l}`, l))),
    };
  }

  return {
    builtAt: Date.now(),
    buildMs: performance.now() - started,
    index,
    orgIndex,
    size,
    ids: rows.map((r) => r.id),
    identifiers: rows.map((r) => r.identifier),
    title,
    description: { en: rows.map((r) => r.description_en), fr: rows.map((r) => r.description_fr) },
    org,
    isDemo,
    audMask,
    chMask,
    channels,
    events,
    orgs,
    orgLevel,
    audienceCodes,
    channelCodes,
    levelCodes,
    eventList,
    order,
    rank,
    orgOrder,
    evStart,
    evList,
    facetKey,
    termFacets,
    scratchBits: new Int32Array((size + 31) >>> 5),
    extraBits: [new Int32Array((size + 31) >>> 5), new Int32Array((size + 31) >>> 5)],
    extraScore: [new Float64Array(size), new Float64Array(size)],
    facetMeta,
    docNo,
    agentNotes: {
      en: new Map(rows.flatMap((r, i) => (r.agent_notes_en ? [[i, { text: r.agent_notes_en, lower: r.agent_notes_en.toLocaleLowerCase('en-CA') }] as const] : []))),
      fr: new Map(rows.flatMap((r, i) => (r.agent_notes_fr ? [[i, { text: r.agent_notes_fr, lower: r.agent_notes_fr.toLocaleLowerCase('fr-CA') }] as const] : []))),
    },
    hitDocs: new Int32Array(size),
    hitScores: new Float64Array(size),
    cache: new Map(),
  };
}

/** Facet histograms of the documents of one posting list (as the facet pass counts them) and its best score. */
function listFacets(
  facetKey: Int32Array, evStart: Int32Array, evList: Int32Array, nOrgs: number, nAud: number, nCh: number, nEvents: number,
  docs: Int32Array, scores: Float32Array,
): ListFacets {
  const r: ListFacets = {
    orgPass: new Int32Array(nOrgs + 1),
    audHist: new Int32Array(1 << nAud),
    chHist: new Int32Array(1 << nCh),
    evCount: new Int32Array(nEvents),
    maxScore: 0,
  };
  for (let j = 0; j < docs.length; j++) {
    const d = docs[j];
    const f = facetKey[d];
    r.orgPass[f & 0xfff]++;
    r.audHist[(f >>> 12) & 0xff]++;
    r.chHist[(f >>> 20) & 0xff]++;
    if ((f & FK_EVENTS) !== 0) for (let k = evStart[d], e = evStart[d + 1]; k < e; k++) r.evCount[evList[k]]++;
    if (scores[j] > r.maxScore) r.maxScore = scores[j];
  }
  return r;
}

/**
 * The best `k` documents seen, by score (desc) then title rank, as topK() orders them: a bounded heap whose root is
 * the worst of the current best (fed one document at a time, for the simple-query path).
 */
class TopHeap {
  readonly docs: Int32Array;
  readonly scores: Float64Array;
  size = 0;
  /** Score of the worst document kept once the heap is full (-Infinity before): lower scores cannot enter. */
  floor = -Infinity;
  constructor(
    readonly k: number,
    private readonly rank: Int32Array,
  ) {
    this.docs = new Int32Array(k);
    this.scores = new Float64Array(k);
  }

  private better(i: number, j: number): boolean {
    const { scores, docs, rank } = this;
    return scores[i] > scores[j] || (scores[i] === scores[j] && rank[docs[i]] < rank[docs[j]]);
  }

  private swap(i: number, j: number): void {
    const { scores, docs } = this;
    const d = docs[i];
    docs[i] = docs[j];
    docs[j] = d;
    const s = scores[i];
    scores[i] = scores[j];
    scores[j] = s;
  }

  push(d: number, s: number): void {
    const { docs, scores, rank, k } = this;
    if (this.size < k) {
      let j = this.size++;
      docs[j] = d;
      scores[j] = s;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (!this.better(p, j)) break;
        this.swap(p, j);
        j = p;
      }
    } else {
      if (!(s > scores[0] || (s === scores[0] && rank[d] < rank[docs[0]]))) return;
      docs[0] = d;
      scores[0] = s;
      let j = 0;
      for (;;) {
        const l = 2 * j + 1;
        const r = l + 1;
        let m = j;
        if (l < k && this.better(m, l)) m = l;
        if (r < k && this.better(m, r)) m = r;
        if (m === j) break;
        this.swap(m, j);
        j = m;
      }
    }
    if (this.size === k) this.floor = scores[0];
  }

  /** The documents kept, best first, with their scores. */
  sorted(): Array<{ doc: number; score: number }> {
    const order = Array.from({ length: this.size }, (_, i) => i).sort((a, b) => (this.better(a, b) ? -1 : this.better(b, a) ? 1 : 0));
    return order.map((i) => ({ doc: this.docs[i], score: this.scores[i] }));
  }
}

/**
 * A simple query (one or two one-word clauses, see SimpleQuery) without filters, answered without reading every
 * posting: its matches are one posting list or the union A ∪ B of two, so
 * - total = |A| + |B| − |A ∩ B|;
 * - facets = histograms of A and B (computed at index time for long lists) minus the documents of A ∩ B;
 * - the best `end` documents: those of A ∩ B (scored in full), then the documents of one list only, whose score is
 *   w·s·coord; a list is read (a sequential scan of its scores) only if its best score could beat the current
 *   `end`-th, and a posting only enters the heap if its score does.
 * A ∩ B is found by galloping through the longer list for the documents of the shorter one. Exactly the same
 * scores, totals and counts as the general path (search.test.ts compares the two on random queries).
 * Fills orgPass, audHist, chHist and evCount; returns the total and the page.
 */
function simpleSearch(
  c: Catalogue, sq: SimpleQuery, lang: Lang, start: number, end: number,
  counts: { orgPass: Int32Array; audHist: Int32Array; chHist: Int32Array; evCount: Int32Array },
): { total: number; page: Array<{ doc: number; score: number }> } {
  const { facetKey, evStart, evList } = c;
  const fk = facetKey!;
  const facetsOf = (docs: Int32Array, scores: Float32Array) =>
    c.termFacets.get(docs) ?? listFacets(fk, evStart, evList, c.orgs.length, Math.min(32, c.audienceCodes.length), Math.min(32, c.channelCodes.length), c.eventList.length, docs, scores);
  const add = (to: Int32Array, from: Int32Array) => {
    for (let i = 0; i < to.length; i++) to[i] += from[i];
  };
  const heap = new TopHeap(end, c.rank[lang]);
  const bits = c.scratchBits;
  let total = 0;
  let nBoth = 0;
  const both = c.hitDocs;
  if (sq.lists.length === 2) {
    const [a, b] = sq.lists;
    // A ∩ B, scored as the general path adds the two clauses: (0 + w₁·s₁) + w₂·s₂.
    const aShorter = a.docs.length <= b.docs.length;
    const short = aShorter ? a : b;
    const long = aShorter ? b : a;
    let at = 0;
    for (let i = 0; i < short.docs.length; i++) {
      const d = short.docs[i];
      at = seek(long.docs, at, d);
      if (at === long.docs.length) break;
      if (long.docs[at] !== d) continue;
      const sa = aShorter ? short.scores[i] : long.scores[at];
      const sb = aShorter ? long.scores[at] : short.scores[i];
      heap.push(d, a.weight * sa + b.weight * sb);
      bits[d >>> 5] |= 1 << (d & 31);
      both[nBoth++] = d;
    }
    total = a.docs.length + b.docs.length - nBoth;
  } else if (sq.common) {
    // A rare word and a common one: the rare word's documents match; those that have the common word too get its
    // score added after their own, as search() adds a deferred clause: (0 + w·s) + (w'·s')·a'·1.
    const a = sq.lists[0];
    const cm = sq.common;
    let at = 0;
    for (let i = 0; i < a.docs.length; i++) {
      const d = a.docs[i];
      at = seek(cm.docs, at, d);
      if (at === cm.docs.length) break;
      if (cm.docs[at] !== d) continue;
      heap.push(d, a.weight * a.scores[i] + cm.formWeight * cm.scores[at] * cm.altWeight * 1);
      bits[d >>> 5] |= 1 << (d & 31);
      both[nBoth++] = d;
    }
    total = a.docs.length;
  } else total = sq.lists[0].docs.length;
  // Number of clauses (a common word is one).
  const n = sq.lists.length + (sq.common ? 1 : 0);
  for (const list of sq.lists) {
    const f = facetsOf(list.docs, list.scores);
    add(counts.orgPass, f.orgPass);
    add(counts.audHist, f.audHist);
    add(counts.chHist, f.chHist);
    add(counts.evCount, f.evCount);
    // Documents of this list only: score w·s (one clause of one: no coordination) or w·s·coord1 (one of two).
    const w = list.weight;
    const coord = n === 2 ? sq.coord1 : 1;
    const best = n === 2 ? w * f.maxScore * coord : w * f.maxScore;
    if (best < heap.floor) continue;
    const { docs, scores } = list;
    for (let j = 0; j < docs.length; j++) {
      const s = n === 2 ? w * scores[j] * coord : w * scores[j];
      if (s < heap.floor) continue;
      const d = docs[j];
      if (((bits[d >>> 5] >>> (d & 31)) & 1) !== 0) continue;
      heap.push(d, s);
    }
  }
  // The documents of both lists were counted twice (not with a common word: its list was not counted).
  const { orgPass, audHist, chHist, evCount } = counts;
  for (let j = 0; j < nBoth; j++) {
    const d = both[j];
    bits[d >>> 5] = 0;
    if (sq.common) continue;
    const f = fk[d];
    orgPass[f & 0xfff]--;
    audHist[(f >>> 12) & 0xff]--;
    chHist[(f >>> 20) & 0xff]--;
    if ((f & FK_EVENTS) !== 0) for (let k = evStart[d], e = evStart[d + 1]; k < e; k++) evCount[evList[k]]--;
  }
  return { total, page: heap.sorted().slice(start, end) };
}

/**
 * A synonym query (one or two clauses, at least one with synonyms; see SynonymQuery) without filters, answered like a
 * simple one: clause i matches its list Lᵢ plus its extra documents Eᵢ (those its phrases and other alternatives
 * match, usually few). The "special" documents S = E₁ ∪ E₂ ∪ (L₁ ∩ L₂) are scored in full, in document order
 * (galloping through each list); every other match is in exactly one list and no extra set, with score (a·s)·b·coord.
 * So total = |S| + Σ|Lᵢ| − Σ_{d∈S} (lists holding d); facets = Σ histograms of Lᵢ (index time for long lists) plus,
 * for each d of S, (1 − lists holding d) times its values; the page comes from a bounded heap fed with S, then with
 * the lists' other documents, each list scanned only if its best score could enter the heap. Exactly the same scores,
 * totals and counts as the general path (search.test.ts compares the two).
 */
function synonymSearch(
  c: Catalogue, sq: SynonymQuery, lang: Lang, start: number, end: number,
  counts: { orgPass: Int32Array; audHist: Int32Array; chHist: Int32Array; evCount: Int32Array },
): { total: number; page: Array<{ doc: number; score: number }> } {
  const { evStart, evList } = c;
  const fk = c.facetKey!;
  const { orgPass, audHist, chHist, evCount } = counts;
  const heap = new TopHeap(end, c.rank[lang]);
  const bits = c.scratchBits;
  const n = sq.clauses.length;
  const coord = n === 2 ? sq.coord1 : 1;
  const [c1, c2] = sq.clauses;
  // Mark S: the extra documents of each clause (with their scores), then L₁ ∩ L₂.
  for (let i = 0; i < n; i++) {
    const cl = sq.clauses[i];
    const eb = c.extraBits[i];
    const es = c.extraScore[i];
    for (let j = 0; j < cl.extraDocs.length; j++) {
      const d = cl.extraDocs[j];
      eb[d >>> 5] |= 1 << (d & 31);
      es[d] = cl.extraScores[j];
      bits[d >>> 5] |= 1 << (d & 31);
    }
  }
  if (n === 2 && c1.docs.length && c2.docs.length) {
    const aShorter = c1.docs.length <= c2.docs.length;
    const short = aShorter ? c1.docs : c2.docs;
    const long = aShorter ? c2.docs : c1.docs;
    let at = 0;
    for (let i = 0; i < short.length; i++) {
      const d = short[i];
      at = seek(long, at, d);
      if (at === long.length) break;
      if (long[at] === d) bits[d >>> 5] |= 1 << (d & 31);
    }
  }
  // Score S in document order (the bit set's order), correcting the facets and the total.
  const eb1 = c.extraBits[0];
  const es1 = c.extraScore[0];
  const eb2 = c.extraBits[1];
  const es2 = c.extraScore[1];
  const special = c.hitDocs;
  let nSpecial = 0;
  let inLists = 0;
  let at1 = 0;
  let at2 = 0;
  const words = bits.length;
  for (let wi = 0; wi < words; wi++) {
    for (let x = bits[wi]; x !== 0; ) {
      const low = x & -x;
      x ^= low;
      const d = (wi << 5) | (31 - Math.clz32(low));
      special[nSpecial++] = d;
      let t = 0;
      let m = 0;
      let lists = 0;
      // Clause 1.
      {
        at1 = seek(c1.docs, at1, d);
        const inL = at1 < c1.docs.length && c1.docs[at1] === d;
        const isExtra = ((eb1[d >>> 5] >>> (d & 31)) & 1) !== 0;
        if (inL || isExtra) {
          let cs: number;
          if (isExtra) {
            cs = es1[d];
            if (inL) {
              const s = c1.a * c1.scores[at1] * c1.b;
              if (s > cs) cs = s;
            }
          } else cs = c1.a * c1.scores[at1] * c1.b;
          t += cs;
          m++;
        }
        if (inL) lists++;
      }
      if (n === 2) {
        at2 = seek(c2.docs, at2, d);
        const inL = at2 < c2.docs.length && c2.docs[at2] === d;
        const isExtra = ((eb2[d >>> 5] >>> (d & 31)) & 1) !== 0;
        if (inL || isExtra) {
          let cs: number;
          if (isExtra) {
            cs = es2[d];
            if (inL) {
              const s = c2.a * c2.scores[at2] * c2.b;
              if (s > cs) cs = s;
            }
          } else cs = c2.a * c2.scores[at2] * c2.b;
          t += cs;
          m++;
        }
        if (inL) lists++;
      }
      inLists += lists;
      heap.push(d, m === n ? t : t * coord);
      // Counted `lists` times by the lists' histograms; it must count once.
      const delta = 1 - lists;
      if (delta !== 0) {
        const f = fk[d];
        orgPass[f & 0xfff] += delta;
        audHist[(f >>> 12) & 0xff] += delta;
        chHist[(f >>> 20) & 0xff] += delta;
        if ((f & FK_EVENTS) !== 0) for (let k = evStart[d], e = evStart[d + 1]; k < e; k++) evCount[evList[k]] += delta;
      }
    }
  }
  let total = nSpecial - inLists;
  const nAud = Math.min(32, c.audienceCodes.length);
  const nCh = Math.min(32, c.channelCodes.length);
  for (const cl of sq.clauses) {
    if (!cl.docs.length) continue;
    total += cl.docs.length;
    const f = c.termFacets.get(cl.docs) ?? listFacets(fk, evStart, evList, c.orgs.length, nAud, nCh, c.eventList.length, cl.docs, cl.scores);
    for (let i = 0; i < orgPass.length; i++) orgPass[i] += f.orgPass[i];
    for (let i = 0; i < audHist.length; i++) audHist[i] += f.audHist[i];
    for (let i = 0; i < chHist.length; i++) chHist[i] += f.chHist[i];
    for (let i = 0; i < evCount.length; i++) evCount[i] += f.evCount[i];
    // Documents of this list only (not in S): score (a·s)·b, times coord1 in a two-clause query.
    const { a, b, docs, scores } = cl;
    const best = a * f.maxScore * b * coord;
    if (best < heap.floor) continue;
    for (let j = 0; j < docs.length; j++) {
      const s = a * scores[j] * b * coord;
      if (s < heap.floor) continue;
      const d = docs[j];
      if (((bits[d >>> 5] >>> (d & 31)) & 1) !== 0) continue;
      heap.push(d, s);
    }
  }
  // Clear the scratch bits.
  for (let j = 0; j < nSpecial; j++) {
    const d = special[j];
    bits[d >>> 5] = 0;
    eb1[d >>> 5] = 0;
    eb2[d >>> 5] = 0;
  }
  return { total, page: heap.sorted().slice(start, end) };
}

/**
 * Picks the top `k` of the first `n` entries of `docs` by score (desc), then title order; returns their positions,
 * in order. A bounded min-heap of k positions (typed array): O(n log k), and most documents are rejected by one
 * comparison with the worst of the current top k.
 */
function topK(docs: Int32Array, scores: Float64Array, n: number, k: number, rank: Int32Array): number[] {
  const better = (a: number, b: number) => scores[a] > scores[b] || (scores[a] === scores[b] && rank[docs[a]] < rank[docs[b]]);
  k = Math.min(k, n);
  if (k <= 0) return [];
  const heap = new Int32Array(k);
  let size = 0;
  // Score of the worst of the current top k (once full): most documents are rejected by this one comparison.
  let floor = -Infinity;
  for (let i = 0; i < n; i++) {
    if (size === k && scores[i] < floor) continue;
    if (size < k) {
      // Sift up.
      let j = size++;
      heap[j] = i;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (!better(heap[p], heap[j])) break;
        const t = heap[p];
        heap[p] = heap[j];
        heap[j] = t;
        j = p;
      }
    } else if (better(i, heap[0])) {
      heap[0] = i;
      // Sift down.
      let j = 0;
      for (;;) {
        const l = 2 * j + 1;
        const r = l + 1;
        let m = j;
        if (l < size && better(heap[m], heap[l])) m = l;
        if (r < size && better(heap[m], heap[r])) m = r;
        if (m === j) break;
        const t = heap[m];
        heap[m] = heap[j];
        heap[j] = t;
        j = m;
      }
    }
    if (size === k) floor = scores[heap[0]];
  }
  return Array.from(heap).sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
}

const collators: Record<Lang, Intl.Collator> = {
  en: new Intl.Collator('en-CA', { sensitivity: 'base', numeric: true }),
  fr: new Intl.Collator('fr-CA', { sensitivity: 'base', numeric: true }),
};

function label(lang: Lang, key: string, fallback: string): string {
  const v = t(lang, key);
  return v === key ? fallback : v;
}

function cached<T extends SearchResult>(c: Catalogue, key: string, make: () => T): T {
  const hit = c.cache.get(key);
  if (hit) {
    c.cache.delete(key);
    c.cache.set(key, hit);
    return hit as T;
  }
  const value = make();
  c.cache.set(key, value);
  if (c.cache.size > CACHE_SIZE) c.cache.delete(c.cache.keys().next().value!);
  return value;
}

/**
 * Services matching the query and filters, ranked (by relevance with q, by title without), with facet counts.
 * `opts.cache: false` bypasses the result cache (benchmarks); so does GUICHET_SEARCH_CACHE=off.
 */
export async function searchServices(db: Database, params: ServiceSearchParams, opts: { cache?: boolean } = {}): Promise<SearchResult> {
  const c = await getCatalogue(db);
  const lang: Lang = params.lang === 'fr' ? 'fr' : 'en';
  const q = (params.q ?? '').trim();
  const page = Math.max(1, Math.floor(params.page || 1));
  const pageSize = Math.max(1, Math.min(1000, Math.floor(params.pageSize || 10)));
  const norm = (v?: string[] | string) => [...new Set((Array.isArray(v) ? v : v ? [v] : []).filter(Boolean))].sort();
  const audience = norm(params.audience);
  const organisation = norm(params.organisation);
  const channel = norm(params.channel);
  const level = norm(params.level);
  const lifeEvent = params.lifeEvent || '';
  const run = () => runServiceSearch(c, { lang, q, audience, organisation, channel, level, lifeEvent, page, pageSize });
  const useCache = opts.cache ?? process.env.GUICHET_SEARCH_CACHE !== 'off';
  // Without the cache the result is new and the caller's own: no copy.
  if (!useCache) return run();
  const key = JSON.stringify([lang, q, audience, organisation, channel, level, lifeEvent, page, pageSize]);
  const result = cached(c, key, run);
  // Callers get their own copy of the top level (the cached value must stay intact).
  const f = result.facets;
  const copy = (list: FacetValue[]) => list.map((v) => ({ ...v }));
  const out: PagedResult = {
    total: result.total,
    items: result.items.map((i) => ({ ...i, organisation: { ...i.organisation }, channels: [...i.channels] })),
    facets: { audience: copy(f.audience), organisation: copy(f.organisation), channel: copy(f.channel), lifeEvent: copy(f.lifeEvent), level: copy(f.level) },
  };
  out[PAGE] = (result as PagedResult)[PAGE];
  return out;
}

/**
 * The agents' information bank: the portal's search (ranking, synonyms, typos, both languages) plus what only staff
 * see: services whose agent notes contain the words (case-insensitive, first, in title order: that is why agents wrote
 * them), then the ranked results, each with its notes. Answered from the in-memory index (notes are loaded with it and
 * refreshed with it), so an agent's search makes no database round trip.
 */
export async function searchInformationBank(
  db: Database,
  params: { q: string; lang: Lang; limit?: number },
): Promise<Array<{ id: string; title: string; org: string; agent_notes: string | null }>> {
  const limit = params.limit ?? 20;
  const lang: Lang = params.lang === 'fr' ? 'fr' : 'en';
  const text = params.q.trim();
  if (!text) return [];
  const found = await searchServices(db, { q: text, lang, page: 1, pageSize: limit });
  const c = await getCatalogue(db);
  const notes = c.agentNotes[lang];
  const pick = (d: number) => {
    const o = c.org[d] >= 0 ? c.orgs[c.org[d]] : null;
    return { id: c.ids[d], title: c.title[lang][d], org: o ? (lang === 'fr' ? o.name_fr : o.name_en) : '', agent_notes: notes.get(d)?.text ?? null };
  };
  const needle = text.toLocaleLowerCase(lang === 'fr' ? 'fr-CA' : 'en-CA');
  const ranked = found.items.map((i) => c.docNo.get(i.id)).filter((d): d is number => d !== undefined);
  const inRanked = new Set(ranked);
  const byNotes: number[] = [];
  for (const [d, note] of notes) if (!inRanked.has(d) && note.lower.includes(needle)) byNotes.push(d);
  byNotes.sort((a, b) => c.rank[lang][a] - c.rank[lang][b]);
  return [...byNotes, ...ranked].slice(0, limit).map(pick);
}

function runServiceSearch(
  c: Catalogue,
  p: { lang: Lang; q: string; audience: string[]; organisation: string[]; channel: string[]; level: string[]; lifeEvent: string; page: number; pageSize: number },
): SearchResult {
  const { lang } = p;
  // Filters: on/off, and the selected values as a bit mask or a membership table (an unknown value selects nothing).
  const maskOf = (values: string[], codes: string[]) => values.reduce((m, v) => (codes.indexOf(v) >= 0 && codes.indexOf(v) < 32 ? m | (1 << codes.indexOf(v)) : m), 0);
  const fAudOn = p.audience.length > 0;
  const fAud = maskOf(p.audience, c.audienceCodes);
  const fChOn = p.channel.length > 0;
  const fCh = maskOf(p.channel, c.channelCodes);
  const fOrgOn = p.organisation.length > 0;
  const orgSel = new Uint8Array(c.orgs.length);
  if (fOrgOn) c.orgs.forEach((o, i) => (orgSel[i] = p.organisation.includes(o.id) ? 1 : 0));
  const fLvlOn = p.level.length > 0;
  const lvlSel = new Uint8Array(c.levelCodes.length);
  c.levelCodes.forEach((l, i) => (lvlSel[i] = p.level.includes(l) ? 1 : 0));
  const fEvOn = p.lifeEvent !== '';
  const fEv = fEvOn ? c.eventList.findIndex((e) => e.id === p.lifeEvent) : -1;

  // Facet counts. Audience and channel sets are counted as histograms of their bit masks (expanded at the end),
  // so the loop over the matches only increments counters in typed arrays.
  const nAudBits = Math.min(32, c.audienceCodes.length);
  const nChBits = Math.min(32, c.channelCodes.length);
  const audHist = nAudBits <= 12 ? new Int32Array(1 << nAudBits) : null;
  const chHist = nChBits <= 12 ? new Int32Array(1 << nChBits) : null;
  const audCount = new Int32Array(32);
  const chCount = new Int32Array(32);
  const evCount = new Int32Array(c.eventList.length);
  const orgPass = new Int32Array(c.orgs.length + 1); // documents passing every filter, by owner (last slot: no owner)
  const orgOnly = new Int32Array(c.orgs.length); // documents failing only the organisation filter
  const lvlOnly = new Int32Array(c.orgs.length); // documents failing only the level filter
  const noOrg = c.orgs.length;
  let hitDocs: Int32Array;
  let nHit = 0;
  const { org, orgLevel, audMask, chMask, evStart, evList, facetKey } = c;
  const anyFilter = fAudOn || fChOn || fOrgOn || fLvlOn || fEvOn;
  const start = (p.page - 1) * p.pageSize;
  const end = start + p.pageSize;

  let candidates: Int32Array;
  let count: number;
  let scoreOf: Float64Array | null = null;
  let simple: ReturnType<typeof simpleSearch> | null = null;
  if (p.q) {
    const plan = c.index.plan(p.q, lang);
    const fast = !anyFilter && facetKey && audHist && chHist && end <= SIMPLE_MAX_END && !simpleSearchOff;
    const sq = fast ? c.index.simple(plan) : null;
    const syn = fast && !sq ? c.index.synonymQuery(plan, synonymRatio) : null;
    if (sq) {
      simple = simpleSearch(c, sq, lang, start, end, { orgPass, audHist: audHist!, chHist: chHist!, evCount });
      simpleSearches++;
      candidates = c.hitDocs;
      count = 0;
    } else if (syn) {
      simple = synonymSearch(c, syn, lang, start, end, { orgPass, audHist: audHist!, chHist: chHist!, evCount });
      synonymSearches++;
      candidates = c.hitDocs;
      count = 0;
    } else if (fast) {
      // No filter: every match is a result, so the engine's final pass counts the facets and keeps the page itself.
      const heap = new TopHeap(end, c.rank[lang]);
      const m = c.index.search(p.q, lang, plan, { facetKey: facetKey!, evStart, evList, orgPass, audHist: audHist!, chHist: chHist!, evCount, heap });
      simple = { total: m.count, page: heap.sorted().slice(start, end) };
      fusedSearches++;
      candidates = c.hitDocs;
      count = 0;
    } else {
      const m = c.index.search(p.q, lang, plan);
      candidates = m.docs;
      count = m.count;
      scoreOf = m.scores;
    }
  } else {
    candidates = c.order[lang];
    count = c.size;
  }

  let hitScores: Float64Array | null = scoreOf;
  if (simple) {
    // Counted by simpleSearch.
    hitDocs = candidates;
    nHit = simple.total;
  } else if (!anyFilter) {
    // Every match is a hit: no copy, and each facet counts every match.
    hitDocs = candidates;
    nHit = count;
    if (audHist && chHist && facetKey) {
      // The usual case: one read per match (the packed facet values), the rest are increments of small counters.
      // The matches come in document order, so facetKey is read front to back.
      for (let j = 0; j < count; j++) {
        const d = candidates[j];
        const f = facetKey[d];
        orgPass[f & 0xfff]++;
        audHist[(f >>> 12) & 0xff]++;
        chHist[(f >>> 20) & 0xff]++;
        if ((f & FK_EVENTS) !== 0) for (let k = evStart[d], e = evStart[d + 1]; k < e; k++) evCount[evList[k]]++;
      }
    } else if (audHist && chHist) {
      // The usual case (few audience and channel codes): typed-array increments only.
      for (let j = 0; j < count; j++) {
        const d = candidates[j];
        const o = org[d];
        orgPass[o >= 0 ? o : noOrg]++;
        audHist[audMask[d]]++;
        chHist[chMask[d]]++;
        for (let k = evStart[d], e = evStart[d + 1]; k < e; k++) evCount[evList[k]]++;
      }
    } else {
      for (let j = 0; j < count; j++) {
        const d = candidates[j];
        const o = org[d];
        orgPass[o >= 0 ? o : noOrg]++;
        if (audHist) audHist[audMask[d]]++;
        else for (let m = audMask[d]; m !== 0; m &= m - 1) audCount[31 - Math.clz32(m & -m)]++;
        if (chHist) chHist[chMask[d]]++;
        else for (let m = chMask[d]; m !== 0; m &= m - 1) chCount[31 - Math.clz32(m & -m)]++;
        for (let k = evStart[d], e = evStart[d + 1]; k < e; k++) evCount[evList[k]]++;
      }
    }
  } else {
    const outDocs = c.hitDocs;
    const outScores = c.hitScores;
    const hasEvent = (d: number) => {
      for (let k = evStart[d], e = evStart[d + 1]; k < e; k++) if (evList[k] === fEv) return true;
      return false;
    };
    for (let j = 0; j < count; j++) {
      const d = candidates[j];
      const o = org[d];
      const am = audMask[d];
      const cm = chMask[d];
      const okAud = !fAudOn || (am & fAud) !== 0;
      const okOrg = !fOrgOn || (o >= 0 && orgSel[o] === 1);
      const okCh = !fChOn || (cm & fCh) !== 0;
      const okEv = !fEvOn || (fEv >= 0 && hasEvent(d));
      const okLvl = !fLvlOn || (o >= 0 && lvlSel[orgLevel[o]] === 1);
      const fails = (okAud ? 0 : 1) + (okOrg ? 0 : 1) + (okCh ? 0 : 1) + (okEv ? 0 : 1) + (okLvl ? 0 : 1);
      if (fails > 1) continue;
      // Disjunctive facets: each facet counts the documents that pass every other filter.
      if (fails === 0) {
        outDocs[nHit] = d;
        if (scoreOf) outScores[nHit] = scoreOf[j];
        nHit++;
        orgPass[o >= 0 ? o : noOrg]++;
      } else if (!okOrg) {
        if (o >= 0) orgOnly[o]++;
      } else if (!okLvl && o >= 0) {
        lvlOnly[o]++;
      }
      if (okOrg && okCh && okEv && okLvl) {
        if (audHist) audHist[am]++;
        else for (let m = am; m !== 0; m &= m - 1) audCount[31 - Math.clz32(m & -m)]++;
      }
      if (okAud && okOrg && okEv && okLvl) {
        if (chHist) chHist[cm]++;
        else for (let m = cm; m !== 0; m &= m - 1) chCount[31 - Math.clz32(m & -m)]++;
      }
      if (okAud && okOrg && okCh && okLvl) for (let k = evStart[d], e = evStart[d + 1]; k < e; k++) evCount[evList[k]]++;
    }
    hitDocs = outDocs;
    if (scoreOf) hitScores = outScores;
  }
  const expand = (hist: Int32Array | null, counts: Int32Array) => {
    if (!hist) return;
    for (let m = 1; m < hist.length; m++) {
      const n = hist[m];
      if (n) for (let x = m; x !== 0; x &= x - 1) counts[31 - Math.clz32(x & -x)] += n;
    }
  };
  expand(audHist, audCount);
  expand(chHist, chCount);
  const orgCount = new Int32Array(c.orgs.length);
  const lvlCount = new Int32Array(c.levelCodes.length);
  for (let o = 0; o < c.orgs.length; o++) {
    orgCount[o] = orgPass[o] + orgOnly[o];
    lvlCount[orgLevel[o]] += orgPass[o] + lvlOnly[o];
  }

  let pageDocs: number[];
  let pageScores: number[] = [];
  if (simple) {
    pageDocs = simple.page.map((x) => x.doc);
    pageScores = simple.page.map((x) => x.score);
  } else if (start >= nHit) pageDocs = [];
  else if (hitScores) {
    const positions = topK(hitDocs, hitScores, nHit, end, c.rank[lang]).slice(start, end);
    pageDocs = positions.map((i) => hitDocs[i]);
    pageScores = positions.map((i) => hitScores![i]);
  } else {
    pageDocs = [];
    for (let i = start; i < Math.min(end, nHit); i++) pageDocs.push(hitDocs[i]);
  }

  const items: SearchItem[] = pageDocs.map((d, i) => {
    const o = c.org[d] >= 0 ? c.orgs[c.org[d]] : null;
    const item: SearchItem = {
      id: c.ids[d],
      identifier: c.identifiers[d],
      title: c.title[lang][d],
      description: c.description[lang][d],
      organisation: o ? { id: o.id, name: lang === 'fr' ? o.name_fr : o.name_en, level: o.level } : { id: '', name: '', level: '' },
      channels: c.channels[d].map((ch) => c.channelCodes[ch]),
      url: `/${lang}/services/${encodeURIComponent(c.ids[d])}`,
      isDemo: c.isDemo[d] === 1,
    };
    if (hitScores || simple) item.score = Math.round(pageScores[i] * 1e4) / 1e4;
    return item;
  });

  const fm = c.facetMeta[lang];
  // Values with a count (or selected), by count then label (precomputed collation rank).
  const facet = (counts: Int32Array, m: FacetMeta, selected: string[]): FacetValue[] => {
    const idx: number[] = [];
    for (let i = 0; i < counts.length; i++) if (counts[i] > 0 || (selected.length && selected.includes(m.values[i]))) idx.push(i);
    idx.sort((a, b) => counts[b] - counts[a] || m.rank[a] - m.rank[b]);
    return idx.map((i) => ({ value: m.values[i], label: m.labels[i], count: counts[i] }));
  };
  const facets: SearchResult['facets'] = {
    audience: facet(audCount.subarray(0, nAudBits), fm.audience, p.audience),
    organisation: facet(orgCount, fm.organisation, p.organisation),
    channel: facet(chCount.subarray(0, nChBits), fm.channel, p.channel),
    lifeEvent: facet(evCount, fm.lifeEvent, p.lifeEvent ? [p.lifeEvent] : []),
    level: facet(lvlCount, fm.level, p.level),
  };
  const result: SearchResult = { total: nHit, items, facets };
  // the page's documents, for serviceResultJson (a symbol: not serialised, not copied)
  (result as PagedResult)[PAGE] = { docs: pageDocs, lang };
  return result;
}

const PAGE = Symbol('page');
type PagedResult = SearchResult & { [PAGE]?: { docs: number[]; lang: Lang } };
/** Per index (generation) and language: each service's item as JSON without its closing brace (and without score). */
const itemJsonCache = new WeakMap<Catalogue, { en: Array<string | undefined>; fr: Array<string | undefined>; facet: Map<string, string> }>();

/**
 * The JSON body of /api/v1/services for a result of searchServices. Each service's item is serialised once per
 * index and language, and reused: the response of a search is mostly the items' titles and descriptions, and
 * escaping them again on every request cost more than the search itself at 85,000 services. The search (matching,
 * ranking, totals, facets) still runs for every request; only the text of an item, which depends on nothing but
 * the service and the language, is reused.
 */
export async function serviceResultJson(db: Database, result: SearchResult): Promise<string> {
  const page = (result as PagedResult)[PAGE];
  const items: string[] = [];
  const c = await getCatalogue(db);
  let cache = itemJsonCache.get(c);
  if (!cache) itemJsonCache.set(c, (cache = { en: [], fr: [], facet: new Map() }));
  if (page && page.docs.length === result.items.length) {
    const byDoc = cache[page.lang];
    page.docs.forEach((d, i) => {
      const item = result.items[i];
      let head = byDoc[d];
      if (head === undefined || !head.startsWith(`{"id":${JSON.stringify(item.id)},`)) {
        const { score: _score, ...rest } = item;
        head = byDoc[d] = JSON.stringify(rest).slice(0, -1);
      }
      items.push(item.score === undefined ? `${head}}` : `${head},"score":${JSON.stringify(item.score)}}`);
    });
  } else for (const item of result.items) items.push(JSON.stringify(item));
  // facet values: `{"value":…,"label":…,"count":` written once per index, value and label
  const facetCache = cache.facet;
  const facetJson = (list: FacetValue[]) =>
    `[${list
      .map((v) => {
        const k = `${v.value}\u0000${v.label}`;
        let head = facetCache.get(k);
        if (head === undefined) {
          head = `{"value":${JSON.stringify(v.value)},"label":${JSON.stringify(v.label)},"count":`;
          if (facetCache.size < 100_000) facetCache.set(k, head);
        }
        return `${head}${v.count}}`;
      })
      .join(',')}]`;
  const f = result.facets;
  const facets = `{"audience":${facetJson(f.audience)},"organisation":${facetJson(f.organisation)},"channel":${facetJson(f.channel)},"lifeEvent":${facetJson(f.lifeEvent)},"level":${facetJson(f.level)}}`;
  return `{"total":${result.total},"items":[${items.join(',')}],"facets":${facets}}`;
}

/** Organisations by name or acronym (either language, typos tolerated), or all of them by name; with service counts. */
export async function searchOrganisations(db: Database, params: OrgSearchParams): Promise<OrgSearchResult> {
  const c = await getCatalogue(db);
  const lang: Lang = params.lang === 'fr' ? 'fr' : 'en';
  const q = (params.q ?? '').trim();
  const page = Math.max(1, Math.floor(params.page || 1));
  const pageSize = Math.max(1, Math.min(1000, Math.floor(params.pageSize || 20)));
  let list: number[];
  if (q) {
    const m = c.orgIndex.search(q, lang);
    const docs = m.docs.slice(0, m.count);
    const scores = m.scores.slice(0, m.count);
    const orgRank = new Int32Array(c.orgs.length);
    c.orgOrder[lang].forEach((d, r) => (orgRank[d] = r));
    list = topK(docs, scores, docs.length, docs.length, orgRank).map((i) => docs[i]);
  } else list = Array.from(c.orgOrder[lang]);
  if (params.level) list = list.filter((i) => c.orgs[i].level === params.level);
  const start = (page - 1) * pageSize;
  return {
    total: list.length,
    items: list.slice(start, start + pageSize).map((i) => {
      const o = c.orgs[i];
      return {
        id: o.id,
        name: lang === 'fr' ? o.name_fr : o.name_en,
        acronym: (lang === 'fr' ? o.acronym_fr : o.acronym_en) ?? null,
        level: o.level,
        services: o.services,
        url: `/${lang}/organisations/${encodeURIComponent(o.id)}`,
      };
    }),
  };
}
