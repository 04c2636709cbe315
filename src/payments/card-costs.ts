/**
 * Card costs: the provider keeps its fee out of what it pays us, so the clearing account holds less than the clients
 * paid. For each of our card payments in the provider's settlement report of a day, one balanced entry (event
 * 'settlement'): debit costs:card by the provider's fee, credit clearing:<provider> by the same. Posting key
 * `card-fee:<provider>:<providerRef>`: a day posted twice (the job firing twice, two nodes) posts nothing more.
 * A line of the report that is not one of our succeeded payments is not posted (the reconciliation lists it).
 * Job payments.cardcosts (daily) posts the last three UTC days of reports (the provider's days are UTC).
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { CARD_COSTS, clearing, postEntry } from './ledger';
import type { PaymentProvider, SettlementLine } from './providers/types';

export interface CardCostsResult {
  day: string;
  /** Entries posted by this call (0 when the day was posted before). */
  posted: number;
  /** The provider's fees on our payments of the day (posted now or before). */
  feesCents: number;
  /** Report lines that are not one of our succeeded payments (not posted). */
  unmatched: number;
}

export async function postCardCosts(db: Database, provider: PaymentProvider, day: string, report?: SettlementLine[]): Promise<CardCostsResult> {
  const lines = (report ?? (await provider.settlementReport(day))).filter((l) => Number.isSafeInteger(l.feeCents) && l.feeCents > 0);
  const out: CardCostsResult = { day, posted: 0, feesCents: 0, unmatched: 0 };
  if (!lines.length) return out;
  const ours = await db.selectFrom('payments').select(['id', 'provider_ref', 'reference'])
    .where('provider', '=', provider.name).where('status', '=', 'succeeded').where('provider_ref', 'in', lines.map((l) => l.providerRef)).execute();
  const byRef = new Map(ours.map((p) => [p.provider_ref, p]));
  const account = clearing(provider.name);
  await db.transaction().execute(async (trx) => {
    for (const l of lines) {
      const p = byRef.get(l.providerRef);
      if (!p) {
        out.unmatched++;
        continue;
      }
      out.feesCents += l.feeCents;
      const id = await postEntry(trx, {
        event: 'settlement', eventRef: p.id, effectiveDate: l.capturedOn || day, postingKey: `card-fee:${provider.name}:${l.providerRef}`,
        memo: `card fee ${p.reference}`, legs: [{ account: CARD_COSTS, cents: l.feeCents }, { account, cents: -l.feeCents }],
      });
      if (id !== null) out.posted++;
    }
  });
  return out;
}

/** Card costs posted in our ledger for a provider's day (the reconciliation compares them with the report's fees). */
export async function cardCostsPosted(db: Database, providerName: string, day: string): Promise<number> {
  const r = await sql<{ s: number }>`
    select coalesce(sum(l.amount_cents), 0) as s from journal_entries e join journal_legs l on l.entry_id = e.id
    where e.event = 'settlement' and e.posting_key like ${`card-fee:${providerName}:%`} and e.effective_date = ${day}::date and l.account_id = ${CARD_COSTS}`.execute(db);
  return Number(r.rows[0]?.s ?? 0);
}
