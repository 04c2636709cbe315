/**
 * Routes of the billing capability: the JSON API (rates, runs, invoices, disputes, subscriptions) and the staff
 * pages (invoice list, invoice, printable invoice, CSV, records behind a line, dispute form). Managers of the
 * one-stop see every invoice; a partner's staff only their own (another partner's invoice answers 404).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError, describeError } from '../http/errors';
import { requireStaff } from '../http/session';
import { Nullable } from '../http/schema';
import { isUuid, serialId } from '../db/ids';
import { t, type Lang } from '../i18n/index';
import { bilingualRoute, fillPath } from '../web/render';
import { CHANNELS, FREQUENCIES, getTerms, isBillingManager, RATE_MODELS, runBilling, setTerms, type TermsInput } from './billing';
import { disputeLine, invoiceCsv, invoiceDetail, lineItems, lineLabel, listInvoices, resolveDispute } from './invoices';
import { cancelSubscription, chargesOf, statementsOf, subscribe, subscriptionOf } from './subscriptions';
import { billingOwners } from './owners';
import { clientSubscriptionRoutes } from './client-pages';
import { ratesPageRoutes } from './rates-page';

export const BP = {
  list: { en: '/en/staff/billing/invoices', fr: '/fr/personnel/facturation/factures' },
  invoice: { en: '/en/staff/billing/invoices/:id', fr: '/fr/personnel/facturation/factures/:id' },
  print: { en: '/en/staff/billing/invoices/:id/print', fr: '/fr/personnel/facturation/factures/:id/imprimer' },
  csv: { en: '/en/staff/billing/invoices/:id/csv', fr: '/fr/personnel/facturation/factures/:id/csv' },
  line: { en: '/en/staff/billing/invoices/:id/lines/:lineId', fr: '/fr/personnel/facturation/factures/:id/lignes/:lineId' },
  dispute: { en: '/en/staff/billing/invoices/:id/lines/:lineId/dispute', fr: '/fr/personnel/facturation/factures/:id/lignes/:lineId/contestation' },
};

const idOf = (s: unknown, code = 'INVOICE_NOT_FOUND') => {
  const n = typeof s === 'string' ? serialId(s) : null;
  if (n == null) throw new AppError(404, code);
  return n;
};

function viewerOf(request: FastifyRequest) {
  const s = requireStaff(request);
  return { id: s.id, orgId: s.orgId, roles: s.roles };
}

function staffOrRedirect(request: FastifyRequest, reply: FastifyReply, lang: Lang) {
  if (!request.staff) {
    reply.redirect(lang === 'fr' ? '/fr/personnel/connexion' : '/en/staff/login', 303);
    return null;
  }
  return viewerOf(request);
}

export async function routes(app: FastifyInstance, deps: AppDeps) {
  const { db } = deps;
  const o = billingOwners(db);
  const tags = ['billing'];
  const Cents = Type.Number({ description: 'integer cents' });
  const ChannelRates = Type.Record(Type.String(), Cents);

  // ---------- JSON API ----------
  app.put('/api/v1/billing/terms/:agreementId', {
    config: o.setTerms,
    schema: {
      tags, summary: 'Set the billing rates of an agreement (one-stop managers): per interaction by channel, per completed transaction, or fixed yearly billed monthly',
      params: Type.Object({ agreementId: Type.String({ minLength: 1, maxLength: 100 }) }),
      body: Type.Object({
        partnerOrgId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        model: Type.Union(RATE_MODELS.map((m) => Type.Literal(m))),
        frequency: Type.Union(FREQUENCIES.map((f) => Type.Literal(f))),
        channelRates: Type.Optional(ChannelRates),
        infoOnlyCents: Type.Optional(Cents),
        transactionCents: Type.Optional(Cents),
        yearlyCents: Type.Optional(Cents),
        validFrom: Type.String({ maxLength: 10 }),
        validTo: Type.Optional(Nullable(Type.String({ maxLength: 10 }))),
        serviceIds: Type.Optional(Nullable(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500 }))),
      }, { additionalProperties: false }),
    },
  }, async (request) => {
    const { agreementId } = request.params as { agreementId: string };
    return setTerms(db, viewerOf(request), { ...(request.body as Omit<TermsInput, 'agreementId'>), agreementId });
  });

  app.get('/api/v1/billing/terms/:agreementId', {
    config: o.terms,
    schema: { tags, summary: 'The billing rates of an agreement (managers; the partner’s own staff)', params: Type.Object({ agreementId: Type.String({ maxLength: 100 }) }) },
  }, async (request) => {
    const v = viewerOf(request);
    const agreementId = (request.params as { agreementId: string }).agreementId;
    const terms = isUuid(agreementId) ? await getTerms(db, agreementId) : null;
    if (!terms || (!isBillingManager(v) && terms.partner_org_id !== v.orgId)) throw new AppError(404, 'TERMS_NOT_FOUND');
    return terms;
  });

  app.post('/api/v1/billing/runs', {
    config: o.oneStopOnly('every partner’s billing (runs by one-stop managers only)'),
    schema: {
      tags, summary: 'Bill one period now (one-stop managers); the scheduled job billing.run does this daily. Idempotent: a period already billed makes nothing',
      body: Type.Object({
        frequency: Type.Union(FREQUENCIES.map((f) => Type.Literal(f))),
        periodStart: Type.String({ maxLength: 10 }),
        agreementIds: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 1000 })),
      }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    const v = viewerOf(request);
    if (!isBillingManager(v)) throw new AppError(403, 'FORBIDDEN');
    const b = request.body as { frequency: 'daily' | 'monthly'; periodStart: string; agreementIds?: string[] };
    const r = await runBilling(db, b);
    return reply.status(r.invoiceIds.length ? 201 : 200).send(r);
  });

  app.get('/api/v1/billing/invoices', {
    config: o.invoices,
    schema: { tags, summary: 'Invoices: every partner’s for one-stop managers, the partner’s own for its staff', querystring: Type.Object({ partnerOrgId: Type.Optional(Type.String({ maxLength: 100 })) }) },
  }, async (request) => listInvoices(db, viewerOf(request), { partnerOrgId: (request.query as { partnerOrgId?: string }).partnerOrgId }));

  app.get('/api/v1/billing/invoices/:id', {
    config: o.invoice,
    schema: { tags, summary: 'One invoice with its lines and disputes (another partner’s: 404)', params: Type.Object({ id: Type.String({ maxLength: 40 }) }) },
  }, async (request) => invoiceDetail(db, viewerOf(request), idOf((request.params as { id: string }).id)));

  app.get('/api/v1/billing/invoices/:id/lines/:lineId/items', {
    config: o.invoice,
    schema: {
      tags, summary: 'The records a line counts (source kind and id), 500 at a time after `after`',
      params: Type.Object({ id: Type.String({ maxLength: 40 }), lineId: Type.String({ maxLength: 40 }) }),
      querystring: Type.Object({ after: Type.Optional(Type.String({ maxLength: 200 })) }),
    },
  }, async (request) => {
    const p = request.params as { id: string; lineId: string };
    return lineItems(db, viewerOf(request), idOf(p.id), idOf(p.lineId, 'LINE_NOT_FOUND'), { after: (request.query as { after?: string }).after });
  });

  app.post('/api/v1/billing/invoices/:id/lines/:lineId/disputes', {
    config: { ...o.dispute, idempotent: true },
    schema: {
      tags, summary: 'A partner disputes a line of its own invoice, with a reason (one open dispute per line)',
      params: Type.Object({ id: Type.String({ maxLength: 40 }), lineId: Type.String({ maxLength: 40 }) }),
      body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    const p = request.params as { id: string; lineId: string };
    const r = await disputeLine(db, viewerOf(request), idOf(p.id), idOf(p.lineId, 'INVOICE_NOT_FOUND'), (request.body as { reason: string }).reason);
    return reply.status(201).send(r);
  });

  app.post('/api/v1/billing/disputes/:id/resolve', {
    config: o.resolve,
    schema: {
      tags, summary: 'A one-stop manager settles a dispute',
      params: Type.Object({ id: Type.String({ maxLength: 40 }) }),
      body: Type.Object({ decision: Type.Union([Type.Literal('upheld'), Type.Literal('rejected')]), resolution: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false }),
    },
  }, async (request) => {
    const b = request.body as { decision: 'upheld' | 'rejected'; resolution?: string };
    return resolveDispute(db, viewerOf(request), idOf((request.params as { id: string }).id, 'DISPUTE_NOT_FOUND'), b.decision, b.resolution ?? '');
  });

  const requireManager = (request: FastifyRequest) => {
    const v = viewerOf(request);
    if (!isBillingManager(v)) throw new AppError(403, 'FORBIDDEN');
    return v;
  };
  const BusinessParams = Type.Object({ businessId: Type.String({ minLength: 1, maxLength: 100 }) });

  app.post('/api/v1/billing/subscriptions', {
    config: { ...o.oneStopOnly('a business’s subscription (one-stop managers only)'), idempotent: true },
    schema: {
      tags, summary: 'A business takes a yearly subscription (default $75; minimum statement $15); one-stop managers',
      body: Type.Object({
        businessId: Type.String({ minLength: 1, maxLength: 100 }), yearlyCents: Type.Optional(Cents), minimumCents: Type.Optional(Cents), autoRenew: Type.Optional(Type.Boolean()),
      }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    requireManager(request);
    return reply.status(201).send(await subscribe(db, request.body as { businessId: string }));
  });

  app.get('/api/v1/billing/subscriptions/:businessId', {
    config: o.oneStopOnly('a business’s subscription, statements and charges (one-stop managers only)'),
    schema: { tags, summary: 'A business’s subscription, statements and charges on account (one-stop managers)', params: BusinessParams },
  }, async (request) => {
    requireManager(request);
    const { businessId } = request.params as { businessId: string };
    const sub = await subscriptionOf(db, businessId);
    if (!sub) throw new AppError(404, 'NO_ACCOUNT');
    return { subscription: sub, statements: await statementsOf(db, businessId), charges: await chargesOf(db, businessId) };
  });

  app.post('/api/v1/billing/subscriptions/:businessId/cancel', {
    config: o.oneStopOnly('a business’s subscription (one-stop managers only)'),
    schema: { tags, summary: 'Cancel a business’s subscription now (one-stop managers)', params: BusinessParams },
  }, async (request) => {
    requireManager(request);
    return cancelSubscription(db, (request.params as { businessId: string }).businessId);
  });

  // ---------- pages ----------
  // A business's subscriber account, in its file, for its representatives (client pages).
  await clientSubscriptionRoutes(app, deps);
  // An agreement's billing rates, on the agreement's staff pages (one-stop managers).
  await ratesPageRoutes(app, deps);

  bilingualRoute(app, 'GET', BP.list, async (request, reply, lang) => {
    const v = staffOrRedirect(request, reply, lang);
    if (!v) return reply;
    const invoices = await listInvoices(db, v);
    return reply.page('billing/views/invoices.njk', { title: t(lang, 'billing.title'), invoices, invoiceBase: BP.list[lang], manager: isBillingManager(v) });
  }, { config: o.invoices });

  async function invoicePage(request: FastifyRequest, reply: FastifyReply, lang: Lang, view: 'full' | 'print', extra: Record<string, unknown> = {}, status = 200) {
    const v = viewerOf(request);
    const id = idOf((request.params as { id: string }).id);
    const d = await invoiceDetail(db, v, id);
    const lines = d.lines.map((l) => ({
      ...l, label: lineLabel(lang, l), url: fillPath(BP.line[lang], { id: String(id), lineId: String(l.id) }), disputeUrl: fillPath(BP.dispute[lang], { id: String(id), lineId: String(l.id) }),
      dispute: d.disputes.filter((x) => x.line_id === l.id).at(-1) ?? null,
    }));
    return reply.page(view === 'print' ? 'billing/views/invoice-print.njk' : 'billing/views/invoice.njk', {
      title: t(lang, 'billing.invoiceNo', { number: d.invoice.label }), d, lines,
      canDispute: !isBillingManager(v),
      listUrl: BP.list[lang],
      printUrl: fillPath(BP.print[lang], { id: String(id) }), csvUrl: fillPath(BP.csv[lang], { id: String(id) }), invoiceUrl: fillPath(BP.invoice[lang], { id: String(id) }),
      ...extra,
    }, status);
  }

  bilingualRoute(app, 'GET', BP.invoice, async (request, reply, lang) => {
    if (!staffOrRedirect(request, reply, lang)) return reply;
    return invoicePage(request, reply, lang, 'full', { sent: (request.query as { sent?: string })?.sent === '1' });
  }, { config: o.invoice });
  bilingualRoute(app, 'GET', BP.print, async (request, reply, lang) => {
    if (!staffOrRedirect(request, reply, lang)) return reply;
    return invoicePage(request, reply, lang, 'print');
  }, { config: o.invoice });
  bilingualRoute(app, 'GET', BP.csv, async (request, reply, lang) => {
    if (!staffOrRedirect(request, reply, lang)) return reply;
    const d = await invoiceDetail(db, viewerOf(request), idOf((request.params as { id: string }).id));
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="invoice-${d.invoice.label}-${lang}.csv"`)
      .send('\ufeff' + invoiceCsv(d, lang));
  }, { config: o.invoice });
  bilingualRoute(app, 'GET', BP.line, async (request, reply, lang) => {
    const v = staffOrRedirect(request, reply, lang);
    if (!v) return reply;
    const p = request.params as { id: string; lineId: string };
    const id = idOf(p.id);
    const r = await lineItems(db, v, id, idOf(p.lineId, 'LINE_NOT_FOUND'), { after: (request.query as { after?: string })?.after });
    return reply.page('billing/views/line.njk', {
      title: lineLabel(lang, r.line), line: r.line, items: r.items, invoiceUrl: fillPath(BP.invoice[lang], { id: String(id) }),
      nextUrl: r.items.length === 500 ? `${fillPath(BP.line[lang], { id: String(id), lineId: String(r.line.id) })}?after=${encodeURIComponent(r.items[r.items.length - 1].source_id)}` : null,
    });
  }, { config: o.invoice });
  bilingualRoute(app, 'POST', BP.dispute, async (request, reply, lang) => {
    const v = viewerOf(request);
    const p = request.params as { id: string; lineId: string };
    const id = idOf(p.id);
    const b = (request.body ?? {}) as Record<string, string>;
    try {
      await disputeLine(db, v, id, idOf(p.lineId), b.reason ?? '');
      return reply.redirect(`${fillPath(BP.invoice[lang], { id: String(id) })}?sent=1`, 303);
    } catch (err) {
      const d = describeError(err as Error, lang);
      if (d.status === 404 || d.status >= 500 || !(err instanceof AppError)) throw err;
      const errors = { summary: d.message, list: [{ text: d.message, href: `#reason-${p.lineId}` }], fields: { [`reason-${p.lineId}`]: d.message } };
      return invoicePage(request, reply, lang, 'full', { errors, values: b, errorLine: Number(p.lineId) }, d.status);
    }
  }, { config: o.dispute });
}

export { CHANNELS };
