/**
 * Checkout: baskets priced from the fee schedules in force (agreements' feeInForce), payments on every channel, the
 * provider's outcome, and the ONE ledger entry a successful payment posts (debit where the money is — the provider's
 * clearing account, an office's cash, a subscriber's statement — and credit each payee its component).
 *
 * Each function takes the caller's transaction (`trx`): the routes wrap it in withIdempotency, so the command, its
 * ledger entry and its idempotency answer commit together.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { AppError } from '../http/errors';
import { localDate } from '../i18n/index';
import { feeInForce } from '../agreements/fees';
import { chargeOnAccount } from '../billing/subscriptions';
import { cashAt, clearing, ensureAccounts, payableOf, statementReceivable, type Trx } from './ledger';
import type { BasketChannel, PaymentMethod } from './tables';
import type { PaymentProvider } from './providers/types';

export const BASKET_TTL_MS = 30 * 60 * 1000;
export const MAX_BASKET_ITEMS = 20;
/** A basket above $100,000 is refused as absurd (the fee schedules' own maximum per fee is $100,000). */
export const MAX_BASKET_CENTS = 10_000_000;

/** The fee schedules' channel for a basket channel. */
export const FEE_CHANNEL: Record<BasketChannel, string> = { web: 'online', account: 'online', kiosk: 'kiosk', counter: 'in_person' };

/** Which methods each channel takes. */
export const CHANNEL_METHODS: Record<BasketChannel, PaymentMethod[]> = {
  web: ['card'],
  kiosk: ['card'],
  counter: ['cash', 'debit', 'cheque'],
  account: ['account'],
};

export interface BasketItemInput {
  serviceId: string;
  /** The price the caller was shown (cents): a different price in force now answers 409 PRICE_CHANGED. */
  expectedCents?: number;
  caseId?: string | null;
}

export interface BasketInput {
  channel: BasketChannel;
  items: BasketItemInput[];
  clientId?: string | null;
  businessId?: string | null;
  staffId?: string | null;
  officeId?: string | null;
  email?: string | null;
  lang?: 'en' | 'fr';
}

export interface BasketView {
  id: string;
  reference: string;
  channel: BasketChannel;
  status: 'open' | 'paid' | 'cancelled';
  expired: boolean;
  totalCents: number;
  expiresAt: string;
  lang: 'en' | 'fr';
  clientId: string | null;
  lines: Array<{ id: number; serviceId: string; titleEn: string; titleFr: string; feeVersionId: string; totalCents: number; components: Array<{ id: number; kind: string; payeeOrgId: string; payeeEn: string; payeeFr: string; amountCents: number }> }>;
}

export const isCents = (n: unknown, max = MAX_BASKET_CENTS): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n > 0 && n <= max;

async function newReference(trx: Trx): Promise<string> {
  const r = await sql<{ n: number }>`select nextval('payment_reference_seq') as n`.execute(trx);
  const n = Number(r.rows[0].n);
  // GP-<yymm>-<n, 6+ digits>-<check letter>: readable over the phone, unique by the sequence
  const ym = localDate().slice(2, 7).replace('-', '');
  const body = `${ym}${String(n).padStart(6, '0')}`;
  const check = 'ABCDEFGHJKLMNPQRSTUVWXYZ'[[...body].reduce((s, c) => s * 7 + Number(c), 0) % 24];
  return `GP-${ym}-${String(n).padStart(6, '0')}-${check}`;
}

export async function createBasket(trx: Trx, input: BasketInput, now = new Date()): Promise<BasketView> {
  if (!input.items.length) throw new AppError(400, 'BASKET_EMPTY');
  if (input.items.length > MAX_BASKET_ITEMS) throw new AppError(400, 'BASKET_TOO_LARGE');
  if (input.channel === 'counter' && !input.officeId) throw new AppError(400, 'OFFICE_REQUIRED');
  if (input.channel === 'account' && !input.businessId) throw new AppError(400, 'BUSINESS_REQUIRED');
  const today = localDate(now);
  const serviceIds = [...new Set(input.items.map((i) => i.serviceId))];
  const services = await trx.selectFrom('services').select(['id', 'title_en', 'title_fr']).where('id', 'in', serviceIds).execute();
  const quotes = [];
  for (const item of input.items) {
    if (item.expectedCents !== undefined && !isCents(item.expectedCents)) throw new AppError(400, 'INVALID_AMOUNT');
    const svc = services.find((s) => s.id === item.serviceId);
    if (!svc) throw new AppError(404, 'SERVICE_NOT_FOUND');
    const q = await feeInForce(trx, item.serviceId, FEE_CHANNEL[input.channel], today);
    if (!q || q.totalCents <= 0) throw new AppError(422, 'NO_FEE');
    if (item.expectedCents !== undefined && item.expectedCents !== q.totalCents) throw new AppError(409, 'PRICE_CHANGED', undefined, { cents: q.totalCents });
    const comps = q.components.filter((c) => c.amountCents !== 0);
    if (comps.some((c) => !isCents(c.amountCents)) || comps.reduce((s, c) => s + c.amountCents, 0) !== q.totalCents) throw new AppError(422, 'NO_FEE');
    quotes.push({ item, svc, q, comps });
  }
  const total = quotes.reduce((s, x) => s + x.q.totalCents, 0);
  if (!isCents(total)) throw new AppError(400, 'AMOUNT_OUT_OF_RANGE');
  const accounts = [...new Set(quotes.flatMap((x) => x.comps.map((c) => payableOf(c.payeeOrgId))))];
  await ensureAccounts(trx, accounts);
  const reference = await newReference(trx);
  const basket = await trx
    .insertInto('payment_baskets')
    .values({
      reference, channel: input.channel, client_id: input.clientId ?? null, business_id: input.businessId ?? null, staff_id: input.staffId ?? null,
      office_id: input.officeId ?? null, email: input.email ?? null, lang: input.lang ?? 'en', total_cents: total, expires_at: new Date(now.getTime() + BASKET_TTL_MS),
    })
    .returning(['id', 'expires_at'])
    .executeTakeFirstOrThrow();
  const orgs = await trx.selectFrom('organisations').select(['id', 'name_en', 'name_fr']).where('id', 'in', [...new Set(quotes.flatMap((x) => x.comps.map((c) => c.payeeOrgId)))]).execute();
  const lines: BasketView['lines'] = [];
  for (const x of quotes) {
    const line = await trx
      .insertInto('basket_lines')
      .values({ basket_id: basket.id, service_id: x.item.serviceId, fee_version_id: x.q.feeVersionId, agreement_id: x.q.agreementId, case_id: x.item.caseId ?? null, total_cents: x.q.totalCents })
      .returning('id')
      .executeTakeFirstOrThrow();
    const comps = await trx
      .insertInto('basket_components')
      .values(x.comps.map((c) => ({ basket_id: basket.id, line_id: line.id, kind: c.kind, payee_org_id: c.payeeOrgId, account_id: payableOf(c.payeeOrgId), amount_cents: c.amountCents })))
      .returning(['id', 'kind', 'payee_org_id', 'amount_cents'])
      .execute();
    lines.push({
      id: Number(line.id), serviceId: x.svc.id, titleEn: x.svc.title_en, titleFr: x.svc.title_fr, feeVersionId: x.q.feeVersionId, totalCents: x.q.totalCents,
      components: comps.map((c) => {
        const o = orgs.find((g) => g.id === c.payee_org_id);
        return { id: Number(c.id), kind: c.kind, payeeOrgId: c.payee_org_id, payeeEn: o?.name_en ?? c.payee_org_id, payeeFr: o?.name_fr ?? c.payee_org_id, amountCents: Number(c.amount_cents) };
      }),
    });
  }
  return { id: basket.id, reference, channel: input.channel, status: 'open', expired: false, totalCents: total, expiresAt: new Date(basket.expires_at).toISOString(), lang: input.lang ?? 'en', clientId: input.clientId ?? null, lines };
}

export async function loadBasket(db: Trx | any, basketId: string, now = new Date()): Promise<BasketView | null> {
  const b = await db.selectFrom('payment_baskets').selectAll().where('id', '=', basketId).executeTakeFirst();
  if (!b) return null;
  const rows = await sql<any>`
    select l.id as line_id, l.service_id, s.title_en, s.title_fr, l.fee_version_id, l.total_cents as line_total,
           c.id, c.kind, c.payee_org_id, o.name_en, o.name_fr, c.amount_cents
    from basket_lines l join services s on s.id = l.service_id
    join basket_components c on c.line_id = l.id join organisations o on o.id = c.payee_org_id
    where l.basket_id = ${basketId} order by l.id, c.id`.execute(db);
  const lines: BasketView['lines'] = [];
  for (const r of rows.rows) {
    let line = lines.find((l) => l.id === Number(r.line_id));
    if (!line) {
      line = { id: Number(r.line_id), serviceId: r.service_id, titleEn: r.title_en, titleFr: r.title_fr, feeVersionId: r.fee_version_id, totalCents: Number(r.line_total), components: [] };
      lines.push(line);
    }
    line.components.push({ id: Number(r.id), kind: r.kind, payeeOrgId: r.payee_org_id, payeeEn: r.name_en, payeeFr: r.name_fr, amountCents: Number(r.amount_cents) });
  }
  return {
    id: b.id, reference: b.reference, channel: b.channel, status: b.status, expired: b.status === 'open' && new Date(b.expires_at).getTime() < now.getTime(),
    totalCents: Number(b.total_cents), expiresAt: new Date(b.expires_at).toISOString(), lang: b.lang, clientId: b.client_id, lines,
  };
}

export interface StartPaymentInput {
  method: PaymentMethod;
  /** Where the provider sends the client back (card). */
  returnUrl?: string;
  staffId?: string | null;
}

export interface PaymentView {
  id: string;
  basketId: string;
  reference: string;
  status: 'created' | 'pending' | 'succeeded' | 'failed' | 'cancelled';
  method: PaymentMethod;
  amountCents: number;
  nextUrl: string | null;
  providerRef: string | null;
}

/**
 * Start paying a basket. Card: a payment with the provider (status pending; the client goes to nextUrl). Cash, debit
 * or cheque at a counter, or a subscriber on account: recorded as paid at once, and the entry posted.
 */
export async function startPayment(trx: Trx, provider: PaymentProvider | null, basketId: string, input: StartPaymentInput, now = new Date()): Promise<PaymentView> {
  const b = await trx.selectFrom('payment_baskets').selectAll().where('id', '=', basketId).forUpdate().executeTakeFirst();
  if (!b) throw new AppError(404, 'BASKET_NOT_FOUND');
  if (b.status === 'paid') throw new AppError(409, 'BASKET_PAID');
  if (b.status !== 'open') throw new AppError(409, 'BASKET_CANCELLED');
  if (new Date(b.expires_at).getTime() < now.getTime()) throw new AppError(409, 'BASKET_EXPIRED');
  if (!CHANNEL_METHODS[b.channel].includes(input.method)) throw new AppError(400, 'METHOD_NOT_ALLOWED');
  const id = crypto.randomUUID();
  if (input.method === 'card') {
    if (!provider) throw new AppError(503, 'PROVIDER_UNAVAILABLE');
    if (!input.returnUrl) throw new AppError(400, 'RETURN_URL_REQUIRED');
    const debit = clearing(provider.name);
    await ensureAccounts(trx, [debit]);
    let created;
    try {
      created = await provider.createCheckout({ paymentId: id, reference: b.reference, amountCents: Number(b.total_cents), description: b.reference, returnUrl: input.returnUrl.replace('{paymentId}', id), lang: b.lang });
    } catch {
      throw new AppError(502, 'PROVIDER_UNAVAILABLE');
    }
    await trx.insertInto('payments').values({
      id, basket_id: b.id, reference: b.reference, provider: provider.name, provider_ref: created.providerRef, method: 'card', amount_cents: Number(b.total_cents),
      status: 'pending', failure_code: null, next_url: created.nextUrl, return_url: input.returnUrl, debit_account_id: debit, staff_id: input.staffId ?? null, entry_id: null, confirmed_at: null, settles_on: null,
    }).execute();
    return { id, basketId: b.id, reference: b.reference, status: 'pending', method: 'card', amountCents: Number(b.total_cents), nextUrl: created.nextUrl, providerRef: created.providerRef };
  }
  const debit = input.method === 'account' ? statementReceivable(b.business_id!) : cashAt(b.office_id!);
  // on account: the billing capability charges the subscriber's account (refused when it has lapsed or was cancelled)
  if (input.method === 'account') await chargeOnAccount(trx, { businessId: b.business_id!, basketRef: b.reference, amountCents: Number(b.total_cents) });
  await ensureAccounts(trx, [debit]);
  await trx.insertInto('payments').values({
    id, basket_id: b.id, reference: b.reference, provider: input.method === 'account' ? 'account' : 'counter', provider_ref: null, method: input.method, amount_cents: Number(b.total_cents),
    status: 'pending', failure_code: null, next_url: null, return_url: null, debit_account_id: debit, staff_id: input.staffId ?? null, entry_id: null, confirmed_at: null, settles_on: null,
  }).execute();
  await confirmPayment(trx, id, now);
  return { id, basketId: b.id, reference: b.reference, status: 'succeeded', method: input.method, amountCents: Number(b.total_cents), nextUrl: null, providerRef: null };
}

/**
 * The payment succeeded: mark it (only from created/pending/failed — a provider saying "paid" after a decline is the
 * truth about the money), mark the basket paid, and post ONE entry: debit where the money is, credit each payee its
 * component. Idempotent: a second confirmation changes nothing (conditional update + the entry's posting key).
 * One database call, payments_confirm_payment (migration 006); the entry is found by its posting key 'payment:<id>'
 * (payments.entry_id is not written). Returns the entry id, or null when nothing changed.
 */
export async function confirmPayment(trx: Trx, paymentId: string, now = new Date()): Promise<number | null> {
  const r = await sql<{ entry_id: number | null }>`select payments_confirm_payment(${paymentId}::uuid, ${now}, ${localDate(now)}::date) as entry_id`.execute(trx);
  const id = r.rows[0]?.entry_id;
  return id == null ? null : Number(id);
}

/** The provider declined or failed: only a payment still in progress becomes failed (a late failure after success changes nothing). */
export async function failPayment(trx: Trx, paymentId: string, code: string | undefined): Promise<boolean> {
  const r = await sql`update payments set status = 'failed', failure_code = ${code ?? 'failed'} where id = ${paymentId} and status in ('created','pending')`.execute(trx);
  return Number(r.numAffectedRows ?? 0) > 0;
}

export async function loadPayment(db: Trx | any, paymentId: string) {
  return db.selectFrom('payments').selectAll().where('id', '=', paymentId).executeTakeFirst();
}
