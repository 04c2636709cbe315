/**
 * The Tell Us Once JSON API (OpenAPI at /docs); the pages are in pages.ts and the shared functions in the service modules.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError, describeError } from '../http/errors';
import { requireStaff } from '../http/session';
import {
  EVENT_TYPES,
  eventTypes,
  inputName,
  itemKeys,
} from './events';
import {
  addRecipients,
  clientDeclarations,
  createApiKey,
  declare,
  listSubscriptions,
  MAX_RECIPIENTS,
  orgForApiKey,
  pullFeed,
  saveSubscription,
  settleNotice,
  type SubscriptionInput,
} from './service';
import { verifySignature } from './signing';
import { Nullable } from '../http/schema';
import { noticeOwners } from './owners';

import { STAFF_ROLES } from './pages';

const NoticeSchema = Type.Object({
  id: Type.String({ description: 'Notice id: also the Idempotency-Key of webhook deliveries and the SET `jti`' }),
  seq: Type.Integer({ description: 'Feed position (use as `after` to page)' }),
  status: Type.String({ enum: ['pending', 'delivered', 'acknowledged', 'rejected', 'failed'] }),
  eventType: Type.String({ enum: [...EVENT_TYPES] }),
  createdAt: Type.String({ format: 'date-time' }),
  payload: Type.Object(
    {
      iss: Type.String(),
      jti: Type.String(),
      iat: Type.Integer(),
      aud: Type.String({ description: 'Recipient organisation id' }),
      txn: Type.String({ description: 'Declaration id (shared by the notices of one declaration)' }),
      sub_id: Type.Object({ format: Type.Literal('opaque'), id: Type.String({ description: 'Pairwise subject identifier (differs per organisation)' }) }),
      version: Type.Literal('1'),
      events: Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown()), { description: 'One event, keyed `urn:guichet:tell-us-once:event:<type>:v1`, with only the entitled items' }),
    },
    { description: 'Security Event Token claim set (RFC 8417), payload version 1' },
  ),
});
const ErrorSchema = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), code: Type.String(), message: Type.String() }))) }) });

export async function apiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db, config } = deps;
  const own = noticeOwners(db);
  const issuer = config.publicBaseUrl;
  const allowLoopback = config.env !== 'production';

  // ------------------------------------------------------------------ JSON API: public
  app.get(
    '/api/v1/tell-us-once/subscriptions',
    { config: own.none,
      schema: {
        tags: ['notices'],
        summary: 'Who can be told: active subscriptions in plain language (no delivery secrets)',
        querystring: Type.Object({ eventType: Type.Optional(Type.String({ enum: [...EVENT_TYPES] })), lang: Type.Optional(Type.String({ enum: ['en', 'fr'] })) }),
      },
    },
    async (request) => {
      const q = request.query as { eventType?: string };
      const subs = await listSubscriptions(db, { activeOnly: true, eventType: q.eventType });
      return {
        subscriptions: subs.map((s) => ({
          id: s.id,
          orgId: s.org_id,
          organisation: { en: s.org_name_en, fr: s.org_name_fr },
          program: { en: s.program_en, fr: s.program_fr },
          purpose: { en: s.purpose_en, fr: s.purpose_fr },
          eventTypes: s.event_types,
          fields: s.fields,
          legalBasis: s.legal_basis,
          lawReference: s.law_reference,
          delivery: s.delivery,
        })),
      };
    },
  );

  app.get(
    '/api/v1/tell-us-once/event-types',
    { config: own.none, schema: { tags: ['notices'], summary: 'Event types, their items (entitlement keys) and form inputs' } },
    async () => ({
      eventTypes: Object.values(eventTypes).map((e) => ({
        id: e.id,
        audience: e.audience,
        items: itemKeys(e),
        inputs: e.items.flatMap((i) => i.inputs.map((inp) => ({ name: inputName(i, inp), kind: inp.kind, required: inp.required, maxLength: inp.maxLength, options: inp.options }))),
      })),
    }),
  );

  // ------------------------------------------------------------------ JSON API: the signed-in client
  const requireClient = (request: FastifyRequest) => {
    if (!request.client) throw new AppError(401, 'UNAUTHENTICATED');
    return request.client.id;
  };

  app.post(
    '/api/v1/me/declarations',
    { config: { ...own.client, idempotent: true },
      bodyLimit: 32 * 1024,
      schema: {
        tags: ['notices'],
        summary: 'Declare a change once and choose the recipients (signed-in client; CSRF header required)',
        body: Type.Object(
          {
            eventType: Type.String({ maxLength: 60 }),
            data: Type.Record(Type.String({ maxLength: 100 }), Type.Unknown()),
            recipients: Type.Array(Type.String({ maxLength: 80 }), { maxItems: MAX_RECIPIENTS }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ declarationId: Type.String(), notices: Type.Array(Type.Object({ id: Type.String(), subscriptionId: Type.String(), status: Type.String() })) }), 400: ErrorSchema },
      },
    },
    async (request, reply) => {
      const clientId = requireClient(request);
      const b = request.body as { eventType: string; data: unknown; recipients: string[] };
      const r = await declare(db, { clientId, eventType: b.eventType, data: b.data, recipients: b.recipients }, { issuer });
      return reply.status(201).send({ declarationId: r.declarationId, notices: r.notices.map((n) => ({ id: n.id, subscriptionId: n.subscriptionId, status: 'pending' })) });
    },
  );

  app.get('/api/v1/me/declarations', { config: own.client, schema: { tags: ['notices'], summary: 'The signed-in client’s declarations and the status of each notice' } }, async (request) => {
    const clientId = requireClient(request);
    const decls = await clientDeclarations(db, clientId);
    return {
      declarations: decls.map((d) => ({
        id: d.id,
        eventType: d.event_type,
        createdAt: d.created_at,
        notices: d.notices.map((n) => ({ id: n.id, subscriptionId: n.subscription_id, program: { en: n.program_en, fr: n.program_fr }, status: n.status, reason: n.reason, fields: n.fields })),
      })),
    };
  });

  app.post(
    '/api/v1/me/declarations/:id/recipients',
    { config: { ...own.client, idempotent: true },
      schema: {
        tags: ['notices'],
        summary: 'Tell more programs about an earlier declaration',
        params: Type.Object({ id: Type.String({ maxLength: 60 }) }),
        body: Type.Object({ recipients: Type.Array(Type.String({ maxLength: 80 }), { maxItems: MAX_RECIPIENTS }) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const clientId = requireClient(request);
      const { id } = request.params as { id: string };
      const notices = await addRecipients(db, clientId, id, (request.body as { recipients: string[] }).recipients, { issuer });
      return reply.status(201).send({ notices: notices.map((n) => ({ id: n.id, subscriptionId: n.subscriptionId, status: 'pending' })) });
    },
  );

  // ------------------------------------------------------------------ JSON API: staff
  const SubscriptionBody = Type.Object(
    {
      id: Type.Optional(Type.String({ maxLength: 80 })),
      orgId: Type.String({ maxLength: 100 }),
      programEn: Type.String({ maxLength: 200 }),
      programFr: Type.String({ maxLength: 200 }),
      purposeEn: Type.String({ maxLength: 1000 }),
      purposeFr: Type.String({ maxLength: 1000 }),
      serviceId: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
      eventTypes: Type.Array(Type.String({ enum: [...EVENT_TYPES] }), { minItems: 1, maxItems: EVENT_TYPES.length }),
      fields: Type.Array(Type.String({ maxLength: 60 }), { minItems: 1, maxItems: 60 }),
      legalBasis: Type.String({ enum: ['consent', 'law'] }),
      lawReference: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
      delivery: Type.String({ enum: ['webhook', 'pull'] }),
      webhookUrl: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
      active: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  );

  app.post(
    '/api/v1/notice-subscriptions',
    { config: own.newSubscription, schema: { tags: ['notices'], summary: 'Register a partner program’s subscription (staff: admin or manager). Returns the webhook signing secret once.', body: SubscriptionBody } },
    async (request, reply) => {
      const staff = requireStaff(request, STAFF_ROLES);
      const r = await saveSubscription(db, request.body as SubscriptionInput, { staffId: staff.id, allowLoopback });
      return reply.status(201).send({ id: r.id, signingSecret: r.signingSecret });
    },
  );

  app.put(
    '/api/v1/notice-subscriptions/:id',
    { config: own.subscription, schema: { tags: ['notices'], summary: 'Update a subscription (staff: admin or manager)', params: Type.Object({ id: Type.String({ maxLength: 80 }) }), body: SubscriptionBody } },
    async (request) => {
      const staff = requireStaff(request, STAFF_ROLES);
      const { id } = request.params as { id: string };
      const r = await saveSubscription(db, { ...(request.body as SubscriptionInput), id: undefined }, { staffId: staff.id, allowLoopback, existingId: id });
      return { id: r.id, signingSecret: r.signingSecret };
    },
  );

  app.post(
    '/api/v1/partner-api-keys',
    { config: own.apiKey,
      schema: {
        tags: ['notices'],
        summary: 'Create a partner API key (staff: admin or manager). The key is returned once; only its hash is kept.',
        body: Type.Object({ orgId: Type.String({ maxLength: 100 }), label: Type.String({ maxLength: 100 }) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const staff = requireStaff(request, STAFF_ROLES);
      const b = request.body as { orgId: string; label: string };
      const r = await createApiKey(db, b.orgId, b.label, staff.id);
      return reply.status(201).send(r);
    },
  );

  // ------------------------------------------------------------------ JSON API: partners (pull feed)
  /** The partner's organisation from its API key; any other organisation in the path answers 404 (no leak). */
  const partnerOrg = async (request: FastifyRequest) => {
    const org = await orgForApiKey(db, request.headers.authorization);
    if (!org) throw new AppError(401, 'PARTNER_KEY_INVALID');
    const { org: pathOrg } = request.params as { org: string };
    if (pathOrg !== org) throw new AppError(404, 'NOT_FOUND');
    return org;
  };

  app.get(
    '/api/v1/partners/:org/notices',
    { config: { ...own.partnerKey, rateLimitPolicy: 'partnerFeed' },
      schema: {
        tags: ['notices'],
        summary: 'Pull feed: notices for your organisation not yet acknowledged or rejected, after a cursor',
        description:
          'Authorization: Bearer <partner API key>. Pending notices become "delivered" when listed (recorded in the client’s access log). Notices stay in the feed until acknowledged or rejected, so a partner that polls from the start never misses one.',
        security: [{ partnerKey: [] }],
        params: Type.Object({ org: Type.String({ maxLength: 100 }) }),
        querystring: Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }),
        response: { 200: Type.Object({ notices: Type.Array(NoticeSchema), next: Type.Integer() }) },
      },
    },
    async (request) => {
      const org = await partnerOrg(request);
      const q = request.query as { after?: number; limit?: number };
      return pullFeed(db, org, q.after ?? 0, q.limit ?? 100);
    },
  );

  app.post(
    '/api/v1/partners/:org/notices/:id/ack',
    { config: own.partnerKey,
      schema: {
        tags: ['notices'],
        summary: 'Acknowledge a notice (your system applied it)',
        security: [{ partnerKey: [] }],
        params: Type.Object({ org: Type.String({ maxLength: 100 }), id: Type.String({ maxLength: 60 }) }),
        response: { 200: Type.Object({ id: Type.String(), status: Type.String() }) },
      },
    },
    async (request) => {
      const org = await partnerOrg(request);
      return settleNotice(db, org, (request.params as { id: string }).id, 'acknowledged');
    },
  );

  app.post(
    '/api/v1/partners/:org/notices/:id/reject',
    { config: own.partnerKey,
      schema: {
        tags: ['notices'],
        summary: 'Reject a notice with a reason in plain language (shown to the client)',
        security: [{ partnerKey: [] }],
        params: Type.Object({ org: Type.String({ maxLength: 100 }), id: Type.String({ maxLength: 60 }) }),
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ id: Type.String(), status: Type.String() }) },
      },
    },
    async (request) => {
      const org = await partnerOrg(request);
      return settleNotice(db, org, (request.params as { id: string }).id, 'rejected', (request.body as { reason: string }).reason);
    },
  );

  // ------------------------------------------------------------------ demo partner inbox (not in production)
  if (config.env !== 'production') {
    app.post('/demo/partner-inbox/:sub', { config: { ...own.none, csrf: false }, schema: { hide: true } }, async (request, reply) => {
      const { sub } = request.params as { sub: string };
      const s = await db.selectFrom('notice_subscriptions').select(['signing_secret', 'is_demo']).where('id', '=', sub).executeTakeFirst();
      if (!s || !s.is_demo || !s.signing_secret) throw new AppError(404, 'NOT_FOUND');
      const raw = JSON.stringify(request.body);
      if (!verifySignature(s.signing_secret, raw, request.headers['guichet-signature'] as string | undefined)) {
        const d = describeError(new AppError(401, 'SIGNATURE_INVALID'), request.lang);
        return reply.status(401).send({ error: { code: d.code, message: d.message } });
      }
      return reply.status(200).send({ status: 'received' });
    });
  }
}
