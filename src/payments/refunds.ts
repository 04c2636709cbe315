/**
 * Refunds, full or partial, split component by component.
 *
 * - The caller states the amount it believes refundable (`refundAmountAvailable`, GOV.UK Pay's optimistic lock);
 *   the payment row is locked (FOR UPDATE) and a stale figure answers 409 REFUND_AMOUNT_AVAILABLE_MISMATCH, so two
 *   agents cannot refund the same money twice. An amount above what is left answers 422 REFUND_EXCEEDS_AVAILABLE.
 * - allocateRefund splits the amount over the components in proportion to what each has left (largest remainder,
 *   in cents), so no component — no payee — is ever refunded more than it received.
 * - Who bears it: an ordinary refund is borne by each component's payee (its payable is debited); a guarantee refund
 *   by the partner or the one-stop (guaranteeRefundBearer): the partner's own components are charged first, or the
 *   one-stop's refunds account takes the whole amount.
 * - The entry (event 'refund') debits the bearers and credits where the money goes back: the provider's clearing
 *   account (card; the provider is then asked to refund, with the refund id as its idempotency key), the cash owed to
 *   the client (refunds-owed; staff pay it out at the counter: payOutCashRefund), or the subscriber's statement.
 * - A provider that refuses the refund: the refund is marked failed and its entry reversed.
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { AppError } from '../http/errors';
import { ONE_STOP_ORG } from '../http/ownership';
import { localDate } from '../i18n/index';
import { cashAt, clearing, ensureAccounts, ONE_STOP_REFUNDS, postEntry, REFUNDS_OWED, reverseEntry, type Trx } from './ledger';
import type { PaymentProvider } from './providers/types';
import { isCents } from './checkout';

export interface ComponentLeft {
  id: number;
  payeeOrgId: string;
  accountId: string;
  left: number;
}

/** Split `amount` over components in proportion to what each has left; never more than a component's left. */
export function allocateRefund(components: ComponentLeft[], amount: number): Array<{ id: number; cents: number }> {
  const total = components.reduce((s, c) => s + c.left, 0);
  if (amount > total) throw new Error('refund above what is left');
  if (amount === total) return components.filter((c) => c.left > 0).map((c) => ({ id: c.id, cents: c.left }));
  const shares = components.map((c) => {
    const exact = (amount * c.left) / total;
    return { id: c.id, left: c.left, cents: Math.floor(exact), frac: exact - Math.floor(exact) };
  });
  let rest = amount - shares.reduce((s, x) => s + x.cents, 0);
  for (const s of [...shares].sort((a, b) => b.frac - a.frac || a.id - b.id)) {
    if (rest === 0) break;
    if (s.cents < s.left) {
      s.cents++;
      rest--;
    }
  }
  return shares.filter((s) => s.cents > 0).map((s) => ({ id: s.id, cents: s.cents }));
}

export interface RefundInput {
  amountCents: number;
  refundAmountAvailable: number;
  reason?: string;
  staffId?: string | null;
  kind?: 'refund' | 'guarantee';
  /** guarantee refunds: who bears it, and for which service's line */
  bearer?: 'partner' | 'one_stop';
  serviceId?: string;
  guaranteeRefundId?: number | null;
}

export interface RefundView {
  id: string;
  paymentId: string;
  amountCents: number;
  status: 'submitted' | 'succeeded' | 'failed' | 'owed_cash';
  kind: 'refund' | 'guarantee';
  bearer: 'payees' | 'partner' | 'one_stop';
  refundAmountAvailable: number;
  components: Array<{ componentId: number; accountId: string; amountCents: number }>;
}

export async function refundableLeft(trx: Trx | Database, paymentId: string): Promise<number> {
  const r = await sql<{ left: number }>`
    select p.amount_cents - coalesce((select sum(amount_cents) from refunds f where f.payment_id = p.id and f.status <> 'failed'), 0) as left
    from payments p where p.id = ${paymentId}`.execute(trx);
  return r.rows.length ? Number(r.rows[0].left) : 0;
}

/** Record a refund and post its entry (in the caller's transaction). The provider is called by sendToProvider after commit. */
export async function createRefund(trx: Trx, paymentId: string, input: RefundInput, now = new Date()): Promise<RefundView> {
  if (!isCents(input.amountCents)) throw new AppError(400, 'INVALID_AMOUNT');
  if (!Number.isSafeInteger(input.refundAmountAvailable) || input.refundAmountAvailable < 0) throw new AppError(400, 'INVALID_AMOUNT');
  const p = await trx.selectFrom('payments').selectAll().where('id', '=', paymentId).forUpdate().executeTakeFirst();
  if (!p) throw new AppError(404, 'PAYMENT_NOT_FOUND');
  if (p.status !== 'succeeded') throw new AppError(409, 'PAYMENT_NOT_REFUNDABLE');
  const comps = await sql<{ id: number; payee_org_id: string; account_id: string; line_service: string; amount_cents: number; refunded: number }>`
    select c.id, c.payee_org_id, c.account_id, l.service_id as line_service, c.amount_cents,
      coalesce((select sum(rc.amount_cents) from refund_components rc join refunds f on f.id = rc.refund_id
                where rc.component_id = c.id and f.status <> 'failed'), 0) as refunded
    from basket_components c join basket_lines l on l.id = c.line_id
    where c.basket_id = ${p.basket_id} order by c.id`.execute(trx);
  const left = comps.rows.reduce((s, c) => s + Number(c.amount_cents) - Number(c.refunded), 0);
  if (input.refundAmountAvailable !== left) throw new AppError(409, 'REFUND_AMOUNT_AVAILABLE_MISMATCH', undefined, { cents: left });
  if (input.amountCents > left) throw new AppError(422, 'REFUND_EXCEEDS_AVAILABLE');
  const kind = input.kind ?? 'refund';
  const all: ComponentLeft[] = comps.rows.map((c) => ({ id: Number(c.id), payeeOrgId: c.payee_org_id, accountId: c.account_id, left: Number(c.amount_cents) - Number(c.refunded) }));
  let alloc: Array<{ id: number; cents: number; account: string }>;
  if (kind === 'guarantee') {
    // the line of the guaranteed service first; within it, the partner's own components first when it bears it
    const onLine = (c: ComponentLeft) => !input.serviceId || comps.rows.find((r) => Number(r.id) === c.id)!.line_service === input.serviceId;
    const line = all.filter(onLine);
    const lineLeft = line.reduce((s, c) => s + c.left, 0);
    if (input.amountCents > lineLeft) throw new AppError(422, 'REFUND_EXCEEDS_AVAILABLE');
    if (input.bearer === 'partner') {
      const partnerFirst = [...line].sort((a, b) => Number(b.payeeOrgId !== ONE_STOP_ORG) - Number(a.payeeOrgId !== ONE_STOP_ORG) || a.id - b.id);
      let rest = input.amountCents;
      alloc = [];
      for (const c of partnerFirst) {
        if (rest === 0) break;
        const take = Math.min(rest, c.left);
        if (take > 0) alloc.push({ id: c.id, cents: take, account: c.accountId });
        rest -= take;
      }
    } else {
      alloc = allocateRefund(line, input.amountCents).map((a) => ({ ...a, account: ONE_STOP_REFUNDS }));
    }
  } else {
    alloc = allocateRefund(all, input.amountCents).map((a) => ({ ...a, account: all.find((c) => c.id === a.id)!.accountId }));
  }
  const credit = p.method === 'card' ? p.debit_account_id : p.method === 'account' ? p.debit_account_id : REFUNDS_OWED;
  const status = p.method === 'card' ? 'submitted' : p.method === 'account' ? 'succeeded' : 'owed_cash';
  const bearer = kind === 'guarantee' ? (input.bearer ?? 'one_stop') : 'payees';
  await ensureAccounts(trx, [...alloc.map((a) => a.account), credit]);
  const refund = await trx
    .insertInto('refunds')
    .values({ payment_id: p.id, amount_cents: input.amountCents, kind, reason: (input.reason ?? '').slice(0, 500), status, provider_refund_ref: null, guarantee_refund_id: input.guaranteeRefundId ?? null, bearer, staff_id: input.staffId ?? null, entry_id: null, settled_at: status === 'succeeded' ? now : null })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx.insertInto('refund_components').values(alloc.map((a) => ({ refund_id: refund.id, component_id: a.id, account_id: a.account, amount_cents: a.cents }))).execute();
  const entryId = await postEntry(trx, {
    event: 'refund', eventRef: refund.id, effectiveDate: localDate(now), postingKey: `refund:${refund.id}`, memo: kind,
    legs: [...alloc.map((a) => ({ account: a.account, cents: a.cents })), { account: credit, cents: -input.amountCents }],
  });
  await trx.updateTable('refunds').set({ entry_id: entryId }).where('id', '=', refund.id).execute();
  return {
    id: refund.id, paymentId: p.id, amountCents: input.amountCents, status, kind, bearer, refundAmountAvailable: left - input.amountCents,
    components: alloc.map((a) => ({ componentId: a.id, accountId: a.account, amountCents: a.cents })),
  };
}

/** After commit: ask the provider to refund a card refund (idempotent by the refund id). */
export async function sendToProvider(db: Database, provider: PaymentProvider | null, refundId: string): Promise<'succeeded' | 'submitted' | 'failed'> {
  const r = await db.selectFrom('refunds').innerJoin('payments', 'payments.id', 'refunds.payment_id')
    .select(['refunds.id', 'refunds.status', 'refunds.amount_cents', 'refunds.entry_id', 'payments.provider', 'payments.provider_ref'])
    .where('refunds.id', '=', refundId).executeTakeFirst();
  if (!r || r.status !== 'submitted' || !provider || provider.name !== r.provider || !r.provider_ref) return (r?.status as any) ?? 'failed';
  let res;
  try {
    res = await provider.refund(r.provider_ref, Number(r.amount_cents), r.id);
  } catch (e: any) {
    if (e?.status && e.status >= 400 && e.status < 500) {
      await db.transaction().execute(async (trx) => {
        const upd = await sql`update refunds set status = 'failed' where id = ${r.id} and status = 'submitted'`.execute(trx);
        if (Number(upd.numAffectedRows ?? 0) > 0 && r.entry_id) await reverseEntry(trx, r.entry_id, { event: 'correction', eventRef: r.id, effectiveDate: localDate(), memo: 'provider refused the refund' });
      });
      return 'failed';
    }
    return 'submitted'; // unreachable: the reconciling job retries
  }
  await db.transaction().execute((trx) => settleRefund(trx, r.id, res.providerRefundRef, res.status === 'succeeded'));
  return res.status === 'succeeded' ? 'succeeded' : 'submitted';
}

async function settleRefund(trx: Trx, refundId: string, providerRefundRef: string, done: boolean) {
  await sql`update refunds set provider_refund_ref = ${providerRefundRef},
    status = case when ${done} then 'succeeded' else status end,
    settled_at = case when ${done} then now() else settled_at end
    where id = ${refundId} and status = 'submitted'`.execute(trx);
}

/** The provider's webhook says a refund went through. */
export async function settleProviderRefund(trx: Trx, providerRefundRef: string): Promise<boolean> {
  const r = await sql`update refunds set status = 'succeeded', settled_at = now() where provider_refund_ref = ${providerRefundRef} and status = 'submitted'`.execute(trx);
  return Number(r.numAffectedRows ?? 0) > 0;
}

/** Staff hand the client the cash owed: move it from refunds-owed out of the office's cash. */
export async function payOutCashRefund(trx: Trx, refundId: string, officeId: string, staffId: string, now = new Date()): Promise<void> {
  const r = await trx.selectFrom('refunds').selectAll().where('id', '=', refundId).forUpdate().executeTakeFirst();
  if (!r) throw new AppError(404, 'REFUND_NOT_FOUND');
  if (r.status !== 'owed_cash') throw new AppError(409, 'REFUND_NOT_OWED');
  await trx.updateTable('refunds').set({ status: 'succeeded', settled_at: now, staff_id: staffId }).where('id', '=', refundId).execute();
  await postEntry(trx, {
    event: 'refund', eventRef: refundId, effectiveDate: localDate(now), postingKey: `refund-payout:${refundId}`, memo: 'cash paid out',
    legs: [{ account: REFUNDS_OWED, cents: Number(r.amount_cents) }, { account: cashAt(officeId), cents: -Number(r.amount_cents) }],
  });
}

export { clearing };
