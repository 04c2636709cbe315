/**
 * Cases: the commands and queries behind the API, the pages, the agent console and Open311.
 * Every command runs in one transaction; authorisation is decided here, on the server, for every call:
 *   - a client sees their own cases (and those of a business they represent);
 *   - staff of an organisation see the cases it is responsible for or that were referred to it;
 *   - staff of the one-stop see a client's cases only while serving that client (an active agent-access consent,
 *     given by a one-time code the client reads out, or a recorded legal basis);
 * anything else is 404 CASE_NOT_FOUND, whether the case exists or not.
 */
import crypto from 'node:crypto';
import { sql, type ExpressionBuilder } from 'kysely';
import type { DB } from '../schema';
import type { Database } from '../db/database';
import { isUuid } from '../db/ids';
import { reusable } from '../db/compiled';
import type { Lang } from '../i18n/index';
import { AppError, type FieldError } from '../http/errors';
import type { StaffPrincipal } from '../http/session';
import { ONE_STOP_ORG_ID } from '../catalogue/demo-data';
import { addBusinessDays, businessDaysBetween, computeDueDate, localDate, type DurationUnit } from './due-date';
import { AGENT_ACCESS_PURPOSE, auditStaffRead, createAccessCode as createClientCode, REFERRAL_FIELDS, REFERRAL_PURPOSE, redeemAgentAccessCode, servingConsents, staffMayServe } from './integration';
import { queueNotification, renderNotification, type NotifyContext } from './notify';
import type { CaseChannel, CaseStatus, DueRule } from './tables';
import { CASE_STATUSES, CHANNELS } from './tables';

export { CASE_STATUSES, CHANNELS };
export const OUTCOMES = [
  'case_opened',
  'information_given',
  'documents_received',
  'status_changed',
  'referred',
  'referral_accepted',
  'callback_needed',
  'resolved_first_contact',
  'escalated',
  'guarantee_breached',
  'other',
] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** Roles that work on cases. Editors, reviewers and auditors do not see clients' cases. */
export const CASE_ROLES = ['agent', 'manager', 'partner', 'admin'];

export const TRANSITIONS: Record<CaseStatus, CaseStatus[]> = {
  submitted: ['in_progress', 'waiting_client', 'decided', 'withdrawn'],
  in_progress: ['waiting_client', 'decided', 'withdrawn'],
  waiting_client: ['in_progress', 'decided', 'withdrawn'],
  decided: ['closed', 'in_progress'],
  closed: [],
  withdrawn: [],
};
export const OPEN_STATUSES: CaseStatus[] = ['submitted', 'in_progress', 'waiting_client'];

export type Actor = { kind: 'client'; clientId: string } | { kind: 'staff'; staff: StaffPrincipal };

export interface CaseAccess {
  /** 'owner' client, 'org' responsible organisation, 'referral' referred to, 'serving' one-stop serving the client */
  via: 'owner' | 'org' | 'referral' | 'serving';
  /** May change status, assign, refer (responsible organisation or the one-stop serving the client). */
  canAct: boolean;
}

export interface Ctx {
  db: Database;
  publicBaseUrl: string;
}

const notFound = () => new AppError(404, 'CASE_NOT_FOUND');
const invalid = (details: FieldError[]) => new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);

export function requireCaseRole(staff: StaffPrincipal) {
  if (!CASE_ROLES.some((r) => staff.roles.includes(r))) throw new AppError(403, 'FORBIDDEN');
}

async function isRepresentative(db: Database, personId: string, businessId: string): Promise<boolean> {
  const r = await db.selectFrom('business_representatives').select('person_id').where('business_id', '=', businessId).where('person_id', '=', personId).executeTakeFirst();
  return Boolean(r);
}

/** Load a case the actor may see, or throw 404 CASE_NOT_FOUND (also for malformed ids). */
export async function loadCase(db: Database, actor: Actor, caseId: string, opts: { audit?: boolean } = {}) {
  if (actor.kind === 'staff') requireCaseRole(actor.staff);
  if (!isUuid(caseId)) throw notFound();
  const row = await db.selectFrom('cases').selectAll().where('id', '=', caseId).executeTakeFirst();
  if (!row) throw notFound();
  const access = await accessTo(db, actor, row);
  if (!access) throw notFound();
  if (opts.audit && actor.kind === 'staff') {
    // the basis of each read: serving (the client's one-time code), a referral (the client's consent to the referral,
    // recorded with it), or handling the case the client brought to the responsible organisation
    const purpose = access.via === 'serving' ? AGENT_ACCESS_PURPOSE : access.via === 'referral' ? REFERRAL_PURPOSE : 'case-handling';
    await auditStaffRead(db, actor.staff, row.client_id, ['cases'], purpose, access.via === 'org' ? null : 'consent');
  }
  return { row, access };
}

export async function accessTo(
  db: Database,
  actor: Actor,
  row: { id: string; client_id: string; responsible_org_id: string },
): Promise<CaseAccess | null> {
  if (actor.kind === 'client') {
    if (row.client_id === actor.clientId) return { via: 'owner', canAct: false };
    if (await isRepresentative(db, actor.clientId, row.client_id)) return { via: 'owner', canAct: false };
    return null;
  }
  const staff = actor.staff;
  if (!CASE_ROLES.some((r) => staff.roles.includes(r))) return null;
  if (row.responsible_org_id === staff.orgId) return { via: 'org', canAct: true };
  if (staff.orgId === ONE_STOP_ORG_ID && (await staffMayServe(db, staff, row.client_id))) return { via: 'serving', canAct: true };
  const ref = await db
    .selectFrom('case_referrals')
    .select('id')
    .where('case_id', '=', row.id)
    .where('to_org_id', '=', staff.orgId)
    .where('status', '<>', 'declined')
    .executeTakeFirst();
  if (ref) return { via: 'referral', canAct: false };
  return null;
}

/**
 * The same rule as accessTo, as a SQL condition on a `cases` row, so that a command can check access and write in
 * one statement (one round trip, and no window between the check and the write). 'act': the responsible
 * organisation or the one-stop serving the client now; 'see': also an organisation the case was referred to.
 */
export function staffCaseCondition(
  eb: ExpressionBuilder<DB, 'cases'>,
  db: Database,
  staff: Pick<StaffPrincipal, 'id' | 'orgId'>,
  mode: 'act' | 'see',
  oneStop = staff.orgId === ONE_STOP_ORG_ID,
) {
  const ors = [eb('cases.responsible_org_id', '=', staff.orgId)];
  if (oneStop) ors.push(eb.exists(servingConsents(db, staff).where('consents.client_id', '=', sql.ref<string>('cases.client_id'))));
  if (mode === 'see') {
    ors.push(
      eb.exists(
        eb
          .selectFrom('case_referrals')
          .select('case_referrals.id')
          .whereRef('case_referrals.case_id', '=', 'cases.id')
          .where('case_referrals.to_org_id', '=', staff.orgId)
          .where('case_referrals.status', '<>', 'declined'),
      ),
    );
  }
  return eb.or(ors);
}

/** The shape of a reusable query that checks a staff member's access (staffCaseCondition): the one-stop's or not. */
type StaffShape = 'one-stop' | 'org';
const staffShape = (staff: StaffPrincipal): StaffShape => (staff.orgId === ONE_STOP_ORG_ID ? 'one-stop' : 'org');

/**
 * The standard that sets a request's clock: one published for the channel the request came through (issue 16: an
 * online request for the demo driver's licence was due in 3 minutes, from the kiosk's standard).
 * - A standard applies to a channel when its GC channel code is the channel's (web → ONL, phone → TEL, counter and
 *   kiosk → PERSON, mail → POST, email → EML), or when it names no channel (null or OTH: "not channel-specific").
 * - A standard counted in seconds, minutes or hours that names no channel is a service time at a counter, kiosk or
 *   phone line: it never sets the clock of a request sent online, by mail or by e-mail.
 * - Among those that apply: the channel's own first, then timeliness (TML), then the newest fiscal year.
 * - None applies: no due date (the request shows no standard; nothing is counted late), the same as a service
 *   without a published standard.
 */
const ruleCache = new Map<string, { at: number; rule: DueRule | null }>();
const RULE_TTL_MS = 60_000;

const STANDARD_CHANNEL: Record<string, string> = { web: 'ONL', phone: 'TEL', counter: 'PERSON', kiosk: 'PERSON', mail: 'POST', email: 'EML' };
const LIVE_CHANNELS = new Set(['phone', 'counter', 'kiosk']);

export async function dueRuleFor(db: Database, serviceId: string, jurisdiction: string, channel = 'web'): Promise<DueRule | null> {
  const key = `${serviceId}|${jurisdiction}|${channel}`;
  const hit = ruleCache.get(key);
  if (hit && Date.now() - hit.at < RULE_TTL_MS) return hit.rule;
  const rule = await loadDueRule(db, serviceId, jurisdiction, channel);
  if (ruleCache.size > 5000) ruleCache.clear();
  ruleCache.set(key, { at: Date.now(), rule });
  return rule;
}

async function loadDueRule(db: Database, serviceId: string, jurisdiction: string, channel: string): Promise<DueRule | null> {
  const rows = await db
    .selectFrom('service_standards')
    .select(['id', 'duration_value', 'duration_unit', 'type', 'fiscal_year', 'channel'])
    .where('service_id', '=', serviceId)
    .where('duration_value', 'is not', null)
    .where('duration_unit', 'is not', null)
    .execute();
  const own = STANDARD_CHANNEL[channel];
  const applies = rows.filter((r) => {
    if (!r.duration_value || !r.duration_unit) return false;
    if (r.channel && r.channel !== 'OTH') return r.channel === own;
    return LIVE_CHANNELS.has(channel) || !['seconds', 'minutes', 'hours'].includes(r.duration_unit);
  });
  applies.sort(
    (a, b) =>
      Number(b.channel === own) - Number(a.channel === own) ||
      Number(b.type === 'TML') - Number(a.type === 'TML') ||
      b.fiscal_year.localeCompare(a.fiscal_year),
  );
  const std = applies[0];
  if (!std) return null;
  return { value: std.duration_value!, unit: std.duration_unit!, jurisdiction, source: 'standard', standardId: std.id, pausedDays: 0 };
}

const caseReference = (at: Date, n: number) => `G-${at.getUTCFullYear()}-${String(n).padStart(6, '0')}`;

async function notifyContext(db: Database, caseId: string): Promise<NotifyContext> {
  const c = await db
    .selectFrom('cases')
    .innerJoin('services', 'services.id', 'cases.service_id')
    .innerJoin('organisations', 'organisations.id', 'cases.responsible_org_id')
    .innerJoin('clients', 'clients.id', 'cases.client_id')
    .select([
      'clients.email',
      'clients.preferred_lang',
      'clients.contact_preferences',
      'cases.id',
      'cases.reference',
      'cases.client_id',
      'cases.due_date',
      'cases.contact_email',
      'services.title_en',
      'services.title_fr',
      'organisations.name_en',
      'organisations.name_fr',
    ])
    .where('cases.id', '=', caseId)
    .executeTakeFirstOrThrow();
  return {
    caseId: c.id,
    reference: c.reference,
    clientId: c.client_id,
    serviceTitle: { en: c.title_en, fr: c.title_fr },
    orgName: { en: c.name_en, fr: c.name_fr },
    dueDate: c.due_date,
    contactEmail: c.contact_email,
    client: { email: c.email, preferred_lang: c.preferred_lang, contact_preferences: c.contact_preferences },
  };
}

function actorIds(actor: Actor) {
  return actor.kind === 'client'
    ? { actor_kind: 'client' as const, actor_id: actor.clientId, org_id: null }
    : { actor_kind: 'staff' as const, actor_id: actor.staff.id, org_id: actor.staff.orgId };
}

export interface CreateCaseInput {
  serviceId: string;
  summary: string;
  channel?: CaseChannel;
  clientId?: string;
  latitude?: number | null;
  longitude?: number | null;
  addressString?: string | null;
  contactEmail?: string | null;
  /** Open311: the partner organisation whose API key submitted the request. */
  partnerOrgId?: string;
}

export interface CommandResult {
  id: string;
  notificationIds: number[];
}

/** What createCase wrote, for the API's 201 answer without reading it back. */
export interface CreatedCase {
  id: string;
  reference: string;
  clientId: string;
  serviceId: string;
  service: { id: string; title_en: string; title_fr: string; guaranteeDays: number | null };
  originChannel: CaseChannel;
  status: CaseStatus;
  responsibleOrg: { id: string; name_en: string; name_fr: string };
  summary: string;
  submittedAt: Date;
  dueDate: string | null;
  dueRule: DueRule | null;
  guaranteeDueDate: string | null;
  version: number;
}

/**
 * createCase's read (compiled once per shape: src/db/compiled.ts): the service, its owner and jurisdiction, the
 * client's contact preferences, whether this agent may serve the client now ('staff'), and the case's reference
 * number, drawn only when the service is published.
 */
const openCaseRead = reusable((db, p: { serviceId: string; clientId: string; staffId: string; staffOrgId: string }, shape: 'staff' | 'client') =>
  db
    .selectFrom('services')
    .innerJoin('organisations', 'organisations.id', 'services.owner_org_id')
    .leftJoin('clients', (j) => j.on('clients.id', '=', p.clientId))
    .select([
      'services.id',
      'services.status',
      'services.owner_org_id',
      'services.guarantee_days',
      'services.title_en',
      'services.title_fr',
      'organisations.jurisdiction',
      'organisations.name_en',
      'organisations.name_fr',
      'clients.email',
      'clients.preferred_lang',
      'clients.contact_preferences',
    ])
    .select((eb) => [
      // Staff open a case only for a client who lets them serve them right now (or on a recorded legal basis);
      // the consent row exists only for an existing client, so an unknown id is refused the same way.
      shape === 'staff'
        ? eb.exists(servingConsents(db, { id: p.staffId, orgId: p.staffOrgId }).where('consents.client_id', '=', p.clientId)).as('may_serve')
        : sql<boolean>`true`.as('may_serve'),
      // A number is drawn only when the service exists; refused commands leave gaps, as any sequence does.
      sql<number>`case when services.status = 'published' then nextval('case_reference_seq') end`.as('ref_n'),
    ])
    .where('services.id', '=', p.serviceId),
);

/**
 * createCase's write (compiled once per shape: src/db/compiled.ts): one INSERT statement, atomic on its own. The
 * child rows are written in CTEs of the statement that inserts the case; foreign keys are checked at the end of the
 * statement, when the case exists. 'mail': the e-mail to the outbox too (the notification's id is returned).
 */
const openCaseWrite = reusable(
  (
    db,
    p: {
      id: string;
      reference: string;
      clientId: string;
      serviceId: string;
      channel: CaseChannel;
      responsibleOrgId: string;
      summary: string;
      now: Date;
      dueDate: string | null;
      dueRule: string;
      guaranteeDue: string | null;
      latitude: number | null;
      longitude: number | null;
      addressString: string | null;
      contactEmail: string | null;
      createdByKind: 'client' | 'staff' | 'partner';
      createdById: string;
      actorKind: 'client' | 'staff' | 'partner';
      actorId: string;
      actorOrgId: string | null;
      mailTo?: string;
      mailLang?: Lang;
      mailSubject?: string;
      mailBody?: string;
    },
    shape: 'mail' | 'none',
  ) => {
    const write = db
      .with('h', (qc) => qc.insertInto('case_status_history').values({ case_id: p.id, from_status: null, to_status: 'submitted', actor_kind: p.actorKind, actor_id: p.actorId, note: null }))
      .with('i', (qc) => qc.insertInto('case_interactions').values({ case_id: p.id, channel: p.channel, actor_kind: p.actorKind, actor_id: p.actorId, org_id: p.actorOrgId, outcome: 'case_opened', note: null }))
      .with('c', (qc) =>
        qc
          .insertInto('cases')
          .values({
            id: p.id,
            reference: p.reference,
            client_id: p.clientId,
            service_id: p.serviceId,
            origin_channel: p.channel,
            responsible_org_id: p.responsibleOrgId,
            assigned_team: null,
            assigned_staff_id: null,
            summary: p.summary,
            decision: null,
            submitted_at: p.now,
            due_date: p.dueDate,
            due_rule: p.dueRule,
            guarantee_due_date: p.guaranteeDue,
            guarantee_breached_at: null,
            waiting_since: null,
            decided_at: null,
            closed_at: null,
            latitude: p.latitude,
            longitude: p.longitude,
            address_string: p.addressString,
            contact_email: p.contactEmail,
            created_by_kind: p.createdByKind,
            created_by_id: p.createdById,
          })
          .returning('id'),
      );
    return shape === 'mail'
      ? write
          .insertInto('case_notifications')
          .values({ case_id: p.id, to_address: p.mailTo!, lang: p.mailLang!, subject: p.mailSubject!, body: p.mailBody! })
          .returning('id')
      : write.selectFrom('c').select('c.id');
  },
);

/** Open a case (client online, staff on the client's behalf, or a partner's 311 app). */
export async function createCase(
  ctx: Ctx,
  actor: Actor | { kind: 'partner'; orgId: string; clientId: string },
  input: CreateCaseInput,
  now = new Date(),
  opts: { trx?: Database } = {},
): Promise<CommandResult & { created: CreatedCase }> {
  const errors: FieldError[] = [];
  const summary = (input.summary ?? '').trim();
  if (!summary) errors.push({ field: 'summary', code: 'required' });
  else if (summary.length > 4000) errors.push({ field: 'summary', code: 'tooLong' });
  let channel: CaseChannel;
  let clientId: string;
  if (actor.kind === 'client') {
    channel = input.channel === 'kiosk' ? 'kiosk' : 'web';
    clientId = actor.clientId;
  } else if (actor.kind === 'staff') {
    requireCaseRole(actor.staff);
    if (!input.channel) errors.push({ field: 'channel', code: 'required' });
    else if (!CHANNELS.includes(input.channel)) errors.push({ field: 'channel', code: 'notAllowed' });
    if (!input.clientId) errors.push({ field: 'clientId', code: 'required' });
    channel = input.channel ?? 'counter';
    clientId = input.clientId ?? '';
  } else {
    channel = 'web';
    clientId = actor.clientId;
  }
  if (!input.serviceId) errors.push({ field: 'serviceId', code: 'required' });
  if (errors.length) throw invalid(errors);

  if (actor.kind === 'staff' && !isUuid(clientId)) throw new AppError(404, 'CASE_CLIENT_NOT_FOUND');
  // Two round trips: (1) everything the command needs to know, with the case's reference number; (2) one INSERT
  // statement that writes the case, its first status, its first interaction and the e-mail to the outbox (atomic
  // on its own, so no BEGIN/COMMIT unless a caller's transaction wraps it).
  const run = async (trx: Database) => {
    const found = await openCaseRead.first(trx, actor.kind === 'staff' ? 'staff' : 'client', {
      serviceId: input.serviceId,
      clientId,
      staffId: actor.kind === 'staff' ? actor.staff.id : '',
      staffOrgId: actor.kind === 'staff' ? actor.staff.orgId : '',
    });
    if (!found || found.status !== 'published' || found.ref_n === null) throw invalid([{ field: 'serviceId', code: 'notFound' }]);
    if (!found.may_serve) throw new AppError(404, 'CASE_CLIENT_NOT_FOUND');
    const service = found;
    const rule = await dueRuleFor(trx, service.id, service.jurisdiction, channel);
    const dueDate = rule ? computeDueDate(now, rule.value, rule.unit as DurationUnit, rule.jurisdiction) : null;
    const guaranteeDue = service.guarantee_days ? addBusinessDays(localDate(now), service.guarantee_days, service.jurisdiction) : null;
    const id = crypto.randomUUID();
    const reference = caseReference(now, Number(found.ref_n));
    const createdBy =
      actor.kind === 'client' ? { k: 'client' as const, id: actor.clientId } : actor.kind === 'staff' ? { k: 'staff' as const, id: actor.staff.id } : { k: 'partner' as const, id: actor.orgId };
    const who =
      actor.kind === 'partner' ? { actor_kind: 'partner' as const, actor_id: actor.orgId, org_id: actor.orgId } : actorIds(actor);
    const mail = renderNotification(
      {
        caseId: id,
        reference,
        clientId,
        serviceTitle: { en: service.title_en, fr: service.title_fr },
        orgName: { en: service.name_en, fr: service.name_fr },
        dueDate,
        contactEmail: input.contactEmail ?? null,
        client: { email: found.email, preferred_lang: found.preferred_lang ?? 'en', contact_preferences: found.contact_preferences ?? null },
      },
      { kind: 'status', status: 'submitted' },
      ctx.publicBaseUrl,
    );
    // One statement: the case, its first status, its first interaction and the e-mail to the outbox.
    const rows = await openCaseWrite.rows(trx, mail ? 'mail' : 'none', {
      id,
      reference,
      clientId,
      serviceId: service.id,
      channel,
      responsibleOrgId: service.owner_org_id,
      summary,
      now,
      dueDate,
      dueRule: JSON.stringify(rule),
      guaranteeDue,
      latitude: input.latitude ?? null,
      longitude: input.longitude ?? null,
      addressString: input.addressString ?? null,
      contactEmail: input.contactEmail ?? null,
      createdByKind: createdBy.k,
      createdById: createdBy.id,
      actorKind: who.actor_kind,
      actorId: who.actor_id,
      actorOrgId: who.org_id,
      mailTo: mail?.to_address,
      mailLang: mail?.lang,
      mailSubject: mail?.subject,
      mailBody: mail?.body,
    });
    const notificationIds = mail ? rows.map((r) => Number(r.id)) : [];
    const created: CreatedCase = {
      id,
      reference,
      clientId,
      serviceId: service.id,
      service: { id: service.id, title_en: service.title_en, title_fr: service.title_fr, guaranteeDays: service.guarantee_days },
      originChannel: channel,
      status: 'submitted',
      responsibleOrg: { id: service.owner_org_id, name_en: service.name_en, name_fr: service.name_fr },
      summary,
      submittedAt: now,
      dueDate,
      dueRule: rule,
      guaranteeDueDate: guaranteeDue,
      version: 1,
    };
    return { id, notificationIds, created };
  };
  // Inside a caller's transaction (online forms: draft, case and delivery commit together), or on its own: the only
  // write is one statement, atomic without BEGIN/COMMIT. On its own, both statements use one connection, taken from
  // the pool once: under load a second trip through the pool's queue doubled the time to open a case.
  if (opts.trx) return run(opts.trx);
  if (ctx.db.isTransaction) return run(ctx.db); // a transaction has its connection already
  return ctx.db.connection().execute(run);
}

export interface ChangeStatusInput {
  status: CaseStatus;
  note?: string;
  decision?: string;
  version?: number;
  channel?: CaseChannel;
}

export async function changeStatus(ctx: Ctx, actor: Actor, caseId: string, input: ChangeStatusInput, now = new Date()): Promise<CommandResult> {
  if (!CASE_STATUSES.includes(input.status)) throw invalid([{ field: 'status', code: 'notAllowed' }]);
  if (input.status === 'decided' && !input.decision?.trim()) throw invalid([{ field: 'decision', code: 'required' }]);
  if (input.note && input.note.length > 2000) throw invalid([{ field: 'note', code: 'tooLong' }]);
  return ctx.db.transaction().execute(async (trx) => {
    const { row, access } = await loadCase(trx, actor, caseId);
    if (actor.kind === 'client') {
      if (input.status !== 'withdrawn') throw new AppError(403, 'FORBIDDEN');
    } else if (!access.canAct) throw new AppError(403, 'CASE_NOT_RESPONSIBLE');
    if (input.version !== undefined && input.version !== row.version) throw new AppError(409, 'CONFLICT');
    const from = row.status;
    if (!TRANSITIONS[from].includes(input.status)) {
      throw new AppError(409, 'CASE_TRANSITION_NOT_ALLOWED', undefined, { from, to: input.status });
    }
    const patch: Record<string, unknown> = { status: input.status, version: row.version + 1, updated_at: now };
    const rule = row.due_rule as DueRule | null;
    if (input.status === 'waiting_client') patch.waiting_since = now;
    if (from === 'waiting_client' && row.waiting_since) {
      // The clock stops while we wait for the client: push the due dates by the working days spent waiting.
      const jurisdiction = rule?.jurisdiction ?? 'CA';
      const paused = businessDaysBetween(localDate(row.waiting_since), localDate(now), jurisdiction);
      if (paused > 0) {
        if (row.due_date) patch.due_date = addBusinessDays(row.due_date, paused, jurisdiction);
        if (row.guarantee_due_date) patch.guarantee_due_date = addBusinessDays(row.guarantee_due_date, paused, jurisdiction);
        if (rule) patch.due_rule = JSON.stringify({ ...rule, pausedDays: (rule.pausedDays ?? 0) + paused });
      }
      patch.waiting_since = null;
    }
    if (input.status === 'decided') {
      patch.decided_at = now;
      patch.decision = input.decision!.trim().slice(0, 2000);
    }
    if (input.status === 'closed') patch.closed_at = now;
    if (input.status === 'in_progress' && from === 'decided') {
      patch.decided_at = null;
      patch.decision = null;
    }
    const upd = await trx.updateTable('cases').set(patch).where('id', '=', row.id).where('version', '=', row.version).executeTakeFirst();
    if (Number(upd.numUpdatedRows) !== 1) throw new AppError(409, 'CONFLICT');
    const who = actorIds(actor);
    await trx.insertInto('case_status_history').values({ case_id: row.id, from_status: from, to_status: input.status, actor_kind: who.actor_kind, actor_id: who.actor_id, note: input.note?.trim() || null }).execute();
    await trx
      .insertInto('case_interactions')
      .values({ case_id: row.id, channel: input.channel ?? (actor.kind === 'client' ? 'web' : 'counter'), ...who, outcome: 'status_changed', note: `${from} → ${input.status}` })
      .execute();
    const n = await queueNotification(trx, await notifyContext(trx, row.id), { kind: 'status', status: input.status }, ctx.publicBaseUrl);
    return { id: row.id, notificationIds: n ? [n] : [] };
  });
}

/** An interaction a staff member logs, selected from a case row (`cases`, or a CTE of the updated case). */
const STAFF_INTERACTION_COLUMNS = ['case_id', 'channel', 'actor_kind', 'actor_id', 'org_id', 'outcome', 'note'] as const;
function staffInteraction(
  e: ExpressionBuilder<any, any>,
  caseIdColumn: 'cases.id' | 'c.id',
  v: { channel: CaseChannel; staffId: string; orgId: string; outcome: Outcome | 'referred'; note: string | null },
) {
  return [
    sql.ref<string>(caseIdColumn).as('case_id'),
    e.val(v.channel).as('channel'),
    e.val('staff').as('actor_kind'),
    e.val(v.staffId).as('actor_id'),
    e.val(v.orgId).as('org_id'),
    e.val(v.outcome).as('outcome'),
    e.val(v.note).as('note'),
  ];
}

/** logInteraction's statement (compiled once per shape: src/db/compiled.ts). */
const interactionInsert = reusable((db, p: { caseId: string; channel: CaseChannel; staffId: string; orgId: string; outcome: Outcome; note: string | null }, shape: StaffShape) =>
  db
    .insertInto('case_interactions')
    .columns(STAFF_INTERACTION_COLUMNS)
    .expression((eb) =>
      eb
        .selectFrom('cases')
        .select((e) => staffInteraction(e, 'cases.id', p))
        .where('cases.id', '=', p.caseId)
        .where((e) => staffCaseCondition(e, db, { id: p.staffId, orgId: p.orgId }, 'see', shape === 'one-stop')),
    )
    .returning('id'),
);

export async function logInteraction(ctx: Ctx, actor: Actor, caseId: string, input: { channel: CaseChannel; outcome: Outcome; note?: string }) {
  const errors: FieldError[] = [];
  if (!CHANNELS.includes(input.channel)) errors.push({ field: 'channel', code: 'notAllowed' });
  if (!OUTCOMES.includes(input.outcome)) errors.push({ field: 'outcome', code: 'notAllowed' });
  if (input.note && input.note.length > 4000) errors.push({ field: 'note', code: 'tooLong' });
  if (errors.length) throw invalid(errors);
  if (actor.kind !== 'staff') throw new AppError(403, 'FORBIDDEN');
  requireCaseRole(actor.staff);
  if (!isUuid(caseId)) throw notFound();
  // One statement: INSERT ... SELECT from the case when this staff member may see it (same rule as accessTo).
  const staff = actor.staff;
  const r = await interactionInsert.first(ctx.db, staffShape(staff), {
    caseId,
    channel: input.channel,
    staffId: staff.id,
    orgId: staff.orgId,
    outcome: input.outcome,
    note: input.note?.trim() || null,
  });
  if (!r) throw notFound();
  return { id: r.id };
}

export async function postMessage(ctx: Ctx, actor: Actor, caseId: string, body: string, now = new Date()) {
  const text = (body ?? '').trim();
  if (!text) throw invalid([{ field: 'body', code: 'required' }]);
  if (text.length > 5000) throw invalid([{ field: 'body', code: 'tooLong' }]);
  return ctx.db.transaction().execute(async (trx) => {
    const { row } = await loadCase(trx, actor, caseId);
    if (row.status === 'closed' || row.status === 'withdrawn') throw new AppError(409, 'CASE_CLOSED');
    const who = actorIds(actor);
    const m = await trx
      .insertInto('case_messages')
      .values({ case_id: row.id, sender_kind: who.actor_kind, sender_id: who.actor_id, org_id: who.org_id, body: text })
      .returning('id')
      .executeTakeFirstOrThrow();
    const notificationIds: number[] = [];
    if (actor.kind === 'client' && row.status === 'waiting_client') {
      // The client answered: the clock runs again.
      const jurisdiction = (row.due_rule as DueRule | null)?.jurisdiction ?? 'CA';
      const paused = row.waiting_since ? businessDaysBetween(localDate(row.waiting_since), localDate(now), jurisdiction) : 0;
      await trx
        .updateTable('cases')
        .set({
          status: 'in_progress',
          waiting_since: null,
          version: row.version + 1,
          updated_at: now,
          due_date: row.due_date && paused ? addBusinessDays(row.due_date, paused, jurisdiction) : row.due_date,
          guarantee_due_date: row.guarantee_due_date && paused ? addBusinessDays(row.guarantee_due_date, paused, jurisdiction) : row.guarantee_due_date,
        })
        .where('id', '=', row.id)
        .execute();
      await trx.insertInto('case_status_history').values({ case_id: row.id, from_status: 'waiting_client', to_status: 'in_progress', actor_kind: 'client', actor_id: actor.clientId, note: null }).execute();
      const n = await queueNotification(trx, await notifyContext(trx, row.id), { kind: 'status', status: 'in_progress' }, ctx.publicBaseUrl);
      if (n) notificationIds.push(n);
    } else {
      await trx.updateTable('cases').set({ updated_at: now }).where('id', '=', row.id).execute();
    }
    await trx.insertInto('case_interactions').values({ case_id: row.id, channel: 'web', ...who, outcome: 'information_given', note: null }).execute();
    return { id: m.id, notificationIds };
  });
}

export async function assignCase(ctx: Ctx, actor: Actor, caseId: string, input: { team?: string | null; staffId?: string | null }) {
  if (actor.kind !== 'staff') throw new AppError(403, 'FORBIDDEN');
  if (input.team && input.team.length > 100) throw invalid([{ field: 'team', code: 'tooLong' }]);
  return ctx.db.transaction().execute(async (trx) => {
    const { row, access } = await loadCase(trx, actor, caseId);
    if (access.via !== 'org') throw new AppError(403, 'CASE_NOT_RESPONSIBLE');
    if (input.staffId) {
      const s = await trx.selectFrom('staff_users').select(['id', 'org_id', 'active']).where('id', '=', input.staffId).executeTakeFirst();
      if (!s || !s.active || s.org_id !== row.responsible_org_id) throw invalid([{ field: 'staffId', code: 'notFound' }]);
    }
    await trx
      .updateTable('cases')
      .set({ assigned_team: input.team?.trim() || null, assigned_staff_id: input.staffId || null, version: row.version + 1, updated_at: new Date() })
      .where('id', '=', row.id)
      .execute();
    return { id: row.id };
  });
}

/**
 * referCase's statement (compiled once per shape: src/db/compiled.ts): the UPDATE of the case, when this staff member
 * may act on it, it is open and the target is another existing organisation, with the consent, the referral and the
 * interaction written from it.
 */
const referralStatement = reusable(
  (
    db,
    p: { caseId: string; toOrgId: string; staffId: string; orgId: string; now: Date; consentId: string; referralId: string; summary: string; channel: CaseChannel; note: string },
    shape: StaffShape,
  ) =>
  db
    .with('c', (qc) =>
      qc
        .updateTable('cases')
        .set((eb) => ({ version: eb('cases.version', '+', 1), updated_at: p.now }))
        .where('cases.id', '=', p.caseId)
        .where('cases.status', 'in', OPEN_STATUSES)
        .where('cases.responsible_org_id', '<>', p.toOrgId)
        .where((eb) => eb.exists(eb.selectFrom('organisations').select('organisations.id').where('organisations.id', '=', p.toOrgId)))
        .where((eb) => staffCaseCondition(eb, db, { id: p.staffId, orgId: p.orgId }, 'act', shape === 'one-stop'))
        .returning(['cases.id', 'cases.client_id', 'cases.responsible_org_id']),
    )
    .with('k', (qc) =>
      qc
        .insertInto('consents')
        .columns(['id', 'client_id', 'org_id', 'purpose', 'fields', 'legal_basis', 'law_reference', 'valid_until', 'withdrawn_at', 'granted_by'])
        .expression((eb) =>
          eb
            .selectFrom('c')
            .select((e) => [
              e.val(p.consentId).as('id'),
              'c.client_id',
              e.val(p.toOrgId).as('org_id'),
              e.val(REFERRAL_PURPOSE).as('purpose'),
              sql<string[]>`${sql.val(REFERRAL_FIELDS)}::text[]`.as('fields'),
              e.val('consent').as('legal_basis'),
              sql<null>`null`.as('law_reference'),
              sql<null>`null::timestamptz`.as('valid_until'),
              sql<null>`null::timestamptz`.as('withdrawn_at'),
              sql<string>`'client:' || c.client_id`.as('granted_by'),
            ]),
        ),
    )
    .with('r', (qc) =>
      qc
        .insertInto('case_referrals')
        .columns(['id', 'case_id', 'from_org_id', 'to_org_id', 'referred_by', 'summary', 'consent_id'])
        .expression((eb) =>
          eb
            .selectFrom('c')
            .select((e) => [e.val(p.referralId).as('id'), 'c.id as case_id', 'c.responsible_org_id', e.val(p.toOrgId).as('to_org_id'), e.val(p.staffId).as('referred_by'), e.val(p.summary).as('summary'), e.val(p.consentId).as('consent_id')]),
        ),
    )
    .with('i', (qc) =>
      qc
        .insertInto('case_interactions')
        .columns(STAFF_INTERACTION_COLUMNS)
        .expression((eb) => eb.selectFrom('c').select((e) => staffInteraction(e, 'c.id', { channel: p.channel, staffId: p.staffId, orgId: p.orgId, outcome: 'referred', note: p.note }))),
    )
    .selectFrom('c')
    .select('c.id'),
);

export async function referCase(ctx: Ctx, actor: Actor, caseId: string, input: { toOrgId: string; summary: string; clientConsent: boolean; channel?: CaseChannel }) {
  if (actor.kind !== 'staff') throw new AppError(403, 'FORBIDDEN');
  const errors: FieldError[] = [];
  if (!input.toOrgId) errors.push({ field: 'toOrgId', code: 'required' });
  const summary = (input.summary ?? '').trim();
  if (!summary) errors.push({ field: 'summary', code: 'required' });
  else if (summary.length > 4000) errors.push({ field: 'summary', code: 'tooLong' });
  if (input.clientConsent !== true) errors.push({ field: 'clientConsent', code: 'required' });
  if (errors.length) throw invalid(errors);
  requireCaseRole(actor.staff);
  if (!isUuid(caseId)) throw notFound();
  const staff = actor.staff;
  const id = crypto.randomUUID();
  const consentId = crypto.randomUUID();
  // One statement on the happy path: the UPDATE of the case (only if this staff member may act on it, it is open
  // and the target is another organisation) locks the row and bumps its version; the client's consent for the
  // receiving organisation, the referral and the interaction are written from it in CTEs. If no row comes back,
  // a second query says why (404 / 403 / 409 / 400, in the same order as the checks of accessTo).
  let done: { id: string } | undefined;
  try {
    done = await referralStatement.first(ctx.db, staffShape(staff), {
      caseId,
      toOrgId: input.toOrgId,
      staffId: staff.id,
      orgId: staff.orgId,
      now: new Date(),
      consentId,
      referralId: id,
      summary,
      channel: input.channel ?? 'phone',
      note: `→ ${input.toOrgId}`,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    // At most one pending referral per case (unique partial index, migration 002): a second one is a conflict.
    if (code === '23505') throw new AppError(409, 'REFERRAL_PENDING');
    // The receiving organisation does not exist (foreign keys of the consent and the referral).
    if (code === '23503') throw invalid([{ field: 'toOrgId', code: 'notFound' }]);
    throw err;
  }
  if (done) return { id };
  const row = await ctx.db
    .selectFrom('cases')
    .select(['cases.status', 'cases.responsible_org_id'])
    .select((eb) => [
      staffCaseCondition(eb, ctx.db, staff, 'see').as('may_see'),
      staffCaseCondition(eb, ctx.db, staff, 'act').as('may_act'),
      eb.exists(eb.selectFrom('organisations').select('organisations.id').where('organisations.id', '=', input.toOrgId)).as('org_exists'),
    ])
    .where('cases.id', '=', caseId)
    .executeTakeFirst();
  if (!row || !row.may_see) throw notFound();
  if (!row.may_act) throw new AppError(403, 'CASE_NOT_RESPONSIBLE');
  if (OPEN_STATUSES.indexOf(row.status) < 0) throw new AppError(409, 'CASE_CLOSED');
  if (input.toOrgId === row.responsible_org_id) throw invalid([{ field: 'toOrgId', code: 'sameOrganisation' }]);
  if (!row.org_exists) throw invalid([{ field: 'toOrgId', code: 'notFound' }]);
  throw new AppError(409, 'CONFLICT'); // changed between the two statements; the client may retry
}

export async function answerReferral(
  ctx: Ctx,
  actor: Actor,
  caseId: string,
  referralId: string,
  input: { accept: boolean; noRepeat?: boolean; note?: string },
): Promise<CommandResult> {
  if (actor.kind !== 'staff') throw new AppError(403, 'FORBIDDEN');
  if (input.accept && typeof input.noRepeat !== 'boolean') throw invalid([{ field: 'noRepeat', code: 'required' }]);
  return ctx.db.transaction().execute(async (trx) => {
    const { row } = await loadCase(trx, actor, caseId);
    if (!isUuid(referralId)) throw new AppError(404, 'REFERRAL_NOT_FOUND');
    const ref = await trx.selectFrom('case_referrals').selectAll().where('id', '=', referralId).where('case_id', '=', row.id).executeTakeFirst();
    if (!ref || ref.to_org_id !== actor.staff.orgId) throw new AppError(404, 'REFERRAL_NOT_FOUND');
    if (ref.status !== 'pending') throw new AppError(409, 'REFERRAL_ALREADY_ANSWERED');
    const now = new Date();
    await trx
      .updateTable('case_referrals')
      .set({ status: input.accept ? 'accepted' : 'declined', accepted_by: actor.staff.id, accepted_at: now, no_repeat: input.accept ? input.noRepeat! : null })
      .where('id', '=', ref.id)
      .execute();
    const notificationIds: number[] = [];
    if (input.accept) {
      await trx
        .updateTable('cases')
        .set({ responsible_org_id: ref.to_org_id, assigned_team: null, assigned_staff_id: null, version: row.version + 1, updated_at: now })
        .where('id', '=', row.id)
        .execute();
      const n = await queueNotification(trx, await notifyContext(trx, row.id), { kind: 'referral_accepted' }, ctx.publicBaseUrl);
      if (n) notificationIds.push(n);
    }
    await trx
      .insertInto('case_interactions')
      .values({ case_id: row.id, channel: 'phone', ...actorIds(actor), outcome: input.accept ? 'referral_accepted' : 'other', note: input.note?.trim().slice(0, 2000) || null })
      .execute();
    return { id: ref.id, notificationIds };
  });
}

/** Referrals answered by an organisation (or every organisation for the one-stop's managers) and the no-repeat rate. */
export async function referralStats(db: Database, staff: StaffPrincipal) {
  requireCaseRole(staff);
  let q = db
    .selectFrom('case_referrals')
    .select([
      sql<number>`count(*) filter (where status = 'accepted')::int`.as('accepted'),
      sql<number>`count(*) filter (where status = 'accepted' and no_repeat)::int`.as('no_repeat'),
      sql<number>`count(*) filter (where status = 'pending')::int`.as('pending'),
      sql<number>`count(*) filter (where status = 'declined')::int`.as('declined'),
    ]);
  const all = staff.orgId === ONE_STOP_ORG_ID && staff.roles.includes('manager');
  if (!all) q = q.where((eb) => eb.or([eb('to_org_id', '=', staff.orgId), eb('from_org_id', '=', staff.orgId)]));
  const r = await q.executeTakeFirstOrThrow();
  return { scope: all ? 'all' : staff.orgId, accepted: r.accepted, noRepeat: r.no_repeat, pending: r.pending, declined: r.declined, noRepeatRate: r.accepted ? r.no_repeat / r.accepted : null };
}

export interface ListFilter {
  status?: CaseStatus[];
  clientId?: string;
  queue?: 'all' | 'referred' | 'mine' | 'overdue';
  limit?: number;
  offset?: number;
}

/** Cases the actor may see, newest first. */
export async function listCases(db: Database, actor: Actor, f: ListFilter = {}) {
  let q = db
    .selectFrom('cases')
    .innerJoin('services', 'services.id', 'cases.service_id')
    .innerJoin('organisations', 'organisations.id', 'cases.responsible_org_id')
    .select([
      'cases.id',
      'cases.reference',
      'cases.client_id',
      'cases.service_id',
      'cases.status',
      'cases.origin_channel',
      'cases.responsible_org_id',
      'cases.assigned_team',
      'cases.assigned_staff_id',
      'cases.due_date',
      'cases.guarantee_due_date',
      'cases.guarantee_breached_at',
      'cases.submitted_at',
      'cases.updated_at',
      'services.title_en as service_title_en',
      'services.title_fr as service_title_fr',
      'organisations.name_en as org_name_en',
      'organisations.name_fr as org_name_fr',
    ]);
  if (actor.kind === 'client') {
    q = q.where((eb) =>
      eb.or([
        eb('cases.client_id', '=', actor.clientId),
        eb('cases.client_id', 'in', eb.selectFrom('business_representatives').select('business_id').where('person_id', '=', actor.clientId)),
      ]),
    );
  } else {
    const staff = actor.staff;
    requireCaseRole(staff);
    const org = staff.orgId;
    q = q.where((eb) => {
      const ors = [
        eb('cases.responsible_org_id', '=', org),
        eb('cases.id', 'in', eb.selectFrom('case_referrals').select('case_id').where('to_org_id', '=', org).where('status', '<>', 'declined')),
      ];
      if (org === ONE_STOP_ORG_ID) {
        ors.push(eb('cases.client_id', 'in', servingConsents(db, staff)));
      }
      return eb.or(ors);
    });
    if (f.queue === 'referred') {
      q = q.where('cases.id', 'in', (eb) => eb.selectFrom('case_referrals').select('case_id').where('to_org_id', '=', org).where('status', '=', 'pending'));
    } else if (f.queue === 'mine') q = q.where('cases.assigned_staff_id', '=', staff.id);
    else if (f.queue === 'overdue') q = q.where('cases.due_date', '<', localDate(new Date())).where('cases.status', 'in', OPEN_STATUSES);
  }
  if (f.clientId) q = q.where('cases.client_id', '=', f.clientId);
  if (f.status?.length) q = q.where('cases.status', 'in', f.status);
  return q
    .orderBy('cases.submitted_at', 'desc')
    .orderBy('cases.id')
    .limit(Math.min(f.limit ?? 50, 200))
    .offset(f.offset ?? 0)
    .execute();
}

/** Everything about one case the actor may see (staff reads are written to the client's access log). */
export async function caseDetail(db: Database, actor: Actor, caseId: string, opts: { audit?: boolean } = {}) {
  const { row, access } = await loadCase(db, actor, caseId, { audit: opts.audit ?? true });
  const [service, org, history, interactions, messages, referrals, documents, refund] = await Promise.all([
    db.selectFrom('services').select(['id', 'title_en', 'title_fr', 'owner_org_id', 'guarantee_days']).where('id', '=', row.service_id).executeTakeFirstOrThrow(),
    db.selectFrom('organisations').select(['id', 'name_en', 'name_fr']).where('id', '=', row.responsible_org_id).executeTakeFirstOrThrow(),
    db.selectFrom('case_status_history').selectAll().where('case_id', '=', row.id).orderBy('id').execute(),
    db
      .selectFrom('case_interactions')
      .leftJoin('staff_users', (j) => j.onRef('staff_users.id', '=', 'case_interactions.actor_id').on('case_interactions.actor_kind', '=', 'staff'))
      .selectAll('case_interactions')
      .select('staff_users.name as staff_name')
      .where('case_id', '=', row.id)
      .orderBy('case_interactions.id')
      .execute(),
    db
      .selectFrom('case_messages')
      .leftJoin('organisations', 'organisations.id', 'case_messages.org_id')
      .selectAll('case_messages')
      .select(['organisations.name_en as org_name_en', 'organisations.name_fr as org_name_fr'])
      .where('case_id', '=', row.id)
      .orderBy('case_messages.id')
      .execute(),
    db
      .selectFrom('case_referrals')
      .innerJoin('organisations as t', 't.id', 'case_referrals.to_org_id')
      .innerJoin('organisations as f', 'f.id', 'case_referrals.from_org_id')
      .selectAll('case_referrals')
      .select(['t.name_en as to_name_en', 't.name_fr as to_name_fr', 'f.name_en as from_name_en', 'f.name_fr as from_name_fr'])
      .where('case_id', '=', row.id)
      .orderBy('case_referrals.created_at')
      .execute(),
    db.selectFrom('case_documents').select(['id', 'filename', 'content_type', 'size_bytes', 'uploaded_by_kind', 'created_at']).where('case_id', '=', row.id).orderBy('created_at').execute(),
    db.selectFrom('guarantee_refunds').select(['amount_cents', 'status', 'detected_at']).where('case_id', '=', row.id).executeTakeFirst(),
  ]);
  // Clients see who acted for which organisation, not staff names or internal interaction notes.
  const forClient = actor.kind === 'client';
  return {
    case: row,
    access,
    service,
    org,
    history,
    interactions: forClient ? interactions.map((i) => ({ ...i, actor_id: i.actor_kind === 'staff' ? '' : i.actor_id, staff_name: null, note: null })) : interactions,
    messages: forClient ? messages.map((m) => ({ ...m, sender_id: m.sender_kind === 'staff' ? '' : m.sender_id })) : messages,
    referrals: forClient ? referrals.map((r) => ({ ...r, referred_by: '', accepted_by: null, summary: '' })) : referrals,
    documents,
    refund: refund ?? null,
    nextStatuses: actor.kind === 'client' ? (TRANSITIONS[row.status].includes('withdrawn') ? ['withdrawn'] : []) : access.canAct ? TRANSITIONS[row.status] : [],
  };
}

/** A one-time code the client reads out to an agent (src/clients/access.ts: 8 digits, 10 minutes, single use). */
export async function createAccessCode(db: Database, clientId: string): Promise<{ code: string; expiresAt: Date }> {
  return createClientCode(db, clientId);
}

/** The agent types the client's code: they serve the client (2 hours, or until the client withdraws the consent). */
export async function redeemAccessCode(db: Database, staff: StaffPrincipal, code: string) {
  requireCaseRole(staff);
  const r = await redeemAgentAccessCode(db, staff, code);
  const client = await db
    .selectFrom('clients')
    .select(['id', 'kind', 'given_name', 'family_name', 'business_name', 'email', 'phone', 'preferred_lang'])
    .where('id', '=', r.clientId)
    .executeTakeFirstOrThrow();
  await auditStaffRead(db, staff, r.clientId, ['given_name', 'family_name', 'business_name', 'email', 'phone', 'preferred_lang'], AGENT_ACCESS_PURPOSE, 'consent');
  return { client, consentId: r.consentId, validUntil: r.validUntil };
}

/** The client, as an agent serving them may see it (404 unless serving them now). */
export async function servedClient(db: Database, staff: StaffPrincipal, clientId: string) {
  requireCaseRole(staff);
  if (!clientId || !(await staffMayServe(db, staff, clientId))) throw new AppError(404, 'CASE_CLIENT_NOT_FOUND');
  return db
    .selectFrom('clients')
    .select(['id', 'kind', 'given_name', 'family_name', 'business_name', 'email', 'phone', 'preferred_lang'])
    .where('id', '=', clientId)
    .executeTakeFirstOrThrow();
}
