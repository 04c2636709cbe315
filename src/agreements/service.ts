/**
 * Agreements between the one-stop and one partner: drafting, submission, the governance board's approval, the
 * partner's acceptance, amendments (a new version each), termination, expiry and the 90/30-day reminders.
 *
 * Who may do what (decided here, on the server):
 * - the one-stop's managers (role `manager`, organisation 'guichet') draft and manage every agreement;
 * - the governance board (role `board`, organisation 'guichet') sees every agreement and approves submitted ones;
 * - a partner's staff (role `partner`) see and accept their own organisation's agreements; any other agreement
 *   answers 404, exactly like one that does not exist.
 * Every command is one transaction; the state it needs is checked in it (row locked), so approving twice is 409.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database';
import type { DB } from '../schema';
import { isUuid } from '../db/ids';
import { AppError, type FieldError } from '../http/errors';
import type { StaffPrincipal } from '../http/session';
import { ONE_STOP_ORG_ID } from '../catalogue/demo-data';
import { CHANNEL_TYPES } from '../catalogue/editor/model';
import { diffWords, type DiffPart, type FieldDiff } from '../catalogue/editor/diff';
import { formatDate, t, type Lang } from '../i18n/index';
import { isIsoDate } from './fees';
import { applySnapshot, liveSnapshot, SNAPSHOT_FIELDS, withSnapshotDefaults, type AgreementSnapshot } from './model';
import type { Mailer } from '../mail/mailer';

type Trx = Transaction<DB>;

export const isManager = (s: StaffPrincipal) => s.orgId === ONE_STOP_ORG_ID && s.roles.includes('manager');
export const isBoard = (s: StaffPrincipal) => s.orgId === ONE_STOP_ORG_ID && s.roles.includes('board');
export const isPartnerStaff = (s: StaffPrincipal) => s.orgId !== ONE_STOP_ORG_ID && s.roles.includes('partner');
export const seesAll = (s: StaffPrincipal) => isManager(s) || isBoard(s);
export const mayUseAgreements = (s: StaffPrincipal) => seesAll(s) || isPartnerStaff(s);

export function requireManager(s: StaffPrincipal) {
  if (!isManager(s)) throw new AppError(403, 'FORBIDDEN');
}

const TEXT_MAX = 200;
const SUMMARY_MAX = 4000;

/** Default terms of a new agreement (Maine: hold 3 business days; municipalities pay within 20 days). */
export function defaultSnapshot(today: string): AgreementSnapshot {
  const y = Number(today.slice(0, 4));
  return {
    title_en: '', title_fr: '', summary_en: '', summary_fr: '', integration_level: 'complete', term_start: today,
    term_end: `${y + 2}${today.slice(4)}` === `${y + 2}-02-29` ? `${y + 2}-02-28` : `${y + 2}${today.slice(4)}`,
    renewal: 'annual_review', renewal_months: 12, master_id: null, refund_bearer: 'one_stop_own_delay', show_partner_name: true, show_partner_logo: true,
    visibility_channels: ['online', 'in_person', 'phone'], convenience_fee_legal_basis_en: null, convenience_fee_legal_basis_fr: null,
    hold_business_days: 3, remittance_frequency: 'daily', net_invoices: false, payment_due_days: 20, services: [], service_levels: [],
  };
}

/** Normalises raw input (API body or parsed form) into a snapshot; field errors are collected, not thrown. */
export function normaliseSnapshot(raw: Record<string, unknown>, details: FieldError[]): AgreementSnapshot {
  const str = (f: string, max: number, required: boolean) => {
    const v = raw[f];
    const s = typeof v === 'string' ? v.trim() : v == null ? '' : null;
    if (s === null) details.push({ field: f, code: 'invalid' });
    else if (required && !s) details.push({ field: f, code: 'required' });
    else if (s.length > max) details.push({ field: f, code: 'tooLong' });
    return s ?? '';
  };
  const oneOf = <T extends string>(f: string, values: readonly T[], dflt: T): T => {
    const v = raw[f] ?? dflt;
    if (!values.includes(v as T)) details.push({ field: f, code: 'notAllowed' });
    return (values.includes(v as T) ? v : dflt) as T;
  };
  const int = (f: string, min: number, max: number, dflt: number) => {
    const v = raw[f] ?? dflt;
    const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) details.push({ field: f, code: 'invalid' });
    else if (n < min) details.push({ field: f, code: 'tooSmall' });
    else if (n > max) details.push({ field: f, code: 'tooLarge' });
    return typeof n === 'number' && Number.isInteger(n) ? n : dflt;
  };
  const bool = (f: string, dflt: boolean) => {
    const v = raw[f];
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'on' || v === '1' || v === 'yes') return true;
    if (v === 'false' || v === '0' || v === 'no' || v === '') return false;
    details.push({ field: f, code: 'invalid' });
    return dflt;
  };
  const date = (f: string) => {
    const v = typeof raw[f] === 'string' ? (raw[f] as string).trim() : '';
    if (!v) details.push({ field: f, code: 'required' });
    else if (!isIsoDate(v)) details.push({ field: f, code: 'invalid' });
    return v;
  };
  const channels = (v: unknown, f: string) => {
    const list = Array.isArray(v) ? v : typeof v === 'string' && v ? [v] : [];
    const bad = list.some((c) => !(CHANNEL_TYPES as readonly unknown[]).includes(c));
    if (bad) details.push({ field: f, code: 'notAllowed' });
    return [...new Set(list.filter((c): c is string => (CHANNEL_TYPES as readonly unknown[]).includes(c)))].sort((a, b) => CHANNEL_TYPES.indexOf(a as never) - CHANNEL_TYPES.indexOf(b as never));
  };
  const basisEn = str('convenience_fee_legal_basis_en', 1000, false);
  const basisFr = str('convenience_fee_legal_basis_fr', 1000, false);
  if (Boolean(basisEn) !== Boolean(basisFr)) details.push({ field: basisEn ? 'convenience_fee_legal_basis_fr' : 'convenience_fee_legal_basis_en', code: 'required' });
  const snap: AgreementSnapshot = {
    title_en: str('title_en', TEXT_MAX, true),
    title_fr: str('title_fr', TEXT_MAX, true),
    summary_en: str('summary_en', SUMMARY_MAX, false),
    summary_fr: str('summary_fr', SUMMARY_MAX, false),
    integration_level: oneOf('integration_level', ['complete', 'partial', 'co_location'] as const, 'complete'),
    term_start: date('term_start'),
    term_end: date('term_end'),
    renewal: oneOf('renewal', ['none', 'annual_review', 'automatic'] as const, 'annual_review'),
    renewal_months: int('renewal_months', 1, 60, 12),
    master_id: typeof raw.master_id === 'string' && raw.master_id.trim() ? raw.master_id.trim() : null,
    refund_bearer: oneOf('refund_bearer', ['partner', 'one_stop_own_delay'] as const, 'one_stop_own_delay'),
    show_partner_name: bool('show_partner_name', true),
    show_partner_logo: bool('show_partner_logo', true),
    visibility_channels: channels(raw.visibility_channels ?? [], 'visibility_channels'),
    convenience_fee_legal_basis_en: basisEn || null,
    convenience_fee_legal_basis_fr: basisFr || null,
    hold_business_days: int('hold_business_days', 0, 30, 3),
    remittance_frequency: oneOf('remittance_frequency', ['daily', 'weekly', 'monthly'] as const, 'daily'),
    net_invoices: bool('net_invoices', false),
    payment_due_days: int('payment_due_days', 0, 120, 20),
    services: [],
    service_levels: [],
  };
  if (snap.term_start && snap.term_end && isIsoDate(snap.term_start) && isIsoDate(snap.term_end) && snap.term_end < snap.term_start)
    details.push({ field: 'term_end', code: 'beforeStart' });
  if (snap.master_id && !isUuid(snap.master_id)) details.push({ field: 'master_id', code: 'invalid' });
  const services = Array.isArray(raw.services) ? raw.services : [];
  if (!Array.isArray(raw.services) && raw.services !== undefined) details.push({ field: 'services', code: 'invalid' });
  if (services.length > 200) details.push({ field: 'services', code: 'tooLong' });
  const seen = new Set<string>();
  services.slice(0, 200).forEach((s, i) => {
    const o = (s ?? {}) as Record<string, unknown>;
    const id = typeof o.service_id === 'string' ? o.service_id.trim() : '';
    if (!id || id.length > 200) return void details.push({ field: `services.${i}.service_id`, code: id ? 'tooLong' : 'required' });
    if (seen.has(id)) return void details.push({ field: `services.${i}.service_id`, code: 'duplicate' });
    seen.add(id);
    const ch = channels(o.channels, `services.${i}.channels`);
    if (!ch.length) details.push({ field: `services.${i}.channels`, code: 'required' });
    snap.services.push({ service_id: id, channels: ch });
  });
  snap.services.sort((a, b) => a.service_id.localeCompare(b.service_id));
  const levels = Array.isArray(raw.service_levels) ? raw.service_levels : [];
  levels.slice(0, 200).forEach((l, i) => {
    const o = (l ?? {}) as Record<string, unknown>;
    const id = typeof o.standard_id === 'string' ? o.standard_id.trim() : '';
    const target = typeof o.target === 'string' ? Number(o.target) : o.target;
    if (!id) return void details.push({ field: `service_levels.${i}.standard_id`, code: 'required' });
    if (typeof target !== 'number' || !Number.isFinite(target) || target < 0 || target > 1) return void details.push({ field: `service_levels.${i}.target`, code: 'invalid' });
    if (snap.service_levels.some((x) => x.standard_id === id)) return void details.push({ field: `service_levels.${i}.standard_id`, code: 'duplicate' });
    snap.service_levels.push({ standard_id: id, target });
  });
  snap.service_levels.sort((a, b) => a.standard_id.localeCompare(b.standard_id));
  return snap;
}

/** Checks a snapshot against the database (services, standards, master's term) inside the command's transaction. */
async function checkAgainstDb(trx: Trx, snap: AgreementSnapshot, partnerOrgId: string, isMaster: boolean, selfId: string | null) {
  const details: FieldError[] = [];
  if (snap.services.length) {
    const found = await trx.selectFrom('services').select(['id', 'owner_org_id']).where('id', 'in', snap.services.map((s) => s.service_id)).execute();
    snap.services.forEach((s, i) => {
      const f = found.find((x) => x.id === s.service_id);
      if (!f) details.push({ field: `services.${i}.service_id`, code: 'unknown' });
      else if (f.owner_org_id !== partnerOrgId) details.push({ field: `services.${i}.service_id`, code: 'notPartners' });
    });
  }
  if (snap.service_levels.length) {
    const found = await trx.selectFrom('service_standards').select(['id', 'service_id']).where('id', 'in', snap.service_levels.map((l) => l.standard_id)).execute();
    snap.service_levels.forEach((l, i) => {
      const f = found.find((x) => x.id === l.standard_id);
      if (!f || !snap.services.some((s) => s.service_id === f.service_id)) details.push({ field: `service_levels.${i}.standard_id`, code: 'unknown' });
    });
  }
  if (details.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);
  if (snap.master_id) {
    if (isMaster) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'master_id', code: 'notAllowed' }]);
    const m = await trx.selectFrom('agreements').select(['id', 'is_master', 'status', 'term_start', 'term_end']).where('id', '=', snap.master_id).executeTakeFirst();
    if (!m || !m.is_master || m.id === selfId || m.status === 'expired' || m.status === 'terminated') throw new AppError(422, 'MASTER_NOT_FOUND');
    if (snap.term_start < m.term_start || snap.term_end > m.term_end) throw new AppError(422, 'OUTSIDE_MASTER_TERM', undefined, { start: m.term_start, end: m.term_end });
  }
  if (isMaster && selfId) {
    // A master's term may not be shortened below its children's.
    const child = await trx.selectFrom('agreements').select('id').where('master_id', '=', selfId).where('status', 'not in', ['expired', 'terminated'])
      .where((eb) => eb.or([eb('term_start', '<', snap.term_start), eb('term_end', '>', snap.term_end)])).executeTakeFirst();
    if (child) throw new AppError(422, 'OUTSIDE_MASTER_TERM');
  }
}

async function event(trx: Trx, agreementId: string, version: number | null, action: string, staffId: string | null, detail?: string | null) {
  await trx.insertInto('agreement_events').values({ agreement_id: agreementId, version, action, staff_id: staffId, detail: detail ?? null }).execute();
}

/** The agreement if this staff member may see it (404 otherwise, also for a malformed id). */
export async function agreementFor(db: Database | Trx, staff: StaffPrincipal, id: string, lock = false) {
  if (!isUuid(id) || !mayUseAgreements(staff)) throw new AppError(404, 'AGREEMENT_NOT_FOUND');
  let q = db.selectFrom('agreements').selectAll().where('id', '=', id);
  if (!seesAll(staff)) q = q.where('partner_org_id', '=', staff.orgId);
  const a = await (lock ? q.forUpdate() : q).executeTakeFirst();
  if (!a) throw new AppError(404, 'AGREEMENT_NOT_FOUND');
  return a;
}

export async function openVersion(db: Database | Trx, agreementId: string, lock = false) {
  const q = db.selectFrom('agreement_versions').selectAll().where('agreement_id', '=', agreementId).where('status', 'in', ['draft', 'submitted', 'approved']);
  return (lock ? q.forUpdate() : q).executeTakeFirst();
}

export interface NewAgreement {
  partner_org_id: string;
  is_master?: boolean;
  terms: Record<string, unknown>;
}

/** A manager drafts a new agreement (version 1, draft). Returns its id and number. */
export async function createAgreement(db: Database, staff: StaffPrincipal, input: NewAgreement): Promise<{ id: string; number: string }> {
  requireManager(staff);
  const details: FieldError[] = [];
  const snap = normaliseSnapshot(input.terms, details);
  if (typeof input.partner_org_id !== 'string' || !input.partner_org_id || input.partner_org_id === ONE_STOP_ORG_ID)
    details.push({ field: 'partner_org_id', code: input.partner_org_id ? 'notAllowed' : 'required' });
  if (details.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);
  return db.transaction().execute(async (trx) => {
    const org = await trx.selectFrom('organisations').select('id').where('id', '=', input.partner_org_id).executeTakeFirst();
    if (!org) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'partner_org_id', code: 'unknown' }]);
    const isMaster = Boolean(input.is_master);
    await checkAgainstDb(trx, snap, input.partner_org_id, isMaster, null);
    const fields = Object.fromEntries(SNAPSHOT_FIELDS.map((f) => [f, snap[f]]));
    const a = await trx
      .insertInto('agreements')
      .values({ ...(fields as any), partner_org_id: input.partner_org_id, one_stop_org_id: ONE_STOP_ORG_ID, is_master: isMaster, status: 'draft', version: 1, created_by: staff.id })
      .returning(['id', 'number'])
      .executeTakeFirstOrThrow();
    await applySnapshot(trx, a.id, snap);
    await trx.insertInto('agreement_versions').values({ agreement_id: a.id, version: 1, status: 'draft', snapshot: JSON.stringify(snap), base: null, created_by: staff.id }).execute();
    await event(trx, a.id, 1, 'created', staff.id);
    return a;
  });
}

/** A manager saves the open draft (of a new agreement, or an amendment). 409 VERSION_NOT_DRAFT otherwise. */
export async function saveDraft(db: Database, staff: StaffPrincipal, id: string, terms: Record<string, unknown>): Promise<void> {
  requireManager(staff);
  const details: FieldError[] = [];
  const snap = normaliseSnapshot(terms, details);
  await db.transaction().execute(async (trx) => {
    const a = await agreementFor(trx, staff, id, true);
    if (details.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);
    const v = await openVersion(trx, a.id, true);
    if (!v || v.status !== 'draft') throw new AppError(409, 'VERSION_NOT_DRAFT');
    await checkAgainstDb(trx, snap, a.partner_org_id, a.is_master, a.id);
    await trx.updateTable('agreement_versions').set({ snapshot: JSON.stringify(snap), updated_at: new Date() }).where('agreement_id', '=', a.id).where('version', '=', v.version).execute();
    // A brand-new agreement's rows follow its draft (nothing is in force yet).
    if (a.status === 'draft') await applySnapshot(trx, a.id, snap);
    await event(trx, a.id, v.version, 'saved', staff.id);
  });
}

/** A manager submits the open draft to the governance board. */
export async function submit(db: Database, staff: StaffPrincipal, id: string): Promise<void> {
  requireManager(staff);
  await db.transaction().execute(async (trx) => {
    const a = await agreementFor(trx, staff, id, true);
    const v = await openVersion(trx, a.id, true);
    if (!v || v.status !== 'draft') throw new AppError(409, 'VERSION_NOT_DRAFT');
    const snap = withSnapshotDefaults(v.snapshot as AgreementSnapshot);
    if (!snap.services.length) throw new AppError(422, 'AGREEMENT_NO_SERVICES');
    await checkAgainstDb(trx, snap, a.partner_org_id, a.is_master, a.id);
    await trx.updateTable('agreement_versions').set({ status: 'submitted', updated_at: new Date() }).where('agreement_id', '=', a.id).where('version', '=', v.version).execute();
    if (a.status === 'draft') await trx.updateTable('agreements').set({ status: 'submitted', submitted_at: new Date(), submitted_by: staff.id, updated_at: new Date() }).where('id', '=', a.id).execute();
    await event(trx, a.id, v.version, 'submitted', staff.id);
  });
}

/** A manager takes a submitted version back to draft (before the board decides). */
export async function recall(db: Database, staff: StaffPrincipal, id: string): Promise<void> {
  requireManager(staff);
  await db.transaction().execute(async (trx) => {
    const a = await agreementFor(trx, staff, id, true);
    const v = await openVersion(trx, a.id, true);
    if (!v || v.status !== 'submitted') throw new AppError(409, 'AGREEMENT_STATE');
    await trx.updateTable('agreement_versions').set({ status: 'draft', updated_at: new Date() }).where('agreement_id', '=', a.id).where('version', '=', v.version).execute();
    if (a.status === 'submitted') await trx.updateTable('agreements').set({ status: 'draft', updated_at: new Date() }).where('id', '=', a.id).execute();
    await event(trx, a.id, v.version, 'recalled', staff.id);
  });
}

/**
 * The governance board approves the submitted version, recording its decision date and reference. Approving a
 * version that is already approved (or accepted) answers 409 AGREEMENT_ALREADY_APPROVED.
 */
export async function approve(db: Database, staff: StaffPrincipal, id: string, decision: { decision_date: string; decision_reference: string }): Promise<void> {
  if (!isBoard(staff)) throw new AppError(403, 'FORBIDDEN');
  const details: FieldError[] = [];
  if (!isIsoDate(decision.decision_date)) details.push({ field: 'decision_date', code: decision.decision_date ? 'invalid' : 'required' });
  const ref = typeof decision.decision_reference === 'string' ? decision.decision_reference.trim() : '';
  if (!ref) details.push({ field: 'decision_reference', code: 'required' });
  else if (ref.length > 100) details.push({ field: 'decision_reference', code: 'tooLong' });
  await db.transaction().execute(async (trx) => {
    const a = await agreementFor(trx, staff, id, true);
    const v = await openVersion(trx, a.id, true);
    if (!v) {
      const last = await trx.selectFrom('agreement_versions').select('status').where('agreement_id', '=', a.id).orderBy('version', 'desc').limit(1).executeTakeFirst();
      throw new AppError(409, last?.status === 'accepted' ? 'AGREEMENT_ALREADY_APPROVED' : 'AGREEMENT_STATE');
    }
    if (v.status === 'approved') throw new AppError(409, 'AGREEMENT_ALREADY_APPROVED');
    if (v.status !== 'submitted') throw new AppError(409, 'AGREEMENT_STATE');
    if (details.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);
    await trx.updateTable('agreement_versions').set({ status: 'approved', decision_date: decision.decision_date, decision_reference: ref, approved_by: staff.id, updated_at: new Date() })
      .where('agreement_id', '=', a.id).where('version', '=', v.version).execute();
    if (a.status === 'submitted')
      await trx.updateTable('agreements').set({ status: 'approved', decision_date: decision.decision_date, decision_reference: ref, approved_by: staff.id, updated_at: new Date() }).where('id', '=', a.id).execute();
    await event(trx, a.id, v.version, 'approved', staff.id, ref);
  });
}

/** The board sends a submitted version back to draft with a reason. */
export async function sendBack(db: Database, staff: StaffPrincipal, id: string, reason: string): Promise<void> {
  if (!isBoard(staff)) throw new AppError(403, 'FORBIDDEN');
  const r = typeof reason === 'string' ? reason.trim() : '';
  await db.transaction().execute(async (trx) => {
    const a = await agreementFor(trx, staff, id, true);
    const v = await openVersion(trx, a.id, true);
    if (!v || v.status !== 'submitted') throw new AppError(409, v?.status === 'approved' ? 'AGREEMENT_ALREADY_APPROVED' : 'AGREEMENT_STATE');
    if (!r || r.length > 2000) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'reason', code: r ? 'tooLong' : 'required' }]);
    await trx.updateTable('agreement_versions').set({ status: 'draft', note: r, updated_at: new Date() }).where('agreement_id', '=', a.id).where('version', '=', v.version).execute();
    if (a.status === 'submitted') await trx.updateTable('agreements').set({ status: 'draft', updated_at: new Date() }).where('id', '=', a.id).execute();
    await event(trx, a.id, v.version, 'sent_back', staff.id, r);
  });
}

/**
 * The partner accepts the approved version: its terms come into force (a new agreement becomes active; an amendment
 * replaces the terms and the agreement's version number).
 */
export async function accept(db: Database, staff: StaffPrincipal, id: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const a = await agreementFor(trx, staff, id, true);
    if (!(isPartnerStaff(staff) && staff.orgId === a.partner_org_id)) throw new AppError(403, 'FORBIDDEN');
    const v = await openVersion(trx, a.id, true);
    if (!v || v.status !== 'approved') throw new AppError(409, 'AGREEMENT_STATE');
    const snap = withSnapshotDefaults(v.snapshot as AgreementSnapshot);
    await checkAgainstDb(trx, snap, a.partner_org_id, a.is_master, a.id);
    await trx.updateTable('agreement_versions').set({ status: 'accepted', accepted_by: staff.id, updated_at: new Date() }).where('agreement_id', '=', a.id).where('version', '=', v.version).execute();
    await applySnapshot(trx, a.id, snap, {
      version: v.version, accepted_at: new Date(), accepted_by: staff.id,
      decision_date: v.decision_date, decision_reference: v.decision_reference, approved_by: v.approved_by,
      ...(a.status === 'approved' ? { status: 'active' } : {}),
    });
    await event(trx, a.id, v.version, 'accepted', staff.id);
  });
}

/** A manager opens an amendment of an agreement in force: version N+1, draft, starting from the terms in force. */
export async function amend(db: Database, staff: StaffPrincipal, id: string, terms?: Record<string, unknown>, note?: string): Promise<number> {
  requireManager(staff);
  const details: FieldError[] = [];
  const given = terms ? normaliseSnapshot(terms, details) : null;
  if (details.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);
  return db.transaction().execute(async (trx) => {
    const a = await agreementFor(trx, staff, id, true);
    if (a.status !== 'active') throw new AppError(409, 'AGREEMENT_STATE');
    if (await openVersion(trx, a.id)) throw new AppError(409, 'AMENDMENT_OPEN');
    const live = (await liveSnapshot(trx, a.id))!;
    const snap = given ?? live;
    if (given) await checkAgainstDb(trx, snap, a.partner_org_id, a.is_master, a.id);
    const last = await trx.selectFrom('agreement_versions').select((eb) => eb.fn.max('version').as('v')).where('agreement_id', '=', a.id).executeTakeFirstOrThrow();
    const version = Number(last.v ?? 0) + 1;
    await trx.insertInto('agreement_versions').values({ agreement_id: a.id, version, status: 'draft', snapshot: JSON.stringify(snap), base: JSON.stringify(live), note: note?.slice(0, 2000) ?? null, created_by: staff.id }).execute();
    await event(trx, a.id, version, 'amendment_opened', staff.id, note ?? null);
    return version;
  });
}

/** A manager discards an open draft amendment (not a new agreement's first version). */
export async function discardAmendment(db: Database, staff: StaffPrincipal, id: string): Promise<void> {
  requireManager(staff);
  await db.transaction().execute(async (trx) => {
    const a = await agreementFor(trx, staff, id, true);
    const v = await openVersion(trx, a.id, true);
    if (!v || v.version === 1 || v.status === 'approved') throw new AppError(409, 'AGREEMENT_STATE');
    await trx.updateTable('agreement_versions').set({ status: 'withdrawn', updated_at: new Date() }).where('agreement_id', '=', a.id).where('version', '=', v.version).execute();
    await event(trx, a.id, v.version, 'amendment_discarded', staff.id);
  });
}

/** A manager terminates an agreement (reason required); its child agreements end with it. */
export async function terminate(db: Database, staff: StaffPrincipal, id: string, reason: string): Promise<number> {
  requireManager(staff);
  const r = typeof reason === 'string' ? reason.trim() : '';
  return db.transaction().execute(async (trx) => {
    const a = await agreementFor(trx, staff, id, true);
    if (a.status === 'expired' || a.status === 'terminated') throw new AppError(409, 'AGREEMENT_STATE');
    if (!r || r.length > 2000) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'reason', code: r ? 'tooLong' : 'required' }]);
    await trx.updateTable('agreements').set({ status: 'terminated', ended_at: new Date(), end_reason: r, updated_at: new Date() }).where('id', '=', a.id).execute();
    await trx.updateTable('agreement_versions').set({ status: 'withdrawn', updated_at: new Date() }).where('agreement_id', '=', a.id).where('status', 'in', ['draft', 'submitted', 'approved']).execute();
    await event(trx, a.id, null, 'terminated', staff.id, r);
    const children = await trx.updateTable('agreements').set({ status: 'terminated', ended_at: new Date(), end_reason: 'master_ended', updated_at: new Date() })
      .where('master_id', '=', a.id).where('status', 'not in', ['expired', 'terminated']).returning('id').execute();
    for (const c of children) await event(trx, c.id, null, 'terminated', staff.id, 'master_ended');
    return children.length;
  });
}

/**
 * The end of a term renewed for `months`: the renewal starts the day after the old end and lasts `months` calendar
 * months (31 December + 12 months = 31 December of the next year; a renewal starting on the 31st ends on the day
 * before the same day `months` later, or on the last day of that month when it has none).
 */
export function renewedEnd(termEnd: string, months: number): string {
  const start = addDays(termEnd, 1);
  const [y, m, d] = start.split('-').map(Number);
  const total = y * 12 + (m - 1) + months;
  const ny = Math.floor(total / 12);
  const nm = (total % 12) + 1;
  const last = new Date(Date.UTC(ny, nm, 0)).getUTCDate();
  const same = `${ny}-${String(nm).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
  return addDays(same, -1);
}

/**
 * Automatic renewal, before expiry: an active agreement renewed automatically whose term has ended goes on for its
 * `renewal_months` (as many times as needed to cover today, should the job have missed days). Masters first, so a
 * child renewed in the same run may use its master's new term; a child never goes past its master's end (capped),
 * and one whose master ends with it is not renewed (it ends with its master). An open amendment that kept the old end
 * date keeps up with the new one (its proposed terms and the terms it amends), so accepting it later does not undo
 * the renewal. Each renewal is an event of the agreement ("old end → new end"). Returns the renewed ids.
 */
async function renewAgreements(trx: Trx, today: string): Promise<string[]> {
  const due = await trx.selectFrom('agreements').select(['id', 'term_end', 'renewal_months', 'master_id', 'is_master'])
    .where('status', '=', 'active').where('renewal', '=', 'automatic').where('term_end', '<', today)
    .orderBy('is_master', 'desc').orderBy('id').forUpdate().execute();
  const renewed: string[] = [];
  for (const a of due) {
    let end = a.term_end;
    for (let i = 0; i < 1200 && end < today; i++) end = renewedEnd(end, a.renewal_months);
    if (a.master_id) {
      const m = await trx.selectFrom('agreements').select(['status', 'term_end']).where('id', '=', a.master_id).executeTakeFirst();
      if (!m || m.status !== 'active') continue;
      if (m.term_end < end) end = m.term_end;
      if (end < today) continue;
    }
    await trx.updateTable('agreements').set({ term_end: end, updated_at: new Date() }).where('id', '=', a.id).execute();
    for (const col of ['snapshot', 'base'] as const) {
      await sql`update agreement_versions set ${sql.ref(col)} = jsonb_set(${sql.ref(col)}, '{term_end}', to_jsonb(${end}::text))
                 where agreement_id = ${a.id} and status in ('draft', 'submitted', 'approved') and ${sql.ref(col)} ->> 'term_end' = ${a.term_end}`.execute(trx);
    }
    await event(trx, a.id, null, 'renewed', null, `${a.term_end} → ${end}`);
    renewed.push(a.id);
  }
  return renewed;
}

/**
 * The daily run: automatic renewals first (renewAgreements), then automatic expiry: active (or approved, never
 * accepted) agreements past their end, then children of ended masters. Returns how many ended.
 */
export async function expireAgreements(db: Database, today: string): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await renewAgreements(trx, today);
    const ended = await trx.updateTable('agreements').set({ status: 'expired', ended_at: new Date(), end_reason: 'term_ended', updated_at: new Date() })
      .where('status', 'in', ['active', 'approved', 'submitted', 'draft']).where('term_end', '<', today).returning('id').execute();
    const children = await trx.updateTable('agreements').set({ status: 'expired', ended_at: new Date(), end_reason: 'master_ended', updated_at: new Date() })
      .where('status', 'not in', ['expired', 'terminated'])
      .where('master_id', 'in', trx.selectFrom('agreements').select('id').where('status', 'in', ['expired', 'terminated']))
      .returning('id').execute();
    const all = [...ended, ...children];
    if (all.length) {
      await trx.updateTable('agreement_versions').set({ status: 'withdrawn', updated_at: new Date() }).where('agreement_id', 'in', all.map((a) => a.id)).where('status', 'in', ['draft', 'submitted', 'approved']).execute();
      await trx.insertInto('agreement_events').values(all.map((a) => ({ agreement_id: a.id, version: null, action: 'expired', staff_id: null, detail: ended.includes(a) ? 'term_ended' : 'master_ended' }))).execute();
    }
    return all.length;
  });
}

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/**
 * Bilingual e-mail to the one-stop's managers 90 and 30 days before an active agreement ends. Idempotent: each
 * (agreement, term end, threshold) is recorded in agreement_reminders in the transaction that sends it, so a rerun
 * (or a second worker, which waits on the row) sends nothing more; a failed send rolls the record back and the next
 * run tries again. A changed term end gets its own reminders.
 */
export async function sendExpiryReminders(db: Database, mailer: Mailer, today: string, baseUrl: string): Promise<number> {
  let sent = 0;
  for (const days of [30, 90]) {
    const due = await db.selectFrom('agreements as a').innerJoin('organisations as o', 'o.id', 'a.partner_org_id')
      .leftJoin('agreements as m', 'm.id', 'a.master_id')
      .select(['a.id', 'a.number', 'a.title_en', 'a.title_fr', 'a.term_end', 'a.renewal', 'a.renewal_months', 'a.master_id', 'm.term_end as master_end', 'm.status as master_status', 'o.name_en', 'o.name_fr'])
      .where('a.status', '=', 'active').where('a.term_end', '>=', today).where('a.term_end', '<=', addDays(today, days))
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('agreement_reminders as r').select('r.agreement_id').whereRef('r.agreement_id', '=', 'a.id').whereRef('r.term_end', '=', 'a.term_end').where('r.days_before', '<=', days))))
      .execute();
    if (!due.length) continue;
    const managers = await db.selectFrom('staff_users').select(['email']).where('org_id', '=', ONE_STOP_ORG_ID).where('active', '=', true).where(sql<boolean>`'manager' = any(roles)`).execute();
    for (const a of due) {
      await db.transaction().execute(async (trx) => {
        const claimed = await trx.insertInto('agreement_reminders').values({ agreement_id: a.id, term_end: a.term_end, days_before: days })
          .onConflict((oc) => oc.doNothing()).returning('agreement_id').executeTakeFirst();
        if (!claimed) return;
        // An agreement renewed automatically does not end: the managers are told when and until when it renews (the
        // same run as renewAgreements would give it, capped by its master), so that they can still terminate it.
        const next = renewedEnd(a.term_end, a.renewal_months);
        const renews = a.renewal === 'automatic' && (!a.master_id || (a.master_status === 'active' && a.master_end! > a.term_end));
        const until = renews && a.master_end && a.master_end < next ? a.master_end : next;
        const kind = renews ? 'renewal' : 'reminder';
        const line = (lang: Lang) => t(lang, `agreements.mail.${kind}Body`, {
          number: a.number, title: lang === 'fr' ? a.title_fr : a.title_en, partner: lang === 'fr' ? a.name_fr : a.name_en,
          end: formatDate(a.term_end, lang), days, months: a.renewal_months, next: formatDate(until, lang),
          url: `${baseUrl}/${lang}/${lang === 'fr' ? 'personnel/ententes' : 'staff/agreements'}/${a.id}`,
        });
        for (const m of managers) {
          await mailer.send({
            to: m.email,
            subject: `${t('en', `agreements.mail.${kind}Subject`, { number: a.number, days })} / ${t('fr', `agreements.mail.${kind}Subject`, { number: a.number, days })}`,
            text: `${line('en')}\n\n---\n\n${line('fr')}\n`,
            headers: { 'Content-Language': 'en, fr' },
          });
        }
        await event(trx, a.id, null, 'reminder_sent', null, String(days));
        sent++;
      });
    }
  }
  return sent;
}

// -------------------------------------------------------------------------------------------------- diffs

const DIFF_TEXT = ['title_en', 'title_fr', 'summary_en', 'summary_fr', 'convenience_fee_legal_basis_en', 'convenience_fee_legal_basis_fr'] as const;

/** Field-by-field differences of two versions' terms, labelled in the page language (the catalogue editor's format). */
export function diffAgreementSnapshots(oldTerms: AgreementSnapshot, newTerms: AgreementSnapshot, lang: Lang): FieldDiff[] {
  const before = withSnapshotDefaults(oldTerms);
  const after = withSnapshotDefaults(newTerms);
  const out: FieldDiff[] = [];
  const label = (f: string) => t(lang, `agreements.field.${f}`);
  for (const f of SNAPSHOT_FIELDS) {
    const b = before[f];
    const a = after[f];
    if (JSON.stringify(b) === JSON.stringify(a)) continue;
    if ((DIFF_TEXT as readonly string[]).includes(f)) out.push({ field: f, label: label(f), kind: 'text', parts: diffWords(String(b ?? ''), String(a ?? '')) });
    else out.push({ field: f, label: label(f), kind: 'list', items: [{ type: 'removed', text: show(f, b, lang) }, { type: 'added', text: show(f, a, lang) }] });
  }
  const items = (s: AgreementSnapshot) => s.services.map((x) => `${x.service_id}: ${x.channels.map((c) => t(lang, `editor.channel.${c}`)).join(', ')}`);
  const listDiff = (b: string[], a: string[]): DiffPart[] | null => {
    const parts: DiffPart[] = [...a.map((x) => ({ type: (b.includes(x) ? 'same' : 'added') as DiffPart['type'], text: x })), ...b.filter((x) => !a.includes(x)).map((x) => ({ type: 'removed' as const, text: x }))];
    return parts.some((p) => p.type !== 'same') ? parts : null;
  };
  const sv = listDiff(items(before), items(after));
  if (sv) out.push({ field: 'services', label: label('services'), kind: 'list', items: sv });
  const lv = listDiff(before.service_levels.map((l) => `${l.standard_id}: ${Math.round(l.target * 1000) / 10} %`), after.service_levels.map((l) => `${l.standard_id}: ${Math.round(l.target * 1000) / 10} %`));
  if (lv) out.push({ field: 'service_levels', label: label('service_levels'), kind: 'list', items: lv });
  return out;
}

function show(f: string, v: unknown, lang: Lang): string {
  if (v === null || v === undefined || v === '') return '–';
  if (typeof v === 'boolean') return t(lang, v ? 'agreements.yes' : 'agreements.no');
  if (Array.isArray(v)) return v.map((c) => t(lang, `editor.channel.${c}`)).join(', ') || '–';
  if (f === 'term_start' || f === 'term_end') return formatDate(String(v), lang);
  if (['integration_level', 'renewal', 'refund_bearer', 'remittance_frequency'].includes(f)) return t(lang, `agreements.${f}.${v}`);
  return String(v);
}
