/**
 * Fee schedules: dated versions per service and channel, each with its components and payees, and the public
 * interface the payments and billing capabilities code against (documented in docs/agreements.md; keep the names):
 *
 *   feeInForce(db, serviceId, channel, on)             → FeeQuote | null
 *   remittanceTerms(db, partnerOrgId, on)             → remittance terms of the partner's agreement in force | null
 *   guaranteeRefundBearer(db, serviceId, on, delayOwnOneStop) → 'partner' | 'one_stop'
 *
 * Exactly one version is in force per service, channel and day: the database refuses overlaps with an exclusion
 * constraint (fee_versions_no_overlap, btree_gist), which also settles two concurrent writers; createFeeVersion
 * checks first so the usual case gets a readable 409.
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { AppError, type FieldError } from '../http/errors';
import { ONE_STOP_ORG_ID } from '../catalogue/demo-data';
import { CHANNEL_TYPES } from '../catalogue/editor/model';
import type { FeeVersionsTable, RemittanceFrequency } from './tables';
import type { Selectable } from 'kysely';

export { ONE_STOP_ORG_ID };

/** The largest amount a fee component may have: $100,000 (anything above is a typing error). */
export const MAX_FEE_CENTS = 10_000_000;

export type FeeComponentKind = 'statutory' | 'service_fee' | 'card_recovery' | 'tax';

export interface FeeQuote {
  feeVersionId: string;
  serviceId: string;
  channel: string;
  agreementId: string | null;
  /** What the client pays to each payee. When the service fee is taken out of the statutory fee, the statutory
   * component is reduced by it, so the sum stays the statutory fee. Zero components other than statutory are left out. */
  components: Array<{ kind: FeeComponentKind; payeeOrgId: string; amountCents: number }>;
  totalCents: number;
}

export interface RemittanceTerms {
  agreementId: string;
  holdBusinessDays: number;
  frequency: RemittanceFrequency;
  paused: boolean;
  netInvoices: boolean;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
export function isIsoDate(s: unknown): s is string {
  if (typeof s !== 'string' || !DATE_RE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** Basis points of an amount, rounded half up (integers only; safe below 2^53 for amounts ≤ MAX_FEE_CENTS). */
export const bpsOf = (cents: number, bps: number) => Math.floor((cents * bps + 5000) / 10000);

/** The components of a fee version (pure; used by feeInForce and by the schedule pages). */
export function quoteComponents(v: Pick<Selectable<FeeVersionsTable>, 'statutory_cents' | 'statutory_payee_org_id' | 'service_fee_basis' | 'service_fee_value' | 'service_fee_mode' | 'service_fee_payee_org_id' | 'card_recovery_cents' | 'card_recovery_payee_org_id' | 'tax_bps' | 'tax_payee_org_id'>) {
  const statutory = Number(v.statutory_cents);
  const fee = v.service_fee_basis === 'fixed' ? Number(v.service_fee_value) : v.service_fee_basis === 'bps' ? bpsOf(statutory, Number(v.service_fee_value)) : 0;
  const included = v.service_fee_mode === 'included';
  const card = Number(v.card_recovery_cents);
  const components: FeeQuote['components'] = [{ kind: 'statutory', payeeOrgId: v.statutory_payee_org_id, amountCents: included ? statutory - fee : statutory }];
  if (fee > 0) components.push({ kind: 'service_fee', payeeOrgId: v.service_fee_payee_org_id, amountCents: fee });
  if (card > 0) components.push({ kind: 'card_recovery', payeeOrgId: v.card_recovery_payee_org_id ?? ONE_STOP_ORG_ID, amountCents: card });
  // Tax applies to the one-stop's own charges (its service fee and card recovery), never to the statutory fee.
  const tax = v.tax_bps > 0 ? bpsOf(fee + card, v.tax_bps) : 0;
  if (tax > 0) components.push({ kind: 'tax', payeeOrgId: v.tax_payee_org_id!, amountCents: tax });
  return { components, totalCents: components.reduce((s, c) => s + c.amountCents, 0), aboveStatutoryCents: (included ? 0 : fee) + card };
}

/**
 * The fee in force for a service on a channel on a day, or null when no version is in force (or when the version
 * belongs to an agreement that is not active on that day: without an agreement in force the one-stop collects no
 * share). One query.
 */
export async function feeInForce(db: Database, serviceId: string, channel: string, on: string): Promise<FeeQuote | null> {
  if (!isIsoDate(on)) throw new AppError(400, 'INVALID_DATE');
  const v = await db
    .selectFrom('fee_versions as f')
    .leftJoin('agreements as a', 'a.id', 'f.agreement_id')
    .selectAll('f')
    .select(['a.status as agreement_status', 'a.term_start', 'a.term_end'])
    .where('f.service_id', '=', serviceId)
    .where('f.channel', '=', channel)
    .where('f.valid_from', '<=', on)
    .where((eb) => eb.or([eb('f.valid_to', 'is', null), eb('f.valid_to', '>=', on)]))
    .executeTakeFirst();
  if (!v) return null;
  if (v.agreement_id && !(v.agreement_status === 'active' && v.term_start! <= on && on <= v.term_end!)) return null;
  const { components, totalCents } = quoteComponents(v);
  return { feeVersionId: v.id, serviceId: v.service_id, channel: v.channel, agreementId: v.agreement_id, components, totalCents };
}

/**
 * The fee in force per channel of a service on a day, for the catalogue's service page (registered with
 * setServiceFeeSource in src/agreements/index.ts): the total, the one-stop's share taken out of the statutory fee,
 * and what is added on top of it.
 */
export async function feesForServicePage(db: Database, serviceId: string, on: string) {
  const rows = await db
    .selectFrom('fee_versions as f')
    .leftJoin('agreements as a', 'a.id', 'f.agreement_id')
    .selectAll('f')
    .select(['a.status as agreement_status', 'a.term_start', 'a.term_end'])
    .where('f.service_id', '=', serviceId)
    .where('f.valid_from', '<=', on)
    .where((eb) => eb.or([eb('f.valid_to', 'is', null), eb('f.valid_to', '>=', on)]))
    .execute();
  const order = (c: string) => CHANNEL_TYPES.indexOf(c as (typeof CHANNEL_TYPES)[number]);
  return rows
    .filter((v) => !v.agreement_id || (v.agreement_status === 'active' && v.term_start! <= on && on <= v.term_end!))
    .map((v) => {
      const q = quoteComponents(v);
      const share = q.components.find((c) => c.kind === 'service_fee')?.amountCents ?? 0;
      const added = q.totalCents - Number(v.statutory_cents);
      return { channel: v.channel, totalCents: q.totalCents, includedShareCents: v.service_fee_mode === 'included' ? share : 0, addedCents: added };
    })
    .sort((a, b) => order(a.channel) - order(b.channel));
}

/** Fees in force for every channel of a service on a day. */
export async function feesInForceByChannel(db: Database, serviceId: string, on: string): Promise<FeeQuote[]> {
  const rows = await db.selectFrom('fee_versions').select('channel').distinct().where('service_id', '=', serviceId).where('valid_from', '<=', on)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>=', on)])).execute();
  const quotes = await Promise.all(rows.map((r) => feeInForce(db, serviceId, r.channel, on)));
  const order = (c: string) => CHANNEL_TYPES.indexOf(c as (typeof CHANNEL_TYPES)[number]);
  return quotes.filter((q): q is FeeQuote => q !== null).sort((a, b) => order(a.channel) - order(b.channel));
}

/** The active agreement of a partner on a day (the latest-starting one that is not a master, else its master). */
async function agreementInForceFor(db: Database, partnerOrgId: string, on: string) {
  return db
    .selectFrom('agreements')
    .selectAll()
    .where('partner_org_id', '=', partnerOrgId)
    .where('status', '=', 'active')
    .where('term_start', '<=', on)
    .where('term_end', '>=', on)
    .orderBy('is_master', 'asc')
    .orderBy('term_start', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Remittance terms of the partner's agreement in force on a day, or null when none is in force. */
export async function remittanceTerms(db: Database, partnerOrgId: string, on: string): Promise<RemittanceTerms | null> {
  if (!isIsoDate(on)) throw new AppError(400, 'INVALID_DATE');
  const [a, pause] = await Promise.all([
    agreementInForceFor(db, partnerOrgId, on),
    db.selectFrom('remittance_pauses').select('org_id').where('org_id', '=', partnerOrgId).executeTakeFirst(),
  ]);
  if (!a) return null;
  return { agreementId: a.id, holdBusinessDays: a.hold_business_days, frequency: a.remittance_frequency, paused: Boolean(pause), netInvoices: a.net_invoices };
}

/**
 * Who bears a service-guarantee refund for a service on a day. The agreement in force that covers the service says
 * 'partner' (the partner always bears it) or 'one_stop_own_delay' (the default: the one-stop bears it when the delay
 * was its own). With no agreement covering the service, the same default applies.
 */
export async function guaranteeRefundBearer(db: Database, serviceId: string, on: string, delayOwnOneStop: boolean): Promise<'partner' | 'one_stop'> {
  if (!isIsoDate(on)) throw new AppError(400, 'INVALID_DATE');
  const a = await db
    .selectFrom('agreement_services as s')
    .innerJoin('agreements as a', 'a.id', 's.agreement_id')
    .select('a.refund_bearer')
    .where('s.service_id', '=', serviceId)
    .where('a.status', '=', 'active')
    .where('a.term_start', '<=', on)
    .where('a.term_end', '>=', on)
    .orderBy('a.term_start', 'desc')
    .limit(1)
    .executeTakeFirst();
  const rule = a?.refund_bearer ?? 'one_stop_own_delay';
  return rule === 'one_stop_own_delay' && delayOwnOneStop ? 'one_stop' : 'partner';
}

// ------------------------------------------------------------------------------------------ writing fee versions

export interface FeeVersionInput {
  serviceId: string;
  channel: string;
  validFrom: string;
  validTo?: string | null;
  agreementId?: string | null;
  statutoryCents: number;
  statutoryPayeeOrgId?: string | null;
  serviceFee?: { basis: 'none' | 'fixed' | 'bps'; value: number; mode: 'included' | 'on_top' } | null;
  cardRecoveryCents?: number;
  taxBps?: number;
  taxPayeeOrgId?: string | null;
  noteEn?: string | null;
  noteFr?: string | null;
}

function checkAmount(details: FieldError[], field: string, v: unknown, max = MAX_FEE_CENTS) {
  if (typeof v !== 'number' || !Number.isFinite(v)) details.push({ field, code: 'invalid' });
  else if (!Number.isInteger(v)) details.push({ field, code: 'notInteger' });
  else if (v < 0) details.push({ field, code: 'negative' });
  else if (v > max) details.push({ field, code: 'tooLarge' });
}

/**
 * Adds a fee version (one transaction). Refuses: bad amounts (400 INVALID_AMOUNT with the fields), bad dates (400
 * INVALID_DATE), an unknown service (404 SERVICE_NOT_FOUND), an agreement that does not cover the service on this
 * channel (422 AGREEMENT_NOT_COVERING), a share larger than the statutory fee (422 SERVICE_FEE_EXCEEDS_STATUTORY), a
 * charge above the statutory fee without a legal basis in the agreement (422 FEE_ABOVE_CAP), and an overlap with
 * another version of the same service and channel (409 FEE_VERSION_OVERLAP).
 */
export async function createFeeVersion(db: Database, input: FeeVersionInput, staffId: string | null): Promise<{ id: string; quote: ReturnType<typeof quoteComponents> }> {
  const details: FieldError[] = [];
  checkAmount(details, 'statutoryCents', input.statutoryCents);
  const sf = input.serviceFee ?? { basis: 'none' as const, value: 0, mode: 'included' as const };
  if (!['none', 'fixed', 'bps'].includes(sf.basis)) details.push({ field: 'serviceFee.basis', code: 'notAllowed' });
  if (!['included', 'on_top'].includes(sf.mode)) details.push({ field: 'serviceFee.mode', code: 'notAllowed' });
  checkAmount(details, 'serviceFee.value', sf.value, sf.basis === 'bps' ? 10000 : MAX_FEE_CENTS);
  if (sf.basis === 'none' && sf.value !== 0) details.push({ field: 'serviceFee.value', code: 'invalid' });
  checkAmount(details, 'cardRecoveryCents', input.cardRecoveryCents ?? 0);
  checkAmount(details, 'taxBps', input.taxBps ?? 0, 5000);
  if (details.length) throw new AppError(400, 'INVALID_AMOUNT', undefined, undefined, details);
  if (!isIsoDate(input.validFrom) || (input.validTo != null && (!isIsoDate(input.validTo) || input.validTo < input.validFrom)))
    throw new AppError(400, 'INVALID_DATE', undefined, undefined, [{ field: input.validTo != null && isIsoDate(input.validFrom) ? 'validTo' : 'validFrom', code: 'invalid' }]);
  if (!(CHANNEL_TYPES as readonly string[]).includes(input.channel)) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'channel', code: 'notAllowed' }]);
  if ((input.taxBps ?? 0) > 0 && !input.taxPayeeOrgId) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'taxPayeeOrgId', code: 'required' }]);

  const row = {
    service_id: input.serviceId,
    channel: input.channel,
    valid_from: input.validFrom,
    valid_to: input.validTo ?? null,
    agreement_id: input.agreementId ?? null,
    statutory_cents: input.statutoryCents,
    statutory_payee_org_id: input.statutoryPayeeOrgId ?? '',
    service_fee_basis: sf.basis,
    service_fee_value: sf.value,
    service_fee_mode: sf.mode,
    service_fee_payee_org_id: ONE_STOP_ORG_ID,
    card_recovery_cents: input.cardRecoveryCents ?? 0,
    card_recovery_payee_org_id: (input.cardRecoveryCents ?? 0) > 0 ? ONE_STOP_ORG_ID : null,
    tax_bps: input.taxBps ?? 0,
    tax_payee_org_id: (input.taxBps ?? 0) > 0 ? input.taxPayeeOrgId! : null,
    note_en: input.noteEn ?? null,
    note_fr: input.noteFr ?? null,
    created_by: staffId,
  };
  try {
    return await db.transaction().execute(async (trx) => {
      const service = await trx.selectFrom('services').select(['id', 'owner_org_id']).where('id', '=', input.serviceId).executeTakeFirst();
      if (!service) throw new AppError(404, 'SERVICE_NOT_FOUND', 'errors.FEE_SERVICE_NOT_FOUND');
      row.statutory_payee_org_id = input.statutoryPayeeOrgId ?? service.owner_org_id;
      if (input.statutoryPayeeOrgId) {
        const org = await trx.selectFrom('organisations').select('id').where('id', '=', input.statutoryPayeeOrgId).executeTakeFirst();
        if (!org) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'statutoryPayeeOrgId', code: 'invalid' }]);
      }
      if (row.tax_payee_org_id) {
        const org = await trx.selectFrom('organisations').select('id').where('id', '=', row.tax_payee_org_id).executeTakeFirst();
        if (!org) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'taxPayeeOrgId', code: 'invalid' }]);
      }
      let legalBasis = false;
      if (row.agreement_id) {
        const covered = await trx
          .selectFrom('agreements as a')
          .innerJoin('agreement_services as s', 's.agreement_id', 'a.id')
          .select(['a.convenience_fee_legal_basis_en', 'a.convenience_fee_legal_basis_fr', 's.channels'])
          .where('a.id', '=', row.agreement_id)
          .where('s.service_id', '=', row.service_id)
          .executeTakeFirst();
        if (!covered || !covered.channels.includes(row.channel)) throw new AppError(422, 'AGREEMENT_NOT_COVERING');
        legalBasis = Boolean(covered.convenience_fee_legal_basis_en?.trim() && covered.convenience_fee_legal_basis_fr?.trim());
      }
      const q = quoteComponents({ ...row, service_fee_payee_org_id: row.service_fee_payee_org_id });
      if (sf.mode === 'included' && q.components[0].amountCents < 0) throw new AppError(422, 'SERVICE_FEE_EXCEEDS_STATUTORY');
      if (q.aboveStatutoryCents > 0 && !legalBasis) throw new AppError(422, 'FEE_ABOVE_CAP');
      const overlap = await trx
        .selectFrom('fee_versions')
        .select('id')
        .where('service_id', '=', row.service_id)
        .where('channel', '=', row.channel)
        .where(sql<boolean>`daterange(valid_from, valid_to, '[]') && daterange(${row.valid_from}::date, ${row.valid_to}::date, '[]')`)
        .executeTakeFirst();
      if (overlap) throw new AppError(409, 'FEE_VERSION_OVERLAP');
      const { id } = await trx.insertInto('fee_versions').values(row).returning('id').executeTakeFirstOrThrow();
      return { id, quote: q };
    });
  } catch (e) {
    if ((e as { code?: string }).code === '23P01') throw new AppError(409, 'FEE_VERSION_OVERLAP');
    throw e;
  }
}

/**
 * Ends an open or later-ending fee version on a given last day (so that a new version can start the day after).
 * 404 FEE_VERSION_NOT_FOUND; 422 INVALID_DATE when the last day is before the version starts.
 */
export async function endFeeVersion(db: Database, id: string, lastDay: string): Promise<void> {
  if (!isIsoDate(lastDay)) throw new AppError(400, 'INVALID_DATE');
  const r = await db.transaction().execute(async (trx) => {
    const v = await trx.selectFrom('fee_versions').select(['valid_from', 'valid_to']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!v) throw new AppError(404, 'FEE_VERSION_NOT_FOUND');
    if (lastDay < v.valid_from || (v.valid_to !== null && lastDay > v.valid_to)) throw new AppError(422, 'INVALID_DATE');
    await trx.updateTable('fee_versions').set({ valid_to: lastDay }).where('id', '=', id).execute();
    return true;
  });
  void r;
}

/** Pauses or resumes remittance to a payee organisation (idempotent). */
export async function setRemittancePaused(db: Database, orgId: string, paused: boolean, staffId: string | null, reason?: string | null): Promise<void> {
  if (paused) {
    await db.insertInto('remittance_pauses').values({ org_id: orgId, reason: reason ?? null, paused_by: staffId }).onConflict((oc) => oc.column('org_id').doNothing()).execute();
  } else {
    await db.deleteFrom('remittance_pauses').where('org_id', '=', orgId).execute();
  }
}
