/**
 * Pages of payments (bilingual, no JavaScript needed):
 *   /en/pay/{basket} · /fr/payer/{basket}                the basket, lines per payee, "Pay by card" (POST) → provider link
 *   /en/pay/{basket}/return · /fr/payer/{basket}/retour  back from the provider: the receipt, or "we are confirming"
 *   /en/receipts/{payment} · /fr/recus/{payment}         the receipt: lines per payee, refunds, the payment reference
 *   /en/my-payments · /fr/mes-paiements                  the client's receipts and refunds (their file)
 *   /en/partner/payments · /fr/partenaire/paiements      a partner: collected, refunded, remitted, still held, per day
 *   /en/staff/payments · /fr/personnel/paiements         managers: balances, cash per office, batches, reconciliation
 *   /en/staff/payments/batches/{id}[.csv|.xml]           remittance advice page, CSV and pain.001
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError } from '../http/errors';
import { requireStaff } from '../http/session';
import { isUuid } from '../db/ids';
import { bilingualRoute } from '../web/render';
import { localDate, t } from '../i18n/index';
import { withIdempotency } from './idempotency';
import { loadBasket, startPayment } from './checkout';
import { paymentProvider } from './providers/select';
import { accountBalances, paymentDetail } from './views-data';
import { batchAdvice, adviceCsv, pain001 } from './remittance';
import { ledgerTotals, payableOf } from './ledger';
import { cardCostsPosted } from './card-costs';
import { canSeeBasket } from './api';
import { ONE_STOP_ORG, own } from '../http/ownership';
import { basketOwner, batchOwner, ledgerOwner, partnerPageOwner, paymentOwner, LEDGER_ROLES, PARTNER_PAGE_ROLES } from './owners';

const P = {
  basket: { en: '/en/pay/:id', fr: '/fr/payer/:id' },
  back: { en: '/en/pay/:id/return', fr: '/fr/payer/:id/retour' },
  receipt: { en: '/en/receipts/:id', fr: '/fr/recus/:id' },
  mine: { en: '/en/my-payments', fr: '/fr/mes-paiements' },
  partner: { en: '/en/partner/payments', fr: '/fr/partenaire/paiements' },
  manager: { en: '/en/staff/payments', fr: '/fr/personnel/paiements' },
  batch: { en: '/en/staff/payments/batches/:id', fr: '/fr/personnel/paiements/lots/:id' },
  batchCsv: { en: '/en/staff/payments/batches/:id/advice.csv', fr: '/fr/personnel/paiements/lots/:id/avis.csv' },
  batchXml: { en: '/en/staff/payments/batches/:id/pain001.xml', fr: '/fr/personnel/paiements/lots/:id/pain001.xml' },
};
const fill = (p: string, id: string) => p.replace(':id', id);

export async function pageRoutes(app: FastifyInstance, deps: AppDeps) {
  const { db } = deps;

  const basketFor = async (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
    const b = isUuid(id) ? await loadBasket(db, id) : null;
    if (!b || !canSeeBasket(request, b)) throw new AppError(404, 'BASKET_NOT_FOUND');
    return b;
  };
  const receiptOf = async (basketId: string) =>
    db.selectFrom('payments').select('id').where('basket_id', '=', basketId).where('status', '=', 'succeeded').executeTakeFirst();

  bilingualRoute(app, 'GET', P.basket, async (request, reply, lang) => {
    const basket = await basketFor(request);
    const paid = basket.status === 'paid' ? await receiptOf(basket.id) : undefined;
    return reply.page('payments/views/basket.njk', {
      title: t(lang, 'payments.basket.title'), basket, payUrl: fill(P.basket[lang], basket.id), idemKey: crypto.randomUUID(),
      receiptUrl: paid ? fill(P.receipt[lang], paid.id) : null, nextUrl: null,
    });
  }, { config: basketOwner(db) });

  bilingualRoute(app, 'POST', P.basket, async (request, reply, lang) => {
    const basket = await basketFor(request);
    const body = (request.body ?? {}) as Record<string, string>;
    const key = typeof body.key === 'string' && body.key ? body.key : crypto.randomUUID();
    const origin = `${request.protocol}://${request.headers.host}`;
    const returnUrl = `${deps.config.publicBaseUrl || origin}${fill(P.back[lang], basket.id)}`;
    const out = await withIdempotency(db, `page-pay:${basket.id}`, key, { method: 'card' }, async (trx) => ({
      status: 201, body: await startPayment(trx, paymentProvider(), basket.id, { method: 'card', returnUrl, staffId: request.staff?.id ?? null }),
    }));
    return reply.page('payments/views/basket.njk', { title: t(lang, 'payments.basket.title'), basket, nextUrl: out.body.nextUrl, payUrl: fill(P.basket[lang], basket.id) });
  }, { config: basketOwner(db) });

  bilingualRoute(app, 'GET', P.back, async (request, reply, lang) => {
    const basket = await basketFor(request);
    const p = await db.selectFrom('payments').select(['id', 'status']).where('basket_id', '=', basket.id).orderBy(sql`status = 'succeeded'`, 'desc').orderBy('created_at', 'desc').executeTakeFirst();
    if (!p) return reply.redirect(fill(P.basket[lang], basket.id), 303);
    return reply.redirect(fill(P.receipt[lang], p.id), 303);
  }, { config: basketOwner(db) });

  bilingualRoute(app, 'GET', P.receipt, async (request, reply, lang) => {
    const { id } = request.params as { id: string };
    const d = isUuid(id) ? await paymentDetail(db, id) : null;
    if (!d || !canSeeBasket(request, { clientId: d.clientId })) throw new AppError(404, 'PAYMENT_NOT_FOUND');
    return reply.page('payments/views/receipt.njk', { title: t(lang, 'payments.receipt.title'), payment: { ...d, totalCents: d.amountCents } });
  }, { config: paymentOwner(db) });

  bilingualRoute(app, 'GET', P.mine, async (request, reply, lang) => {
    if (!request.client) throw new AppError(401, 'UNAUTHENTICATED');
    const items = await sql<{ id: string; reference: string; confirmed_at: Date; amount_cents: number; refunded: number }>`
      select p.id, p.reference, p.confirmed_at, p.amount_cents,
        coalesce((select sum(f.amount_cents) from refunds f where f.payment_id = p.id and f.status <> 'failed'), 0) as refunded
      from payments p join payment_baskets b on b.id = p.basket_id
      where b.client_id = ${request.client.id} and p.status = 'succeeded' order by p.confirmed_at desc limit 200`.execute(db);
    return reply.page('payments/views/my-payments.njk', {
      title: t(lang, 'payments.my.title'), items: items.rows.map((r) => ({ ...r, amount_cents: Number(r.amount_cents), refunded: Number(r.refunded) })), receiptBase: P.receipt[lang].replace('/:id', ''),
    });
  }, { config: own.client });

  bilingualRoute(app, 'GET', P.partner, async (request, reply, lang) => {
    const staff = requireStaff(request, PARTNER_PAGE_ROLES);
    const q = request.query as { org?: string };
    const orgId = staff.orgId === ONE_STOP_ORG && typeof q.org === 'string' && q.org ? q.org : staff.orgId;
    const data = await partnerSummary(db, orgId);
    const org = await db.selectFrom('organisations').select(['name_en', 'name_fr']).where('id', '=', orgId).executeTakeFirst();
    if (!org) throw new AppError(404, 'NOT_FOUND');
    const batches = await db.selectFrom('remittance_batches').select(['id', 'message_id', 'total_cents', 'status']).where('org_id', '=', orgId).orderBy('created_at', 'desc').limit(50).execute();
    return reply.page('payments/views/partner.njk', {
      title: t(lang, 'payments.partner.title'), orgName: lang === 'fr' ? org.name_fr : org.name_en, ...data,
      batches: batches.map((b) => ({ ...b, total_cents: Number(b.total_cents) })), batchBase: P.batch[lang].replace('/:id', ''),
    });
  }, { config: partnerPageOwner });

  bilingualRoute(app, 'GET', P.manager, async (request, reply, lang) => {
    if (requireStaff(request, LEDGER_ROLES).orgId !== ONE_STOP_ORG) throw new AppError(404, 'NOT_FOUND');
    const q = request.query as { day?: string };
    const day = typeof q.day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(q.day) && !Number.isNaN(Date.parse(q.day)) ? q.day : '';
    const batches = await db.selectFrom('remittance_batches').select(['id', 'message_id', 'org_id', 'total_cents', 'status']).orderBy('created_at', 'desc').limit(100).execute();
    const provider = paymentProvider();
    const recon = day && provider ? await reconcileDay(db, provider, day).catch(() => null) : null;
    return reply.page('payments/views/manager.njk', {
      title: t(lang, 'payments.manager.title'), accounts: await accountBalances(db), totals: await ledgerTotals(db), day: day || localDate(),
      batches: batches.map((b) => ({ ...b, total_cents: Number(b.total_cents) })), batchBase: P.batch[lang].replace('/:id', ''), currentPath: P.manager[lang], recon,
    });
  }, { config: ledgerOwner });

  const batchFor = async (request: FastifyRequest) => {
    const staff = requireStaff(request, PARTNER_PAGE_ROLES);
    const { id } = request.params as { id: string };
    const a = isUuid(id) ? await batchAdvice(db, id) : null;
    if (!a || (staff.orgId !== ONE_STOP_ORG && a.batch.org_id !== staff.orgId)) throw new AppError(404, 'BATCH_NOT_FOUND');
    return a;
  };
  bilingualRoute(app, 'GET', P.batch, async (request, reply, lang) => {
    const a = await batchFor(request);
    return reply.page('payments/views/batch.njk', { title: t(lang, 'payments.advice.title'), a, csvUrl: fill(P.batchCsv[lang], a.batch.id), xmlUrl: fill(P.batchXml[lang], a.batch.id) });
  }, { config: batchOwner(db) });
  bilingualRoute(app, 'GET', P.batchCsv, async (request, reply) => {
    const a = await batchFor(request);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${a.batch.message_id}.csv"`).send('\ufeff' + adviceCsv(a));
  }, { config: batchOwner(db) });
  bilingualRoute(app, 'GET', P.batchXml, async (request, reply) => {
    const a = await batchFor(request);
    return reply.type('application/xml; charset=utf-8').header('content-disposition', `attachment; filename="${a.batch.message_id}.xml"`).send(pain001(a));
  }, { config: batchOwner(db) });
}

/** A partner's money per day: collected on its behalf, refunds it bore, remitted, and what is still held. */
export async function partnerSummary(db: AppDeps['db'], orgId: string) {
  const account = payableOf(orgId);
  const days = await sql<{ day: string; collected: number; refunded: number; remitted: number }>`
    select day::text as day, sum(collected) as collected, sum(refunded) as refunded, sum(remitted) as remitted from (
      select (p.confirmed_at at time zone 'America/Toronto')::date as day, c.amount_cents as collected, 0 as refunded, 0 as remitted
        from basket_components c join payments p on p.basket_id = c.basket_id and p.status = 'succeeded' where c.account_id = ${account}
      union all
      select (f.created_at at time zone 'America/Toronto')::date, 0, rc.amount_cents, 0
        from refund_components rc join refunds f on f.id = rc.refund_id where rc.account_id = ${account} and f.status <> 'failed'
      union all
      select (b.created_at at time zone 'America/Toronto')::date, 0, 0, b.gross_cents
        from remittance_batches b where b.org_id = ${orgId} and b.status <> 'returned'
    ) x group by day order by day desc limit 400`.execute(db);
  const rows = days.rows.map((d) => ({ day: d.day, collected: Number(d.collected), refunded: Number(d.refunded), remitted: Number(d.remitted) }));
  const totals = rows.reduce((s, d) => ({ collected: s.collected + d.collected, refunded: s.refunded + d.refunded, remitted: s.remitted + d.remitted }), { collected: 0, refunded: 0, remitted: 0 });
  return { days: rows, totals: { ...totals, held: totals.collected - totals.refunded - totals.remitted } };
}

/** Our card payments of a day against the provider's settlement report: differences listed. */
export async function reconcileDay(db: AppDeps['db'], provider: NonNullable<ReturnType<typeof paymentProvider>>, day: string) {
  const theirs = await provider.settlementReport(day);
  const ours = await sql<{ provider_ref: string; reference: string; net: number }>`
    select p.provider_ref, p.reference, p.amount_cents - coalesce((select sum(f.amount_cents) from refunds f where f.payment_id = p.id and f.status = 'succeeded'), 0) as net
    from payments p where p.provider = ${provider.name} and p.status = 'succeeded'
      and (p.confirmed_at at time zone 'UTC')::date = ${day}::date`.execute(db);
  const byRef = new Map(ours.rows.map((r) => [r.provider_ref, r]));
  const differences: Array<{ ref: string; ours: number | null; theirs: number | null; why: 'missing_ours' | 'missing_theirs' | 'amount' }> = [];
  let matched = 0;
  for (const t of theirs) {
    const o = byRef.get(t.providerRef);
    if (!o) differences.push({ ref: t.providerRef, ours: null, theirs: t.amountCents, why: 'missing_ours' });
    else if (Number(o.net) !== t.amountCents) differences.push({ ref: o.reference, ours: Number(o.net), theirs: t.amountCents, why: 'amount' });
    else matched++;
    byRef.delete(t.providerRef);
  }
  for (const o of byRef.values()) differences.push({ ref: o.reference, ours: Number(o.net), theirs: null, why: 'missing_theirs' });
  // card costs: the provider's fees in its report against the card-cost entries posted for the day (card-costs.ts)
  return { matched, differences, feesCents: theirs.reduce((s, t) => s + t.feeCents, 0), cardCostsPostedCents: await cardCostsPosted(db, provider.name, day) };
}
