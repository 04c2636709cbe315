import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppDeps } from '../../http/deps';
import { searchOrganisations, searchServices, serviceResultJson } from './index';
import { own } from '../../http/ownership';

const Lang = Type.Union([Type.Literal('en'), Type.Literal('fr')], { description: 'Language of the results (default: Accept-Language)' });
const Channel = Type.Union(['online', 'phone', 'in_person', 'mail', 'email', 'fax', 'kiosk'].map((c) => Type.Literal(c)));
const Level = Type.Union(['federal', 'provincial', 'municipal', 'indigenous', 'ngo'].map((c) => Type.Literal(c)));
const Code = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.,-]+$' });
const Page = Type.Integer({ minimum: 1, maximum: 10000, default: 1, description: '1-based page number' });

const ServicesQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 256, description: 'Words, in English or French; accents, typos and everyday words are tolerated' })),
  lang: Type.Optional(Lang),
  audience: Type.Optional(Type.Array(Code, { maxItems: 20, description: 'Audience codes (PERSON, ECONOM, NGO, PTC, FOR, INTERN_GOV); repeat or comma-separate for several' })),
  lifeEvent: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$', description: 'Life event id, e.g. having-a-baby' })),
  organisation: Type.Optional(Type.Array(Code, { maxItems: 50, description: 'Owner organisation ids' })),
  channel: Type.Optional(Type.Array(Channel, { maxItems: 7 })),
  level: Type.Optional(Type.Array(Level, { maxItems: 5, description: 'Owner level of government' })),
  page: Page,
  pageSize: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
});

const Facet = Type.Array(Type.Object({ value: Type.String(), label: Type.String(), count: Type.Integer() }));
const ServicesReply = Type.Object({
  total: Type.Integer(),
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      identifier: Type.String(),
      title: Type.String(),
      description: Type.String(),
      organisation: Type.Object({ id: Type.String(), name: Type.String(), level: Type.String() }),
      channels: Type.Array(Type.String()),
      url: Type.String({ description: 'Portal page of the service' }),
      score: Type.Optional(Type.Number()),
      isDemo: Type.Optional(Type.Boolean()),
    }),
  ),
  facets: Type.Object({ audience: Facet, organisation: Facet, channel: Facet, lifeEvent: Facet, level: Facet }),
});

const OrganisationsQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 256 })),
  lang: Type.Optional(Lang),
  level: Type.Optional(Level),
  page: Page,
  pageSize: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
});

const OrganisationsReply = Type.Object({
  total: Type.Integer(),
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      acronym: Type.Union([Type.String(), Type.Null()]),
      level: Type.String(),
      services: Type.Integer({ description: 'Published services owned' }),
      url: Type.String(),
    }),
  ),
});

const ErrorReply = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), code: Type.String(), message: Type.Optional(Type.String()) }))),
  }),
});

/** Repeated parameters and comma-separated lists are both accepted: audience=PERSON,ECONOM. */
const split = (v?: string[]) => (v ? v.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean) : undefined);

/** Routes of catalogue/search. */
export async function searchRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Querystring: Static<typeof ServicesQuery> }>(
    '/api/v1/services',
    { config: { ...own.none, rateLimitPolicy: 'search' },
      schema: {
        tags: ['catalogue'],
        summary: 'Search published services',
        description:
          'Full-text search of the published services (GC Service Inventory and partners; demo services are flagged `isDemo`). Without `q`, lists every published service by title. Facets count the values of each filter among the results of the other filters.',
        querystring: ServicesQuery,
        response: { 200: ServicesReply, 400: ErrorReply },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const result = await searchServices(deps.db, {
        q: q.q,
        lang: q.lang ?? request.lang,
        audience: split(q.audience),
        organisation: split(q.organisation),
        channel: q.channel,
        level: q.level,
        lifeEvent: q.lifeEvent,
        page: q.page,
        pageSize: q.pageSize,
      });
      // the body as ServicesReply describes it, with each item's JSON written once per index (serviceResultJson)
      return reply.type('application/json; charset=utf-8').send(await serviceResultJson(deps.db, result));
    },
  );

  app.get<{ Querystring: Static<typeof OrganisationsQuery> }>(
    '/api/v1/organisations',
    { config: own.none,
      schema: {
        tags: ['catalogue'],
        summary: 'Search organisations',
        description: 'Organisations by name or acronym (English or French), or all of them by name, with their number of published services.',
        querystring: OrganisationsQuery,
        response: { 200: OrganisationsReply, 400: ErrorReply },
      },
    },
    async (request) => {
      const q = request.query;
      return searchOrganisations(deps.db, { q: q.q, lang: q.lang ?? request.lang, level: q.level, page: q.page, pageSize: q.pageSize });
    },
  );
}
