/**
 * CPSV-AP 3.2.0 export: the published catalogue (services, their competent authorities and delivering partners,
 * channels, costs, requirements and evidence, outputs, service standards, life and business events) as one JSON-LD
 * document with an inline context. It validates against standards/cpsv-ap-3.2.0/cpsv-ap-SHACL.ttl with zero
 * violations (see cpsv.test.ts); the mapping is documented in docs/cpsv-ap.md.
 *
 * The serialised document is cached per catalogue version: a cheap fingerprint query (counts and last update
 * times) decides whether the cache is still good, and invalidateCatalogueExport() drops it explicitly.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../../db/database';
import { ONE_STOP_ORG_ID } from '../demo-data';
import {
  CONTEXT, CURRENCY_LABELS, EU_COUNTRY_CANADA, EU_CURRENCY_SCHEME, EU_LANGUAGE, SCHEMES, codeLabel, jurisdictionLabel, toXsdDuration,
  type Label,
} from './vocabularies';

type Node = Record<string, unknown>;

const lit = (value: string | null | undefined, lang: 'en' | 'fr') => (value && value.trim() ? [{ '@value': value, '@language': lang }] : []);
const both = (en: string | null | undefined, fr: string | null | undefined) => [...lit(en, 'en'), ...lit(fr, 'fr')];
const typed = (value: string | number | boolean, type: string) => ({ '@value': typeof value === 'string' ? value : String(value), '@type': type });
const ref = (id: string) => ({ '@id': id });
const dbl = (n: number) => typed(Number.isInteger(n) ? n.toFixed(1) : String(n), 'xsd:double');
const int = (n: number) => typed(String(Math.trunc(n)), 'xsd:integer');
const bool = (b: boolean) => typed(b ? 'true' : 'false', 'xsd:boolean');
const seg = (s: string) => encodeURIComponent(s);
/** Only clean absolute http(s) URLs become IRIs; anything else (the inventory has "N/A", page titles...) stays text. */
export const isIri = (s: string) => /^https?:\/\/[^\s<>"{}|\\^`]+$/.test(s) && URL.canParse(s);

export interface ExportOptions {
  /** Public base URL of this Guichet (IRIs are minted under `${baseUrl}/id/...`). */
  baseUrl: string;
  /** Only these services (by id); the default is every published service. */
  serviceIds?: string[];
}

export class Iris {
  constructor(readonly base: string) {}
  dataset = () => `${this.base}/id/catalogue`;
  service = (id: string) => `${this.base}/id/service/${seg(id)}`;
  organisation = (id: string) => `${this.base}/id/organisation/${seg(id)}`;
  location = (code: string) => `${this.base}/id/location/${seg(code)}`;
  event = (id: string) => `${this.base}/id/event/${seg(id)}`;
  scheme = (id: string) => `${this.base}/id/scheme/${seg(id)}`;
  concept = (scheme: string, code: string) => `${this.base}/id/concept/${seg(scheme)}/${seg(code)}`;
  publisher = () => `${this.base}/id/publisher`;
}

/** Adds contact points to `node` (cv:contactPoint): one per language with a contact page, one for phone / e-mail. */
function contactPoints(owner: string, c: { url_en?: string | null; url_fr?: string | null; phone?: string | null; email?: string | null }): Node[] {
  const out: Node[] = [];
  for (const lang of ['en', 'fr'] as const) {
    const url = lang === 'en' ? c.url_en : c.url_fr;
    if (!url) continue;
    out.push({
      '@id': `${owner}/contact-${lang}`,
      '@type': 'cv:ContactPoint',
      ...(isIri(url) ? { 'cv:contactPage': { '@id': url, '@type': 'foaf:Document' } } : { 'gch:contactPageText': url }),
      'dct:language': ref(EU_LANGUAGE[lang]),
    });
  }
  if (c.phone || c.email) {
    const cp: Node = { '@id': `${owner}/contact`, '@type': 'cv:ContactPoint' };
    if (c.phone) cp['cv:telephone'] = c.phone;
    if (c.email) cp['cv:email'] = c.email;
    out.push(cp);
  }
  return out;
}

/** Picks the service's processing time: the first timeliness standard (latest fiscal year) that states a duration. */
function processingTime(standards: Array<{ fiscal_year: string; type: string | null; duration_value: number | null; duration_unit: string | null; id: string }>) {
  const candidates = standards
    .filter((s) => s.duration_value !== null && s.duration_unit !== null)
    .sort((a, b) => (a.type === 'TML' ? 0 : 1) - (b.type === 'TML' ? 0 : 1) || b.fiscal_year.localeCompare(a.fiscal_year) || a.id.localeCompare(b.id));
  for (const c of candidates) {
    const d = toXsdDuration(c.duration_value!, c.duration_unit!);
    if (d) return d;
  }
  return null;
}

function groupBy<T, K extends keyof T>(rows: T[], key: K): Map<T[K], T[]> {
  const m = new Map<T[K], T[]>();
  for (const r of rows) {
    const list = m.get(r[key]);
    if (list) list.push(r);
    else m.set(r[key], [r]);
  }
  return m;
}

/** Builds the JSON-LD document (not cached). */
export async function buildCatalogueJsonLd(db: Database, opts: ExportOptions): Promise<Node> {
  const iri = new Iris(opts.baseUrl.replace(/\/$/, ''));
  let svcQuery = db.selectFrom('services').selectAll().where('status', '=', 'published').orderBy('id');
  if (opts.serviceIds) svcQuery = svcQuery.where('id', 'in', opts.serviceIds.length ? opts.serviceIds : ['\u0000']);
  const services = await svcQuery.execute();
  const ids = new Set(services.map((s) => s.id));
  const inIds = <T extends { service_id: string }>(rows: T[]) => rows.filter((r) => ids.has(r.service_id));

  const [orgs, channels, costs, requirements, outputs, standards, delivering, events, steps] = await Promise.all([
    db.selectFrom('organisations').selectAll().orderBy('id').execute(),
    db.selectFrom('service_channels').selectAll().orderBy('service_id').orderBy('channel').execute().then(inIds),
    db.selectFrom('service_costs').selectAll().orderBy('service_id').orderBy('id').execute().then(inIds),
    db.selectFrom('service_requirements').selectAll().orderBy('service_id').orderBy('position').orderBy('id').execute().then(inIds),
    db.selectFrom('service_outputs').selectAll().orderBy('service_id').orderBy('id').execute().then(inIds),
    db.selectFrom('service_standards').selectAll().orderBy('service_id').orderBy('id').execute().then(inIds),
    db.selectFrom('service_delivering_orgs').selectAll().orderBy('service_id').orderBy('org_id').execute().then(inIds),
    db.selectFrom('events').selectAll().orderBy('position').orderBy('id').execute(),
    db.selectFrom('event_steps').selectAll().orderBy('event_id').orderBy('position').orderBy('id').execute(),
  ]);
  const byService = {
    channels: groupBy(channels, 'service_id'),
    costs: groupBy(costs, 'service_id'),
    requirements: groupBy(requirements, 'service_id'),
    outputs: groupBy(outputs, 'service_id'),
    standards: groupBy(standards, 'service_id'),
    delivering: groupBy(delivering, 'service_id'),
  };
  const orgById = new Map(orgs.map((o) => [o.id, o]));

  // Controlled vocabularies: every concept referenced is typed skos:Concept with labels and its scheme.
  const usedConcepts = new Map<string, Set<string>>();
  const concept = (scheme: string, code: string) => {
    let set = usedConcepts.get(scheme);
    if (!set) usedConcepts.set(scheme, (set = new Set()));
    set.add(code);
    return ref(iri.concept(scheme, code));
  };
  const currencies = new Set<string>();
  const currency = (code: string) => {
    currencies.add(code);
    return ref(`${EU_CURRENCY_SCHEME}/${seg(code)}`);
  };
  const usedLocations = new Set<string>();

  // Events and which services they group.
  const eventsOfService = new Map<string, Set<string>>();
  for (const st of steps) {
    if (!st.service_id || !ids.has(st.service_id)) continue;
    let set = eventsOfService.get(st.service_id);
    if (!set) eventsOfService.set(st.service_id, (set = new Set()));
    set.add(st.event_id);
  }
  const stepsByEvent = groupBy(steps, 'event_id');

  const graph: Node[] = [];

  // Organisations (all of them: competent authorities, delivering partners, parents, event-step owners).
  for (const o of orgs) {
    const node: Node = {
      '@id': iri.organisation(o.id),
      '@type': ['cv:PublicOrganisation', 'org:Organization', 'foaf:Agent'],
      'dct:identifier': o.id,
      'skos:prefLabel': both(o.name_en, o.name_fr),
      'dct:title': both(o.name_en, o.name_fr),
      'dct:spatial': ref(iri.location(o.jurisdiction)),
      'org:classification': concept('government-level', o.level),
      'gch:source': o.source,
      'gch:demo': bool(o.is_demo),
    };
    usedLocations.add(o.jurisdiction);
    const alt = both(o.acronym_en, o.acronym_fr);
    if (alt.length) node['skos:altLabel'] = alt;
    if (o.parent_id && orgById.has(o.parent_id)) node['org:subOrganizationOf'] = ref(iri.organisation(o.parent_id));
    if (o.logo_url) node[isIri(o.logo_url) ? 'foaf:logo' : 'gch:logoText'] = isIri(o.logo_url) ? ref(o.logo_url) : o.logo_url;
    const cps = contactPoints(node['@id'] as string, { url_en: o.website_en, url_fr: o.website_fr, phone: o.phone, email: o.email });
    if (cps.length) node['cv:contactPoint'] = cps;
    graph.push(node);
  }

  // Services.
  const serviceNodes: Node[] = [];
  for (const s of services) {
    const sid = iri.service(s.id);
    const title = both(s.title_en, s.title_fr);
    let description = both(s.description_en, s.description_fr);
    // dct:description is mandatory: a service without one is described by its title (flagged so the import can tell).
    const descriptionFromTitle = description.length === 0;
    if (descriptionFromTitle) description = title;
    const node: Node = {
      '@id': sid,
      '@type': 'cpsv:PublicService',
      'dct:identifier': s.id,
      'dct:title': title,
      'dct:description': description,
      'cv:hasCompetentAuthority': ref(iri.organisation(s.owner_org_id)),
      'adms:status': concept('service-status', s.status),
      'dct:isPartOf': ref(iri.dataset()),
      'gch:source': s.source,
      'gch:sourceIdentifier': s.identifier,
      'gch:demo': bool(s.is_demo),
      'gch:version': int(s.version),
    };
    if (descriptionFromTitle) node['gch:descriptionFromTitle'] = bool(true);
    const kw = [...s.keywords_en.map((k) => ({ '@value': k, '@language': 'en' })), ...s.keywords_fr.map((k) => ({ '@value': k, '@language': 'fr' }))];
    if (kw.length) node['dcat:keyword'] = kw;
    if (s.service_type) node['dct:type'] = concept('service-type', s.service_type);
    if (s.audiences.length) node['dct:audience'] = s.audiences.map((a) => concept('audience', a));
    if (s.thematic_areas.length) node['cv:thematicArea'] = s.thematic_areas.map((a) => concept('thematic-area', a));
    if (s.program_id) node['gch:programId'] = s.program_id;
    const program = both(s.program_name_en, s.program_name_fr);
    if (program.length) node['gch:programName'] = program;
    if (s.fee_applies !== null) node['gch:feeApplies'] = bool(s.fee_applies);
    if (s.online_status && Object.keys(s.online_status).length) node['gch:onlineStatus'] = { '@value': s.online_status, '@type': '@json' };
    if (s.fiscal_year) node['gch:fiscalYear'] = s.fiscal_year;
    if (s.last_review_fy) node['gch:lastReviewFiscalYear'] = s.last_review_fy;
    if (s.guarantee_days !== null) node['gch:guaranteeDays'] = int(s.guarantee_days);
    if (s.published_at) node['dct:issued'] = typed(new Date(s.published_at).toISOString(), 'xsd:dateTime');

    const cps = contactPoints(sid, { url_en: s.url_en, url_fr: s.url_fr });
    if (cps.length) node['cv:contactPoint'] = cps;

    const deliv = byService.delivering.get(s.id) ?? [];
    if (deliv.length) {
      node['cv:hasParticipation'] = deliv.map((d) => {
        const org = orgById.get(d.org_id);
        return {
          '@id': `${sid}/participation/${seg(d.org_id)}`,
          '@type': 'cv:Participation',
          'dct:identifier': `${s.id}/participation/${d.org_id}`,
          'dct:description': both(`Delivers this service: ${org?.name_en ?? d.org_id}`, `Offre ce service : ${org?.name_fr ?? d.org_id}`),
          'cv:role': concept('participation-role', 'delivering-organisation'),
          'cv:hasParticipant': ref(iri.organisation(d.org_id)),
        };
      });
    }

    const chans = byService.channels.get(s.id) ?? [];
    if (chans.length) {
      node['cv:hasChannel'] = chans.map((c) => {
        const cid = `${sid}/channel/${seg(c.channel)}`;
        const ch: Node = { '@id': cid, '@type': 'cv:Channel', 'dct:identifier': `${s.id}/channel/${c.channel}`, 'dct:type': concept('channel-type', c.channel) };
        const notes = both(c.notes_en, c.notes_fr);
        if (notes.length) ch['dct:description'] = notes;
        const ccp = contactPoints(cid, c);
        if (ccp.length) ch['cv:contactPoint'] = ccp;
        return ch;
      });
    }

    const cs = byService.costs.get(s.id) ?? [];
    if (cs.length) {
      node['cv:hasCost'] = cs.map((c, i) => ({
        '@id': `${sid}/cost/${i + 1}`,
        '@type': 'cv:Cost',
        'dct:identifier': `${s.id}/cost/${i + 1}`,
        'cv:hasValue': dbl(c.amount_cents / 100),
        'cv:currency': currency(c.currency),
        'dct:description': both(c.description_en, c.description_fr),
        'cv:isDefinedBy': ref(iri.organisation(s.owner_org_id)),
      }));
    }

    const reqs = byService.requirements.get(s.id) ?? [];
    if (reqs.length) {
      const evidence = (r: (typeof reqs)[number], i: number) => `${sid}/evidence/${i + 1}`;
      node['cv:holdsRequirement'] = reqs.map((r, i) => {
        const rq: Node = {
          '@id': `${sid}/requirement/${i + 1}`,
          '@type': 'cv:Requirement',
          'dct:identifier': `${s.id}/requirement/${i + 1}`,
          'dct:title': both(r.name_en, r.name_fr),
          'gch:position': int(r.position),
          'cv:hasSupportingEvidence': ref(evidence(r, i)),
        };
        const d = both(r.description_en, r.description_fr);
        if (d.length) rq['dct:description'] = d;
        return rq;
      });
      node['cpsv:hasInput'] = reqs.map((r, i) => {
        const ev: Node = {
          '@id': evidence(r, i),
          '@type': 'cv:Evidence',
          'dct:identifier': `${s.id}/evidence/${i + 1}`,
          'dct:title': both(r.name_en, r.name_fr),
          'cv:supportsRequirement': ref(`${sid}/requirement/${i + 1}`),
        };
        const d = both(r.description_en, r.description_fr);
        if (d.length) ev['dct:description'] = d;
        return ev;
      });
    }

    const outs = byService.outputs.get(s.id) ?? [];
    if (outs.length) {
      node['cpsv:produces'] = outs.map((o, i) => ({
        '@id': `${sid}/output/${i + 1}`,
        '@type': 'cv:Output',
        'dct:identifier': `${s.id}/output/${i + 1}`,
        'dct:title': both(o.name_en, o.name_fr),
      }));
    }

    const stds = byService.standards.get(s.id) ?? [];
    const pt = processingTime(stds);
    if (pt) node['cv:processingTime'] = typed(pt, 'xsd:duration');
    if (stds.length) {
      node['gch:hasServiceStandard'] = stds.map((st) => {
        const n: Node = {
          '@id': `${sid}/standard/${seg(st.id)}`,
          '@type': 'gch:ServiceStandard',
          'dct:identifier': st.id,
          'gch:sourceIdentifier': st.source_id,
          'gch:fiscalYear': st.fiscal_year,
          'dct:description': both(st.text_en, st.text_fr),
        };
        if (!both(st.text_en, st.text_fr).length) delete n['dct:description'];
        if (st.type) n['dct:type'] = concept('standard-type', st.type);
        if (st.channel) n['gch:channel'] = concept('standard-channel', st.channel);
        if (st.target !== null) n['gch:target'] = dbl(st.target);
        if (st.performance !== null) n['gch:performance'] = dbl(st.performance);
        if (st.volume_meeting_target !== null) n['gch:volumeMeetingTarget'] = int(st.volume_meeting_target);
        if (st.total_volume !== null) n['gch:totalVolume'] = int(st.total_volume);
        if (st.target_met !== null) n['gch:targetMet'] = bool(st.target_met);
        if (st.missing && Object.keys(st.missing).length) n['gch:missing'] = { '@value': st.missing, '@type': '@json' };
        if (st.duration_value !== null && st.duration_unit) {
          n['gch:durationValue'] = int(st.duration_value);
          n['gch:durationUnit'] = st.duration_unit;
          const d = toXsdDuration(st.duration_value, st.duration_unit);
          if (d) n['cv:processingTime'] = typed(d, 'xsd:duration');
        }
        const pages: Array<[string, string | null]> = [
          ['gch:standardPageEn', st.standard_url_en], ['gch:standardPageFr', st.standard_url_fr],
          ['gch:resultsPageEn', st.results_url_en], ['gch:resultsPageFr', st.results_url_fr],
        ];
        for (const [p, url] of pages) if (url) n[p] = url;
        return n;
      });
    }

    const evs = eventsOfService.get(s.id);
    if (evs?.size) node['cv:isGroupedBy'] = [...evs].sort().map((e) => ref(iri.event(e)));
    serviceNodes.push(node);
  }

  // Life and business events (typed cv:Event too, so cv:isGroupedBy's class constraint holds).
  for (const e of events) {
    const eid = iri.event(e.id);
    const node: Node = {
      '@id': eid,
      '@type': [e.kind === 'business' ? 'cv:BusinessEvent' : 'cv:LifeEvent', 'cv:Event'],
      'dct:identifier': e.id,
      'dct:title': both(e.title_en, e.title_fr),
      'dct:type': concept('event-type', e.kind),
      'gch:position': int(e.position),
    };
    const d = both(e.description_en, e.description_fr);
    if (d.length) node['dct:description'] = d;
    const st = stepsByEvent.get(e.id) ?? [];
    const related = [...new Set(st.map((x) => x.service_id).filter((x): x is string => !!x && ids.has(x)))].sort();
    if (related.length) node['cv:hasRelatedService'] = related.map((x) => ref(iri.service(x)));
    if (st.length) {
      node['gch:hasStep'] = st.map((x, i) => {
        const n: Node = {
          '@id': `${eid}/step/${i + 1}`,
          '@type': 'gch:EventStep',
          'gch:position': int(x.position),
          'dct:title': both(x.title_en, x.title_fr),
        };
        const sd = both(x.description_en, x.description_fr);
        if (sd.length) n['dct:description'] = sd;
        if (x.service_id) n['gch:service'] = ref(iri.service(x.service_id));
        if (x.org_id) n['gch:organisation'] = ref(iri.organisation(x.org_id));
        return n;
      });
    }
    graph.push(node);
  }

  graph.push(...serviceNodes);

  // Locations (dct:spatial of organisations, mandatory for cv:PublicOrganisation).
  for (const code of [...usedLocations].sort()) {
    const l = jurisdictionLabel(code);
    const node: Node = { '@id': iri.location(code), '@type': 'dct:Location', 'dct:identifier': code, 'skos:prefLabel': both(l.en, l.fr) };
    if (code === 'CA') node['owl:sameAs'] = ref(EU_COUNTRY_CANADA);
    graph.push(node);
  }

  // Concept schemes and concepts.
  for (const [scheme, codes] of [...usedConcepts].sort(([a], [b]) => a.localeCompare(b))) {
    const label: Label = SCHEMES[scheme]?.label ?? { en: scheme, fr: scheme };
    graph.push({ '@id': iri.scheme(scheme), '@type': 'skos:ConceptScheme', 'skos:prefLabel': both(label.en, label.fr), 'dct:identifier': scheme });
    for (const code of [...codes].sort()) {
      const l = codeLabel(scheme, code);
      graph.push({
        '@id': iri.concept(scheme, code),
        '@type': 'skos:Concept',
        'skos:prefLabel': both(l.en, l.fr),
        'skos:notation': code,
        'skos:inScheme': ref(iri.scheme(scheme)),
      });
    }
  }
  if (currencies.size) {
    graph.push({ '@id': EU_CURRENCY_SCHEME, '@type': 'skos:ConceptScheme', 'skos:prefLabel': both('Currencies', 'Monnaies') });
    for (const c of [...currencies].sort()) {
      const l = CURRENCY_LABELS[c] ?? { en: c, fr: c };
      graph.push({ '@id': `${EU_CURRENCY_SCHEME}/${seg(c)}`, '@type': 'skos:Concept', 'skos:prefLabel': both(l.en, l.fr), 'skos:notation': c, 'skos:inScheme': ref(EU_CURRENCY_SCHEME) });
    }
  }

  // The catalogue itself (dcat:Dataset), published by the one-stop organisation when there is one.
  let publisher = orgById.has(ONE_STOP_ORG_ID) ? iri.organisation(ONE_STOP_ORG_ID) : null;
  if (!publisher) {
    publisher = iri.publisher();
    graph.push({ '@id': publisher, '@type': 'foaf:Agent', 'dct:identifier': 'guichet', 'dct:title': both('Guichet', 'Guichet') });
  }
  const lastChange = services.reduce((m, s) => Math.max(m, new Date(s.updated_at).getTime()), 0);
  graph.unshift({
    '@id': iri.dataset(),
    '@type': 'dcat:Dataset',
    'dct:identifier': 'guichet-catalogue',
    'dct:title': both('Guichet public service catalogue', 'Catalogue des services publics de Guichet'),
    'dct:description': both(
      'Public services of every level of government offered through the one-stop shop (CPSV-AP 3.2.0).',
      'Services publics de tous les ordres de gouvernement offerts par le guichet unique (CPSV-AP 3.2.0).',
    ),
    'dct:publisher': ref(publisher),
    'dcat:landingPage': { '@id': `${iri.base}/en`, '@type': 'foaf:Document' },
    'dct:conformsTo': ref('https://semiceu.github.io/CPSV-AP/releases/3.2.0/'),
    ...(lastChange ? { 'dct:modified': typed(new Date(lastChange).toISOString(), 'xsd:dateTime') } : {}),
    ...(serviceNodes.length ? { 'dct:hasPart': serviceNodes.map((n) => ref(n['@id'] as string)) } : {}),
  });

  return { '@context': CONTEXT, '@graph': graph };
}

// ---------------------------------------------------------------------------------------------------------------
// Cache

interface CacheEntry {
  db: Database;
  baseUrl: string;
  fingerprint: string;
  body: string;
  etag: string;
  services: number;
}
let cache: CacheEntry | null = null;
let generation = 0;

/** Drops the cached export (call after any change to services, organisations or events). */
export function invalidateCatalogueExport(): void {
  cache = null;
  generation++;
}

/** A cheap fingerprint of everything the export shows: counts and last update times. */
async function fingerprint(db: Database): Promise<string> {
  const r = await sql<{ f: string }>`
    select concat_ws('|',
      (select count(*) || ':' || coalesce(max(updated_at)::text, '') || ':' || coalesce(sum(version), 0) from services where status = 'published'),
      (select count(*) || ':' || coalesce(max(updated_at)::text, '') from organisations),
      (select count(*) from service_channels), (select count(*) from service_costs), (select count(*) from service_requirements),
      (select count(*) from service_outputs), (select count(*) from service_standards), (select count(*) from service_delivering_orgs),
      (select count(*) || ':' || coalesce(sum(position), 0) from events), (select count(*) || ':' || coalesce(max(id), 0) from event_steps)
    ) as f`.execute(db);
  return r.rows[0].f;
}

/** The serialised export, from the cache when the catalogue has not changed since it was built. */
export async function exportCatalogue(db: Database, baseUrl: string): Promise<{ body: string; etag: string; cached: boolean; services: number }> {
  const gen = generation;
  const fp = await fingerprint(db);
  if (cache && cache.db === db && cache.baseUrl === baseUrl && cache.fingerprint === fp) {
    return { body: cache.body, etag: cache.etag, cached: true, services: cache.services };
  }
  const doc = await buildCatalogueJsonLd(db, { baseUrl });
  const body = JSON.stringify(doc);
  const etag = `"cpsv-${crypto.createHash('sha256').update(body).digest('hex').slice(0, 24)}"`;
  const services = ((doc['@graph'] as Node[])[0]['dct:hasPart'] as unknown[] | undefined)?.length ?? 0;
  // An invalidation while building means the document may already be stale: serve it, but do not keep it.
  if (gen === generation) cache = { db, baseUrl, fingerprint: fp, body, etag, services };
  return { body, etag, cached: false, services };
}
