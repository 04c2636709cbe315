/**
 * CPSV-AP 3.2.0 import: a JSON-LD document (ours or anyone's, any framing) is converted to RDF, validated against
 * the official shapes, mapped onto the catalogue tables and written in ONE transaction: invalid JSON-LD, a shape
 * violation or a mapping problem rejects the whole file and nothing is written.
 *
 * Services, organisations and events are upserted by identifier (dct:identifier); a service's channels, costs,
 * requirements, outputs, delivering organisations and standards are replaced by the file's. Agent notes (never
 * exported) and channel volumes are kept. The mapping is the export's, read back (docs/cpsv-ap.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { NamedNode, Store, Term } from 'n3';
import { DataFactory } from 'n3';
import type { Database } from '../../db/database';
import { AppError, type FieldError } from '../../http/errors';
import type { ChannelType, GovernmentLevel, ServiceStatus } from '../tables';
import { invalidateSearchIndex } from '../search/index';
import { invalidateCatalogueExport } from './export';
import { jsonLdToStore, remoteContextCause, validateCpsv, type Violation } from './rdf';
import { NS } from './vocabularies';

const { namedNode } = DataFactory;
const P = (prefix: keyof typeof NS, local: string) => namedNode(NS[prefix] + local);
const RDF_TYPE = P('rdf', 'type');

const CHANNELS: ChannelType[] = ['online', 'phone', 'in_person', 'mail', 'email', 'fax', 'kiosk'];
const LEVELS: GovernmentLevel[] = ['federal', 'provincial', 'municipal', 'indigenous', 'ngo'];
const STATUSES: ServiceStatus[] = ['draft', 'in_review', 'published', 'withdrawn'];
const DURATION_UNITS = ['seconds', 'minutes', 'hours', 'days', 'business_days', 'weeks', 'months'];

export interface CpsvProblem {
  /** The node (IRI) and property concerned. */
  field: string;
  code: string;
  reason: string;
}

export interface CpsvImportReport {
  services: { inserted: number; updated: number };
  organisations: { inserted: number; updated: number };
  events: { inserted: number; updated: number };
  channels: number;
  costs: number;
  requirements: number;
  outputs: number;
  standards: number;
  triples: number;
  warnings: string[];
  durationMs: number;
}

/** Thrown when the file is rejected; `problems` is also in the CLI's `file:line: reason` form. */
export class CpsvImportError extends AppError {
  readonly problems: Array<{ file: string; line: number; reason: string }>;
  constructor(status: number, code: string, readonly issues: CpsvProblem[], file = 'input') {
    const details: FieldError[] = issues.slice(0, 200).map((p) => ({ field: p.field, code: p.code }));
    super(status, code, undefined, { count: issues.length }, details.length ? details : undefined);
    this.problems = issues.map((p) => ({ file, line: 0, reason: p.field ? `${p.field}: ${p.reason}` : p.reason }));
    this.message = `${code}: ${issues.length} problem(s)${issues[0] ? `; first: ${issues[0].field}: ${issues[0].reason}` : ''}`;
  }
}

function violationProblem(v: Violation): CpsvProblem {
  const comp = (v.shape ?? '') + ' ' + v.message;
  const code = /Less than|MinCount/i.test(comp) ? 'required' : /More than|MaxCount/i.test(comp) ? 'cpsvTooMany' : /datatype/i.test(comp) ? 'cpsvDatatype' : /class/i.test(comp) ? 'cpsvClass' : 'invalid';
  return { field: `${v.focusNode} ${v.path ?? ''}`.trim(), code, reason: `${v.message}${v.value ? ` (value: ${v.value})` : ''}` };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the graph

class Graph {
  constructor(readonly store: Store) {}
  objects(s: Term, p: NamedNode): Term[] {
    return this.store.getObjects(s as any, p, null);
  }
  subjectsOfType(type: NamedNode): Term[] {
    return this.store.getSubjects(RDF_TYPE, type, null);
  }
  types(s: Term): Set<string> {
    return new Set(this.objects(s, RDF_TYPE).map((t) => t.value));
  }
  str(s: Term, p: NamedNode): string | null {
    const o = this.objects(s, p).find((t) => t.termType === 'Literal' || t.termType === 'NamedNode');
    return o ? o.value : null;
  }
  num(s: Term, p: NamedNode): number | null {
    const v = this.str(s, p);
    if (v === null) return null;
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  bool(s: Term, p: NamedNode): boolean | null {
    const v = this.str(s, p);
    return v === null ? null : v === 'true' || v === '1';
  }
  /** Language-tagged values, en / fr (regional tags like fr-CA count); untagged text counts for both. */
  langs(s: Term, p: NamedNode): { en: string[]; fr: string[]; other: string[] } {
    const out = { en: [] as string[], fr: [] as string[], other: [] as string[] };
    for (const o of this.objects(s, p)) {
      if (o.termType !== 'Literal') continue;
      const lang = (o as any).language?.toLowerCase() ?? '';
      if (lang === 'en' || lang.startsWith('en-')) out.en.push(o.value);
      else if (lang === 'fr' || lang.startsWith('fr-')) out.fr.push(o.value);
      else out.other.push(o.value);
    }
    return out;
  }
  /** One text per language, falling back on the other language (both columns are NOT NULL). */
  text(s: Term, p: NamedNode): { en: string; fr: string } | null {
    const l = this.langs(s, p);
    const en = l.en[0] ?? l.other[0] ?? l.fr[0];
    const fr = l.fr[0] ?? l.other[0] ?? l.en[0];
    return en === undefined || fr === undefined ? null : { en, fr };
  }
  optText(s: Term, p: NamedNode): { en: string | null; fr: string | null } {
    const l = this.langs(s, p);
    return { en: l.en[0] ?? l.other[0] ?? null, fr: l.fr[0] ?? l.other[0] ?? null };
  }
  /** The code of a concept: its skos:notation, else the last segment of its IRI. */
  code(concept: Term): string {
    const n = this.str(concept, P('skos', 'notation'));
    if (n) return n;
    const m = /[/#]([^/#]+)$/.exec(concept.value);
    return m ? decodeURIComponent(m[1]) : concept.value;
  }
  codes(s: Term, p: NamedNode): string[] {
    return [...new Set(this.objects(s, p).map((c) => this.code(c)))];
  }
  /** The identifier of a node: dct:identifier, else the last segment of its IRI. */
  id(s: Term): string {
    const v = this.str(s, P('dct', 'identifier'));
    if (v) return v;
    const m = /[/#]([^/#]+)\/?$/.exec(s.value);
    return m ? decodeURIComponent(m[1]) : s.value;
  }
  /** The language of a contact point (dct:language), 'en' / 'fr' / null for both. */
  language(s: Term): 'en' | 'fr' | null {
    const l = this.objects(s, P('dct', 'language')).map((t) => t.value.toUpperCase());
    if (l.some((x) => /(^|\/)(ENG|EN)$/.test(x))) return 'en';
    if (l.some((x) => /(^|\/)(FRA|FRE|FR)$/.test(x))) return 'fr';
    return null;
  }
  contacts(owner: Term): { url_en: string | null; url_fr: string | null; phone: string | null; email: string | null } {
    const out = { url_en: null as string | null, url_fr: null as string | null, phone: null as string | null, email: null as string | null };
    for (const cp of this.objects(owner, P('cv', 'contactPoint'))) {
      const page = this.str(cp, P('cv', 'contactPage')) ?? this.str(cp, P('gch', 'contactPageText'));
      if (page) {
        const lang = this.language(cp);
        if (lang !== 'fr') out.url_en ??= page;
        if (lang !== 'en') out.url_fr ??= page;
      }
      out.phone ??= this.str(cp, P('cv', 'telephone'));
      out.email ??= this.str(cp, P('cv', 'email'));
    }
    return out;
  }
}

/** A whole number that fits the integer columns (versions, positions, days); null otherwise. */
const small = (v: number | null): v is number => v !== null && Number.isInteger(v) && v >= 0 && v <= 1_000_000;
const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
const ID_RE = /^[^\s/?#]{1,200}$/;

function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

export interface ImportOptions {
  /** Name shown in problems (file name for the CLI). */
  file?: string;
  /** Who imports (recorded in service_versions.changed_by). */
  changedBy?: string;
}

/** Imports a parsed JSON-LD document. Throws CpsvImportError (4xx) when the file is rejected; writes nothing then. */
export async function importCpsv(db: Database, doc: unknown, opts: ImportOptions = {}): Promise<CpsvImportReport> {
  const started = Date.now();
  const file = opts.file ?? 'input';
  if (doc === null || typeof doc !== 'object') {
    throw new CpsvImportError(400, 'CPSV_INVALID_JSONLD', [{ field: '', code: 'invalid', reason: 'the document is not a JSON object or array' }], file);
  }
  let store: Store;
  try {
    store = await jsonLdToStore(doc);
  } catch (e) {
    const remote = remoteContextCause(e);
    const reason = remote ? remote.message : `invalid JSON-LD: ${(e as Error).message}`;
    throw new CpsvImportError(400, 'CPSV_INVALID_JSONLD', [{ field: remote ? '@context' : '', code: 'invalid', reason }], file);
  }
  const g = new Graph(store);
  const serviceNodes = g.subjectsOfType(P('cpsv', 'PublicService'));
  if (!serviceNodes.length) throw new CpsvImportError(422, 'CPSV_EMPTY', [{ field: '', code: 'required', reason: 'no cpsv:PublicService in the document' }], file);

  const violations = await validateCpsv(store, { maxErrors: 500 });
  if (violations.length) throw new CpsvImportError(422, 'CPSV_SHAPES_VIOLATION', violations.map(violationProblem), file);

  const problems: CpsvProblem[] = [];
  const warnings: string[] = [];
  const problem = (node: Term, prop: string, code: string, reason: string) => problems.push({ field: `${node.value} ${prop}`.trim(), code, reason });

  // --- Organisations
  const orgNodes = new Map<string, Term>();
  for (const type of [P('cv', 'PublicOrganisation'), P('org', 'Organization')]) for (const n of g.subjectsOfType(type)) orgNodes.set(n.value, n);
  for (const s of serviceNodes)
    for (const part of g.objects(s, P('cv', 'hasParticipation')))
      for (const a of g.objects(part, P('cv', 'hasParticipant'))) if (!orgNodes.has(a.value)) orgNodes.set(a.value, a);
  const orgIdByIri = new Map<string, string>();
  const orgs: Array<{ row: Record<string, any>; parentIri: string | null }> = [];
  for (const n of orgNodes.values()) {
    const id = g.id(n);
    if (!ID_RE.test(id)) {
      problem(n, 'dct:identifier', 'invalid', `organisation identifier "${id}" must be 1 to 200 characters without spaces, "/", "?" or "#"`);
      continue;
    }
    if ([...orgIdByIri.values()].includes(id)) {
      problem(n, 'dct:identifier', 'invalid', `two organisations have the identifier "${id}"`);
      continue;
    }
    orgIdByIri.set(n.value, id);
    const name = g.text(n, P('skos', 'prefLabel')) ?? g.text(n, P('dct', 'title'));
    if (!name) {
      problem(n, 'skos:prefLabel', 'required', 'organisation has no name');
      continue;
    }
    const levelCodes = g.codes(n, P('org', 'classification')).filter((c) => (LEVELS as string[]).includes(c));
    let level = levelCodes[0] as GovernmentLevel | undefined;
    if (!level) {
      level = 'federal';
      warnings.push(`${n.value}: no level of government (org:classification); set to "federal"`);
    }
    const spatial = g.objects(n, P('dct', 'spatial'))[0];
    const jurisdiction = spatial ? g.id(spatial) : 'CA';
    const acr = g.optText(n, P('skos', 'altLabel'));
    const c = g.contacts(n);
    const parent = g.objects(n, P('org', 'subOrganizationOf'))[0];
    orgs.push({
      row: {
        id, name_en: name.en, name_fr: name.fr, acronym_en: acr.en, acronym_fr: acr.fr, level, jurisdiction, parent_id: null,
        logo_url: g.str(n, P('foaf', 'logo')) ?? g.str(n, P('gch', 'logoText')), website_en: c.url_en, website_fr: c.url_fr, phone: c.phone, email: c.email,
        is_demo: g.bool(n, P('gch', 'demo')) ?? false, source: g.str(n, P('gch', 'source')) ?? 'cpsv-import',
      },
      parentIri: parent?.value ?? null,
    });
  }

  // --- Services
  type Svc = {
    row: Record<string, any>;
    channels: Array<Record<string, any>>;
    costs: Array<Record<string, any>>;
    requirements: Array<Record<string, any>>;
    outputs: Array<Record<string, any>>;
    standards: Array<Record<string, any>>;
    delivering: string[];
  };
  const services: Svc[] = [];
  const serviceIdByIri = new Map<string, string>();
  const seenServiceIds = new Set<string>();
  const sourceKeys = new Set<string>();
  const orgRef = (node: Term, prop: string, iriTerm: Term): string | null => {
    const id = orgIdByIri.get(iriTerm.value);
    if (id) return id;
    // Not described in the file: accept an organisation already in the catalogue (by the IRI's last segment).
    const m = /[/#]([^/#]+)$/.exec(iriTerm.value);
    const guess = m ? decodeURIComponent(m[1]) : iriTerm.value;
    pendingOrgRefs.push({ node, prop, id: guess });
    return guess;
  };
  const pendingOrgRefs: Array<{ node: Term; prop: string; id: string }> = [];

  for (const s of serviceNodes) {
    const id = g.id(s);
    if (!ID_RE.test(id)) {
      problem(s, 'dct:identifier', 'invalid', `service identifier "${id}" must be 1 to 200 characters without spaces, "/", "?" or "#"`);
      continue;
    }
    if (seenServiceIds.has(id)) {
      problem(s, 'dct:identifier', 'invalid', `two services have the identifier "${id}"`);
      continue;
    }
    seenServiceIds.add(id);
    serviceIdByIri.set(s.value, id);
    const title = g.text(s, P('dct', 'title'));
    if (!title) {
      problem(s, 'dct:title', 'required', 'service has no title');
      continue;
    }
    const fromTitle = g.bool(s, P('gch', 'descriptionFromTitle')) === true;
    const description = fromTitle ? { en: '', fr: '' } : g.text(s, P('dct', 'description')) ?? { en: '', fr: '' };
    const authority = g.objects(s, P('cv', 'hasCompetentAuthority'));
    if (authority.length !== 1) {
      problem(s, 'cv:hasCompetentAuthority', authority.length ? 'cpsvTooMany' : 'required', 'a service needs exactly one competent authority in Guichet');
      continue;
    }
    const owner = orgRef(s, 'cv:hasCompetentAuthority', authority[0])!;
    const kw = g.langs(s, P('dcat', 'keyword'));
    const statusCode = g.codes(s, P('adms', 'status')).find((c) => (STATUSES as string[]).includes(c)) as ServiceStatus | undefined;
    const c = g.contacts(s);
    const guarantee = g.num(s, P('gch', 'guaranteeDays'));
    if (guarantee !== null && !(small(guarantee) && guarantee > 0 && guarantee <= 3650)) problem(s, 'gch:guaranteeDays', 'invalid', 'guarantee days must be a whole number from 1 to 3650');
    const onlineRaw = g.str(s, P('gch', 'onlineStatus'));
    let online: Record<string, unknown> = {};
    if (onlineRaw) {
      try {
        const parsed = JSON.parse(onlineRaw);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) online = parsed;
        else problem(s, 'gch:onlineStatus', 'invalid', 'online status must be a JSON object');
      } catch {
        problem(s, 'gch:onlineStatus', 'invalid', 'online status is not JSON');
      }
    }
    const issued = g.str(s, P('dct', 'issued'));
    const issuedDate = issued && !Number.isNaN(Date.parse(issued)) ? new Date(issued) : new Date();
    const status = statusCode ?? 'published';
    const version = g.num(s, P('gch', 'version'));
    const program = g.optText(s, P('gch', 'programName'));
    const row = {
      id, source: g.str(s, P('gch', 'source')) ?? 'cpsv-import', identifier: g.str(s, P('gch', 'sourceIdentifier')) ?? id, owner_org_id: owner,
      title_en: title.en, title_fr: title.fr, description_en: description.en, description_fr: description.fr,
      keywords_en: [...kw.en, ...kw.other], keywords_fr: [...kw.fr, ...kw.other],
      service_type: g.codes(s, P('dct', 'type')).sort()[0] ?? null,
      audiences: g.codes(s, P('dct', 'audience')).sort(), thematic_areas: g.codes(s, P('cv', 'thematicArea')).sort(),
      program_id: g.str(s, P('gch', 'programId')), program_name_en: program.en, program_name_fr: program.fr,
      fee_applies: g.bool(s, P('gch', 'feeApplies')) ?? (g.objects(s, P('cv', 'hasCost')).length ? true : null),
      online_status: JSON.stringify(online), url_en: c.url_en, url_fr: c.url_fr,
      fiscal_year: g.str(s, P('gch', 'fiscalYear')), last_review_fy: g.str(s, P('gch', 'lastReviewFiscalYear')),
      status, version: small(version) && version > 0 ? version : 1, content_hash: null,
      is_demo: g.bool(s, P('gch', 'demo')) ?? false, guarantee_days: guarantee, published_at: status === 'published' ? issuedDate : null,
      updated_at: new Date(),
    };

    // Channels (one per type in Guichet).
    const channels: Svc['channels'] = [];
    for (const ch of g.objects(s, P('cv', 'hasChannel')).sort((a, b) => natural(a.value, b.value))) {
      const code = g.codes(ch, P('dct', 'type'))[0];
      if (!code || !(CHANNELS as string[]).includes(code)) {
        warnings.push(`${ch.value}: channel type "${code ?? ''}" is not one of ${CHANNELS.join(', ')}; skipped`);
        continue;
      }
      if (channels.some((x) => x.channel === code)) {
        warnings.push(`${ch.value}: a second "${code}" channel for ${id}; skipped`);
        continue;
      }
      const cc = g.contacts(ch);
      const notes = g.optText(ch, P('dct', 'description'));
      channels.push({ service_id: id, channel: code, url_en: cc.url_en, url_fr: cc.url_fr, phone: cc.phone, email: cc.email, notes_en: notes.en, notes_fr: notes.fr });
    }

    const costs: Svc['costs'] = [];
    for (const cost of g.objects(s, P('cv', 'hasCost')).sort((a, b) => natural(g.id(a), g.id(b)))) {
      const value = g.num(cost, P('cv', 'hasValue'));
      if (value === null) {
        warnings.push(`${cost.value}: cost without cv:hasValue; skipped`);
        continue;
      }
      if (value < 0 || value > 1e9) {
        problem(cost, 'cv:hasValue', 'invalid', `cost value ${value} is out of range`);
        continue;
      }
      const cur = g.objects(cost, P('cv', 'currency'))[0];
      const currency = cur ? g.code(cur).toUpperCase() : 'CAD';
      if (!/^[A-Z]{3}$/.test(currency)) problem(cost, 'cv:currency', 'invalid', `currency "${currency}" is not an ISO 4217 code`);
      const d = g.optText(cost, P('dct', 'description'));
      costs.push({ service_id: id, amount_cents: Math.round(value * 100), currency, description_en: d.en ?? d.fr ?? '', description_fr: d.fr ?? d.en ?? '' });
    }

    // Requirements; evidence not attached to any requirement counts as a requirement of its own.
    const requirements: Svc['requirements'] = [];
    const reqNodes = g.objects(s, P('cv', 'holdsRequirement'));
    const evidenceOfReqs = new Set(reqNodes.flatMap((r) => g.objects(r, P('cv', 'hasSupportingEvidence')).map((e) => e.value)));
    const looseEvidence = g.objects(s, P('cpsv', 'hasInput')).filter((e) => !evidenceOfReqs.has(e.value) && !g.objects(e, P('cv', 'supportsRequirement')).length);
    const reqs = [...reqNodes, ...looseEvidence]
      .map((r) => ({ r, pos: g.num(r, P('gch', 'position')), key: g.id(r) }))
      .sort((a, b) => (a.pos ?? Infinity) - (b.pos ?? Infinity) || natural(a.key, b.key));
    reqs.forEach(({ r, pos }, i) => {
      const t = g.text(r, P('dct', 'title'));
      if (!t) return problem(r, 'dct:title', 'required', 'requirement has no title');
      const d = g.optText(r, P('dct', 'description'));
      requirements.push({ service_id: id, position: small(pos) ? pos : i + 1, name_en: t.en, name_fr: t.fr, description_en: d.en, description_fr: d.fr });
    });

    const outputs: Svc['outputs'] = [];
    for (const o of g.objects(s, P('cpsv', 'produces')).sort((a, b) => natural(g.id(a), g.id(b)))) {
      const t = g.text(o, P('dct', 'title'));
      if (!t) problem(o, 'dct:title', 'required', 'output has no title');
      else outputs.push({ service_id: id, name_en: t.en, name_fr: t.fr });
    }

    const standards: Svc['standards'] = [];
    for (const st of g.objects(s, P('gch', 'hasServiceStandard')).sort((a, b) => natural(g.id(a), g.id(b)))) {
      const sid = g.id(st);
      const text = g.optText(st, P('dct', 'description'));
      const missingRaw = g.str(st, P('gch', 'missing'));
      let missing: Record<string, unknown> = {};
      try {
        if (missingRaw) missing = JSON.parse(missingRaw);
      } catch {
        problem(st, 'gch:missing', 'invalid', 'not JSON');
      }
      const unit = g.str(st, P('gch', 'durationUnit'));
      const dv = g.num(st, P('gch', 'durationValue'));
      const ratio = (p: string) => {
        const v = g.num(st, P('gch', p));
        if (v !== null && (v < 0 || v > 100)) problem(st, `gch:${p}`, 'invalid', `${p} ${v} is out of range`);
        return v;
      };
      const count = (p: string) => {
        const v = g.num(st, P('gch', p));
        if (v !== null && (v < 0 || !Number.isSafeInteger(v))) problem(st, `gch:${p}`, 'invalid', `${p} must be a whole number`);
        return v;
      };
      standards.push({
        id: sid, source_id: g.str(st, P('gch', 'sourceIdentifier')) ?? sid, service_id: id, fiscal_year: g.str(st, P('gch', 'fiscalYear')) ?? '',
        text_en: text.en ?? text.fr ?? '', text_fr: text.fr ?? text.en ?? '',
        type: g.codes(st, P('dct', 'type'))[0] ?? null, channel: g.codes(st, P('gch', 'channel'))[0] ?? null,
        target: ratio('target'), performance: ratio('performance'),
        volume_meeting_target: count('volumeMeetingTarget'), total_volume: count('totalVolume'),
        target_met: g.bool(st, P('gch', 'targetMet')), missing: JSON.stringify(missing),
        duration_value: small(dv) ? dv : null, duration_unit: unit && DURATION_UNITS.includes(unit) ? unit : null,
        standard_url_en: g.str(st, P('gch', 'standardPageEn')), standard_url_fr: g.str(st, P('gch', 'standardPageFr')),
        results_url_en: g.str(st, P('gch', 'resultsPageEn')), results_url_fr: g.str(st, P('gch', 'resultsPageFr')),
      });
    }

    const delivering = new Set<string>();
    for (const part of g.objects(s, P('cv', 'hasParticipation'))) {
      for (const a of g.objects(part, P('cv', 'hasParticipant'))) {
        const oid = orgRef(part, 'cv:hasParticipant', a);
        if (oid) delivering.add(oid);
      }
    }
    const sourceKey = `${row.source}\u0000${row.identifier}`;
    if (sourceKeys.has(sourceKey)) problem(s, 'gch:sourceIdentifier', 'cpsvConflict', `source identifier ${row.source}/${row.identifier} is used by two services of the file`);
    sourceKeys.add(sourceKey);
    services.push({ row, channels, costs, requirements, outputs, standards, delivering: [...delivering].sort() });
  }

  // --- Events
  const eventNodes = new Map<string, Term>();
  for (const type of [P('cv', 'Event'), P('cv', 'LifeEvent'), P('cv', 'BusinessEvent')]) for (const n of g.subjectsOfType(type)) eventNodes.set(n.value, n);
  const events: Array<{ row: Record<string, any>; steps: Array<{ row: Record<string, any>; serviceIri: string | null; orgIri: string | null }> }> = [];
  let ePos = 0;
  for (const n of [...eventNodes.values()].sort((a, b) => natural(a.value, b.value))) {
    const id = g.id(n);
    if (!ID_RE.test(id)) {
      problem(n, 'dct:identifier', 'invalid', `event identifier "${id}" is not usable`);
      continue;
    }
    const title = g.text(n, P('dct', 'title'));
    if (!title) {
      problem(n, 'dct:title', 'required', 'event has no title');
      continue;
    }
    const d = g.optText(n, P('dct', 'description'));
    const kind = g.types(n).has(NS.cv + 'BusinessEvent') || g.codes(n, P('dct', 'type')).includes('business') ? 'business' : 'life';
    const pos = g.num(n, P('gch', 'position'));
    const steps: (typeof events)[number]['steps'] = [];
    const stepNodes = g.objects(n, P('gch', 'hasStep'));
    if (stepNodes.length) {
      stepNodes
        .map((st, i) => { const p = g.num(st, P('gch', 'position')); return { st, pos: small(p) ? p : i + 1 }; })
        .sort((a, b) => a.pos - b.pos || natural(a.st.value, b.st.value))
        .forEach(({ st, pos: p }) => {
          const t = g.text(st, P('dct', 'title'));
          if (!t) return problem(st, 'dct:title', 'required', 'event step has no title');
          const sd = g.optText(st, P('dct', 'description'));
          steps.push({
            row: { position: p, title_en: t.en, title_fr: t.fr, description_en: sd.en, description_fr: sd.fr },
            serviceIri: g.objects(st, P('gch', 'service'))[0]?.value ?? null,
            orgIri: g.objects(st, P('gch', 'organisation'))[0]?.value ?? null,
          });
        });
    } else {
      // Plain CPSV-AP: one step per related service (cv:hasRelatedService, or services grouped by this event).
      const related = new Set(g.objects(n, P('cv', 'hasRelatedService')).map((x) => x.value));
      for (const s of serviceNodes) if (g.objects(s, P('cv', 'isGroupedBy')).some((e) => e.value === n.value)) related.add(s.value);
      [...related].sort(natural).forEach((iri, i) => {
        const sv = services.find((x) => serviceIdByIri.get(iri) === x.row.id);
        steps.push({
          row: { position: i + 1, title_en: sv?.row.title_en ?? iri, title_fr: sv?.row.title_fr ?? iri, description_en: null, description_fr: null },
          serviceIri: iri,
          orgIri: null,
        });
      });
    }
    events.push({
      row: { id, kind, title_en: title.en, title_fr: title.fr, description_en: d.en ?? d.fr ?? '', description_fr: d.fr ?? d.en ?? '', position: small(pos) ? pos : ePos },
      steps,
    });
    ePos++;
  }

  if (problems.length) throw new CpsvImportError(422, 'CPSV_INVALID', problems, file);

  // --- Write, in one transaction.
  const counts = { channels: 0, costs: 0, requirements: 0, outputs: 0, standards: 0 };
  const result = await db.transaction().execute(async (trx) => {
    const existingOrgs = new Set((await trx.selectFrom('organisations').select('id').execute()).map((o) => o.id));
    const fileOrgs = new Set(orgs.map((o) => o.row.id));
    for (const ref of pendingOrgRefs) {
      if (!fileOrgs.has(ref.id) && !existingOrgs.has(ref.id)) problems.push({ field: `${ref.node.value} ${ref.prop}`, code: 'cpsvUnknownRef', reason: `organisation "${ref.id}" is neither in the file nor in the catalogue` });
    }
    const ids = services.map((s) => s.row.id);
    const existingServices = new Map<string, { source: string; identifier: string }>();
    for (const part of chunk(ids, 1000)) {
      for (const r of await trx.selectFrom('services').select(['id', 'source', 'identifier']).where('id', 'in', part).execute()) existingServices.set(r.id, r);
    }
    // (source, identifier) is unique: another service must not already hold it.
    for (const part of chunk(services, 500)) {
      const clash = await trx
        .selectFrom('services')
        .select(['id', 'source', 'identifier'])
        .where((eb) => eb.or(part.map((s) => eb.and([eb('source', '=', s.row.source), eb('identifier', '=', s.row.identifier), eb('id', '!=', s.row.id)]))))
        .execute();
      for (const c of clash) problems.push({ field: `${c.source}/${c.identifier}`, code: 'cpsvConflict', reason: `source identifier already used by service "${c.id}"` });
    }
    const stdIds = services.flatMap((s) => s.standards.map((x) => x.id));
    if (new Set(stdIds).size !== stdIds.length) problems.push({ field: 'gch:hasServiceStandard', code: 'invalid', reason: 'two service standards share an identifier' });
    for (const part of chunk(stdIds, 1000)) {
      const clash = await trx.selectFrom('service_standards').select(['id', 'service_id']).where('id', 'in', part).where('service_id', 'not in', ids).execute();
      for (const c of clash) problems.push({ field: c.id, code: 'cpsvConflict', reason: `service standard already belongs to service "${c.service_id}"` });
    }
    if (problems.length) throw new CpsvImportError(422, 'CPSV_INVALID', problems, file);

    // Organisations (parents set once all exist).
    for (const part of chunk(orgs, 300)) {
      await trx
        .insertInto('organisations')
        .values(part.map((o) => o.row as any))
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            name_en: eb.ref('excluded.name_en'), name_fr: eb.ref('excluded.name_fr'), acronym_en: eb.ref('excluded.acronym_en'), acronym_fr: eb.ref('excluded.acronym_fr'),
            level: eb.ref('excluded.level'), jurisdiction: eb.ref('excluded.jurisdiction'), logo_url: eb.ref('excluded.logo_url'),
            website_en: eb.ref('excluded.website_en'), website_fr: eb.ref('excluded.website_fr'), phone: eb.ref('excluded.phone'), email: eb.ref('excluded.email'),
            is_demo: eb.ref('excluded.is_demo'), updated_at: new Date(),
          })),
        )
        .execute();
    }
    for (const o of orgs) {
      const parent = o.parentIri ? orgIdByIri.get(o.parentIri) ?? null : null;
      if (o.parentIri && !parent) warnings.push(`${o.row.id}: parent organisation ${o.parentIri} is not in the file; left unset`);
      await trx.updateTable('organisations').set({ parent_id: parent }).where('id', '=', o.row.id).execute();
    }

    // Services.
    const versions = new Map<string, number>();
    for (const part of chunk(services, 200)) {
      const rows = await trx
        .insertInto('services')
        .values(part.map((s) => s.row as any))
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            source: eb.ref('excluded.source'), identifier: eb.ref('excluded.identifier'), owner_org_id: eb.ref('excluded.owner_org_id'),
            title_en: eb.ref('excluded.title_en'), title_fr: eb.ref('excluded.title_fr'), description_en: eb.ref('excluded.description_en'), description_fr: eb.ref('excluded.description_fr'),
            keywords_en: eb.ref('excluded.keywords_en'), keywords_fr: eb.ref('excluded.keywords_fr'), service_type: eb.ref('excluded.service_type'),
            audiences: eb.ref('excluded.audiences'), thematic_areas: eb.ref('excluded.thematic_areas'), program_id: eb.ref('excluded.program_id'),
            program_name_en: eb.ref('excluded.program_name_en'), program_name_fr: eb.ref('excluded.program_name_fr'), fee_applies: eb.ref('excluded.fee_applies'),
            online_status: eb.ref('excluded.online_status'), url_en: eb.ref('excluded.url_en'), url_fr: eb.ref('excluded.url_fr'),
            fiscal_year: eb.ref('excluded.fiscal_year'), last_review_fy: eb.ref('excluded.last_review_fy'), status: eb.ref('excluded.status'),
            version: sql<number>`services.version + 1`, content_hash: null, is_demo: eb.ref('excluded.is_demo'), guarantee_days: eb.ref('excluded.guarantee_days'),
            published_at: eb.ref('excluded.published_at'), updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .returning(['id', 'version'])
        .execute();
      for (const r of rows) versions.set(r.id, r.version);
      const pids = part.map((s) => s.row.id);
      for (const t of ['service_channels', 'service_costs', 'service_requirements', 'service_outputs', 'service_standards', 'service_delivering_orgs'] as const) {
        await trx.deleteFrom(t).where('service_id', 'in', pids).execute();
      }
    }
    const all = <K extends 'channels' | 'costs' | 'requirements' | 'outputs' | 'standards'>(k: K) => services.flatMap((s) => s[k]);
    const tables = { channels: 'service_channels', costs: 'service_costs', requirements: 'service_requirements', outputs: 'service_outputs', standards: 'service_standards' } as const;
    for (const k of Object.keys(tables) as Array<keyof typeof tables>) {
      const rows = all(k);
      counts[k] = rows.length;
      for (const part of chunk(rows, 500)) await trx.insertInto(tables[k]).values(part as any).execute();
    }
    const deliv = services.flatMap((s) => s.delivering.map((org_id) => ({ service_id: s.row.id, org_id })));
    for (const part of chunk(deliv, 1000)) await trx.insertInto('service_delivering_orgs').values(part).execute();
    const versionRows = services.map((s) => ({
      service_id: s.row.id as string, version: versions.get(s.row.id) ?? 1, status: s.row.status as ServiceStatus,
      snapshot: JSON.stringify({ ...s.row, channels: s.channels, costs: s.costs, requirements: s.requirements, outputs: s.outputs }),
      changed_by: opts.changedBy ?? 'cpsv-import', comment: `CPSV-AP import (${path.basename(file)})`,
    }));
    for (const part of chunk(versionRows, 300)) {
      await trx.insertInto('service_versions').values(part).onConflict((oc) => oc.columns(['service_id', 'version', 'status']).doNothing()).execute();
    }

    // Events (steps replaced).
    const existingEvents = new Set((await trx.selectFrom('events').select('id').execute()).map((e) => e.id));
    const knownServices = new Set(ids);
    const stepServiceIds = events.flatMap((e) => e.steps.map((st) => (st.serviceIri ? serviceIdByIri.get(st.serviceIri) ?? lastSegment(st.serviceIri) : null))).filter((x): x is string => !!x && !knownServices.has(x));
    for (const part of chunk([...new Set(stepServiceIds)], 1000)) for (const r of await trx.selectFrom('services').select('id').where('id', 'in', part).execute()) knownServices.add(r.id);
    const allOrgs = new Set([...existingOrgs, ...fileOrgs]);
    for (const e of events) {
      await trx
        .insertInto('events')
        .values(e.row as any)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            kind: eb.ref('excluded.kind'), title_en: eb.ref('excluded.title_en'), title_fr: eb.ref('excluded.title_fr'),
            description_en: eb.ref('excluded.description_en'), description_fr: eb.ref('excluded.description_fr'), position: eb.ref('excluded.position'),
          })),
        )
        .execute();
      await trx.deleteFrom('event_steps').where('event_id', '=', e.row.id).execute();
      const steps = e.steps.map((st) => {
        const sid = st.serviceIri ? serviceIdByIri.get(st.serviceIri) ?? lastSegment(st.serviceIri) : null;
        const oid = st.orgIri ? orgIdByIri.get(st.orgIri) ?? lastSegment(st.orgIri) : null;
        if (sid && !knownServices.has(sid)) warnings.push(`event ${e.row.id}: step service ${sid} is not in the catalogue; step kept without it`);
        return { ...st.row, event_id: e.row.id, service_id: sid && knownServices.has(sid) ? sid : null, org_id: oid && allOrgs.has(oid) ? oid : null };
      });
      if (steps.length) await trx.insertInto('event_steps').values(steps as any).execute();
    }

    return {
      services: { inserted: ids.filter((i) => !existingServices.has(i)).length, updated: ids.filter((i) => existingServices.has(i)).length },
      organisations: { inserted: [...fileOrgs].filter((i) => !existingOrgs.has(i)).length, updated: [...fileOrgs].filter((i) => existingOrgs.has(i)).length },
      events: { inserted: events.filter((e) => !existingEvents.has(e.row.id)).length, updated: events.filter((e) => existingEvents.has(e.row.id)).length },
    };
  });

  invalidateCatalogueExport();
  invalidateSearchIndex();
  return { ...result, ...counts, triples: store.size, warnings, durationMs: Date.now() - started };
}

function lastSegment(iri: string): string {
  const m = /[/#]([^/#]+)\/?$/.exec(iri);
  return m ? decodeURIComponent(m[1]) : iri;
}

/**
 * Offset of the first JSON syntax error in `text` (JSON.parse no longer says where). A small recursive-descent
 * scanner; only called once JSON.parse has failed.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    }
    if (c === '"') return str();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m![0].length;
  };
  const str = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  try {
    value();
    ws();
    return i < text.length ? i : text.length;
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, text.length) : 0;
  }
}

/** CLI entry point (`npm run import -- cpsv <file.jsonld>`): reads, parses and imports a file. */
export async function importCpsvFile(db: Database, file: string): Promise<CpsvImportReport> {
  const name = path.basename(file);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    throw new CpsvImportError(400, 'CPSV_UNREADABLE', [{ field: '', code: 'invalid', reason: (e as Error).message }], name);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const at = jsonErrorOffset(text);
    const line = text.slice(0, at).split('\n').length;
    const err = new CpsvImportError(400, 'INVALID_JSON', [{ field: '', code: 'invalid', reason: `not valid JSON: ${(e as Error).message.split('\n')[0]}` }], name);
    err.problems[0].line = line;
    throw err;
  }
  return importCpsv(db, doc, { file: name, changedBy: 'cli' });
}
