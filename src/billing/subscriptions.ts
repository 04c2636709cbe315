/**
 * Business subscribers (Maine's premium services): a business takes a yearly subscription; its people then pay
 * transactions on account (chargeOnAccount, called by the payments capability) and get a monthly statement; a
 * statement under the minimum is carried to the next month. Subscriptions renew, lapse or are cancelled; only an
 * active, unexpired one buys on account.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../schema';
import { AppError } from '../http/errors';
import { localDate } from '../i18n/index';
import { addDays, addMonths, BILLING_TZ, checkCents, checkDate } from './billing';

type Db = Kysely<DB> | Transaction<DB>;

export const DEFAULT_YEARLY_CENTS = 7_500;
export const DEFAULT_MINIMUM_CENTS = 1_500;
/** Days a statement is due after it is issued. */
export const STATEMENT_DUE_DAYS = 20;
/** The largest single charge on account (cents): $1,000,000. */
export const MAX_CHARGE_CENTS = 100_000_000;

const today = (d?: string) => d ?? localDate(new Date(), BILLING_TZ);

async function business(db: Db, businessId: string) {
  const c = await db.selectFrom('clients').select(['id', 'kind']).where('id', '=', businessId).executeTakeFirst();
  if (!c) throw new AppError(404, 'BUSINESS_NOT_FOUND');
  if (c.kind !== 'business') throw new AppError(400, 'NOT_A_BUSINESS');
  return c;
}

/**
 * A business takes a yearly subscription from `on` (default today) to the same day a year later; the yearly fee is
 * its first charge on account. 409 SUBSCRIPTION_EXISTS when it already has an active one.
 */
export async function subscribe(db: Kysely<DB>, input: { businessId: string; yearlyCents?: number; minimumCents?: number; autoRenew?: boolean; on?: string }) {
  const yearly = checkCents(input.yearlyCents ?? DEFAULT_YEARLY_CENTS, 'yearlyCents');
  const minimum = checkCents(input.minimumCents ?? DEFAULT_MINIMUM_CENTS, 'minimumCents');
  const on = input.on ? checkDate(input.on, 'on') : today();
  return db.transaction().execute(async (trx) => {
    await business(trx, input.businessId);
    const sub = await sql<{ id: number }>`
      insert into billing_subscriptions (business_id, status, yearly_cents, minimum_cents, starts_on, ends_on, auto_renew)
      values (${input.businessId}, 'active', ${yearly}, ${minimum}, ${on}::date, ${addMonths(on, 12)}::date, ${input.autoRenew ?? true})
      on conflict (business_id) where status = 'active' do nothing
      returning id`.execute(trx);
    if (!sub.rows[0]) throw new AppError(409, 'SUBSCRIPTION_EXISTS');
    const id = Number(sub.rows[0].id);
    if (yearly > 0) {
      await trx.insertInto('billing_account_charges').values({ subscription_id: id, business_id: input.businessId, basket_ref: `subscription:${id}:${on}`, amount_cents: yearly, kind: 'subscription_fee', charged_at: new Date(`${on}T12:00:00Z`), statement_id: null }).execute();
    }
    return subscriptionOf(trx, input.businessId);
  });
}

/** The business's latest subscription (active if there is one), or null. */
export async function subscriptionOf(db: Db, businessId: string) {
  const s = await db.selectFrom('billing_subscriptions').selectAll().where('business_id', '=', businessId)
    .orderBy(sql`status = 'active'`, 'desc').orderBy('id', 'desc').executeTakeFirst();
  return s ? { ...s, id: Number(s.id), yearly_cents: Number(s.yearly_cents), minimum_cents: Number(s.minimum_cents) } : null;
}

/** Cancels the active subscription now: the account can no longer buy on account. 409 NO_ACTIVE_SUBSCRIPTION. */
export async function cancelSubscription(db: Db, businessId: string) {
  const u = await db.updateTable('billing_subscriptions').set({ status: 'cancelled', auto_renew: false, cancelled_at: new Date() })
    .where('business_id', '=', businessId).where('status', '=', 'active').returning('id').executeTakeFirst();
  if (!u) throw new AppError(409, 'NO_ACTIVE_SUBSCRIPTION');
  return subscriptionOf(db, businessId);
}

/**
 * The daily renewal pass (job billing.subscriptions): an active subscription whose year has ended renews for a year
 * (a new yearly fee on account) when it renews automatically, else lapses. Idempotent: a renewed one ends later.
 */
export async function renewOrLapse(db: Kysely<DB>, on?: string) {
  const day = today(on);
  return db.transaction().execute(async (trx) => {
    const lapsed = await trx.updateTable('billing_subscriptions').set({ status: 'lapsed' })
      .where('status', '=', 'active').where('auto_renew', '=', false).where('ends_on', '<=', day).returning('id').execute();
    // Renewal: a year (or several, if the job did not run for that long) added; one fee per year added, keyed by its start.
    const renewed = await sql<{ id: number; business_id: string; yearly_cents: number; old_end: string }>`
      with due as (select id, ends_on from billing_subscriptions where status = 'active' and auto_renew and ends_on <= ${day}::date for update)
      update billing_subscriptions s set ends_on = (due.ends_on + interval '1 year')::date
        from due where s.id = due.id
      returning s.id, s.business_id, s.yearly_cents, to_char(due.ends_on, 'YYYY-MM-DD') as old_end`.execute(trx);
    for (const r of renewed.rows) {
      if (Number(r.yearly_cents) > 0) {
        await sql`insert into billing_account_charges (subscription_id, business_id, basket_ref, amount_cents, kind, charged_at)
          values (${r.id}, ${r.business_id}, ${`subscription:${r.id}:${r.old_end}`}, ${r.yearly_cents}, 'subscription_fee', ${new Date(`${r.old_end}T12:00:00Z`)})
          on conflict (business_id, basket_ref) do nothing`.execute(trx);
      }
    }
    return { lapsed: lapsed.length, renewed: renewed.rows.length };
  });
}

/**
 * Charges a transaction to a business's account (for the payments capability, in its transaction). Refused with
 * 409 ACCOUNT_LAPSED / ACCOUNT_CANCELLED / NO_ACCOUNT when the business has no active, unexpired subscription;
 * 400 INVALID_AMOUNT for an amount that is not a positive integer of cents up to MAX_CHARGE_CENTS. Idempotent per
 * (businessId, basketRef): the same again returns the first charge; another amount → 409 IDEMPOTENCY_CONFLICT.
 */
export async function chargeOnAccount(trx: Db, input: { businessId: string; basketRef: string; amountCents: number; on?: string }) {
  const { businessId, basketRef, amountCents } = input;
  if (typeof amountCents !== 'number' || !Number.isInteger(amountCents) || amountCents <= 0 || amountCents > MAX_CHARGE_CENTS) {
    throw new AppError(400, 'INVALID_AMOUNT', undefined, undefined, [{ field: 'amountCents', code: 'invalid' }]);
  }
  if (typeof basketRef !== 'string' || !basketRef || basketRef.length > 200 || basketRef.startsWith('subscription:')) {
    throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'basketRef', code: 'invalid' }]);
  }
  const day = today(input.on);
  const sub = await trx.selectFrom('billing_subscriptions').select(['id', 'status', 'ends_on'])
    .where('business_id', '=', businessId).orderBy(sql`status = 'active'`, 'desc').orderBy('id', 'desc').executeTakeFirst();
  if (!sub) throw new AppError(409, 'NO_ACCOUNT');
  if (sub.status === 'cancelled') throw new AppError(409, 'ACCOUNT_CANCELLED');
  if (sub.status === 'lapsed' || sub.ends_on <= day) throw new AppError(409, 'ACCOUNT_LAPSED');
  const ins = await sql<{ id: number; amount_cents: number; inserted: boolean }>`
    with i as (
      insert into billing_account_charges (subscription_id, business_id, basket_ref, amount_cents, kind, charged_at)
      values (${sub.id}, ${businessId}, ${basketRef}, ${amountCents}, 'transaction', ${input.on ? new Date(`${input.on}T12:00:00Z`) : new Date()})
      on conflict (business_id, basket_ref) do nothing
      returning id, amount_cents
    )
    select id, amount_cents, true as inserted from i
    union all
    select id, amount_cents, false from billing_account_charges where business_id = ${businessId} and basket_ref = ${basketRef} and not exists (select 1 from i)`.execute(trx);
  const row = ins.rows[0];
  if (!row) throw new AppError(409, 'IDEMPOTENCY_CONFLICT');
  if (Number(row.amount_cents) !== amountCents) throw new AppError(409, 'IDEMPOTENCY_CONFLICT');
  return { chargeId: Number(row.id), subscriptionId: Number(sub.id), amountCents, replayed: !row.inserted };
}

/**
 * Monthly statements for `month` (first day; must have ended by `on`): for every business with charges that month
 * or an amount carried from an earlier month, total = that month's charges + the carried amount. A total under the
 * subscription's minimum is 'carried' (not due; added to the next statement), else 'issued', due in 20 days.
 * Idempotent: UNIQUE (business_id, month).
 */
export async function runStatements(db: Kysely<DB>, month: string, on?: string) {
  checkDate(month, 'month');
  if (!month.endsWith('-01')) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'month', code: 'notFirstOfMonth' }]);
  const day = today(on);
  const end = addMonths(month, 1);
  if (end > day) throw new AppError(409, 'PERIOD_NOT_ENDED');
  const prev = addMonths(month, -1);
  return db.transaction().execute(async (trx) => {
    const made = await sql<{ id: number }>`
      with charges as (
        select business_id, max(subscription_id) as subscription_id, sum(amount_cents) as cents
          from billing_account_charges
         where charged_at >= (${month}::timestamp at time zone ${BILLING_TZ}) and charged_at < (${end}::timestamp at time zone ${BILLING_TZ})
         group by business_id
      ),
      carried as (
        select business_id, subscription_id, total_cents from billing_statements where month = ${prev}::date and status = 'carried'
      ),
      src as (
        select coalesce(c.business_id, k.business_id) as business_id, coalesce(c.subscription_id, k.subscription_id) as subscription_id,
               coalesce(c.cents, 0) as charges, coalesce(k.total_cents, 0) as carried_in
          from charges c full join carried k on k.business_id = c.business_id
      )
      insert into billing_statements (business_id, subscription_id, month, charges_cents, carried_in_cents, total_cents, status, due_on)
      select src.business_id, src.subscription_id, ${month}::date, src.charges, src.carried_in, src.charges + src.carried_in,
             case when src.charges + src.carried_in < s.minimum_cents then 'carried' else 'issued' end,
             case when src.charges + src.carried_in < s.minimum_cents then null else ${addDays(day, STATEMENT_DUE_DAYS)}::date end
        from src join billing_subscriptions s on s.id = src.subscription_id
       where src.charges + src.carried_in > 0
      on conflict (business_id, month) do nothing
      returning id`.execute(trx);
    const ids = made.rows.map((r) => Number(r.id));
    if (ids.length) {
      await sql`update billing_account_charges a set statement_id = st.id
        from billing_statements st
       where st.id = any(${ids}::bigint[]) and a.business_id = st.business_id and a.statement_id is null
         and a.charged_at >= (${month}::timestamp at time zone ${BILLING_TZ}) and a.charged_at < (${end}::timestamp at time zone ${BILLING_TZ})`.execute(trx);
    }
    return { statements: ids.length };
  });
}

export async function statementsOf(db: Db, businessId: string) {
  const rows = await db.selectFrom('billing_statements').selectAll().where('business_id', '=', businessId).orderBy('month', 'desc').execute();
  return rows.map((r) => ({ ...r, id: Number(r.id), charges_cents: Number(r.charges_cents), carried_in_cents: Number(r.carried_in_cents), total_cents: Number(r.total_cents) }));
}

export async function chargesOf(db: Db, businessId: string, statementId?: number) {
  let q = db.selectFrom('billing_account_charges').selectAll().where('business_id', '=', businessId).orderBy('charged_at');
  if (statementId) q = q.where('statement_id', '=', statementId);
  const rows = await q.execute();
  return rows.map((r) => ({ ...r, id: Number(r.id), amount_cents: Number(r.amount_cents) }));
}
