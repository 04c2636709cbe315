/**
 * Tell Us Once commands and queries: subscriptions, partner API keys, declarations (one discrete notice per chosen
 * recipient with only its entitled fields), the client's view, and the partner feed (pull, ack, reject).
 * Every command is one transaction: bad input stores nothing.
 */
import crypto from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database';
import type { DB } from '../schema';
import { AppError, type FieldError } from '../http/errors';
import { grantConsents } from '../clients/consent';
import { enqueueMany } from '../jobs/index';
import { ALL_ITEM_KEYS, eventTypes, isEventType, itemKeys, validateEventData, type EventData, type EventTypeDef, type EventTypeId } from './events';
import { newSecret, sha256hex } from './signing';
import { recordAccessBatch } from '../clients/access-log';
import { isUuid } from '../db/ids';
import { representativeBasis } from '../clients/accounts';
import type { DeliveryMode, NoticeStatus } from './tables';

export const DELIVER_QUEUE = 'notices.deliver';
export const EVENT_URI_PREFIX = 'urn:guichet:tell-us-once:event:';
export const PAYLOAD_VERSION = '1';
export const MAX_RECIPIENTS = 50;

const vErr = (details: FieldError[]) => new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);

// ---------------------------------------------------------------- subscriptions

export interface SubscriptionInput {
  id?: string;
  orgId: string;
  programEn: string;
  programFr: string;
  purposeEn: string;
  purposeFr: string;
  serviceId?: string | null;
  eventTypes: string[];
  fields: string[];
  legalBasis: 'consent' | 'law';
  lawReference?: string | null;
  delivery: DeliveryMode;
  webhookUrl?: string | null;
  active?: boolean;
}

const SLUG_RE = /^[a-z0-9][a-z0-9-]{1,79}$/;

function validateSubscription(input: SubscriptionInput, allowLoopback: boolean): FieldError[] {
  const e: FieldError[] = [];
  const str = (f: keyof SubscriptionInput, max: number, required = true) => {
    const v = input[f];
    if (v === undefined || v === null || (typeof v === 'string' && !v.trim())) {
      if (required) e.push({ field: f, code: 'required' });
    } else if (typeof v !== 'string') e.push({ field: f, code: 'invalid' });
    else if (v.length > max) e.push({ field: f, code: 'tooLong' });
  };
  if (input.id !== undefined && (typeof input.id !== 'string' || !SLUG_RE.test(input.id))) e.push({ field: 'id', code: 'invalid' });
  str('orgId', 100);
  str('programEn', 200);
  str('programFr', 200);
  str('purposeEn', 1000);
  str('purposeFr', 1000);
  if (!Array.isArray(input.eventTypes) || !input.eventTypes.length) e.push({ field: 'eventTypes', code: 'required' });
  else if (!input.eventTypes.every(isEventType)) e.push({ field: 'eventTypes', code: 'notAllowed' });
  if (!Array.isArray(input.fields) || !input.fields.length) e.push({ field: 'fields', code: 'required' });
  else if (!input.fields.every((f) => ALL_ITEM_KEYS.includes(f))) e.push({ field: 'fields', code: 'notAllowed' });
  else if (Array.isArray(input.eventTypes) && input.eventTypes.every(isEventType)) {
    // every field must belong to at least one of the subscribed event types
    const offered = new Set(input.eventTypes.flatMap((t) => itemKeys(eventTypes[t as EventTypeId])));
    if (!input.fields.every((f) => offered.has(f))) e.push({ field: 'fields', code: 'notInEvents' });
  }
  if (input.legalBasis !== 'consent' && input.legalBasis !== 'law') e.push({ field: 'legalBasis', code: 'notAllowed' });
  if (input.legalBasis === 'law') str('lawReference', 500);
  if (input.delivery !== 'webhook' && input.delivery !== 'pull') e.push({ field: 'delivery', code: 'notAllowed' });
  if (input.delivery === 'webhook') {
    str('webhookUrl', 500);
    if (typeof input.webhookUrl === 'string' && input.webhookUrl.trim()) {
      let ok = false;
      try {
        const u = new URL(input.webhookUrl);
        const local = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
        ok = u.protocol === 'https:' || (u.protocol === 'http:' && local && allowLoopback);
        if (u.username || u.password) ok = false;
      } catch {
        ok = false;
      }
      if (!ok) e.push({ field: 'webhookUrl', code: 'url' });
    }
  }
  return e;
}

/** Create or update a subscription. Returns its id and, when newly created for a webhook, the signing secret (shown once). */
export async function saveSubscription(
  db: Database,
  input: SubscriptionInput,
  opts: { staffId: string; allowLoopback: boolean; existingId?: string; isDemo?: boolean },
): Promise<{ id: string; signingSecret: string | null }> {
  const errors = validateSubscription(input, opts.allowLoopback);
  if (errors.length) throw vErr(errors);
  return db.transaction().execute(async (trx) => {
    const org = await trx.selectFrom('organisations').select('id').where('id', '=', input.orgId).executeTakeFirst();
    if (!org) throw vErr([{ field: 'orgId', code: 'unknown' }]);
    if (input.serviceId) {
      const svc = await trx.selectFrom('services').select('id').where('id', '=', input.serviceId).executeTakeFirst();
      if (!svc) throw vErr([{ field: 'serviceId', code: 'unknown' }]);
    }
    const values = {
      org_id: input.orgId,
      program_en: input.programEn.trim(),
      program_fr: input.programFr.trim(),
      purpose_en: input.purposeEn.trim(),
      purpose_fr: input.purposeFr.trim(),
      service_id: input.serviceId || null,
      event_types: [...new Set(input.eventTypes)],
      fields: [...new Set(input.fields)].sort(),
      legal_basis: input.legalBasis,
      law_reference: input.legalBasis === 'law' ? input.lawReference!.trim() : null,
      delivery: input.delivery,
      webhook_url: input.delivery === 'webhook' ? input.webhookUrl!.trim() : null,
      active: input.active ?? true,
    };
    if (opts.existingId) {
      const cur = await trx.selectFrom('notice_subscriptions').select(['id', 'signing_secret']).where('id', '=', opts.existingId).executeTakeFirst();
      if (!cur) throw new AppError(404, 'SUBSCRIPTION_NOT_FOUND');
      const secret = values.delivery === 'webhook' && !cur.signing_secret ? newSecret('whsec') : null;
      await trx
        .updateTable('notice_subscriptions')
        .set({ ...values, ...(secret ? { signing_secret: secret } : {}), updated_at: new Date() })
        .where('id', '=', opts.existingId)
        .execute();
      return { id: opts.existingId, signingSecret: secret };
    }
    const id = input.id ?? `${input.orgId}-${crypto.randomBytes(4).toString('hex')}`;
    const exists = await trx.selectFrom('notice_subscriptions').select('id').where('id', '=', id).executeTakeFirst();
    if (exists) throw vErr([{ field: 'id', code: 'taken' }]);
    const secret = values.delivery === 'webhook' ? newSecret('whsec') : null;
    await trx
      .insertInto('notice_subscriptions')
      .values({ id, ...values, signing_secret: secret, is_demo: opts.isDemo ?? false, created_by: opts.staffId })
      .execute();
    return { id, signingSecret: secret };
  });
}

export async function listSubscriptions(db: Database, opts: { activeOnly?: boolean; eventType?: string } = {}) {
  let q = db
    .selectFrom('notice_subscriptions as s')
    .innerJoin('organisations as o', 'o.id', 's.org_id')
    .select([
      's.id', 's.org_id', 's.program_en', 's.program_fr', 's.purpose_en', 's.purpose_fr', 's.service_id', 's.event_types', 's.fields',
      's.legal_basis', 's.law_reference', 's.delivery', 's.webhook_url', 's.active', 's.is_demo', 's.updated_at',
      'o.name_en as org_name_en', 'o.name_fr as org_name_fr', 'o.level as org_level',
    ])
    .orderBy('o.level')
    .orderBy('o.name_en')
    .orderBy('s.program_en');
  if (opts.activeOnly) q = q.where('s.active', '=', true);
  if (opts.eventType) q = q.where(sql<boolean>`${opts.eventType} = any(s.event_types)`);
  return q.execute();
}
export type SubscriptionRow = Awaited<ReturnType<typeof listSubscriptions>>[number];

// ---------------------------------------------------------------- partner API keys

/** Create an API key for an organisation; the key is returned once, only its SHA-256 is stored. */
export async function createApiKey(db: Database, orgId: string, label: string, staffId: string | null): Promise<{ id: string; key: string }> {
  const errors: FieldError[] = [];
  if (!orgId) errors.push({ field: 'orgId', code: 'required' });
  if (!label?.trim()) errors.push({ field: 'label', code: 'required' });
  else if (label.length > 100) errors.push({ field: 'label', code: 'tooLong' });
  if (errors.length) throw vErr(errors);
  const org = await db.selectFrom('organisations').select('id').where('id', '=', orgId).executeTakeFirst();
  if (!org) throw vErr([{ field: 'orgId', code: 'unknown' }]);
  const key = newSecret('gpk');
  const id = crypto.randomUUID();
  await db
    .insertInto('partner_api_keys')
    .values({ id, org_id: orgId, key_hash: sha256hex(key), prefix: key.slice(0, 10), label: label.trim(), created_by: staffId, revoked_at: null })
    .execute();
  return { id, key };
}

/** The organisation of a bearer API key, or null. */
export async function orgForApiKey(db: Database, authorization: string | undefined): Promise<string | null> {
  const m = /^Bearer\s+(gpk_[A-Za-z0-9_-]{20,100})$/.exec(authorization ?? '');
  if (!m) return null;
  const row = await db.selectFrom('partner_api_keys').select(['org_id']).where('key_hash', '=', sha256hex(m[1])).where('revoked_at', 'is', null).executeTakeFirst();
  return row?.org_id ?? null;
}

// ---------------------------------------------------------------- declarations

export interface DeclareInput {
  clientId: string;
  eventType: unknown;
  data: unknown;
  recipients: unknown;
  /** The one-time token of the form that sent it (a uuid): a second send of the same form changes nothing and
   * answers the first declaration (`repeated: true`). */
  formToken?: string;
}

interface ClientProfile {
  id: string;
  kind: 'person' | 'business';
  given_name: string | null;
  family_name: string | null;
  birth_date: string | null;
  email: string | null;
  phone: string | null;
  business_name: string | null;
  business_number: string | null;
}

function profileItems(p: ClientProfile): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p.given_name || p.family_name) out['subject.name'] = { givenName: p.given_name ?? '', familyName: p.family_name ?? '' };
  if (p.birth_date) out['subject.birthDate'] = p.birth_date;
  if (p.email) out['subject.email'] = p.email;
  if (p.phone) out['subject.phone'] = p.phone;
  if (p.business_name) out['business.name'] = p.business_name;
  if (p.business_number) out['business.number'] = p.business_number;
  return out;
}

/** A stable identifier of the client that differs per organisation (partners cannot correlate clients between them). */
export function pairwiseSubject(orgId: string, clientId: string): string {
  return crypto.createHash('sha256').update(`guichet-pairwise:${orgId}:${clientId}`).digest('base64url').slice(0, 32);
}

/** The notice payload: a Security Event Token claim set (RFC 8417) with only the entitled items. */
export function buildPayload(opts: {
  issuer: string;
  noticeId: string;
  declarationId: string;
  orgId: string;
  clientId: string;
  eventType: EventTypeId;
  items: Record<string, unknown>;
  fields: string[];
  at: Date;
}) {
  const event: Record<string, unknown> = {};
  for (const f of opts.fields) if (opts.items[f] !== undefined) event[f] = opts.items[f];
  return {
    iss: opts.issuer,
    jti: opts.noticeId,
    iat: Math.floor(opts.at.getTime() / 1000),
    aud: opts.orgId,
    txn: opts.declarationId,
    sub_id: { format: 'opaque', id: pairwiseSubject(opts.orgId, opts.clientId) },
    version: PAYLOAD_VERSION,
    events: { [`${EVENT_URI_PREFIX}${opts.eventType}:v${PAYLOAD_VERSION}`]: event },
  };
}

function parseRecipients(raw: unknown): { ids: string[]; errors: FieldError[] } {
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || !list.length) return { ids: [], errors: [{ field: 'recipients', code: 'chooseOne' }] };
  if (list.length > MAX_RECIPIENTS) return { ids: [], errors: [{ field: 'recipients', code: 'tooLong' }] };
  if (!list.every((r) => typeof r === 'string' && SLUG_RE.test(r))) return { ids: [], errors: [{ field: 'recipients', code: 'invalid' }] };
  const ids = [...new Set(list as string[])];
  if (ids.length !== list.length) return { ids: [], errors: [{ field: 'recipients', code: 'duplicate' }] };
  return { ids, errors: [] };
}

async function loadProfile(db: Database | Transaction<DB>, clientId: string): Promise<ClientProfile> {
  const p = await db
    .selectFrom('clients')
    .select(['id', 'kind', 'given_name', 'family_name', 'birth_date', 'email', 'phone', 'business_name', 'business_number'])
    .where('id', '=', clientId)
    .executeTakeFirst();
  if (!p) throw new AppError(401, 'UNAUTHENTICATED');
  return p as ClientProfile;
}

/** Validate a declaration without storing anything (used by the form pages). */
export function checkDeclaration(eventType: unknown, data: unknown): { event: EventTypeDef; data: EventData } {
  if (!isEventType(eventType)) throw vErr([{ field: 'eventType', code: 'notAllowed' }]);
  const event = eventTypes[eventType];
  const r = validateEventData(event, data);
  if (r.errors.length) throw vErr(r.errors);
  return { event, data: r.data };
}

async function createNotices(
  trx: Transaction<DB>,
  opts: { issuer: string; declarationId: string; clientId: string; eventType: EventTypeId; items: Record<string, unknown>; subs: Array<{ id: string; org_id: string; fields: string[]; legal_basis: 'consent' | 'law'; law_reference: string | null; delivery: DeliveryMode }> },
) {
  const at = new Date();
  const notices: Array<{ id: string; subscriptionId: string; orgId: string; delivery: DeliveryMode }> = [];
  const rows = [];
  const offered = new Set(itemKeys(eventTypes[opts.eventType]));
  const fieldsOf = opts.subs.map((s) => s.fields.filter((f) => offered.has(f)));
  // one consent (or legal basis) per recipient program, recorded together
  const consentIds = await grantConsents(
    trx,
    opts.clientId,
    opts.subs.map((s, i) => ({ orgId: s.org_id, purpose: `tell-us-once:${opts.eventType}`, fields: fieldsOf[i], legalBasis: s.legal_basis, lawReference: s.law_reference })),
  );
  for (const [i, s] of opts.subs.entries()) {
    const fields = fieldsOf[i];
    const noticeId = crypto.randomUUID();
    const consentId = consentIds[i];
    const payload = buildPayload({ issuer: opts.issuer, noticeId, declarationId: opts.declarationId, orgId: s.org_id, clientId: opts.clientId, eventType: opts.eventType, items: opts.items, fields, at });
    rows.push({
      id: noticeId,
      declaration_id: opts.declarationId,
      subscription_id: s.id,
      org_id: s.org_id,
      client_id: opts.clientId,
      event_type: opts.eventType,
      fields,
      payload: JSON.stringify(payload),
      consent_id: consentId,
      delivery: s.delivery,
      status: 'pending' as const,
      last_error: null,
      reason: null,
      first_attempt_at: null,
      next_attempt_at: null,
      delivered_at: null,
      acknowledged_at: null,
      rejected_at: null,
      failed_at: null,
    });
    notices.push({ id: noticeId, subscriptionId: s.id, orgId: s.org_id, delivery: s.delivery });
  }
  if (rows.length) await trx.insertInto('notices').values(rows).execute();
  // webhook notices: one durable delivery job each, in the same transaction (the job id is the notice id)
  await enqueueMany(
    trx,
    DELIVER_QUEUE,
    notices.filter((n) => n.delivery === 'webhook').map((n) => ({ id: n.id, data: { noticeId: n.id } })),
  );
  return notices;
}

async function eligibleSubscriptions(db: Database | Transaction<DB>, eventType: EventTypeId, ids: string[]) {
  if (!ids.length) return [];
  return db
    .selectFrom('notice_subscriptions')
    .select(['id', 'org_id', 'fields', 'legal_basis', 'law_reference', 'delivery'])
    .where('id', 'in', ids)
    .where('active', '=', true)
    .where(sql<boolean>`${eventType} = any(event_types)`)
    .execute();
}

/**
 * The client declares an event once and chooses recipients: one declaration, one notice per recipient with only its
 * entitled fields, consent recorded per recipient, delivery jobs enqueued, all in one transaction.
 */
export async function declare(db: Database, input: DeclareInput, opts: { issuer: string; representative?: { personId: string; role: string } }) {
  const errors: FieldError[] = [];
  if (!isEventType(input.eventType)) throw vErr([{ field: 'eventType', code: 'notAllowed' }]);
  const event = eventTypes[input.eventType];
  const v = validateEventData(event, input.data);
  errors.push(...v.errors.map((e) => ({ ...e, field: `data.${e.field}` })));
  const r = parseRecipients(input.recipients);
  errors.push(...r.errors);
  if (errors.length) throw vErr(errors);
  const formToken = input.formToken && isUuid(input.formToken) ? input.formToken : null;
  const sentBefore = async () =>
    formToken
      ? db.selectFrom('declarations').select('id').where('client_id', '=', input.clientId).where('form_token', '=', formToken).executeTakeFirst()
      : undefined;
  const first = await sentBefore();
  if (first) return { declarationId: first.id, notices: [] as Awaited<ReturnType<typeof createNotices>>, repeated: true };
  try {
    return await declareOnce(db, input, opts, event, v.data, r.ids, formToken);
  } catch (err) {
    // the same form sent twice at once: the unique token let one through; the other answers its declaration
    const again = (err as { code?: string }).code === '23505' ? await sentBefore() : undefined;
    if (again) return { declarationId: again.id, notices: [] as Awaited<ReturnType<typeof createNotices>>, repeated: true };
    throw err;
  }
}

async function declareOnce(
  db: Database,
  input: DeclareInput,
  opts: { issuer: string; representative?: { personId: string; role: string } },
  event: EventTypeDef,
  data: EventData,
  recipientIds: string[],
  formToken: string | null,
) {
  const v = { data };
  const r = { ids: recipientIds };
  return db.transaction().execute(async (trx) => {
    const profile = await loadProfile(trx, input.clientId);
    if (profile.kind !== event.audience) throw vErr([{ field: 'eventType', code: event.audience === 'business' ? 'businessOnly' : 'personOnly' }]);
    const subs = await eligibleSubscriptions(trx, event.id, r.ids);
    if (subs.length !== r.ids.length) throw vErr([{ field: 'recipients', code: 'notAllowed' }]);
    const declarationId = crypto.randomUUID();
    const items = { ...profileItems(profile), ...v.data };
    const rep = opts.representative;
    await trx
      .insertInto('declarations')
      .values({ id: declarationId, client_id: input.clientId, event_type: event.id, data: JSON.stringify(v.data), declared_by: rep?.personId ?? null, form_token: formToken })
      .execute();
    const notices = await createNotices(trx, { issuer: opts.issuer, declarationId, clientId: input.clientId, eventType: event.id, items, subs });
    if (rep) {
      // a representative declared for the business: recorded in the business's access log, with the declaration
      await recordAccessBatch(trx, [
        {
          clientId: input.clientId,
          actorKind: 'client',
          actorId: rep.personId,
          action: 'declared',
          fields: Object.keys(v.data).sort(),
          purpose: `tell-us-once:${event.id}`,
          legalBasis: representativeBasis(rep.role),
        },
      ]);
    }
    return { declarationId, notices, repeated: false };
  });
}

/** The client adds recipients to an earlier declaration (each gets its own notice). 404 when not theirs. */
export async function addRecipients(db: Database, clientId: string, declarationId: string, recipients: unknown, opts: { issuer: string }) {
  const r = parseRecipients(recipients);
  if (r.errors.length) throw vErr(r.errors);
  return db.transaction().execute(async (trx) => {
    const d = await trx.selectFrom('declarations').selectAll().where('id', '=', declarationId).where('client_id', '=', clientId).executeTakeFirst();
    if (!d) throw new AppError(404, 'DECLARATION_NOT_FOUND');
    const already = await trx.selectFrom('notices').select('subscription_id').where('declaration_id', '=', declarationId).execute();
    if (already.some((a) => r.ids.includes(a.subscription_id))) throw vErr([{ field: 'recipients', code: 'alreadyTold' }]);
    const eventType = d.event_type as EventTypeId;
    const subs = await eligibleSubscriptions(trx, eventType, r.ids);
    if (subs.length !== r.ids.length) throw vErr([{ field: 'recipients', code: 'notAllowed' }]);
    const profile = await loadProfile(trx, clientId);
    const items = { ...profileItems(profile), ...(d.data as Record<string, unknown>) };
    return createNotices(trx, { issuer: opts.issuer, declarationId, clientId, eventType, items, subs });
  });
}

/** Organisations the client already deals with (pre-selected recipients): earlier notices, active consents, or a
 * request (case) the organisation is responsible for. One round trip. */
export async function relationshipOrgs(db: Database, clientId: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('notices')
    .select('org_id')
    .where('client_id', '=', clientId)
    .where('status', '!=', 'rejected')
    .union(db.selectFrom('consents').select('org_id').where('client_id', '=', clientId).where('withdrawn_at', 'is', null))
    .union(db.selectFrom('cases').select('responsible_org_id as org_id').where('client_id', '=', clientId))
    .execute();
  return new Set(rows.map((x) => x.org_id));
}

/** The client's declarations with their notices (newest first). Scoped to the client. */
export async function clientDeclarations(db: Database, clientId: string, declarationId?: string) {
  let q = db.selectFrom('declarations').select(['id', 'event_type', 'created_at', 'data', 'declared_by']).where('client_id', '=', clientId).orderBy('created_at', 'desc').limit(100);
  if (declarationId) q = q.where('id', '=', declarationId);
  const decls = await q.execute();
  if (!decls.length) return [];
  const notices = await db
    .selectFrom('notices as n')
    .innerJoin('notice_subscriptions as s', 's.id', 'n.subscription_id')
    .innerJoin('organisations as o', 'o.id', 'n.org_id')
    .select([
      'n.id', 'n.declaration_id', 'n.subscription_id', 'n.status', 'n.reason', 'n.fields', 'n.attempts', 'n.created_at', 'n.delivered_at', 'n.acknowledged_at',
      'n.rejected_at', 'n.failed_at', 's.program_en', 's.program_fr', 'o.name_en as org_name_en', 'o.name_fr as org_name_fr',
    ])
    .where('n.client_id', '=', clientId)
    .where('n.declaration_id', 'in', decls.map((d) => d.id))
    .orderBy('n.seq')
    .execute();
  return decls.map((d) => ({ ...d, notices: notices.filter((n) => n.declaration_id === d.id) }));
}

// ---------------------------------------------------------------- partner feed

export interface FeedNotice {
  id: string;
  seq: number;
  status: NoticeStatus;
  eventType: string;
  createdAt: string;
  payload: Record<string, unknown>;
}

/**
 * Notices of one organisation not yet acknowledged or rejected, after a cursor (seq). Pending ones become delivered
 * and the delivery is written to each client's access log, in one transaction.
 */
export async function pullFeed(db: Database, orgId: string, after: number, limit: number): Promise<{ notices: FeedNotice[]; next: number }> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('notices as n')
      .innerJoin('notice_subscriptions as s', 's.id', 'n.subscription_id')
      .select(['n.id', 'n.seq', 'n.status', 'n.event_type', 'n.created_at', 'n.payload', 'n.client_id', 'n.fields', 'n.org_id', 's.legal_basis', 's.law_reference'])
      .where('n.org_id', '=', orgId)
      .where('n.status', 'in', ['pending', 'delivered'])
      .where('n.seq', '>', after)
      .orderBy('n.seq')
      .limit(limit)
      .execute();
    const fresh = rows.filter((r) => r.status === 'pending');
    if (fresh.length) {
      await trx
        .updateTable('notices')
        .set({ status: 'delivered', delivered_at: new Date(), attempts: sql`attempts + 1`, first_attempt_at: sql`coalesce(first_attempt_at, now())` })
        .where('id', 'in', fresh.map((r) => r.id))
        .where('status', '=', 'pending')
        .execute();
      await recordAccessBatch(
        trx,
        fresh.map((r) => ({
          clientId: r.client_id,
          actorKind: 'partner' as const,
          actorId: r.org_id,
          orgId: r.org_id,
          action: 'received',
          fields: r.fields,
          purpose: `tell-us-once:${r.event_type}`,
          legalBasis: r.legal_basis === 'law' ? r.law_reference : 'consent',
        })),
      );
    }
    return {
      notices: rows.map((r) => ({
        id: r.id,
        seq: Number(r.seq),
        status: (r.status === 'pending' ? 'delivered' : r.status) as NoticeStatus,
        eventType: r.event_type,
        createdAt: r.created_at.toISOString(),
        payload: r.payload as Record<string, unknown>,
      })),
      next: rows.length ? Number(rows[rows.length - 1].seq) : after,
    };
  });
}

/** Partner acknowledges (applied) or rejects (with a plain-language reason) one of ITS notices. 404 otherwise. */
export async function settleNotice(db: Database, orgId: string, noticeId: string, outcome: 'acknowledged' | 'rejected', reason?: string) {
  if (outcome === 'rejected') {
    const r = (reason ?? '').trim();
    if (!r) throw vErr([{ field: 'reason', code: 'required' }]);
    if (r.length > 500) throw vErr([{ field: 'reason', code: 'tooLong' }]);
  }
  return db.transaction().execute(async (trx) => {
    const n = await trx.selectFrom('notices').select(['id', 'status', 'client_id', 'fields', 'event_type']).where('id', '=', noticeId).where('org_id', '=', orgId).forUpdate().executeTakeFirst();
    if (!n) throw new AppError(404, 'NOTICE_NOT_FOUND');
    if (n.status === outcome) return { id: n.id, status: n.status };
    if (n.status === 'acknowledged' || n.status === 'rejected') throw new AppError(409, 'NOTICE_SETTLED');
    const wasPending = n.status === 'pending' || n.status === 'failed';
    const now = new Date();
    await trx
      .updateTable('notices')
      .set(
        outcome === 'acknowledged'
          ? { status: 'acknowledged', acknowledged_at: now, delivered_at: sql`coalesce(delivered_at, now())` }
          : { status: 'rejected', rejected_at: now, reason: cleanReason(reason!), delivered_at: sql`coalesce(delivered_at, now())` },
      )
      .where('id', '=', n.id)
      .execute();
    if (wasPending) {
      // the partner has the data (e.g. from a delivery whose answer was lost): record that it received it
      await recordAccessBatch(trx, [
        { clientId: n.client_id, actorKind: 'partner', actorId: orgId, orgId, action: 'received', fields: n.fields, purpose: `tell-us-once:${n.event_type}`, legalBasis: null },
      ]);
    }
    return { id: n.id, status: outcome };
  });
}

/** Partner reasons are shown to clients: plain text, single spaces, at most 500 characters. */
export function cleanReason(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f<>]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 500);
}

export async function openAlerts(db: Database) {
  return db
    .selectFrom('notice_alerts as a')
    .leftJoin('organisations as o', 'o.id', 'a.org_id')
    .leftJoin('notice_alert_mails as m', 'm.alert_id', 'a.id')
    .select([
      'a.id', 'a.notice_id', 'a.org_id', 'a.kind', 'a.message', 'a.created_at', 'o.name_en as org_name_en', 'o.name_fr as org_name_fr',
      'm.status as mail_status', 'm.sent_at as mail_sent_at', 'm.last_error as mail_error',
    ])
    .where('a.resolved_at', 'is', null)
    .orderBy('a.created_at', 'desc')
    .limit(200)
    .execute();
}
