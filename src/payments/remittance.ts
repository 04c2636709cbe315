/**
 * Remittance to partners. A run makes at most one batch per partner:
 * - from the partner's payment components (and, negative, the refunds it bore) of payments confirmed on or before
 *   the cutoff: the run's day minus the agreement's hold in business days (Ontario holidays);
 * - honouring the pause switch (a paused partner is skipped and counted) and the frequency (weekly: not within 7 days
 *   of the last batch; monthly: not in the same month);
 * - netting the partner's open invoices when the agreement says so (never below zero);
 * - posting one entry: debit the partner's payable by the gross, credit the trust bank account by what is sent and
 *   the invoice receivable by what was netted.
 * Set-based: one run is one transaction whose ONE INSERT … SELECT writes the items of every partner due (a single
 * pass over the components, whatever the number of partners); then each partner's netting, batch row and entry.
 * Never twice: the partners' transaction-scoped advisory locks are taken in sorted order before the items are
 * written (their sum IS the batch), and a unique index allows a payment component (or refund component) in one live
 * item only; a run started twice or by two workers waits, then finds nothing left to remit.
 * States: sent → acknowledged → paid (bank reference); a returned transfer posts the reverse of the batch's entry,
 * frees its items, and the money goes into the next batch.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { AppError } from '../http/errors';
import { localDate } from '../i18n/index';
import { addBusinessDays, addDays } from '../cases/due-date';
import { remittanceTerms } from '../agreements/fees';
import { openInvoicesForNetting, markInvoiceNetted } from '../billing/invoices';
import { BANK, invoiceReceivable, payableOf, postEntry, reverseEntry, FEE_REVENUE, type Trx } from './ledger';

export const TIME_ZONE = 'America/Toronto';

/** Invoices the one-stop issued to a partner, open for netting (the billing capability). */
export interface NettingSource {
  openInvoices(trx: Trx, orgId: string): Promise<Array<{ id: string; openCents: number; totalCents: number }>>;
  markNetted(trx: Trx, invoiceId: string, batchId: string, cents: number): Promise<void>;
}

/** The billing capability's open invoices (openInvoicesForNetting / markInvoiceNetted, in the batch's transaction). */
export const billingNetting: NettingSource = {
  async openInvoices(trx, orgId) {
    return (await openInvoicesForNetting(trx, orgId)).map((i) => ({ id: String(i.invoiceId), openCents: i.openCents, totalCents: i.totalCents }));
  },
  async markNetted(trx, invoiceId, batchId, cents) {
    await markInvoiceNetted(trx, Number(invoiceId), `remittance:${batchId}`, cents);
  },
};

let nettingSource: NettingSource | null = billingNetting;
export function setNettingSource(s: NettingSource | null) {
  nettingSource = s;
}

/** The last confirmation day whose payments are past the hold on `on`. */
export function cutoffFor(on: string, holdBusinessDays: number): string {
  let d = on;
  while (addBusinessDays(d, holdBusinessDays, 'CA-ON') > on) d = addDays(d, -1);
  return d;
}

export interface RunResult {
  runId: string;
  batches: Array<{ id: string; orgId: string; totalCents: number; grossCents: number; nettedCents: number; items: number }>;
  skippedPaused: string[];
}

export async function runRemittance(db: Database, opts: { on?: string; orgIds?: string[]; holdOverride?: number; cutoff?: string } = {}): Promise<RunResult> {
  const on = opts.on ?? localDate();
  const orgs = [...new Set(opts.orgIds ?? (await sql<{ org_id: string }>`
      select distinct a.org_id from ledger_accounts a where a.kind = 'payable' and a.org_id is not null order by 1`.execute(db)).rows.map((r) => r.org_id))].sort();
  const run = await db.insertInto('remittance_runs').values({ run_key: `${on}:${crypto.randomUUID()}`, cutoff_date: on }).returning('id').executeTakeFirstOrThrow();
  const result: RunResult = { runId: run.id, batches: [], skippedPaused: [] };
  const due: Array<{ orgId: string; cutoff: string; terms: Awaited<ReturnType<typeof remittanceTerms>> }> = [];
  for (const orgId of orgs) {
    const terms = await remittanceTerms(db, orgId, on);
    if (terms?.paused) {
      result.skippedPaused.push(orgId);
      continue;
    }
    const hold = opts.holdOverride ?? terms?.holdBusinessDays ?? 3;
    due.push({ orgId, cutoff: opts.cutoff ?? cutoffFor(on, hold), terms });
  }
  if (due.length) {
    result.batches = await db.transaction().execute(async (trx) => {
      // each partner's remittance under its advisory lock, taken in sorted order: a second run (or worker) waits,
      // then finds nothing left
      for (const d of due) await sql`select pg_advisory_xact_lock(hashtext(${'remit:' + d.orgId}))`.execute(trx);
      const last = await sql<{ org_id: string; d: string }>`
        select org_id, max((created_at at time zone ${TIME_ZONE})::date)::text as d from remittance_batches
        where org_id = any(${sql.val(due.map((d) => d.orgId))}::text[]) and status <> 'returned' group by org_id`.execute(trx);
      const lastDay = new Map(last.rows.map((r) => [r.org_id, r.d]));
      const go = due.filter(({ orgId, terms }) => {
        const d = lastDay.get(orgId);
        if (!terms || terms.frequency === 'daily' || !d) return true;
        return !(terms.frequency === 'weekly' ? addDays(d, 7) > on : d.slice(0, 7) === on.slice(0, 7));
      });
      return go.length ? makeBatches(trx, run.id, on, go.map((g) => ({ orgId: g.orgId, cutoff: g.cutoff, agreementId: g.terms?.agreementId ?? null, net: Boolean(g.terms?.netInvoices) }))) : [];
    });
  }
  await db.updateTable('remittance_runs').set({ batches: result.batches.length, skipped_paused: result.skippedPaused.length }).where('id', '=', run.id).execute();
  return result;
}

/** Remit one partner now (the managers' button): refused when paused. */
export async function remitPartner(db: Database, orgId: string, on = localDate()): Promise<RunResult> {
  const terms = await remittanceTerms(db, orgId, on);
  if (terms?.paused) throw new AppError(409, 'REMITTANCE_PAUSED');
  return runRemittance(db, { on, orgIds: [orgId] });
}

/**
 * The batches of one run, set-based: ONE statement writes the items of every partner due (their components, and
 * negative the refund components they bore, of payments confirmed before their cutoff and in no live item yet) and
 * returns each batch's sum; then, per partner, the netting, the batch row and its entry. A partner whose sum is
 * zero or negative gets no batch: its items are taken back and carried to the next run.
 */
async function makeBatches(trx: Trx, runId: string, on: string, parts: Array<{ orgId: string; cutoff: string; agreementId: string | null; net: boolean }>) {
  const ids = parts.map(() => crypto.randomUUID());
  // the first instant after each partner's cutoff day, in Toronto
  const bounds = parts.map((p) => addDays(p.cutoff, 1));
  const sums = await sql<{ batch_id: string; gross: number; n: number }>`
    with o as (
      select * from unnest(${sql.val(parts.map((p) => p.orgId))}::text[], ${sql.val(parts.map((p) => payableOf(p.orgId)))}::text[],
        ${sql.val(ids)}::uuid[], ${sql.val(bounds)}::date[]) as o(org_id, account_id, batch_id, after_day)
    ), ob as (
      select o.*, (o.after_day::timestamp at time zone ${TIME_ZONE}) as bound from o
    ), todo_comp as materialized (
      -- ORDER BY: the whole set is read (and checked against the live items) before the first item is written, so
      -- the anti-join never rescans what this statement is inserting
      select ob.batch_id, ob.org_id, p.id as payment_id, c.id as component_id, c.amount_cents
      from ob join basket_components c on c.account_id = ob.account_id
        join payments p on p.basket_id = c.basket_id and p.status = 'succeeded'
      where p.confirmed_at < ob.bound
        and not exists (select 1 from remittance_items i where i.component_id = c.id and not i.returned)
      order by 1, 4
    ), todo_ref as materialized (
      select ob.batch_id, ob.org_id, f.payment_id, rc.id as refund_component_id, -rc.amount_cents as amount_cents
      from ob join refund_components rc on rc.account_id = ob.account_id
        join refunds f on f.id = rc.refund_id join payments p on p.id = f.payment_id
      where f.status <> 'failed' and p.confirmed_at < ob.bound
        and not exists (select 1 from remittance_items i where i.refund_component_id = rc.id and not i.returned)
      order by 1, 4
    ), comp as (
      insert into remittance_items (batch_id, org_id, payment_id, component_id, amount_cents)
      select batch_id, org_id, payment_id, component_id, amount_cents from todo_comp
      returning batch_id, amount_cents
    ), ref as (
      insert into remittance_items (batch_id, org_id, payment_id, refund_component_id, amount_cents)
      select batch_id, org_id, payment_id, refund_component_id, amount_cents from todo_ref
      returning batch_id, amount_cents
    )
    select batch_id::text as batch_id, sum(amount_cents) as gross, count(*) as n from (select * from comp union all select * from ref) x group by batch_id`.execute(trx);
  const byBatch = new Map(sums.rows.map((r) => [r.batch_id, { gross: Number(r.gross), n: Number(r.n) }]));
  const carried = ids.filter((id) => (byBatch.get(id)?.n ?? 0) > 0 && byBatch.get(id)!.gross <= 0);
  // nothing to send (the partner owes more in refunds than is due): its items are carried over to the next run
  if (carried.length) await sql`delete from remittance_items where batch_id = any(${sql.val(carried)}::uuid[])`.execute(trx);
  const out: RunResult['batches'] = [];
  for (const [i, part] of parts.entries()) {
    const sum = byBatch.get(ids[i]);
    if (!sum || sum.n === 0 || sum.gross <= 0) continue;
    out.push(await finishBatch(trx, runId, ids[i], part.orgId, on, part.agreementId, part.net, sum.gross, sum.n));
  }
  return out;
}

/** A partner's batch whose items are written: netting of its open invoices, the batch row, and its entry. */
async function finishBatch(trx: Trx, runId: string, batchId: string, orgId: string, on: string, agreementId: string | null, net: boolean, gross: number, n: number) {
  const account = payableOf(orgId);
  let netted = 0;
  const nettings: Array<{ id: string; cents: number; total: number }> = [];
  if (net && nettingSource) {
    for (const inv of await nettingSource.openInvoices(trx, orgId)) {
      const cents = Math.min(inv.openCents, gross - netted - 1); // at least one cent is still sent
      if (cents <= 0) break;
      nettings.push({ id: inv.id, cents, total: inv.totalCents });
      netted += cents;
    }
  }
  const total = gross - netted;
  const messageId = `GR${on.replace(/-/g, '')}${batchId.replace(/-/g, '').slice(0, 16)}`;
  await trx.insertInto('remittance_batches').values({ id: batchId, run_id: runId, org_id: orgId, agreement_id: agreementId, gross_cents: gross, netted_cents: netted, total_cents: total, items: n, message_id: messageId, bank_reference: null, entry_id: null, return_entry_id: null }).execute();
  for (const x of nettings) {
    // the invoice's receivable, posted once (posting key) when the ledger first needs it
    await postEntry(trx, { event: 'invoice', eventRef: x.id, effectiveDate: on, postingKey: `invoice:${x.id}`, legs: [{ account: invoiceReceivable(orgId), cents: x.total }, { account: FEE_REVENUE, cents: -x.total }] });
    await trx.insertInto('remittance_nettings').values({ batch_id: batchId, invoice_id: x.id, amount_cents: x.cents }).execute();
    await nettingSource!.markNetted(trx, x.id, batchId, x.cents);
  }
  const legs = [{ account: account, cents: gross }, { account: BANK, cents: -total }];
  if (netted > 0) legs.push({ account: invoiceReceivable(orgId), cents: -netted });
  const entryId = await postEntry(trx, { event: 'remittance', eventRef: batchId, effectiveDate: on, postingKey: `remittance:${batchId}`, legs, memo: messageId });
  await trx.updateTable('remittance_batches').set({ entry_id: entryId }).where('id', '=', batchId).execute();
  return { id: batchId, orgId, totalCents: total, grossCents: gross, nettedCents: netted, items: n };
}

const NEXT: Record<string, string[]> = { sent: ['acknowledged', 'paid', 'returned'], acknowledged: ['paid', 'returned'], paid: ['returned'], returned: [] };

/** The bank acknowledged, paid (with its reference) or returned a transfer. */
export async function setBatchStatus(db: Database, batchId: string, status: 'acknowledged' | 'paid' | 'returned', bankReference?: string | null, on = localDate()): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const b = await trx.selectFrom('remittance_batches').selectAll().where('id', '=', batchId).forUpdate().executeTakeFirst();
    if (!b) throw new AppError(404, 'BATCH_NOT_FOUND');
    if (!NEXT[b.status].includes(status)) throw new AppError(409, 'BATCH_TRANSITION_NOT_ALLOWED');
    if (status === 'paid' && !bankReference) throw new AppError(400, 'BANK_REFERENCE_REQUIRED');
    let returnEntry: number | null = null;
    if (status === 'returned') {
      returnEntry = await reverseEntry(trx, b.entry_id!, { event: 'remittance_return', eventRef: batchId, effectiveDate: on, memo: `returned ${b.message_id}`, postingKey: `remittance-return:${batchId}` });
      await trx.updateTable('remittance_items').set({ returned: true }).where('batch_id', '=', batchId).execute();
      await trx.deleteFrom('remittance_nettings').where('batch_id', '=', batchId).execute();
    }
    await trx.updateTable('remittance_batches').set({ status, status_at: new Date(), bank_reference: bankReference ?? b.bank_reference, return_entry_id: returnEntry ?? b.return_entry_id }).where('id', '=', batchId).execute();
  });
}

/** One line per payment of a batch (the advice page and CSV). */
export async function batchAdvice(db: Database, batchId: string) {
  const b = await db.selectFrom('remittance_batches').innerJoin('organisations', 'organisations.id', 'remittance_batches.org_id')
    .selectAll('remittance_batches').select(['organisations.name_en', 'organisations.name_fr']).where('remittance_batches.id', '=', batchId).executeTakeFirst();
  if (!b) return null;
  const lines = await sql<{ payment_id: string; reference: string; confirmed_on: string; collected: number; refunded: number; net: number }>`
    select i.payment_id, p.reference, (p.confirmed_at at time zone ${TIME_ZONE})::date::text as confirmed_on,
      sum(case when i.amount_cents > 0 then i.amount_cents else 0 end) as collected,
      -sum(case when i.amount_cents < 0 then i.amount_cents else 0 end) as refunded,
      sum(i.amount_cents) as net
    from remittance_items i join payments p on p.id = i.payment_id
    where i.batch_id = ${batchId} group by i.payment_id, p.reference, p.confirmed_at order by p.confirmed_at, p.reference`.execute(db);
  const nettings = await db.selectFrom('remittance_nettings').selectAll().where('batch_id', '=', batchId).execute();
  return {
    batch: { ...b, gross_cents: Number(b.gross_cents), netted_cents: Number(b.netted_cents), total_cents: Number(b.total_cents) },
    lines: lines.rows.map((l) => ({ ...l, collected: Number(l.collected), refunded: Number(l.refunded), net: Number(l.net) })),
    nettings: nettings.map((x) => ({ invoiceId: x.invoice_id, cents: Number(x.amount_cents) })),
  };
}

const csvCell = (v: string | number) => (/[",\n;]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
const dollars = (c: number) => (c / 100).toFixed(2);

/** Bilingual CSV: a header row in both languages, one line per payment, then nettings and the total. */
export function adviceCsv(a: NonNullable<Awaited<ReturnType<typeof batchAdvice>>>): string {
  const rows: Array<Array<string | number>> = [
    ['payment_reference / référence_paiement', 'confirmed_on / confirmé_le', 'collected / perçu', 'refunded / remboursé', 'remitted / versé'],
    ...a.lines.map((l) => [l.reference, l.confirmed_on, dollars(l.collected), dollars(l.refunded), dollars(l.net)]),
    ...a.nettings.map((n) => [`invoice / facture ${n.invoiceId}`, '', '', '', dollars(-n.cents)]),
    ['total', '', '', '', dollars(a.batch.total_cents)],
  ];
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

const xmlEsc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/**
 * ISO 20022 pain.001.001.09 (customer credit transfer initiation): one payment information block for the batch, one
 * credit transfer to the partner; NbOfTxs and CtrlSum in the group header and the block equal the batch. The
 * creditor account is the partner's id (bank account numbers are not kept by Guichet; the bank maps them).
 */
export function pain001(a: NonNullable<Awaited<ReturnType<typeof batchAdvice>>>, debtor = { name: 'Guichet', account: 'GUICHET-TRUST' }, now = new Date()): string {
  const b = a.batch;
  const amt = dollars(b.total_cents);
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>${xmlEsc(b.message_id)}</MsgId>
      <CreDtTm>${now.toISOString().slice(0, 19)}</CreDtTm>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>${amt}</CtrlSum>
      <InitgPty><Nm>${xmlEsc(debtor.name)}</Nm></InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>${xmlEsc(b.message_id)}-1</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>${amt}</CtrlSum>
      <ReqdExctnDt><Dt>${localDate(new Date(b.created_at))}</Dt></ReqdExctnDt>
      <Dbtr><Nm>${xmlEsc(debtor.name)}</Nm></Dbtr>
      <DbtrAcct><Id><Othr><Id>${xmlEsc(debtor.account)}</Id></Othr></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt>
      <CdtTrfTxInf>
        <PmtId><EndToEndId>${xmlEsc(b.message_id)}</EndToEndId></PmtId>
        <Amt><InstdAmt Ccy="CAD">${amt}</InstdAmt></Amt>
        <Cdtr><Nm>${xmlEsc(b.name_en)}</Nm></Cdtr>
        <CdtrAcct><Id><Othr><Id>${xmlEsc(b.org_id)}</Id></Othr></Id></CdtrAcct>
        <RmtInf><Ustrd>${xmlEsc(`Guichet remittance ${b.message_id}: ${a.lines.length} payments`)}</Ustrd></RmtInf>
      </CdtTrfTxInf>
    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
`;
}
