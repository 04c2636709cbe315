/**
 * JSON-LD to RDF (no network: contexts are inline, or the official CPSV-AP context served from the local copy in
 * standards/), and SHACL validation against the official CPSV-AP 3.2.0 shapes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jsonld from 'jsonld';
import { DataFactory, Parser, Store } from 'n3';
import type { Quad, Term } from '@rdfjs/types';

const here = path.dirname(fileURLToPath(import.meta.url));
export const STANDARD_DIR = path.resolve(here, '../../../standards/cpsv-ap-3.2.0');
export const SHAPES_FILE = path.join(STANDARD_DIR, 'cpsv-ap-SHACL.ttl');

/** URLs of the official CPSV-AP 3.2.0 context, answered from the local copy. */
const LOCAL_CONTEXTS: Record<string, string> = {
  'https://semiceu.github.io/uri.semic.eu-generated/CPSV-AP/releases/3.2.0/context/cpsv-ap.jsonld': 'cpsv-ap.jsonld',
  'https://semiceu.github.io/CPSV-AP/releases/3.2.0/context/cpsv-ap.jsonld': 'cpsv-ap.jsonld',
};

export class RemoteContextError extends Error {
  constructor(readonly url: string) {
    super(`remote JSON-LD context not allowed: ${url}`);
  }
}

/** The RemoteContextError behind an error jsonld wrapped (jsonld reports loader failures as its own errors). */
export function remoteContextCause(e: unknown): RemoteContextError | null {
  let cur: any = e;
  for (let i = 0; i < 6 && cur; i++) {
    if (cur instanceof RemoteContextError) return cur;
    cur = cur.details?.cause ?? cur.cause;
  }
  return null;
}

const localCache = new Map<string, unknown>();
/** A jsonld documentLoader that never touches the network. */
export async function documentLoader(url: string): Promise<{ contextUrl: null; documentUrl: string; document: unknown }> {
  const file = LOCAL_CONTEXTS[url];
  if (!file) throw new RemoteContextError(url);
  let doc = localCache.get(file);
  if (!doc) {
    doc = JSON.parse(fs.readFileSync(path.join(STANDARD_DIR, file), 'utf8'));
    localCache.set(file, doc);
  }
  return { contextUrl: null, documentUrl: url, document: doc };
}

type JTerm = { termType: string; value: string; datatype?: { value: string }; language?: string };
type JQuad = { subject: JTerm; predicate: JTerm; object: JTerm; graph: JTerm };

function term(t: JTerm): Term {
  switch (t.termType) {
    case 'NamedNode': return DataFactory.namedNode(t.value);
    case 'BlankNode': return DataFactory.blankNode(t.value.replace(/^_:/, ''));
    case 'Literal':
      return t.language ? DataFactory.literal(t.value, t.language) : DataFactory.literal(t.value, DataFactory.namedNode(t.datatype?.value ?? 'http://www.w3.org/2001/XMLSchema#string'));
    default: return DataFactory.defaultGraph();
  }
}

/**
 * Converts a JSON-LD document to an n3 Store (all graphs merged into the default graph).
 * `safe: true` makes jsonld fail instead of silently dropping terms it cannot map (used on our own export).
 */
export async function jsonLdToStore(doc: unknown, opts: { safe?: boolean } = {}): Promise<Store> {
  const quads = (await jsonld.toRDF(doc as object, { documentLoader, safe: opts.safe ?? false })) as JQuad[];
  const store = new Store();
  const g = DataFactory.defaultGraph();
  for (const q of quads) store.addQuad(DataFactory.quad(term(q.subject) as any, term(q.predicate) as any, term(q.object) as any, g));
  return store;
}

let shapesPromise: Promise<Quad[]> | null = null;
function shapes(): Promise<Quad[]> {
  shapesPromise ??= fs.promises.readFile(SHAPES_FILE, 'utf8').then((ttl) => new Parser().parse(ttl) as unknown as Quad[]);
  return shapesPromise;
}

export interface Violation {
  focusNode: string;
  path: string | null;
  message: string;
  severity: string;
  shape: string | null;
  value: string | null;
}

/** Validates a data graph against the CPSV-AP 3.2.0 shapes; returns the violations (empty when it conforms). */
export async function validateCpsv(data: Store, opts: { maxErrors?: number } = {}): Promise<Violation[]> {
  const [{ default: SHACLValidator }, { default: factory }] = await Promise.all([
    import('rdf-validate-shacl'),
    import('rdf-validate-shacl/src/defaultEnv.js'),
  ]);
  const shapesDataset = factory.dataset(await shapes());
  const validator = new SHACLValidator(shapesDataset, { factory, maxErrors: opts.maxErrors });
  const dataset = factory.dataset(data.getQuads(null, null, null, null) as unknown as Quad[]);
  const report = await validator.validate(dataset);
  return report.results.map((r) => ({
    focusNode: r.focusNode?.value ?? '',
    path: r.path?.value ?? null,
    message: r.message.map((m) => m.value).join('; ') || (r.sourceConstraintComponent?.value ?? 'violation').replace(/.*#/, ''),
    severity: (r.severity?.value ?? '').replace(/.*#/, ''),
    shape: r.sourceShape?.value ?? null,
    value: r.value?.value ?? null,
  }));
}
