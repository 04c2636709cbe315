/**
 * Settling the service-guarantee refunds that cases records (guarantee_refunds, status 'owed'): for each, the
 * client's successful payment for that service (the case's own basket line first, else the latest payment for the
 * service) is refunded by the fee paid for that service — the line's amount still refundable, capped by the amount
 * cases recorded when that is set — as a 'guarantee' refund:
 *  - borne by whoever the agreement names (guaranteeRefundBearer; the delay is the one-stop's own when the case's
 *    responsible organisation is the one-stop);
 *  - a card payment is refunded through the provider; cash is owed to the client and shown to staff (paid out at a
 *    counter: payOutCashRefund); on account, the statement is credited.
 * The guarantee row turns 'settled' (settlement_ref = the refund id) in the same transaction; refunds.guarantee_refund_id
 * is unique, so a second run or worker never refunds it twice. A guarantee with no payment to refund stays owed.
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { localDate } from '../i18n/index';
import { guaranteeRefundBearer } from '../agreements/fees';
import { createRefund, sendToProvider } from './refunds';
import { ONE_STOP_ORG_ID } from './ledger';
import type { PaymentProvider } from './providers/types';

export async function settleGuaranteeRefunds(db: Database, provider: PaymentProvider | null, opts: { limit?: number } = {}): Promise<{ settled: number; unmatched: number; refundIds: string[] }> {
  const owed = await db.selectFrom('guarantee_refunds').selectAll().where('status', '=', 'owed').orderBy('id').limit(opts.limit ?? 200).execute();
  const refundIds: string[] = [];
  let unmatched = 0;
  const today = localDate();
  for (const g of owed) {
    const match = await sql<{ payment_id: string; line_left: number; payment_left: number }>`
      select p.id as payment_id,
        (select sum(c.amount_cents) from basket_components c where c.line_id = l.id)
          - coalesce((select sum(rc.amount_cents) from refund_components rc join refunds f on f.id = rc.refund_id join basket_components c on c.id = rc.component_id
                      where c.line_id = l.id and f.status <> 'failed'), 0) as line_left,
        p.amount_cents - coalesce((select sum(f.amount_cents) from refunds f where f.payment_id = p.id and f.status <> 'failed'), 0) as payment_left
      from basket_lines l join payment_baskets b on b.id = l.basket_id join payments p on p.basket_id = b.id and p.status = 'succeeded'
      where l.service_id = ${g.service_id} and (l.case_id = ${g.case_id} or b.client_id = ${g.client_id})
      order by (l.case_id = ${g.case_id}) desc nulls last, p.confirmed_at desc
      limit 1`.execute(db);
    const m = match.rows[0];
    const lineLeft = m ? Number(m.line_left) : 0;
    if (!m || lineLeft <= 0) {
      unmatched++;
      continue;
    }
    const amount = Number(g.amount_cents) > 0 ? Math.min(Number(g.amount_cents), lineLeft) : lineLeft;
    const bearer = await guaranteeRefundBearer(db, g.service_id, today, g.org_id === ONE_STOP_ORG_ID);
    const refund = await db.transaction().execute(async (trx) => {
      const claim = await sql`update guarantee_refunds set status = 'settled', settled_at = now() where id = ${g.id} and status = 'owed'`.execute(trx);
      if (Number(claim.numAffectedRows ?? 0) === 0) return null;
      const r = await createRefund(trx, m.payment_id, {
        amountCents: amount, refundAmountAvailable: Number(m.payment_left), kind: 'guarantee', bearer, serviceId: g.service_id, guaranteeRefundId: Number(g.id), reason: `guarantee ${g.case_id}`,
      });
      await sql`update guarantee_refunds set settlement_ref = ${r.id} where id = ${g.id}`.execute(trx);
      return r;
    }).catch((e) => {
      if (e?.code === 'REFUND_AMOUNT_AVAILABLE_MISMATCH' || e?.code === '23505') return null; // raced with another refund or worker: next run
      throw e;
    });
    if (!refund) continue;
    refundIds.push(refund.id);
    if (refund.status === 'submitted') await sendToProvider(db, provider, refund.id);
  }
  return { settled: refundIds.length, unmatched, refundIds };
}
