/** Read models for pages and API: a payment with its basket, lines per payee and refunds; account balances. */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { loadBasket } from './checkout';

export async function paymentDetail(db: Database, paymentId: string) {
  const p = await db.selectFrom('payments').selectAll().where('id', '=', paymentId).executeTakeFirst();
  if (!p) return null;
  const basket = (await loadBasket(db, p.basket_id))!;
  const refunds = await db.selectFrom('refunds').select(['id', 'amount_cents', 'status', 'kind', 'bearer', 'created_at', 'settled_at']).where('payment_id', '=', paymentId).orderBy('created_at').execute();
  const refundedPerComponent = await sql<{ component_id: number; cents: number }>`
    select rc.component_id, sum(rc.amount_cents) as cents from refund_components rc join refunds f on f.id = rc.refund_id
    where f.payment_id = ${paymentId} and f.status <> 'failed' group by rc.component_id`.execute(db);
  const refunded = refunds.filter((r) => r.status !== 'failed').reduce((s, r) => s + Number(r.amount_cents), 0);
  return {
    id: p.id, reference: p.reference, status: p.status, method: p.method, amountCents: Number(p.amount_cents), provider: p.provider,
    confirmedAt: p.confirmed_at, createdAt: p.created_at, basketId: p.basket_id, clientId: basket.clientId, lang: basket.lang,
    refundAmountAvailable: p.status === 'succeeded' ? Number(p.amount_cents) - refunded : 0,
    lines: basket.lines.map((l) => ({
      ...l,
      components: l.components.map((c) => ({ ...c, refundedCents: Number(refundedPerComponent.rows.find((r) => Number(r.component_id) === c.id)?.cents ?? 0) })),
    })),
    refunds: refunds.map((r) => ({ id: r.id, amountCents: Number(r.amount_cents), status: r.status, kind: r.kind, bearer: r.bearer, createdAt: r.created_at })),
  };
}

export async function accountBalances(db: Database) {
  const rows = await db.selectFrom('ledger_account_balances').select(['id', 'kind', 'org_id', 'office_id', 'business_id', 'balance_cents', 'postings']).orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, kind: r.kind, orgId: r.org_id, officeId: r.office_id, balanceCents: Number(r.balance_cents), postings: Number(r.postings) }));
}
