/**
 * Online forms: a partner defines the form of a service as data (pages, fields, conditions, validation, bilingual
 * labels and help), versioned; Guichet renders it server-side (forms-routes.ts), saves drafts, pre-fills from the
 * client's file with their consent, validates per field, and on submission creates the case and delivers it to the
 * partner (signed webhook, retried by the job queue).
 */
import crypto from 'node:crypto';
import type { Database } from '../db/database';
import { isUuid } from '../db/ids';
import { AppError, type FieldError } from '../http/errors';
import type { Lang } from '../i18n/index';
import { grantConsent } from '../clients/consent';
import { sign } from '../notices/signing';
import type { StaffPrincipal } from '../http/session';
import { AGENT_ACCESS_PURPOSE, auditStaffRead } from './integration';
import { createCase, type Ctx } from './service';
import { localDate } from './due-date';

export type Text = { en: string; fr: string };
export interface Condition {
  field: string;
  equals?: string;
  notEquals?: string;
  in?: string[];
}
export const FIELD_TYPES = ['text', 'textarea', 'email', 'number', 'date', 'radio', 'select', 'checkboxes'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
/** What may be pre-filled from the client's file (Guichet's own profile of the client). */
export const PREFILL_SOURCES = ['given_name', 'family_name', 'email', 'phone', 'birth_date', 'address'] as const;
export type PrefillSource = (typeof PREFILL_SOURCES)[number];

export interface FormField {
  name: string;
  type: FieldType;
  label: Text;
  help?: Text;
  required?: boolean;
  maxLength?: number;
  min?: number;
  max?: number;
  /** Dates: 'past' (today or before) or 'future' (today or after). */
  dateRange?: 'past' | 'future';
  options?: Array<{ value: string; label: Text }>;
  condition?: Condition;
  prefill?: PrefillSource;
}
export interface FormPage {
  id: string;
  title: Text;
  condition?: Condition;
  fields: FormField[];
}
export interface FormDefinition {
  title: Text;
  pages: FormPage[];
}

const NAME_RE = /^[a-z][a-z0-9_]{0,49}$/;
const isText = (t: unknown, max = 500): t is Text =>
  !!t && typeof t === 'object' && typeof (t as Text).en === 'string' && typeof (t as Text).fr === 'string' && !!(t as Text).en.trim() && !!(t as Text).fr.trim() && (t as Text).en.length <= max && (t as Text).fr.length <= max;

/** Check a partner's form definition; every problem is reported with its path. */
export function validateDefinition(def: unknown): FieldError[] {
  const errs: FieldError[] = [];
  const d = def as FormDefinition;
  if (!d || typeof d !== 'object') return [{ field: 'definition', code: 'required' }];
  if (!isText(d.title)) errs.push({ field: 'definition.title', code: 'bilingualRequired' });
  if (!Array.isArray(d.pages) || !d.pages.length) return [...errs, { field: 'definition.pages', code: 'required' }];
  if (d.pages.length > 30) errs.push({ field: 'definition.pages', code: 'tooLong' });
  const names = new Set<string>();
  const pageIds = new Set<string>();
  d.pages.forEach((p, i) => {
    const at = `definition.pages.${i}`;
    if (!p || typeof p !== 'object') return errs.push({ field: at, code: 'invalid' });
    if (typeof p.id !== 'string' || !NAME_RE.test(p.id) || pageIds.has(p.id)) errs.push({ field: `${at}.id`, code: 'invalid' });
    pageIds.add(p.id);
    if (!isText(p.title)) errs.push({ field: `${at}.title`, code: 'bilingualRequired' });
    if (!Array.isArray(p.fields) || !p.fields.length) return errs.push({ field: `${at}.fields`, code: 'required' });
    if (p.fields.length > 50) errs.push({ field: `${at}.fields`, code: 'tooLong' });
    p.fields.forEach((f, j) => {
      const fa = `${at}.fields.${j}`;
      if (!f || typeof f !== 'object') return errs.push({ field: fa, code: 'invalid' });
      if (typeof f.name !== 'string' || !NAME_RE.test(f.name)) errs.push({ field: `${fa}.name`, code: 'invalid' });
      else if (names.has(f.name)) errs.push({ field: `${fa}.name`, code: 'duplicateName' });
      names.add(f.name);
      if (!FIELD_TYPES.includes(f.type)) errs.push({ field: `${fa}.type`, code: 'notAllowed' });
      if (!isText(f.label)) errs.push({ field: `${fa}.label`, code: 'bilingualRequired' });
      if (f.help !== undefined && !isText(f.help, 2000)) errs.push({ field: `${fa}.help`, code: 'bilingualRequired' });
      if (['radio', 'select', 'checkboxes'].includes(f.type)) {
        if (!Array.isArray(f.options) || !f.options.length || f.options.length > 100) errs.push({ field: `${fa}.options`, code: 'required' });
        else if (f.options.some((o) => !o || typeof o.value !== 'string' || !o.value || o.value.length > 100 || !isText(o.label))) errs.push({ field: `${fa}.options`, code: 'invalid' });
      }
      if (f.maxLength !== undefined && (!Number.isInteger(f.maxLength) || f.maxLength < 1 || f.maxLength > 10000)) errs.push({ field: `${fa}.maxLength`, code: 'invalid' });
      if (f.min !== undefined && typeof f.min !== 'number') errs.push({ field: `${fa}.min`, code: 'invalid' });
      if (f.max !== undefined && typeof f.max !== 'number') errs.push({ field: `${fa}.max`, code: 'invalid' });
      if (f.dateRange !== undefined && f.dateRange !== 'past' && f.dateRange !== 'future') errs.push({ field: `${fa}.dateRange`, code: 'notAllowed' });
      if (f.prefill !== undefined && !PREFILL_SOURCES.includes(f.prefill)) errs.push({ field: `${fa}.prefill`, code: 'notAllowed' });
      if (f.condition !== undefined && !validCondition(f.condition, names)) errs.push({ field: `${fa}.condition`, code: 'invalid' });
    });
    if (p.condition !== undefined && !validCondition(p.condition, names)) errs.push({ field: `${at}.condition`, code: 'invalid' });
  });
  return errs;
}

/** Conditions may only look at fields defined before them (so a page never depends on a later answer). */
function validCondition(c: Condition, earlier: Set<string>): boolean {
  if (!c || typeof c !== 'object' || typeof c.field !== 'string' || !earlier.has(c.field)) return false;
  const kinds = [c.equals !== undefined, c.notEquals !== undefined, c.in !== undefined].filter(Boolean).length;
  if (kinds !== 1) return false;
  if (c.in !== undefined && (!Array.isArray(c.in) || c.in.some((v) => typeof v !== 'string'))) return false;
  return true;
}

export type Answers = Record<string, string | string[]>;

export function conditionHolds(c: Condition | undefined, data: Answers): boolean {
  if (!c) return true;
  const v = data[c.field];
  const values = Array.isArray(v) ? v : v === undefined || v === '' ? [] : [v];
  if (c.equals !== undefined) return values.includes(c.equals);
  if (c.notEquals !== undefined) return !values.includes(c.notEquals);
  if (c.in) return values.some((x) => c.in!.includes(x));
  return true;
}

export function visiblePages(def: FormDefinition, data: Answers): FormPage[] {
  return def.pages.filter((p) => conditionHolds(p.condition, data));
}
export function visibleFields(page: FormPage, data: Answers): FormField[] {
  return page.fields.filter((f) => conditionHolds(f.condition, data));
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Read a page's answers from a form post and validate them. Hidden (condition false) fields are dropped. */
export function readPage(page: FormPage, body: Record<string, unknown>, data: Answers): { values: Answers; errors: FieldError[] } {
  const values: Answers = {};
  const errors: FieldError[] = [];
  // Conditions inside a page may depend on answers on the same page: evaluate with the merged answers.
  for (const f of page.fields) {
    const raw = body[f.name];
    if (f.type === 'checkboxes') values[f.name] = (Array.isArray(raw) ? raw : raw === undefined || raw === '' ? [] : [raw]).map(String);
    else values[f.name] = typeof raw === 'string' ? raw.trim() : Array.isArray(raw) ? String(raw[0] ?? '').trim() : '';
  }
  const merged = { ...data, ...values };
  for (const f of page.fields) {
    if (!conditionHolds(f.condition, merged)) {
      delete values[f.name];
      continue;
    }
    const v = values[f.name];
    const empty = Array.isArray(v) ? v.length === 0 : v === '';
    if (empty) {
      if (f.required) errors.push({ field: f.name, code: 'required' });
      continue;
    }
    const s = Array.isArray(v) ? '' : v;
    switch (f.type) {
      case 'text':
      case 'textarea':
        if (s.length > (f.maxLength ?? (f.type === 'text' ? 500 : 4000))) errors.push({ field: f.name, code: 'tooLong' });
        break;
      case 'email':
        if (s.length > 254 || !EMAIL_RE.test(s)) errors.push({ field: f.name, code: 'invalidEmail' });
        break;
      case 'number': {
        const n = Number(s.replace(',', '.'));
        if (!/^-?\d+([.,]\d+)?$/.test(s) || !Number.isFinite(n)) errors.push({ field: f.name, code: 'notANumber' });
        else if (f.min !== undefined && n < f.min) errors.push({ field: f.name, code: 'tooSmall' });
        else if (f.max !== undefined && n > f.max) errors.push({ field: f.name, code: 'tooLarge' });
        break;
      }
      case 'date': {
        const ok = /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(new Date(`${s}T00:00:00Z`).getTime()) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;
        if (!ok) errors.push({ field: f.name, code: 'invalidDate' });
        else if (f.dateRange === 'past' && s > localDate(new Date())) errors.push({ field: f.name, code: 'dateNotPast' });
        else if (f.dateRange === 'future' && s < localDate(new Date())) errors.push({ field: f.name, code: 'dateNotFuture' });
        break;
      }
      case 'radio':
      case 'select':
        if (!f.options!.some((o) => o.value === s)) errors.push({ field: f.name, code: 'notAllowed' });
        break;
      case 'checkboxes':
        if ((v as string[]).some((x) => !f.options!.some((o) => o.value === x))) errors.push({ field: f.name, code: 'notAllowed' });
        break;
    }
  }
  return { values, errors };
}

export async function latestForm(db: Database, serviceId: string) {
  return db.selectFrom('case_forms').selectAll().where('service_id', '=', serviceId).orderBy('version', 'desc').limit(1).executeTakeFirst();
}

/** A partner publishes a new version of a service's form (staff of the owning organisation). */
export async function publishForm(db: Database, staff: { id: string; orgId: string; roles: string[] }, serviceId: string, definition: unknown, webhookUrl: string | null) {
  if (!['partner', 'manager', 'admin'].some((r) => staff.roles.includes(r))) throw new AppError(403, 'FORBIDDEN');
  const svc = await db.selectFrom('services').select(['id', 'owner_org_id']).where('id', '=', serviceId).executeTakeFirst();
  if (!svc || svc.owner_org_id !== staff.orgId) throw new AppError(404, 'FORM_SERVICE_NOT_FOUND');
  const errors = validateDefinition(definition);
  if (webhookUrl !== null) {
    let ok = false;
    try {
      const u = new URL(webhookUrl);
      ok = u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(u.hostname));
    } catch {
      ok = false;
    }
    if (!ok) errors.push({ field: 'webhookUrl', code: 'invalidUrl' });
  }
  if (errors.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, errors);
  return db.transaction().execute(async (trx) => {
    const prev = await trx.selectFrom('case_forms').select(['version', 'signing_secret']).where('service_id', '=', serviceId).orderBy('version', 'desc').limit(1).forUpdate().executeTakeFirst();
    const version = (prev?.version ?? 0) + 1;
    const newSecret = webhookUrl && !prev?.signing_secret ? `whsec_${crypto.randomBytes(32).toString('base64url')}` : null;
    await trx
      .insertInto('case_forms')
      .values({ service_id: serviceId, version, definition: JSON.stringify(definition), webhook_url: webhookUrl, signing_secret: webhookUrl ? (prev?.signing_secret ?? newSecret) : null, created_by: staff.id })
      .execute();
    return { serviceId, version, signingSecret: newSecret };
  });
}

/**
 * The client's open draft for this service, or a new one on the latest version (optionally pre-filled with consent).
 * Assisted channel (`opts.staff`): an agent serving the client fills it in with them; only the profile fields the
 * agent's access covers (`opts.allowedSources`) are pre-filled, the read is written to the client's access log, and
 * the draft records the agent.
 */
export async function startDraft(db: Database, clientId: string, serviceId: string, prefill: boolean, opts: { staff?: StaffPrincipal; allowedSources?: string[] } = {}) {
  const form = await latestForm(db, serviceId);
  if (!form) throw new AppError(404, 'FORM_NOT_FOUND');
  const existing = await db
    .selectFrom('case_form_drafts')
    .select(['id'])
    .where('client_id', '=', clientId)
    .where('service_id', '=', serviceId)
    .where('submitted_case_id', 'is', null)
    .orderBy('updated_at', 'desc')
    .executeTakeFirst();
  if (existing) return { id: existing.id, resumed: true };
  const def = form.definition as FormDefinition;
  const id = crypto.randomUUID();
  await db.transaction().execute(async (trx) => {
    let data: Answers = {};
    let consentId: string | null = null;
    const wanted = def.pages.flatMap((p) => p.fields).filter((f) => f.prefill && (!opts.allowedSources || opts.allowedSources.includes(f.prefill)));
    if (prefill && wanted.length) {
      const svc = await trx.selectFrom('services').select('owner_org_id').where('id', '=', serviceId).executeTakeFirstOrThrow();
      // The client agrees, now, that these fields of their file go to the service's organisation with this form.
      consentId = await grantConsent(trx, {
        clientId,
        orgId: svc.owner_org_id,
        purpose: 'form-prefill',
        fields: [...new Set(wanted.map((f) => (f.prefill === 'address' ? 'address' : `profile.${f.prefill}`)))],
        legalBasis: 'consent',
        ...(opts.staff ? { grantedBy: `client:${clientId} (assisted, staff:${opts.staff.id})` } : {}),
      });
      data = await prefillFromFile(trx, clientId, wanted);
      if (opts.staff) await auditStaffRead(trx, opts.staff, clientId, [...new Set(wanted.map((f) => f.prefill!))], AGENT_ACCESS_PURPOSE, 'consent');
    }
    await trx
      .insertInto('case_form_drafts')
      .values({ id, client_id: clientId, service_id: serviceId, form_version: form.version, data: JSON.stringify(data), prefill_consent_id: consentId, submitted_case_id: null, assisted_by: opts.staff?.id ?? null })
      .execute();
  });
  return { id, resumed: false };
}

async function prefillFromFile(db: Database, clientId: string, fields: FormField[]): Promise<Answers> {
  const c = await db.selectFrom('clients').selectAll().where('id', '=', clientId).executeTakeFirstOrThrow();
  const addr = await db.selectFrom('client_addresses').selectAll().where('client_id', '=', clientId).where('valid_to', 'is', null).orderBy('valid_from', 'desc').executeTakeFirst();
  const out: Answers = {};
  for (const f of fields) {
    const v =
      f.prefill === 'address'
        ? addr
          ? [addr.line1, addr.line2, `${addr.city} ${addr.province} ${addr.postal_code}`].filter(Boolean).join(', ')
          : null
        : (c as Record<string, unknown>)[f.prefill!];
    if (typeof v === 'string' && v) out[f.name] = v;
  }
  return out;
}

export async function loadDraft(db: Database, clientId: string, draftId: string) {
  if (!isUuid(draftId)) throw new AppError(404, 'DRAFT_NOT_FOUND');
  const d = await db
    .selectFrom('case_form_drafts')
    .innerJoin('case_forms', (j) => j.onRef('case_forms.service_id', '=', 'case_form_drafts.service_id').onRef('case_forms.version', '=', 'case_form_drafts.form_version'))
    .selectAll('case_form_drafts')
    .select(['case_forms.definition'])
    .where('case_form_drafts.id', '=', draftId)
    .where('case_form_drafts.client_id', '=', clientId)
    .executeTakeFirst();
  if (!d) throw new AppError(404, 'DRAFT_NOT_FOUND');
  return { ...d, definition: d.definition as FormDefinition, data: (d.data ?? {}) as Answers };
}

export async function saveDraft(db: Database, draftId: string, data: Answers, assistedBy?: string) {
  await db
    .updateTable('case_form_drafts')
    .set({ data: JSON.stringify(data), updated_at: new Date(), ...(assistedBy ? { assisted_by: assistedBy } : {}) }).where('id', '=', draftId).where('submitted_case_id', 'is', null).execute();
}

/** Human-readable answers (in the client's language) for the case summary and the review page. */
export function answerLines(def: FormDefinition, data: Answers, lang: Lang): Array<{ page: FormPage; field: FormField; text: string }> {
  const out: Array<{ page: FormPage; field: FormField; text: string }> = [];
  for (const p of visiblePages(def, data)) {
    for (const f of visibleFields(p, data)) {
      const v = data[f.name];
      if (v === undefined || (Array.isArray(v) ? !v.length : v === '')) continue;
      const label = (x: string) => f.options?.find((o) => o.value === x)?.label[lang] ?? x;
      out.push({ page: p, field: f, text: Array.isArray(v) ? v.map(label).join(', ') : label(v) });
    }
  }
  return out;
}

/**
 * Submit: validate every visible page again, create the case with the answers, mark the draft submitted and queue
 * the delivery to the partner, all in one transaction.
 */
export async function submitDraft(
  ctx: Ctx,
  clientId: string,
  draftId: string,
  lang: Lang,
  enqueueDelivery?: (trx: Database, caseId: string) => Promise<void>,
  /** Assisted channel: the agent serving the client submits with them (the case records the agent and the channel). */
  assisted?: { staff: StaffPrincipal; channel: 'phone' | 'counter' },
) {
  const draft = await loadDraft(ctx.db, clientId, draftId);
  if (draft.submitted_case_id) throw new AppError(409, 'DRAFT_ALREADY_SUBMITTED');
  const def = draft.definition;
  const pages = visiblePages(def, draft.data);
  for (let i = 0; i < pages.length; i++) {
    const { errors } = readPage(pages[i], draft.data as Record<string, unknown>, draft.data);
    if (errors.length) return { ok: false as const, pageIndex: def.pages.indexOf(pages[i]), errors };
  }
  const clean: Answers = {};
  for (const p of pages) for (const f of visibleFields(p, draft.data)) if (draft.data[f.name] !== undefined) clean[f.name] = draft.data[f.name];
  const summary = answerLines(def, clean, lang)
    .map((l) => `${l.field.label[lang]}: ${l.text}`)
    .join('\n')
    .slice(0, 4000);
  const form = await ctx.db.selectFrom('case_forms').select(['webhook_url']).where('service_id', '=', draft.service_id).where('version', '=', draft.form_version).executeTakeFirstOrThrow();
  const result = await ctx.db.transaction().execute(async (trx) => {
    const r = assisted
      ? await createCase(ctx, { kind: 'staff', staff: assisted.staff }, { serviceId: draft.service_id, summary: summary || def.title[lang], channel: assisted.channel, clientId }, new Date(), { trx })
      : await createCase(ctx, { kind: 'client', clientId }, { serviceId: draft.service_id, summary: summary || def.title[lang] }, new Date(), { trx });
    await trx.updateTable('cases').set({ form_version: draft.form_version, form_data: JSON.stringify(clean) }).where('id', '=', r.id).execute();
    const upd = await trx
      .updateTable('case_form_drafts')
      .set({ submitted_case_id: r.id, data: JSON.stringify(clean), updated_at: new Date(), ...(assisted ? { assisted_by: assisted.staff.id } : {}) }).where('id', '=', draftId).where('submitted_case_id', 'is', null).executeTakeFirst();
    if (Number(upd.numUpdatedRows) !== 1) throw new AppError(409, 'DRAFT_ALREADY_SUBMITTED');
    if (form.webhook_url) {
      const c = await trx.selectFrom('cases').select('responsible_org_id').where('id', '=', r.id).executeTakeFirstOrThrow();
      await trx.insertInto('case_deliveries').values({ case_id: r.id, org_id: c.responsible_org_id, url: form.webhook_url, last_status: null, last_error: null, delivered_at: null }).execute();
      if (enqueueDelivery) await enqueueDelivery(trx, r.id);
    }
    return r;
  });
  return { ok: true as const, caseId: result.id, notificationIds: result.notificationIds };
}

export const DELIVER_QUEUE = 'cases.deliver';
export class RetryableDeliveryError extends Error {}

/**
 * Deliver one submitted form to the partner: POST the signed JSON (same signature scheme as Tell Us Once notices:
 * Guichet-Signature t=…,v1=HMAC-SHA256(secret, "t.body"); Idempotency-Key = case id). 2xx/409 → delivered;
 * 400/404/410/422 → rejected (no retry); anything else throws RetryableDeliveryError so the queue retries it.
 */
export async function deliverCase(db: Database, caseId: string, timeoutMs = 10_000): Promise<'delivered' | 'rejected' | 'skipped'> {
  const row = await db
    .selectFrom('case_deliveries')
    .innerJoin('cases', 'cases.id', 'case_deliveries.case_id')
    .innerJoin('case_forms', (j) => j.onRef('case_forms.service_id', '=', 'cases.service_id').onRef('case_forms.version', '=', 'cases.form_version'))
    .select([
      'case_deliveries.url',
      'case_deliveries.status',
      'case_deliveries.attempts',
      'case_forms.signing_secret',
      'cases.id',
      'cases.reference',
      'cases.service_id',
      'cases.form_version',
      'cases.form_data',
      'cases.submitted_at',
      'cases.due_date',
      'cases.client_id',
    ])
    .where('case_deliveries.case_id', '=', caseId)
    .executeTakeFirst();
  if (!row || row.status !== 'pending' || !row.signing_secret) return 'skipped';
  const body = JSON.stringify({
    type: 'guichet.case.submitted',
    caseId: row.id,
    reference: row.reference,
    serviceId: row.service_id,
    formVersion: row.form_version,
    submittedAt: row.submitted_at.toISOString(),
    dueDate: row.due_date,
    answers: row.form_data,
  });
  let status: number | null = null;
  let error: string | null = null;
  try {
    const res = await fetch(row.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': row.id, 'guichet-signature': sign(row.signing_secret, body), 'user-agent': 'Guichet-Cases/1' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    await res.text().catch(() => '');
  } catch (err) {
    error = String((err as Error).message ?? err).slice(0, 300);
  }
  const attempts = row.attempts + 1;
  if (status !== null && ((status >= 200 && status < 300) || status === 409)) {
    await db.updateTable('case_deliveries').set({ status: 'delivered', attempts, last_status: status, last_error: null, delivered_at: new Date() }).where('case_id', '=', caseId).execute();
    return 'delivered';
  }
  if (status !== null && [400, 404, 410, 422].includes(status)) {
    await db.updateTable('case_deliveries').set({ status: 'rejected', attempts, last_status: status, last_error: `HTTP ${status}` }).where('case_id', '=', caseId).execute();
    return 'rejected';
  }
  await db.updateTable('case_deliveries').set({ attempts, last_status: status, last_error: error ?? `HTTP ${status}` }).where('case_id', '=', caseId).execute();
  throw new RetryableDeliveryError(error ?? `HTTP ${status}`);
}
