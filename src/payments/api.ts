/**
 * JSON API of payments (/api/v1/payments, tags ['payments']). Every creating call takes an `Idempotency-Key` header
 * (idempotency.ts). Webhooks read the raw body (their own content-type parser, inside their own plugin) so that the
 * signature is checked over the exact bytes sent.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError } from '../http/errors';
import { requireStaff } from '../http/session';
import { ONE_STOP_ORG, own } from '../http/ownership';
import { basketOwner, ledgerOwner, newBasketOwner, paymentOwner, MONEY_ROLES, LEDGER_ROLES } from './owners';
import { isUuid } from '../db/ids';
import { withIdempotency } from './idempotency';
import { createBasket, loadBasket, startPayment, CHANNEL_METHODS, MAX_BASKET_CENTS } from './checkout';
import { createRefund, refundableLeft, sendToProvider } from './refunds';
import { handleWebhook } from './webhooks';
import { paymentProvider } from './providers/select';
import { accountBalances, paymentDetail } from './views-data';
import type { BasketChannel, PaymentMethod } from './tables';

const tags = ['payments'];
const Cents = Type.Integer({ minimum: 1, maximum: MAX_BASKET_CENTS });

export function callerScope(request: FastifyRequest): string {
  if (request.staff) return `staff:${request.staff.id}`;
  if (request.client) return `client:${request.client.id}`;
  return `anon:${request.headers['x-guichet-device'] ?? ''}`;
}

const idemKey = (request: FastifyRequest) => {
  const v = request.headers['idempotency-key'];
  return Array.isArray(v) ? v[0] : v;
};

/** A basket is seen by its client, by the one-stop's staff, or (no client) by whoever holds its unguessable id.
 * (Another organisation's admin is not the one-stop's: issue 14.) */
export function canSeeBasket(request: FastifyRequest, b: { clientId: string | null }): boolean {
  if (request.staff) return request.staff.orgId === ONE_STOP_ORG;
  if (b.clientId) return request.client?.id === b.clientId;
  return true;
}

export async function apiRoutes(app: FastifyInstance, deps: AppDeps) {
  const { db } = deps;

  app.post('/api/v1/payments/baskets', {
    config: { ...newBasketOwner(db), rateLimitPolicy: 'booking', idempotent: 'command' },
    schema: {
      tags, summary: 'Create a basket of services, priced from the fee schedules in force (locked for 30 minutes)',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
      body: Type.Object({
        channel: Type.Union((['web', 'counter', 'kiosk', 'account'] as const).map((c) => Type.Literal(c))),
        items: Type.Array(Type.Object({ serviceId: Type.String({ minLength: 1, maxLength: 200 }), expectedCents: Type.Optional(Cents), caseId: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }), { minItems: 1, maxItems: 20 }),
        email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
        lang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('fr')])),
        officeId: Type.Optional(Type.String({ maxLength: 100 })),
        businessId: Type.Optional(Type.String({ maxLength: 100 })),
      }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    const body = request.body as { channel: BasketChannel; items: Array<{ serviceId: string; expectedCents?: number; caseId?: string }>; email?: string; lang?: 'en' | 'fr'; officeId?: string; businessId?: string };
    if (body.channel === 'counter') requireStaff(request, MONEY_ROLES);
    let businessId: string | null = null;
    if (body.channel === 'account') {
      if (!request.client || !body.businessId) throw new AppError(400, 'BUSINESS_REQUIRED');
      const rep = await db.selectFrom('business_representatives').select('business_id').where('business_id', '=', body.businessId).where('person_id', '=', request.client.id).executeTakeFirst();
      if (!rep) throw new AppError(403, 'FORBIDDEN');
      businessId = body.businessId;
    }
    if (body.officeId) {
      const office = await db.selectFrom('offices').select('id').where('id', '=', body.officeId).executeTakeFirst();
      if (!office) throw new AppError(404, 'OFFICE_NOT_FOUND');
    }
    const out = await withIdempotency(db, `basket:${callerScope(request)}`, idemKey(request), body, async (trx) => ({
      status: 201,
      body: await createBasket(trx, {
        channel: body.channel, items: body.items, clientId: request.client?.id ?? null, businessId, staffId: request.staff?.id ?? null,
        officeId: body.officeId ?? null, email: body.email ?? null, lang: body.lang ?? request.lang ?? 'en',
      }),
    }));
    return reply.code(out.status).header('idempotent-replayed', String(out.replayed)).send(out.body);
  });

  app.get('/api/v1/payments/baskets/:id', { config: basketOwner(db), schema: { tags, summary: 'A basket with its lines per payee', params: Type.Object({ id: Type.String() }) } }, async (request) => {
    const { id } = request.params as { id: string };
    const b = isUuid(id) ? await loadBasket(db, id) : null;
    if (!b || !canSeeBasket(request, b)) throw new AppError(404, 'BASKET_NOT_FOUND');
    return b;
  });

  app.post('/api/v1/payments/baskets/:id/payments', {
    config: { ...basketOwner(db), idempotent: 'command' },
    schema: {
      tags, summary: 'Pay a basket: card through the provider (returns next_url), or cash/debit/cheque at a counter, or on account',
      params: Type.Object({ id: Type.String() }),
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
      body: Type.Object({
        method: Type.Union((['card', 'cash', 'debit', 'cheque', 'account'] as const).map((c) => Type.Literal(c))),
        returnUrl: Type.Optional(Type.String({ maxLength: 2000, pattern: '^https?://' })),
      }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const body = request.body as { method: PaymentMethod; returnUrl?: string };
    const b = isUuid(id) ? await loadBasket(db, id) : null;
    if (!b || !canSeeBasket(request, b)) throw new AppError(404, 'BASKET_NOT_FOUND');
    if (['cash', 'debit', 'cheque'].includes(body.method)) requireStaff(request, MONEY_ROLES);
    if (!CHANNEL_METHODS[b.channel].includes(body.method)) throw new AppError(400, 'METHOD_NOT_ALLOWED');
    const out = await withIdempotency(db, `pay:${id}:${callerScope(request)}`, idemKey(request), body, async (trx) => ({
      status: 201,
      body: await startPayment(trx, paymentProvider(), id, { method: body.method, returnUrl: body.returnUrl, staffId: request.staff?.id ?? null }),
    }));
    return reply.code(out.status).header('idempotent-replayed', String(out.replayed)).send(out.body);
  });

  app.get('/api/v1/payments/:id', { config: paymentOwner(db), schema: { tags, summary: 'A payment, its refunds and refund_amount_available', params: Type.Object({ id: Type.String() }) } }, async (request) => {
    const { id } = request.params as { id: string };
    const d = isUuid(id) ? await paymentDetail(db, id) : null;
    if (!d || !canSeeBasket(request, { clientId: d.clientId })) throw new AppError(404, 'PAYMENT_NOT_FOUND');
    return d;
  });

  app.post('/api/v1/payments/:id/refunds', {
    config: { ...paymentOwner(db, LEDGER_ROLES), idempotent: 'command' },
    schema: {
      tags, summary: 'Refund a payment in full or in part (split per payee); states refund_amount_available (409 when stale)',
      params: Type.Object({ id: Type.String() }),
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
      body: Type.Object({
        amount: Cents,
        refund_amount_available: Type.Integer({ minimum: 0, maximum: MAX_BASKET_CENTS }),
        reason: Type.Optional(Type.String({ maxLength: 500 })),
      }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    const staff = requireStaff(request, LEDGER_ROLES);
    const { id } = request.params as { id: string };
    if (!isUuid(id)) throw new AppError(404, 'PAYMENT_NOT_FOUND');
    if (staff.orgId !== ONE_STOP_ORG) throw new AppError(404, 'PAYMENT_NOT_FOUND');
    const body = request.body as { amount: number; refund_amount_available: number; reason?: string };
    const out = await withIdempotency(db, `refund:${id}:${callerScope(request)}`, idemKey(request), body, async (trx) => ({
      status: 201,
      body: await createRefund(trx, id, { amountCents: body.amount, refundAmountAvailable: body.refund_amount_available, reason: body.reason, staffId: staff.id }),
    }));
    let status = out.body.status;
    if (!out.replayed && status === 'submitted') status = await sendToProvider(db, paymentProvider(), out.body.id);
    return reply.code(out.status).header('idempotent-replayed', String(out.replayed)).send({ ...out.body, status, refundAmountAvailable: await refundableLeft(db, id) });
  });

  app.get('/api/v1/payments/ledger/balances', { config: ledgerOwner, schema: { tags, summary: 'Balance of every ledger account (the one-stop’s managers)' } }, async (request) => {
    if (requireStaff(request, LEDGER_ROLES).orgId !== ONE_STOP_ORG) throw new AppError(404, 'NOT_FOUND');
    return { accounts: await accountBalances(db) };
  });

  // Webhooks: raw body, no CSRF (the signature is the authentication)
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 256 * 1024 }, (_req, body, done) => done(null, body));
    scope.post('/api/v1/payments/webhooks/:provider', {
      config: { ...own.none, csrf: false },
      schema: { tags, summary: 'Provider webhooks (signed); a bad signature answers 401 and records nothing', params: Type.Object({ provider: Type.String({ maxLength: 20 }) }) },
    }, async (request) => {
      const { provider: name } = request.params as { provider: string };
      const provider = paymentProvider();
      if (!provider || provider.name !== name) throw new AppError(404, 'PROVIDER_NOT_FOUND');
      const raw = typeof request.body === 'string' ? request.body : '';
      return handleWebhook(db, provider, raw, request.headers);
    });
  });
}
