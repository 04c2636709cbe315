/**
 * Public portal pages (issue 2): home, search with facets, service pages (with schema.org JSON-LD), organisations,
 * life and business events, and the office locator. Every page is bilingual (bilingualRoute) and works without
 * JavaScript: filters are GET forms, paging is links. Only published services are public; agent notes never are.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../http/deps';
import { AppError, type FieldError } from '../../http/errors';
import { formatNumber, localDate, t, type Lang } from '../../i18n/index';
import { bilingualRoute } from '../../web/render';
import { searchOrganisations, searchServices } from '../search/index';
import { findOffices, locateFsa, parsePostalCode, weekRows } from './locator';
import { governmentServiceJsonLd, jurisdictionName } from './schema-org';
import { serviceFeesByChannel } from './fee-source';

export const PATHS = {
  home: { en: '/en', fr: '/fr' },
  search: { en: '/en/search', fr: '/fr/recherche' },
  service: { en: '/en/services/:id', fr: '/fr/services/:id' },
  organisations: { en: '/en/organisations', fr: '/fr/organisations' },
  organisation: { en: '/en/organisations/:id', fr: '/fr/organisations/:id' },
  events: { en: '/en/life-events', fr: '/fr/evenements-de-vie' },
  event: { en: '/en/life-events/:id', fr: '/fr/evenements-de-vie/:id' },
  offices: { en: '/en/offices', fr: '/fr/bureaux' },
  office: { en: '/en/offices/:id', fr: '/fr/bureaux/:id' },
} as const;

export const LEVELS = ['federal', 'provincial', 'municipal', 'indigenous', 'ngo'] as const;
const PAGE_SIZE = 20;

/** Portal path of an item in a language. */
export function portalUrl(kind: keyof typeof PATHS, lang: Lang, id?: string): string {
  const p: string = PATHS[kind][lang];
  return id === undefined ? p : p.replace(':id', encodeURIComponent(id));
}

const asArray = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []).filter((x) => x.length > 0);

/** govukPagination items: 1 … (current-1) current (current+1) … last. */
export function paginationFor(lang: Lang, page: number, pages: number, hrefFor: (p: number) => string) {
  if (pages <= 1) return null;
  const items: Array<Record<string, unknown>> = [];
  let gap = false;
  for (let p = 1; p <= pages; p++) {
    if (p === 1 || p === pages || Math.abs(p - page) <= 1) {
      items.push({ number: formatNumber(p, lang), href: hrefFor(p), current: p === page, visuallyHiddenText: t(lang, 'portal.page.n', { n: p }) });
      gap = false;
    } else if (!gap) {
      items.push({ ellipsis: true });
      gap = true;
    }
  }
  return {
    items,
    previous: page > 1 ? { href: hrefFor(page - 1), text: t(lang, 'portal.page.previous') } : undefined,
    next: page < pages ? { href: hrefFor(page + 1), text: t(lang, 'portal.page.next') } : undefined,
    landmarkLabel: t(lang, 'portal.page.landmark'),
  };
}

function baseUrlOf(request: FastifyRequest, configured: string): string {
  return configured.replace(/\/$/, '') || `${request.protocol}://${request.host}`;
}

/** Only http(s) links reach a page (never javascript: or data: from edited content). */
function safeUrl(u: string | null): string | null {
  return u && /^https?:\/\//i.test(u) ? u : null;
}

/** Distinct online addresses of a service: its online channels' URLs, else the service's own URL. */
function onlineLinks(channels: Array<{ url_en: string | null; url_fr: string | null }>, lang: Lang, fallback: string | null): string[] {
  const links = [...new Set(channels.map((c) => (lang === 'fr' ? c.url_fr ?? c.url_en : c.url_en ?? c.url_fr) ?? '').filter((u) => /^https?:\/\//i.test(u)))];
  if (!links.length && fallback && /^https?:\/\//i.test(fallback)) links.push(fallback);
  return links;
}

const pageQuery = Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 }));
const idParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export async function portalRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db, config } = deps;

  // ---------------------------------------------------------------- home
  bilingualRoute(app, 'GET', PATHS.home, async (_request, reply, lang) => {
    const [events, popular, facets] = await Promise.all([
      db.selectFrom('events').selectAll().orderBy('kind', 'desc').orderBy('position').execute(),
      popularServices(lang, 8),
      searchServices(db, { lang, page: 1, pageSize: 1 }).then((r) => r.facets),
    ]);
    return reply.page('catalogue/portal/views/home.njk', {
      title: t(lang, 'portal.home.title'),
      searchPath: portalUrl('search', lang),
      lifeEvents: events.filter((e) => e.kind === 'life').map((e) => ({ ...e, url: portalUrl('event', lang, e.id) })),
      businessEvents: events.filter((e) => e.kind === 'business').map((e) => ({ ...e, url: portalUrl('event', lang, e.id) })),
      audiences: facets.audience.filter((a) => a.value !== 'INTERN_GOV').map((a) => ({ ...a, url: `${portalUrl('search', lang)}?audience=${encodeURIComponent(a.value)}` })),
      levels: facets.level.map((a) => ({ ...a, url: `${portalUrl('search', lang)}?level=${encodeURIComponent(a.value)}` })),
      popular,
      total: facets.level.reduce((n, l) => n + l.count, 0),
    });
  });

  /** Most used published services: applications (latest year they reported), else website visits. */
  async function popularServices(lang: Lang, limit: number) {
    const rows = await db
      .selectFrom('service_volumes as v')
      .innerJoin('services as s', 's.id', 'v.service_id')
      .innerJoin('organisations as o', 'o.id', 's.owner_org_id')
      .select((eb) => [
        's.id', 's.title_en', 's.title_fr', 's.is_demo', 's.audiences', 'o.name_en as org_en', 'o.name_fr as org_fr', 'v.metric',
        eb.fn.max('v.value').as('volume'),
      ])
      .where('s.status', '=', 'published')
      .where('v.metric', 'in', ['applications_total', 'website_visits'])
      .where('v.value', 'is not', null)
      .groupBy(['s.id', 's.title_en', 's.title_fr', 's.is_demo', 's.audiences', 'o.name_en', 'o.name_fr', 'v.metric'])
      .execute();
    const best = new Map<string, (typeof rows)[number]>();
    for (const r of rows) {
      // Internal government services (only for public servants) are not what the public looks for.
      if (r.audiences.length > 0 && r.audiences.every((a) => a === 'INTERN_GOV')) continue;
      const cur = best.get(r.id);
      // applications beat website visits: a service is "popular" by what people do, not what they read.
      if (!cur || (cur.metric !== 'applications_total' && r.metric === 'applications_total')) best.set(r.id, r);
    }
    return [...best.values()]
      .sort((a, b) => (a.metric === b.metric ? Number(b.volume) - Number(a.volume) : a.metric === 'applications_total' ? -1 : 1))
      .slice(0, limit)
      .map((r) => ({ id: r.id, title: lang === 'fr' ? r.title_fr : r.title_en, org: lang === 'fr' ? r.org_fr : r.org_en, isDemo: r.is_demo, url: portalUrl('service', lang, r.id) }));
  }

  // ---------------------------------------------------------------- search
  const searchQuery = Type.Object({
    q: Type.Optional(Type.String({ maxLength: 200 })),
    page: pageQuery,
    audience: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 20 })),
    organisation: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 50 })),
    channel: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 20 })),
    level: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 10 })),
    lifeEvent: Type.Optional(Type.String({ maxLength: 100 })),
  });
  bilingualRoute(
    app,
    'GET',
    PATHS.search,
    async (request, reply, lang) => {
      const query = request.query as Record<string, unknown>;
      const q = typeof query.q === 'string' ? query.q.trim() : '';
      const page = (query.page as number | undefined) ?? 1;
      const filters = {
        audience: asArray(query.audience),
        organisation: asArray(query.organisation),
        channel: asArray(query.channel),
        level: asArray(query.level),
        lifeEvent: typeof query.lifeEvent === 'string' ? query.lifeEvent : '',
      };
      const result = await searchServices(db, { lang, q, page, pageSize: PAGE_SIZE, ...filters, lifeEvent: filters.lifeEvent || undefined });
      const pages = Math.max(1, Math.ceil(result.total / PAGE_SIZE));
      const params = (p: number) => {
        const u = new URLSearchParams();
        if (q) u.set('q', q);
        for (const k of ['audience', 'level', 'channel', 'organisation'] as const) for (const v of filters[k]) u.append(k, v);
        if (filters.lifeEvent) u.set('lifeEvent', filters.lifeEvent);
        if (p > 1) u.set('page', String(p));
        const s = u.toString();
        return `${portalUrl('search', lang)}${s ? `?${s}` : ''}`;
      };
      const checkboxItems = (facet: { value: string; label: string; count: number }[], selected: string[], limit = 1000) => {
        const shown = facet.filter((f, i) => i < limit || selected.includes(f.value));
        return shown.map((f) => ({ value: f.value, text: `${f.label} (${formatNumber(f.count, lang)})`, checked: selected.includes(f.value) }));
      };
      const activeFilters = [
        ...filters.audience.map((v) => ({ key: 'audience', value: v })),
        ...filters.level.map((v) => ({ key: 'level', value: v })),
        ...filters.channel.map((v) => ({ key: 'channel', value: v })),
        ...filters.organisation.map((v) => ({ key: 'organisation', value: v })),
        ...(filters.lifeEvent ? [{ key: 'lifeEvent', value: filters.lifeEvent }] : []),
      ].length;
      return reply.page('catalogue/portal/views/search.njk', {
        title: q ? t(lang, 'portal.search.titleFor', { q }) : t(lang, 'portal.search.title'),
        q,
        page,
        pages,
        total: result.total,
        from: result.total ? (page - 1) * PAGE_SIZE + 1 : 0,
        to: Math.min(result.total, page * PAGE_SIZE),
        items: result.items,
        searchPath: portalUrl('search', lang),
        activeFilters,
        facets: {
          audience: checkboxItems(result.facets.audience, filters.audience),
          level: checkboxItems(result.facets.level, filters.level),
          channel: checkboxItems(result.facets.channel, filters.channel),
          organisation: checkboxItems(result.facets.organisation, filters.organisation, 15),
          lifeEvent: [
            { value: '', text: t(lang, 'portal.search.anyEvent'), selected: !filters.lifeEvent },
            ...result.facets.lifeEvent.map((f) => ({ value: f.value, text: `${f.label} (${formatNumber(f.count, lang)})`, selected: f.value === filters.lifeEvent })),
          ],
        },
        pagination: paginationFor(lang, page, pages, params),
      });
    },
    { schema: { querystring: searchQuery } },
  );

  // ---------------------------------------------------------------- service page
  bilingualRoute(
    app,
    'GET',
    PATHS.service,
    async (request, reply, lang) => {
      const { id } = request.params as { id: string };
      const service = await db
        .selectFrom('services')
        .select([
          'id', 'identifier', 'source', 'owner_org_id', 'title_en', 'title_fr', 'description_en', 'description_fr', 'audiences', 'thematic_areas', 'service_type',
          'program_name_en', 'program_name_fr', 'fee_applies', 'url_en', 'url_fr', 'is_demo', 'guarantee_days', 'fiscal_year', 'last_review_fy', 'published_at', 'updated_at',
        ]) // never agent_notes_*: internal
        .where('id', '=', id)
        .where('status', '=', 'published')
        .executeTakeFirst();
      if (!service) throw new AppError(404, 'SERVICE_NOT_FOUND', 'portal.errors.SERVICE_NOT_FOUND');
      const orgCols = ['id', 'name_en', 'name_fr', 'acronym_en', 'acronym_fr', 'level', 'jurisdiction', 'logo_url', 'website_en', 'website_fr', 'phone', 'email', 'is_demo'] as const;
      const [owner, deliverers, channels, requirements, costs, outputs, standardRows, offices, steps, channelFees] = await Promise.all([
        db.selectFrom('organisations').select(orgCols).where('id', '=', service.owner_org_id).executeTakeFirstOrThrow(),
        db.selectFrom('service_delivering_orgs').innerJoin('organisations', 'organisations.id', 'service_delivering_orgs.org_id').select(orgCols.map((c) => `organisations.${c}` as const)).where('service_delivering_orgs.service_id', '=', id).execute(),
        db.selectFrom('service_channels').selectAll().where('service_id', '=', id).orderBy('id').execute(),
        db.selectFrom('service_requirements').selectAll().where('service_id', '=', id).orderBy('position').execute(),
        db.selectFrom('service_costs').selectAll().where('service_id', '=', id).orderBy('id').execute(),
        db.selectFrom('service_outputs').selectAll().where('service_id', '=', id).orderBy('id').execute(),
        db.selectFrom('service_standards').selectAll().where('service_id', '=', id).orderBy('fiscal_year', 'desc').execute(),
        findOffices(db, { serviceId: id, lang }),
        db
          .selectFrom('event_steps')
          .innerJoin('events', 'events.id', 'event_steps.event_id')
          .select(['events.id', 'events.title_en', 'events.title_fr'])
          .where('event_steps.service_id', '=', id)
          .distinct()
          .execute(),
        serviceFeesByChannel(db, id, localDate()),
      ]);
      // One row per standard: its latest fiscal year.
      const seen = new Set<string>();
      const standards = standardRows
        .filter((s) => (seen.has(s.source_id) ? false : (seen.add(s.source_id), true)))
        .map((s) => {
          const missing = (s.missing ?? {}) as Record<string, 'NA' | 'ND'>;
          const show = (v: number | null, field: string) =>
            v !== null && v !== undefined ? { value: v } : { missing: missing[field] === 'NA' ? 'NA' : 'ND' };
          return { ...s, targetShown: show(s.target, 'target'), performanceShown: show(s.performance, 'performance') };
        });
      const audienceLabel = (code: string) => t(lang, `search.audience.${code}`);
      const baseUrl = baseUrlOf(request, config.publicBaseUrl);
      const jsonld = governmentServiceJsonLd({ baseUrl, lang, service, owner, deliverers, channels, offices, costs, audienceLabel });
      const byChannel = (c: string) => channels.filter((x) => x.channel === c);
      return reply.page('catalogue/portal/views/service.njk', {
        title: lang === 'fr' ? service.title_fr : service.title_en,
        service,
        owner: { ...owner, url: portalUrl('organisation', lang, owner.id), jurisdictionName: jurisdictionName(owner.jurisdiction, lang) },
        deliverers: deliverers.filter((d) => d.id !== owner.id).map((d) => ({ ...d, url: portalUrl('organisation', lang, d.id) })),
        audiences: service.audiences.map((a) => ({ code: a, label: audienceLabel(a), url: `${portalUrl('search', lang)}?audience=${encodeURIComponent(a)}` })),
        onlineLinks: onlineLinks(byChannel('online'), lang, lang === 'fr' ? service.url_fr ?? service.url_en : service.url_en ?? service.url_fr),
        phones: byChannel('phone'),
        otherChannels: channels
          .filter((c) => !['online', 'phone', 'in_person'].includes(c.channel))
          .map((c) => ({ ...c, url_en: safeUrl(c.url_en), url_fr: safeUrl(c.url_fr) })),
        inPerson: byChannel('in_person').length > 0 || offices.length > 0,
        offices: offices.map((o) => ({ ...o, url: portalUrl('office', lang, o.id) })),
        officesSearchUrl: `${portalUrl('offices', lang)}?service=${encodeURIComponent(id)}`,
        requirements,
        costs,
        channelFees,
        outputs,
        standards,
        events: steps.map((e) => ({ ...e, url: portalUrl('event', lang, e.id) })),
        jsonld,
      });
    },
    { schema: { params: idParams } },
  );

  // ---------------------------------------------------------------- organisations
  bilingualRoute(
    app,
    'GET',
    PATHS.organisations,
    async (request, reply, lang) => {
      const { level } = request.query as { level?: string };
      const all = await searchOrganisations(db, { lang, page: 1, pageSize: 1000 });
      const counts = LEVELS.map((l) => ({ value: l, count: all.items.filter((o) => o.level === l).length })).filter((l) => l.count > 0);
      const items = level ? all.items.filter((o) => o.level === level) : all.items;
      return reply.page('catalogue/portal/views/organisations.njk', {
        title: t(lang, 'portal.orgs.title'),
        level: level ?? '',
        levels: counts,
        total: all.total,
        items,
        path: portalUrl('organisations', lang),
      });
    },
    { schema: { querystring: Type.Object({ level: Type.Optional(Type.Union(LEVELS.map((l) => Type.Literal(l)))) }) } },
  );

  bilingualRoute(
    app,
    'GET',
    PATHS.organisation,
    async (request, reply, lang) => {
      const { id } = request.params as { id: string };
      const page = (request.query as { page?: number }).page ?? 1;
      const org = await db.selectFrom('organisations').selectAll().where('id', '=', id).executeTakeFirst();
      if (!org) throw new AppError(404, 'ORGANISATION_NOT_FOUND', 'portal.errors.ORGANISATION_NOT_FOUND');
      const titleCol = lang === 'fr' ? 'title_fr' : 'title_en';
      const [countRow, services, deliveredFor, parent, offices] = await Promise.all([
        db.selectFrom('services').select((eb) => eb.fn.countAll<number>().as('n')).where('owner_org_id', '=', id).where('status', '=', 'published').executeTakeFirstOrThrow(),
        db
          .selectFrom('services')
          .select(['id', 'title_en', 'title_fr', 'description_en', 'description_fr', 'is_demo'])
          .where('owner_org_id', '=', id)
          .where('status', '=', 'published')
          .orderBy(titleCol)
          .orderBy('id')
          .limit(PAGE_SIZE)
          .offset((page - 1) * PAGE_SIZE)
          .execute(),
        db
          .selectFrom('service_delivering_orgs as d')
          .innerJoin('services as s', 's.id', 'd.service_id')
          .innerJoin('organisations as o', 'o.id', 's.owner_org_id')
          .select(['s.id', 's.title_en', 's.title_fr', 's.is_demo', 'o.id as org_id', 'o.name_en as org_en', 'o.name_fr as org_fr'])
          .where('d.org_id', '=', id)
          .where('s.owner_org_id', '!=', id)
          .where('s.status', '=', 'published')
          .orderBy(`s.${titleCol}`)
          .execute(),
        org.parent_id ? db.selectFrom('organisations').select(['id', 'name_en', 'name_fr']).where('id', '=', org.parent_id).executeTakeFirst() : Promise.resolve(undefined),
        db.selectFrom('office_organisations').select('office_id').where('org_id', '=', id).execute().then((r) => findOffices(db, { lang, ids: r.map((x) => x.office_id) })),
      ]);
      const total = Number(countRow.n);
      const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
      if (page > pages) throw new AppError(404, 'NOT_FOUND');
      return reply.page('catalogue/portal/views/organisation.njk', {
        title: lang === 'fr' ? org.name_fr : org.name_en,
        org: { ...org, website_en: safeUrl(org.website_en), website_fr: safeUrl(org.website_fr), jurisdictionName: jurisdictionName(org.jurisdiction, lang) },
        parent: parent ? { ...parent, url: portalUrl('organisation', lang, parent.id) } : null,
        total,
        services: services.map((s) => ({ ...s, url: portalUrl('service', lang, s.id) })),
        deliveredFor: deliveredFor.map((s) => ({ ...s, url: portalUrl('service', lang, s.id), orgUrl: portalUrl('organisation', lang, s.org_id) })),
        offices: offices.map((o) => ({ ...o, url: portalUrl('office', lang, o.id) })),
        pagination: paginationFor(lang, page, pages, (p) => `${portalUrl('organisation', lang, id)}${p > 1 ? `?page=${p}` : ''}`),
        listUrl: portalUrl('organisations', lang),
        searchUrl: `${portalUrl('search', lang)}?organisation=${encodeURIComponent(id)}`,
      });
    },
    { schema: { params: idParams, querystring: Type.Object({ page: pageQuery }) } },
  );

  // ---------------------------------------------------------------- life and business events
  bilingualRoute(app, 'GET', PATHS.events, async (_request, reply, lang) => {
    const events = await db
      .selectFrom('events')
      .leftJoin('event_steps', 'event_steps.event_id', 'events.id')
      .select((eb) => ['events.id', 'events.kind', 'events.title_en', 'events.title_fr', 'events.description_en', 'events.description_fr', 'events.position', eb.fn.count<number>('event_steps.id').as('steps')])
      .groupBy(['events.id', 'events.kind', 'events.title_en', 'events.title_fr', 'events.description_en', 'events.description_fr', 'events.position'])
      .orderBy('events.position')
      .execute();
    const withUrl = events.map((e) => ({ ...e, steps: Number(e.steps), url: portalUrl('event', lang, e.id) }));
    return reply.page('catalogue/portal/views/events.njk', {
      title: t(lang, 'portal.events.title'),
      life: withUrl.filter((e) => e.kind === 'life'),
      business: withUrl.filter((e) => e.kind === 'business'),
    });
  });

  bilingualRoute(
    app,
    'GET',
    PATHS.event,
    async (request, reply, lang) => {
      const { id } = request.params as { id: string };
      const event = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
      if (!event) throw new AppError(404, 'EVENT_NOT_FOUND', 'portal.errors.EVENT_NOT_FOUND');
      const steps = await db
        .selectFrom('event_steps as st')
        .leftJoin('services as s', (j) => j.onRef('s.id', '=', 'st.service_id').on('s.status', '=', 'published'))
        .leftJoin('organisations as o', (j) => j.on((eb) => eb('o.id', '=', eb.fn.coalesce('s.owner_org_id', 'st.org_id'))))
        .select([
          'st.id', 'st.position', 'st.title_en', 'st.title_fr', 'st.description_en', 'st.description_fr', 's.id as service_id', 's.title_en as service_en', 's.title_fr as service_fr',
          's.is_demo', 'o.id as org_id', 'o.name_en as org_en', 'o.name_fr as org_fr', 'o.level',
        ])
        .where('st.event_id', '=', id)
        .orderBy('st.position')
        .orderBy('st.id')
        .execute();
      const items = steps.map((s) => ({
        ...s,
        serviceUrl: s.service_id ? portalUrl('service', lang, s.service_id) : null,
        orgUrl: s.org_id ? portalUrl('organisation', lang, s.org_id) : null,
      }));
      const levels = [...new Set(items.map((s) => s.level).filter((l): l is NonNullable<typeof l> => !!l))];
      return reply.page('catalogue/portal/views/event.njk', {
        title: lang === 'fr' ? event.title_fr : event.title_en,
        event,
        steps: items,
        levels: LEVELS.filter((l) => levels.includes(l)),
        orgCount: new Set(items.map((s) => s.org_id).filter(Boolean)).size,
        listUrl: portalUrl('events', lang),
        searchUrl: `${portalUrl('search', lang)}?lifeEvent=${encodeURIComponent(id)}`,
      });
    },
    { schema: { params: idParams } },
  );

  // ---------------------------------------------------------------- offices
  bilingualRoute(
    app,
    'GET',
    PATHS.offices,
    async (request, reply, lang) => {
      const query = request.query as { postcode?: string; lat?: string; lon?: string; service?: string };
      const errors: FieldError[] = [];
      const postcode = (query.postcode ?? '').trim();
      const serviceId = (query.service ?? '').trim();
      let from: { lat: number; lon: number } | undefined;
      let place: string | null = null;
      if (postcode) {
        const parsed = parsePostalCode(postcode);
        if (!parsed) errors.push({ field: 'postcode', code: 'POSTAL_CODE_INVALID', message: t(lang, 'portal.errors.POSTAL_CODE_INVALID') });
        else {
          const area = await locateFsa(db, parsed.fsa);
          if (!area) errors.push({ field: 'postcode', code: 'POSTAL_CODE_UNKNOWN', message: t(lang, 'portal.errors.POSTAL_CODE_UNKNOWN', { fsa: parsed.fsa }) });
          else {
            from = { lat: Number(area.latitude), lon: Number(area.longitude) };
            place = `${parsed.display} (${area.place})`;
          }
        }
      } else if (query.lat !== undefined || query.lon !== undefined) {
        const lat = Number(query.lat);
        const lon = Number(query.lon);
        const okLat = query.lat !== undefined && query.lat.trim() !== '' && Number.isFinite(lat) && lat >= -90 && lat <= 90;
        const okLon = query.lon !== undefined && query.lon.trim() !== '' && Number.isFinite(lon) && lon >= -180 && lon <= 180;
        if (!okLat || !okLon) errors.push({ field: 'postcode', code: 'COORDINATES_INVALID', message: t(lang, 'portal.errors.COORDINATES_INVALID') });
        else {
          from = { lat, lon };
          place = `${lat.toFixed(4)}, ${lon.toFixed(4)}`;
        }
      }
      const offered = await db
        .selectFrom('services')
        .select(['id', 'title_en', 'title_fr'])
        .where('status', '=', 'published')
        .where((eb) => eb.exists(eb.selectFrom('office_services').select('office_services.office_id').whereRef('office_services.service_id', '=', 'services.id')))
        .orderBy(lang === 'fr' ? 'title_fr' : 'title_en')
        .execute();
      if (serviceId && !offered.some((s) => s.id === serviceId)) {
        errors.push({ field: 'service', code: 'SERVICE_NOT_OFFERED', message: t(lang, 'portal.errors.SERVICE_NOT_OFFERED') });
      }
      const offices = errors.length ? [] : await findOffices(db, { lang, from, serviceId: serviceId || undefined });
      const service = offered.find((s) => s.id === serviceId);
      return reply.page(
        'catalogue/portal/views/offices.njk',
        {
          title: errors.length ? `${t(lang, 'portal.error.prefix')} ${t(lang, 'portal.offices.title')}` : t(lang, 'portal.offices.title'),
          errors,
          postcodeError: errors.find((e) => e.field === 'postcode')?.message,
          serviceError: errors.find((e) => e.field === 'service')?.message,
          postcode,
          place,
          serviceId,
          serviceTitle: service ? (lang === 'fr' ? service.title_fr : service.title_en) : null,
          serviceItems: [
            { value: '', text: t(lang, 'portal.offices.anyService'), selected: !serviceId },
            ...offered.map((s) => ({ value: s.id, text: lang === 'fr' ? s.title_fr : s.title_en, selected: s.id === serviceId })),
          ],
          offices: offices.slice(0, 10).map((o) => ({ ...o, url: portalUrl('office', lang, o.id), week: weekRows(o.hours) })),
          sortedByDistance: !!from,
          path: portalUrl('offices', lang),
        },
        errors.length ? 400 : 200,
      );
    },
    {
      schema: {
        querystring: Type.Object({
          postcode: Type.Optional(Type.String({ maxLength: 20 })),
          lat: Type.Optional(Type.String({ maxLength: 30 })),
          lon: Type.Optional(Type.String({ maxLength: 30 })),
          service: Type.Optional(Type.String({ maxLength: 200 })),
        }),
      },
    },
  );

  bilingualRoute(
    app,
    'GET',
    PATHS.office,
    async (request, reply, lang) => {
      const { id } = request.params as { id: string };
      const [office] = await findOffices(db, { lang, ids: [id] });
      if (!office) throw new AppError(404, 'OFFICE_NOT_FOUND', 'portal.errors.OFFICE_NOT_FOUND');
      const services = await db
        .selectFrom('office_services as os')
        .innerJoin('services as s', 's.id', 'os.service_id')
        .innerJoin('organisations as o', 'o.id', 's.owner_org_id')
        .select(['s.id', 's.title_en', 's.title_fr', 's.is_demo', 'o.name_en as org_en', 'o.name_fr as org_fr', 'o.level'])
        .where('os.office_id', '=', id)
        .where('s.status', '=', 'published')
        .orderBy(lang === 'fr' ? 's.title_fr' : 's.title_en')
        .execute();
      return reply.page('catalogue/portal/views/office.njk', {
        title: lang === 'fr' ? office.name_fr : office.name_en,
        office: { ...office, week: weekRows(office.hours) },
        services: services.map((s) => ({ ...s, url: portalUrl('service', lang, s.id) })),
        orgUrl: (orgId: string) => portalUrl('organisation', lang, orgId),
        listUrl: portalUrl('offices', lang),
        today: localDate(),
      });
    },
    { schema: { params: idParams } },
  );

}
