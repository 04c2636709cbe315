/**
 * The double-entry ledger. One truth for every cent: an entry has two or more legs in integer cents that sum to
 * zero (debits positive, credits negative); it records the business event that caused it and an effective date
 * apart from the time written. The database refuses an unbalanced entry at commit and any change to a posted one
 * (migrations.ts); a mistake is corrected by a reversing entry (reverseEntry).
 *
 * Concurrency (as pgledger): postEntry locks the entry's accounts in sorted order (SELECT … ORDER BY id FOR UPDATE)
 * before writing, so two postings that touch the same accounts queue instead of deadlocking, and the per-account
 * balance (kept by a trigger on each leg) is always the sum of its legs.
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

export const ONE_STOP_ORG_ID = 'guichet';
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

/** Create the accounts that do not exist yet (idempotent). */
export async function ensureAccounts(trx: Pick<Trx, 'executeQuery'> | any, ids: string[]): Promise<void> {
  const specs = [...new Set(ids)].sort().map(accountSpec);
  if (specs.length === 0) return;
  await sql`insert into ledger_accounts (id, kind, org_id, office_id, business_id)
    select * from unnest(${sql.val(specs.map((s) => s.id))}::text[], ${sql.val(specs.map((s) => s.kind))}::text[],
      ${sql.val(specs.map((s) => s.org_id))}::text[], ${sql.val(specs.map((s) => s.office_id))}::text[],
      ${sql.val(specs.map((s) => s.business_id))}::text[])
    order by 1
    on conflict (id) do nothing`.execute(trx);
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

/** Lock the accounts in sorted order (creating any that are missing first). */
export async function lockAccounts(trx: Trx, accountIds: string[]): Promise<void> {
  const ids = [...new Set(accountIds)].sort();
  const lock = () =>
    sql<{ id: string }>`select id from ledger_accounts where id = any(${sql.val(ids)}::text[]) order by id for update`.execute(trx);
  let rows = (await lock()).rows;
  if (rows.length < ids.length) {
    await ensureAccounts(trx, ids);
    rows = (await lock()).rows;
  }
}

/**
 * Post one entry inside the caller's transaction. Returns the entry id, or null when an entry with the same
 * posting key exists already (the fact was posted before: nothing changes).
 */
export async function postEntry(trx: Trx, e: EntryInput): Promise<number | null> {
  checkLegs(e.legs);
  await lockAccounts(trx, e.legs.map((l) => l.account));
  // legs in account order as well (the balance trigger updates each account as its leg is written)
  const legs = [...e.legs].sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
  const res = await sql<{ entry_id: number }>`
    with e as (
      insert into journal_entries (event, event_ref, effective_date, memo, reverses_entry_id, posting_key)
      values (${e.event}, ${e.eventRef}, ${e.effectiveDate}, ${e.memo ?? ''}, ${e.reversesEntryId ?? null}, ${e.postingKey})
      on conflict (posting_key) do nothing
      returning id
    )
    insert into journal_legs (entry_id, account_id, amount_cents)
    select e.id, l.account_id, l.cents
    from e cross join unnest(${sql.val(legs.map((l) => l.account))}::text[], ${sql.val(legs.map((l) => l.cents))}::bigint[])
      with ordinality as l(account_id, cents, n)
    order by l.n
    returning entry_id`.execute(trx);
  return res.rows.length ? Number(res.rows[0].entry_id) : null;
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
      (select coalesce(sum(balance_cents), 0) from ledger_accounts)::bigint as balances_sum,
      (select count(*) from (select entry_id from journal_legs group by entry_id having sum(amount_cents) <> 0 or count(*) < 2) u)::bigint as unbalanced,
      (select count(*) from ledger_accounts a where a.balance_cents <> coalesce((select sum(amount_cents) from journal_legs l where l.account_id = a.id), 0))::bigint as drift`.execute(db);
  const row = r.rows[0];
  return { legsSum: Number(row.legs_sum), balancesSum: Number(row.balances_sum), unbalancedEntries: Number(row.unbalanced), driftAccounts: Number(row.drift) };
}

export async function balanceOf(db: any, account: string): Promise<number> {
  const r = await sql<{ b: number }>`select balance_cents as b from ledger_accounts where id = ${account}`.execute(db);
  return r.rows.length ? Number(r.rows[0].b) : 0;
}
