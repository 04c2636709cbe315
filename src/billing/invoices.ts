/**
 * Reading invoices (managers see all, a partner's staff only their own: another partner's invoice is 404), the
 * records behind a line, disputes, CSV, and netting against remittances (for the payments capability).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../schema';
import { AppError } from '../http/errors';
import { pick, t, type Lang } from '../i18n/index';
import { addDays, billedIds, isBillingManager, MAX_YEARLY_CENTS, type Viewer } from './billing';

type Db = Kysely<DB>;

/** Who may read invoices: one-stop managers (all), a partner organisation's staff with the partner or manager role (their own). */
function scope(v: Viewer): string | null {
  if (isBillingManager(v)) return null;
  if (v.roles.some((r) => r === 'partner' || r === 'manager')) return v.orgId;
  throw new AppError(403, 'FORBIDDEN');
}

export const invoiceNumber = (inv: { year: number; number: number | null }) => `${inv.year}-${String(inv.number ?? 0).padStart(6, '0')}`;

export async function listInvoices(db: Db, viewer: Viewer, opts: { partnerOrgId?: string; limit?: number } = {}) {
  const own = scope(viewer);
  let q = db
    .selectFrom('billing_invoices as i')
    .innerJoin('organisations as o', 'o.id', 'i.partner_org_id')
    .select(['i.id', 'i.agreement_id', 'i.partner_org_id', 'i.period_start', 'i.period_end', 'i.year', 'i.number', 'i.issued_on', 'i.due_on', 'i.total_cents', 'i.netted_cents', 'i.status', 'o.name_en', 'o.name_fr'])
    .select(sql<number>`(select count(*) from billing_disputes d where d.invoice_id = i.id and d.status = 'open')`.as('open_disputes'))
    .orderBy('i.year', 'desc')
    .orderBy('i.number', 'desc')
    .limit(Math.min(Math.max(opts.limit ?? 200, 1), 1000));
  if (own) q = q.where('i.partner_org_id', '=', own);
  if (opts.partnerOrgId) q = q.where('i.partner_org_id', '=', opts.partnerOrgId);
  const rows = await q.execute();
  return rows.map((r) => ({ ...r, total_cents: Number(r.total_cents), netted_cents: Number(r.netted_cents), open_disputes: Number(r.open_disputes), label: invoiceNumber(r), period_last: addDays(r.period_end, -1) }));
}

/** One invoice with its lines and disputes; 404 when it does not exist or belongs to another partner. */
export async function invoiceDetail(db: Db, viewer: Viewer, id: number) {
  const own = scope(viewer);
  let q = db
    .selectFrom('billing_invoices as i')
    .innerJoin('organisations as o', 'o.id', 'i.partner_org_id')
    .selectAll('i')
    .select(['o.name_en', 'o.name_fr'])
    .where('i.id', '=', id);
  if (own) q = q.where('i.partner_org_id', '=', own);
  const inv = await q.executeTakeFirst();
  if (!inv) throw new AppError(404, 'INVOICE_NOT_FOUND');
  const [lines, disputes] = await Promise.all([
    db.selectFrom('billing_invoice_lines').selectAll().where('invoice_id', '=', id).orderBy('source_kind').orderBy('channel').orderBy('info_only').orderBy('unit_cents').execute(),
    db.selectFrom('billing_disputes').selectAll().where('invoice_id', '=', id).orderBy('id').execute(),
  ]);
  const n = (x: unknown) => Number(x);
  return {
    invoice: { ...inv, total_cents: n(inv.total_cents), netted_cents: n(inv.netted_cents), label: invoiceNumber(inv), period_last: addDays(inv.period_end, -1), balance_cents: n(inv.total_cents) - n(inv.netted_cents) },
    lines: lines.map((l) => ({ ...l, id: n(l.id), unit_cents: n(l.unit_cents), quantity: n(l.quantity), amount_cents: n(l.amount_cents) })),
    disputes: disputes.map((d) => ({ ...d, id: n(d.id), line_id: n(d.line_id) })),
  };
}

/** The records a line counts (source kind and id), for tracing it to what Guichet recorded. */
export async function lineItems(db: Db, viewer: Viewer, invoiceId: number, lineId: number, opts: { limit?: number; after?: string } = {}) {
  const d = await invoiceDetail(db, viewer, invoiceId);
  const line = d.lines.find((l) => l.id === lineId);
  if (!line) throw new AppError(404, 'LINE_NOT_FOUND');
  const after = opts.after ?? '';
  const limit = Math.min(Math.max(opts.limit ?? 500, 1), 5000);
  const rows = await sql<{ source_kind: string; source_id: string; day: string }>`
    select b.source_kind, x.id as source_id, to_char(b.day, 'YYYY-MM-DD') as day
      from billed_items b cross join unnest(${billedIds('b')}) as x(id)
     where b.invoice_id = ${invoiceId} and b.source_kind = ${line.source_kind} and b.channel = ${line.channel}
       and b.info_only = ${line.info_only} and b.unit_cents = ${line.unit_cents} and x.id > ${after}
     order by x.id limit ${limit}`.execute(db);
  return { line, items: rows.rows };
}

export const lineLabel = (lang: Lang, l: { source_kind: string; channel: string; info_only: boolean }) =>
  `${t(lang, `billing.kind.${l.source_kind}`)}${l.source_kind === 'fixed_fee' ? '' : ` — ${t(lang, `billing.channel.${l.channel}`)}`}${l.info_only ? ` (${t(lang, 'billing.infoOnly')})` : ''}`;

const csvCell = (v: unknown) => {
  const s = String(v ?? '');
  return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${(/^[=+\-@]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"` : s;
};

/** The invoice as CSV in the reader's language (headings and line labels translated; amounts in cents and dollars). */
export function invoiceCsv(d: Awaited<ReturnType<typeof invoiceDetail>>, lang: Lang): string {
  const head = ['invoice', 'partner', 'period_start', 'period_end', 'line', 'kind', 'channel', 'info_only', 'unit_cents', 'quantity', 'amount_cents'].map((k) => t(lang, `billing.csv.${k}`));
  const rows = d.lines.map((l) => [
    d.invoice.label, pick(d.invoice as any, 'name', lang), d.invoice.period_start, d.invoice.period_end, lineLabel(lang, l), l.source_kind, l.channel, l.info_only ? 1 : 0, l.unit_cents, l.quantity, l.amount_cents,
  ]);
  rows.push([d.invoice.label, pick(d.invoice as any, 'name', lang), d.invoice.period_start, d.invoice.period_end, t(lang, 'billing.total'), '', '', '', '', '', d.invoice.total_cents]);
  return [head, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** A partner's staff dispute one line of their own invoice, with a reason. One open dispute per line (409). */
export async function disputeLine(db: Db, viewer: Viewer, invoiceId: number, lineId: number, reason: string) {
  const r = typeof reason === 'string' ? reason.trim() : '';
  if (!r) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'reason', code: 'required' }]);
  if (r.length > 2000) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'reason', code: 'tooLong' }]);
  if (isBillingManager(viewer)) throw new AppError(403, 'FORBIDDEN');
  const own = scope(viewer)!;
  // Access checked in the statement itself: the line must be on an invoice of the viewer's organisation.
  const row = await sql<{ id: number }>`
    insert into billing_disputes (invoice_id, line_id, partner_org_id, reason, raised_by)
    select i.id, l.id, i.partner_org_id, ${r}, ${viewer.id}
      from billing_invoices i join billing_invoice_lines l on l.invoice_id = i.id
     where i.id = ${invoiceId} and l.id = ${lineId} and i.partner_org_id = ${own}
    on conflict (line_id) where status = 'open' do nothing
    returning id`.execute(db);
  if (row.rows[0]) return { id: Number(row.rows[0].id), status: 'open' as const };
  const seen = await db.selectFrom('billing_invoice_lines as l').innerJoin('billing_invoices as i', 'i.id', 'l.invoice_id')
    .select('l.id').where('l.id', '=', lineId).where('i.id', '=', invoiceId).where('i.partner_org_id', '=', own).executeTakeFirst();
  if (!seen) throw new AppError(404, 'INVOICE_NOT_FOUND');
  throw new AppError(409, 'DISPUTE_ALREADY_OPEN');
}

/** A one-stop manager settles a dispute (upheld or rejected) with a note. */
export async function resolveDispute(db: Db, viewer: Viewer, disputeId: number, decision: 'upheld' | 'rejected', resolution: string) {
  if (!isBillingManager(viewer)) throw new AppError(403, 'FORBIDDEN');
  if (decision !== 'upheld' && decision !== 'rejected') throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'decision', code: 'notAllowed' }]);
  const note = typeof resolution === 'string' ? resolution.trim().slice(0, 2000) : '';
  const u = await db.updateTable('billing_disputes').set({ status: decision, resolution: note || null, resolved_by: viewer.id, resolved_at: new Date() })
    .where('id', '=', disputeId).where('status', '=', 'open').returning(['id', 'status']).executeTakeFirst();
  if (u) return { id: Number(u.id), status: u.status };
  const exists = await db.selectFrom('billing_disputes').select('id').where('id', '=', disputeId).executeTakeFirst();
  throw exists ? new AppError(409, 'DISPUTE_CLOSED') : new AppError(404, 'DISPUTE_NOT_FOUND');
}

// ---------------------------------------------------------------- netting (called by the payments capability)

export interface NettableInvoice {
  invoiceId: number;
  number: string;
  periodStart: string;
  dueOn: string;
  totalCents: number;
  nettedCents: number;
  /** What is still owed: total − netted. */
  openCents: number;
}

/**
 * The partner's invoices that still have something owed (oldest due first), for the payments capability to net
 * against what the one-stop remits to that partner.
 */
export async function openInvoicesForNetting(db: Db, partnerOrgId: string): Promise<NettableInvoice[]> {
  const rows = await db.selectFrom('billing_invoices')
    .select(['id', 'year', 'number', 'period_start', 'due_on', 'total_cents', 'netted_cents'])
    .where('partner_org_id', '=', partnerOrgId).where('status', '=', 'open').where(sql<boolean>`total_cents > netted_cents`)
    .orderBy('due_on').orderBy('id').execute();
  return rows.map((r) => ({
    invoiceId: Number(r.id), number: invoiceNumber(r), periodStart: r.period_start, dueOn: r.due_on,
    totalCents: Number(r.total_cents), nettedCents: Number(r.netted_cents), openCents: Number(r.total_cents) - Number(r.netted_cents),
  }));
}

/**
 * Nets `amountCents` of an invoice against the remittance `remittanceRef`, inside the caller's transaction (the
 * payments capability writes its ledger entries in the same one). Idempotent: the same (invoice, remittanceRef,
 * amount) again returns the same result; another amount under the same reference → 409 NETTING_CONFLICT. An amount
 * that is not a positive integer → 400 INVALID_AMOUNT; above what is still owed → 409 NETTING_EXCEEDS_BALANCE;
 * unknown invoice → 404 INVOICE_NOT_FOUND. The invoice becomes 'netted' when nothing is owed any more.
 */
export async function markInvoiceNetted(trx: Transaction<DB> | Kysely<DB>, invoiceId: number, remittanceRef: string, amountCents: number) {
  if (!Number.isSafeInteger(invoiceId) || invoiceId <= 0) throw new AppError(404, 'INVOICE_NOT_FOUND');
  if (typeof remittanceRef !== 'string' || !remittanceRef || remittanceRef.length > 200) {
    throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'remittanceRef', code: 'invalid' }]);
  }
  if (typeof amountCents !== 'number' || !Number.isInteger(amountCents) || amountCents <= 0 || amountCents > MAX_YEARLY_CENTS) {
    throw new AppError(400, 'INVALID_AMOUNT', undefined, undefined, [{ field: 'amountCents', code: 'invalid' }]);
  }
  const inv = await trx.selectFrom('billing_invoices').select(['id', 'total_cents', 'netted_cents', 'status']).where('id', '=', invoiceId).forUpdate().executeTakeFirst();
  if (!inv) throw new AppError(404, 'INVOICE_NOT_FOUND');
  const prior = await trx.selectFrom('billing_nettings').select('amount_cents').where('invoice_id', '=', invoiceId).where('remittance_ref', '=', remittanceRef).executeTakeFirst();
  const total = Number(inv.total_cents);
  let netted = Number(inv.netted_cents);
  if (prior) {
    if (Number(prior.amount_cents) !== amountCents) throw new AppError(409, 'NETTING_CONFLICT');
  } else {
    if (amountCents > total - netted) throw new AppError(409, 'NETTING_EXCEEDS_BALANCE');
    netted += amountCents;
    await trx.insertInto('billing_nettings').values({ invoice_id: invoiceId, remittance_ref: remittanceRef, amount_cents: amountCents }).execute();
    await trx.updateTable('billing_invoices').set({ netted_cents: netted, status: netted >= total ? 'netted' : 'open' }).where('id', '=', invoiceId).execute();
  }
  return { invoiceId, nettedCents: netted, openCents: total - netted, status: netted >= total ? ('netted' as const) : ('open' as const) };
}
