/**
 * The clients (accounts, My file) JSON API (OpenAPI at /docs); the pages are in pages.ts, the shared functions in
 * the service modules.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError } from '../http/errors';
import {
  addAddress,
  addressHistory,
  currentAddress,
  getClient,
  updateProfile,
} from './accounts';
import { accessLogFor } from './access-log';
import { allConsents, withdrawConsent } from './consent';
import { own } from '../http/ownership';

export async function apiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db } = deps;
  function apiClient(request: FastifyRequest): string {
    if (!request.client) throw new AppError(401, 'UNAUTHENTICATED');
    return request.client.id;
  }

  // JSON API of the signed-in client

  const ProfileBody = Type.Object(
    {
      givenName: Type.Optional(Type.String({ maxLength: 200 })),
      familyName: Type.Optional(Type.String({ maxLength: 200 })),
      businessName: Type.Optional(Type.String({ maxLength: 300 })),
      businessNumber: Type.Optional(Type.String({ maxLength: 20 })),
      birthDate: Type.Optional(Type.String({ maxLength: 10 })),
      email: Type.Optional(Type.String({ maxLength: 300 })),
      phone: Type.Optional(Type.String({ maxLength: 40 })),
      preferredLang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('fr')])),
      contactPreferences: Type.Optional(
        Type.Object({ email: Type.Optional(Type.Boolean()), sms: Type.Optional(Type.Boolean()), mail: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      ),
      accessibilityNeeds: Type.Optional(Type.String({ maxLength: 1000 })),
    },
    { additionalProperties: false },
  );
  const AddressBody = Type.Object(
    {
      line1: Type.String({ maxLength: 300 }),
      line2: Type.Optional(Type.String({ maxLength: 300 })),
      city: Type.String({ maxLength: 200 }),
      province: Type.String({ maxLength: 2 }),
      postalCode: Type.String({ maxLength: 10 }),
      validFrom: Type.Optional(Type.String({ maxLength: 10 })),
    },
    { additionalProperties: false },
  );
  const tags = ['clients'];

  const meView = async (id: string) => {
    const c = (await getClient(db, id))!;
    const a = await currentAddress(db, id);
    return {
      id: c.id,
      kind: c.kind,
      givenName: c.given_name,
      familyName: c.family_name,
      businessName: c.business_name,
      businessNumber: c.business_number,
      birthDate: c.birth_date,
      email: c.email,
      phone: c.phone,
      preferredLang: c.preferred_lang,
      contactPreferences: c.contact_preferences,
      accessibilityNeeds: c.accessibility_needs,
      currentAddress: a ? { line1: a.line1, line2: a.line2, city: a.city, province: a.province, postalCode: a.postal_code, validFrom: a.valid_from } : null,
    };
  };

  app.get('/api/v1/me', { config: own.client, schema: { tags, summary: 'The signed-in client’s profile and current address' } }, async (request) => {
    const id = apiClient(request);
    if (!(await getClient(db, id))) throw new AppError(401, 'UNAUTHENTICATED');
    return meView(id);
  });
  app.put(
    '/api/v1/me/profile',
    { config: own.client, schema: { tags, summary: 'Replace the editable profile (400 VALIDATION_ERROR with field codes; nothing stored on error)', body: ProfileBody } },
    async (request) => {
      const id = apiClient(request);
      await updateProfile(db, id, request.body as Record<string, unknown>);
      return meView(id);
    },
  );
  app.post(
    '/api/v1/me/addresses',
    { config: { ...own.client, idempotent: true }, schema: { tags, summary: 'Add a new address (the current one is closed and kept in the history)', body: AddressBody } },
    async (request, reply) => {
      const id = apiClient(request);
      await addAddress(db, id, request.body as Record<string, unknown>);
      return reply.status(201).send(await meView(id));
    },
  );
  app.get('/api/v1/me/addresses', { config: own.client, schema: { tags, summary: 'Address history, current first' } }, async (request) => {
    const id = apiClient(request);
    return (await addressHistory(db, id)).map((a) => ({ line1: a.line1, line2: a.line2, city: a.city, province: a.province, postalCode: a.postal_code, validFrom: a.valid_from, validTo: a.valid_to }));
  });
  app.get('/api/v1/me/consents', { config: own.client, schema: { tags, summary: 'The client’s consent register (active, expired and withdrawn)' } }, async (request) => {
    const id = apiClient(request);
    return (await allConsents(db, id)).map((c) => ({
      id: c.id,
      orgId: c.org_id,
      purpose: c.purpose,
      fields: c.fields,
      legalBasis: c.legal_basis,
      lawReference: c.law_reference,
      grantedAt: c.granted_at,
      validUntil: c.valid_until,
      withdrawnAt: c.withdrawn_at,
    }));
  });
  app.post(
    '/api/v1/me/consents/:consentId/withdraw',
    { config: own.client, schema: { tags, summary: 'Withdraw a consent (recorded; legal bases cannot be withdrawn: 409)', params: Type.Object({ consentId: Type.String({ maxLength: 64 }) }) } },
    async (request, reply) => {
      const id = apiClient(request);
      await withdrawConsent(db, id, (request.params as { consentId: string }).consentId);
      return reply.status(204).send();
    },
  );
  app.get('/api/v1/me/access-log', {
    config: own.client,
    schema: {
      tags,
      summary: 'Who read or received the client’s information (newest first)',
      description: 'Paged: `limit` (default 200, at most 500) entries after skipping `offset`, or those older than `before` (an entry’s seq; stable while entries are added). A `Link` header with rel="next" gives the next page when there may be more.',
      querystring: Type.Object({
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
        before: Type.Optional(Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 })),
        lang: Type.Optional(Type.String({ maxLength: 5 })),
      }),
    },
  }, async (request, reply) => {
    const id = apiClient(request);
    const q = request.query as { limit?: number; offset?: number; before?: number };
    const limit = q.limit ?? 200;
    const rows = await accessLogFor(db, id, { limit, offset: q.offset, before: q.before });
    if (rows.length === limit) reply.header('Link', `</api/v1/me/access-log?limit=${limit}&before=${rows[rows.length - 1].seq}>; rel="next"`);
    return rows.map((r) => ({
      seq: r.seq,
      at: r.at,
      actorKind: r.actor_kind,
      actorId: r.actor_id,
      actorName: r.staff_name,
      orgId: r.org_id,
      action: r.action,
      fields: r.fields,
      purpose: r.purpose,
      legalBasis: r.legal_basis,
    }));
  });
}
