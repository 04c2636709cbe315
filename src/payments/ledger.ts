/**
 * The double-entry ledger. One truth for every cent: an entry has two or more legs in integer cents that sum to
 * zero (debits positive, credits negative); it records the business event that caused it and an effective date
 * apart from the time written. The database refuses an unbalanced entry at commit and any change to a posted one
 * (migrations.ts); a mistake is corrected by a reversing entry (reverseEntry).
 *
 * Concurrency (as pgledger): postEntry locks the entry's accounts in sorted order (SELECT … ORDER BY … FOR UPDATE)
 * in the same statement that writes the entry, so two postings that touch the same accounts queue instead of
 * deadlocking, and the per-account balance (kept by a trigger on each leg, in the same transaction) is always the
 * sum of its legs. The balance lives in 16 shards per account (the session's shard is locked and updated), so hot
 * accounts — the provider's clearing account, the fee revenue — do not make every payment wait for the previous one.
 *
 * Accounts are named by kind and owner:
 *   clearing:<provider>          money the card provider holds for us (asset)
 *   bank:trust                   the one-stop's trust bank account (asset)
 *   cash:<office>                cash, cheques and debit slips held at an office (asset)
 *   payable:<org>                what the one-stop owes a partner (liability; credit balance = owed)
 *   revenue:fees                 the one-stop's own fee components (income)
 *   costs:card                   card processing costs (expense)
 *   refunds:one-stop             refunds the one-stop bears (guarantee refunds when the delay was its own; expense)
 *   refunds-owed                 refunds owed to clients in cash, not yet paid out (liability)
 *   receivable:invoice:<org>     what a partner owes on the one-stop's invoices (asset)
 *   receivable:statement:<biz>   what a business subscriber owes on its monthly statement (asset)
 */
import { sql, type Transaction } from 'kysely';
import type { DB } from '../schema';
import type { AccountKind, LedgerEvent } from './tables';

export type Trx = Transaction<DB>;

import { ONE_STOP_ORG } from '../http/ownership';
export const ONE_STOP_ORG_ID = ONE_STOP_ORG;
export const BANK = 'bank:trust';
export const FEE_REVENUE = 'revenue:fees';
export const CARD_COSTS = 'costs:card';
export const ONE_STOP_REFUNDS = 'refunds:one-stop';
export const REFUNDS_OWED = 'refunds-owed';
export const clearing = (provider: string) => `clearing:${provider}`;
export const cashAt = (officeId: string) => `cash:${officeId}`;
export const payableOf = (orgId: string) => (orgId === ONE_STOP_ORG_ID ? FEE_REVENUE : `payable:${orgId}`);
export const invoiceReceivable = (orgId: string) => `receivable:invoice:${orgId}`;
export const statementReceivable = (businessId: string) => `receivable:statement:${businessId}`;

/** Largest amount one leg may carry (1 billion dollars): anything larger is a mistake, refused before SQL. */
export const MAX_LEG_CENTS = 100_000_000_000;

export interface AccountSpec {
  id: string;
  kind: AccountKind;
  org_id: string | null;
  office_id: string | null;
  business_id: string | null;
}

/** The kind and owner of an account, read from its name. */
export function accountSpec(id: string): AccountSpec {
  const base = { id, org_id: null, office_id: null, business_id: null } as AccountSpec;
  const [head, a, b] = id.split(':');
  switch (head) {
    case 'clearing': return { ...base, kind: 'clearing' };
    case 'bank': return { ...base, kind: 'bank' };
    case 'cash': return { ...base, kind: 'cash', office_id: a };
    case 'payable': return { ...base, kind: 'payable', org_id: a };
    case 'revenue': return { ...base, kind: 'fee_revenue', org_id: ONE_STOP_ORG_ID };
    case 'costs': return { ...base, kind: 'card_costs', org_id: ONE_STOP_ORG_ID };
    case 'refunds': return { ...base, kind: 'refunds', org_id: ONE_STOP_ORG_ID };
    case 'refunds-owed': return { ...base, kind: 'refunds_owed' };
    case 'receivable':
      if (a === 'invoice') return { ...base, kind: 'receivable_invoice', org_id: b };
      if (a === 'statement') return { ...base, kind: 'receivable_statement', business_id: b };
  }
  throw new Error(`ledger: unknown account name ${id}`);
}

/** Create the accounts that do not exist yet, with their 16 balance shards (idempotent). */
export async function ensureAccounts(trx: Pick<Trx, 'executeQuery'> | any, ids: string[]): Promise<void> {
  const specs = [...new Set(ids)].sort().map(accountSpec);
  if (specs.length === 0) return;
  await sql`
    with a as (
      insert into ledger_accounts (id, kind, org_id, office_id, business_id)
      select * from unnest(${sql.val(specs.map((s) => s.id))}::text[], ${sql.val(specs.map((s) => s.kind))}::text[],
        ${sql.val(specs.map((s) => s.org_id))}::text[], ${sql.val(specs.map((s) => s.office_id))}::text[],
        ${sql.val(specs.map((s) => s.business_id))}::text[])
      order by 1
      on conflict (id) do nothing
      returning id
    )
    insert into ledger_balances (account_id, shard) select a.id, g from a cross join generate_series(0, 15) g
    on conflict do nothing`.execute(trx);
}

export interface Leg {
  account: string;
  cents: number;
}

export interface EntryInput {
  event: LedgerEvent;
  eventRef: string;
  /** 'YYYY-MM-DD': the day the money moved in the business sense (may differ from the time written). */
  effectiveDate: string;
  /** One posting per business fact: a second postEntry with the same key posts nothing and returns null. */
  postingKey: string;
  memo?: string;
  legs: Leg[];
  reversesEntryId?: number | null;
}

export class LedgerError extends Error {}

/** Checks an entry before it reaches the database (which checks again at commit). */
export function checkLegs(legs: Leg[]): void {
  if (legs.length < 2) throw new LedgerError('an entry needs at least two legs');
  let sum = 0;
  for (const l of legs) {
    if (!Number.isSafeInteger(l.cents) || l.cents === 0 || Math.abs(l.cents) > MAX_LEG_CENTS) {
      throw new LedgerError(`leg of ${l.cents} cents on ${l.account} is not a non-zero integer amount in range`);
    }
    sum += l.cents;
  }
  if (sum !== 0) throw new LedgerError(`entry is unbalanced by ${sum} cents`);
}

/**
 * The lock of a posting: this session's balance shard of each account, in sorted order (FOR UPDATE above ORDER BY
 * locks rows as they come out of the sort), so concurrent postings queue instead of deadlocking.
 */
const LOCK_CTE = (ids: string[]) =>
  sql`select account_id from ledger_balances where account_id = any(${sql.val(ids)}::text[]) and shard = pg_backend_pid() % 16 order by account_id for update`;

/**
 * Post one entry inside the caller's transaction. Returns the entry id, or null when an entry with the same
 * posting key exists already (the fact was posted before: nothing changes).
 */
export async function postEntry(trx: Trx, e: EntryInput): Promise<number | null> {
  checkLegs(e.legs);
  // legs in account order (the balance trigger updates each account's shard as its leg is written)
  const legs = [...e.legs].sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
  const ids = [...new Set(legs.map((l) => l.account))];
  // one statement: lock the accounts' shards in sorted order, then write the entry and its legs — the locks are held
  // only for this statement and the commit
  const post = () => sql<{ entry_id: number }>`
    with locked as (${LOCK_CTE(ids)}),
    e as (
      insert into journal_entries (event, event_ref, effective_date, memo, reverses_entry_id, posting_key)
      select ${e.event}, ${e.eventRef}, ${e.effectiveDate}::date, ${e.memo ?? ''}, ${e.reversesEntryId ?? null}::bigint, ${e.postingKey}
      where (select count(*) from locked) = ${ids.length}
      on conflict (posting_key) do nothing
      returning id
    )
    insert into journal_legs (entry_id, account_id, amount_cents)
    select e.id, l.account_id, l.cents
    from e cross join unnest(${sql.val(legs.map((l) => l.account))}::text[], ${sql.val(legs.map((l) => l.cents))}::bigint[])
      with ordinality as l(account_id, cents, n)
    order by l.n
    returning entry_id`.execute(trx);
  let res = await post();
  if (res.rows.length === 0) {
    const exists = await sql`select 1 from journal_entries where posting_key = ${e.postingKey}`.execute(trx);
    if (exists.rows.length) return null; // posted before: nothing changes
    await ensureAccounts(trx, ids); // an account was missing: create it, then post
    res = await post();
  }
  return res.rows.length ? Number(res.rows[0].entry_id) : null;
}

/** Lock accounts without posting (kept for callers that need to serialise on accounts). */
export async function lockAccounts(trx: Trx, accountIds: string[]): Promise<void> {
  const ids = [...new Set(accountIds)].sort();
  await ensureAccounts(trx, ids);
  await LOCK_CTE(ids).execute(trx);
}

/** Post the exact reverse of an entry (a correction, or a returned transfer). */
export async function reverseEntry(
  trx: Trx,
  entryId: number,
  opts: { event?: LedgerEvent; eventRef?: string; effectiveDate: string; memo?: string; postingKey?: string },
): Promise<number | null> {
  const orig = await trx.selectFrom('journal_entries').selectAll().where('id', '=', entryId).executeTakeFirst();
  if (!orig) throw new LedgerError(`entry ${entryId} does not exist`);
  const legs = await trx.selectFrom('journal_legs').select(['account_id', 'amount_cents']).where('entry_id', '=', entryId).execute();
  return postEntry(trx, {
    event: opts.event ?? 'correction',
    eventRef: opts.eventRef ?? orig.event_ref,
    effectiveDate: opts.effectiveDate,
    postingKey: opts.postingKey ?? `reversal:${entryId}`,
    memo: opts.memo ?? `reverses entry ${entryId}`,
    reversesEntryId: entryId,
    legs: legs.map((l) => ({ account: l.account_id, cents: -Number(l.amount_cents) })),
  });
}

/** Whole-ledger checks (tests, the managers' page, the benchmark). */
export async function ledgerTotals(db: { executeQuery: any } | any): Promise<{ legsSum: number; balancesSum: number; unbalancedEntries: number; driftAccounts: number }> {
  const r = await sql<{ legs_sum: number; balances_sum: number; unbalanced: number; drift: number }>`
    select
      (select coalesce(sum(amount_cents), 0) from journal_legs)::bigint as legs_sum,
      (select coalesce(sum(balance_cents), 0) from ledger_balances)::bigint as balances_sum,
      (select count(*) from (select entry_id from journal_legs group by entry_id having sum(amount_cents) <> 0 or count(*) < 2) u)::bigint as unbalanced,
      (select count(*) from ledger_account_balances a where a.balance_cents <> coalesce((select sum(amount_cents) from journal_legs l where l.account_id = a.id), 0))::bigint as drift`.execute(db);
  const row = r.rows[0];
  return { legsSum: Number(row.legs_sum), balancesSum: Number(row.balances_sum), unbalancedEntries: Number(row.unbalanced), driftAccounts: Number(row.drift) };
}

export async function balanceOf(db: any, account: string): Promise<number> {
  const r = await sql<{ b: number }>`select coalesce(sum(balance_cents), 0) as b from ledger_balances where account_id = ${account}`.execute(db);
  return r.rows.length ? Number(r.rows[0].b) : 0;
}
