/**
 * The walk-in queue: tickets, call next (by the routing policy in ./routing.ts), transfer, hold and recall, no-show,
 * several services in one visit, outcomes. All state is in the database; every command is one transaction, and the
 * ticket a counter calls is claimed with SELECT ... FOR UPDATE SKIP LOCKED, so two counters (in one process or in
 * several) never call the same ticket.
 */
import { sql } from 'kysely';
import { rawCompilable, reusable } from '../db/compiled';
import type { Database } from '../db/database';
import { isUuid } from '../db/ids';
import { AppError, type FieldError } from '../http/errors';
import { DEFAULT_POLICY, estimateWaitMinutes, isEligible, poolingFor, rankTickets, type CallingCounter, type Pooling, type Priority, type RoutingPolicy, type WaitingTicket } from './routing';
import { localDate } from './time';
import { ttlCache } from '../db/ttl-cache';
import type { TicketStatus, TicketsTable } from './tables';
import { ticketWaiting } from './waiters';
import type { Selectable } from 'kysely';

export type Ticket = Selectable<TicketsTable>;
type Trx = Database;

/** Mean service time used for wait estimates when the office has no history yet (minutes). */
export const DEFAULT_SERVICE_MIN = 8;
/** "Your turn is near" is sent when this many tickets or fewer are ahead for the counter that called. */
export const NEAR_AHEAD = 3;
const LANG_RE = /^[a-z]{2,3}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE_RE = /^\+?[0-9 ().-]{7,20}$/;

export interface OfficeInfo {
  id: string;
  name_en: string;
  name_fr: string;
  timezone: string;
  collaboration_model: string;
  address: string;
  city: string;
}

/** How long a process reuses what it read of an office (description, services offered, open counters for estimates). */
const OFFICE_TTL_MS = 5_000;
/**
 * The last part of such a copy's life in which a request that uses it also reads it again, in the background
 * (src/db/ttl-cache.ts, refreshAhead): at a busy office no request waits for these reads. The last tenth (half a
 * second of 5 s): a busy office has requests every few milliseconds, and a larger part would only read more often
 * (0.4 read each copy every 3 s instead of 5: seventeenth session).
 */
export const OFFICE_READ_AHEAD = 0.1;
const officeCache = ttlCache<string, OfficeInfo>(OFFICE_TTL_MS, { refreshAhead: OFFICE_READ_AHEAD });

/** The office (404 OFFICE_NOT_FOUND if none); read once every few seconds per process: every ticket needs it. */
export function getOffice(db: Database, officeId: string): Promise<OfficeInfo> {
  return officeCache(db, officeId, async () => {
    const o = await db
      .selectFrom('offices')
      .select(['id', 'name_en', 'name_fr', 'timezone', 'collaboration_model', 'address', 'city'])
      .where('id', '=', officeId)
      .executeTakeFirst();
    if (!o) throw new AppError(404, 'OFFICE_NOT_FOUND');
    return o;
  });
}

/**
 * Like Promise.all, but waits for every promise and then throws the first failure in the order given, so that an
 * authorisation check run in parallel with reads decides the error (the same 404 whatever the reads found).
 */
async function allInOrder<T extends readonly unknown[]>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(promises);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

export interface NewTicket {
  services: string[];
  language: string;
  accessibility?: boolean;
  appointmentId?: string | null;
  appointmentAt?: Date | null;
  clientId?: string | null;
  caseId?: string | null;
  email?: string | null;
  phone?: string | null;
  channel: 'greeter' | 'kiosk' | 'appointment' | 'api';
}

function validateNew(t: NewTicket): void {
  const errs: FieldError[] = [];
  if (!Array.isArray(t.services) || t.services.length === 0) errs.push({ field: 'services', code: 'required' });
  else if (t.services.length > 5) errs.push({ field: 'services', code: 'tooLong' });
  else if (new Set(t.services).size !== t.services.length) errs.push({ field: 'services', code: 'invalid' });
  if (!LANG_RE.test(t.language ?? '')) errs.push({ field: 'language', code: 'invalid' });
  if (t.email && !EMAIL_RE.test(t.email)) errs.push({ field: 'email', code: 'invalid' });
  if (t.phone && !PHONE_RE.test(t.phone)) errs.push({ field: 'phone', code: 'invalid' });
  if (errs.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, errs);
}

/** Services offered at the office, with their owning organisation (checked on every ticket; cached like the office). */
const officeServicesCache = ttlCache<string, Map<string, string>>(OFFICE_TTL_MS, { refreshAhead: OFFICE_READ_AHEAD });
async function officeServiceOrgs(db: Trx, officeId: string, serviceIds: string[]): Promise<Map<string, string>> {
  const all = await officeServicesCache(db, officeId, async () => {
    const rows = await db
      .selectFrom('office_services')
      .innerJoin('services', 'services.id', 'office_services.service_id')
      .select(['services.id', 'services.owner_org_id'])
      .where('office_services.office_id', '=', officeId)
      .execute();
    return new Map(rows.map((r) => [r.id, r.owner_org_id]));
  });
  return new Map(serviceIds.filter((id) => all.has(id)).map((id) => [id, all.get(id)!]));
}

async function logEvent(db: Trx, e: { ticket_id: string; office_id: string; kind: string; counter_id?: string | null; agent_id?: string | null; detail?: Record<string, unknown>; at?: Date }) {
  await db
    .insertInto('ticket_events')
    .values({ ticket_id: e.ticket_id, office_id: e.office_id, kind: e.kind, counter_id: e.counter_id ?? null, agent_id: e.agent_id ?? null, detail: JSON.stringify(e.detail ?? {}), ...(e.at ? { at: e.at } : {}) } as any)
    .execute();
}

/** The columns of a ticket as the API shows it (CalledTicket): what a claim, a complete and a create return. */
const ANSWER_COLUMNS = [
  'id', 'office_id', 'number', 'status', 'service_id', 'org_id', 'pending_services', 'language', 'priority', 'counter_id', 'arrived_at', 'called_at',
  'served_at', 'done_at', 'recalls', 'result', 'case_id',
] as const;
/**
 * The columns a create returns (CreatedTicket): the answer's and what its estimate and the waiters need, not the
 * whole 32-column row (pg reads every column returned).
 */
export const CREATED_COLUMNS = [...ANSWER_COLUMNS, 'queued_at', 'appointment_at', 'target_counter_id'] as const;

/**
 * createTicket's statement (compiled once: src/db/compiled.ts): draws the day's number, inserts the ticket and logs
 * the event.
 */
const ticketInsert = reusable(
  (
    db,
    p: {
      officeId: string;
      day: string;
      prefix: string;
      serviceId: string;
      orgId: string;
      pendingServices: string[];
      language: string;
      priority: Priority;
      appointmentId: string | null;
      appointmentAt: Date | null;
      clientId: string | null;
      caseId: string | null;
      email: string | null;
      phone: string | null;
      channel: NewTicket['channel'];
      now: Date;
      detail: string;
    },
  ) =>
    db
      .with('seq', (qc) =>
        qc
          .insertInto('ticket_sequences')
          .values({ office_id: p.officeId, day: p.day, last_seq: 1 })
          .onConflict((oc) => oc.columns(['office_id', 'day']).doUpdateSet({ last_seq: sql<number>`ticket_sequences.last_seq + 1` }))
          .returning('last_seq'),
      )
      .with('t', (qc) =>
        qc
          .insertInto('tickets')
          .columns([
            'office_id', 'day', 'seq', 'number', 'service_id', 'org_id', 'pending_services', 'language', 'priority', 'appointment_id', 'appointment_at',
            'client_id', 'case_id', 'email', 'phone', 'status', 'queued_at', 'waiting_since', 'arrived_at', 'channel', 'updated_at',
          ])
          .expression((eb) =>
            eb.selectFrom('seq').select((e) => [
              e.val(p.officeId).as('office_id'),
              sql<string>`${p.day}::date`.as('day'),
              'seq.last_seq',
              // A001 … A999, then A1000: at least three digits
              sql<string>`${p.prefix} || case when seq.last_seq < 1000 then lpad(seq.last_seq::text, 3, '0') else seq.last_seq::text end`.as('number'),
              e.val(p.serviceId).as('service_id'),
              e.val(p.orgId).as('org_id'),
              sql<string[]>`${p.pendingServices}::text[]`.as('pending_services'),
              e.val(p.language).as('language'),
              e.val(p.priority).as('priority'),
              e.val(p.appointmentId).as('appointment_id'),
              sql<Date | null>`${p.appointmentAt}::timestamptz`.as('appointment_at'),
              e.val(p.clientId).as('client_id'),
              e.val(p.caseId).as('case_id'),
              e.val(p.email).as('email'),
              e.val(p.phone).as('phone'),
              e.val('waiting').as('status'),
              sql<Date>`${p.now}::timestamptz`.as('queued_at'),
              sql<Date>`${p.now}::timestamptz`.as('waiting_since'),
              sql<Date>`${p.now}::timestamptz`.as('arrived_at'),
              e.val(p.channel).as('channel'),
              sql<Date>`${p.now}::timestamptz`.as('updated_at'),
            ]),
          )
          .returning(CREATED_COLUMNS),
      )
      .with('e', (qc) =>
        qc
          .insertInto('ticket_events')
          .columns(['ticket_id', 'office_id', 'kind', 'detail', 'at'])
          .expression((eb) =>
            eb.selectFrom('t').select((e) => [
              't.id',
              't.office_id',
              e.val('created').as('kind'),
              sql<string>`${p.detail}::jsonb`.as('detail'),
              sql<Date>`${p.now}::timestamptz`.as('at'),
            ]),
          ),
      )
      .selectFrom('t')
      .selectAll('t')
      // the office's line as the statement found it (the new ticket is not in it): the create answer's estimate
      // needs no read of its own (see estimateFor)
      .select(sql<WaitingJson[]>`(
        select coalesce(json_agg(json_build_array(w.id, w.service_id, w.org_id, w.language, w.priority,
          floor(extract(epoch from w.queued_at) * 1000)::bigint, floor(extract(epoch from w.appointment_at) * 1000)::bigint,
          w.target_counter_id) order by w.queued_at, w.id), '[]'::json)
        from (select id, service_id, org_id, language, priority, queued_at, appointment_at, target_counter_id
              from tickets where office_id = ${p.officeId} and status = 'waiting' order by queued_at, id limit 999) w)`.as('waiting_before')),
);

type WaitingJson = [id: string, serviceId: string, orgId: string, language: string, priority: Priority, queuedAt: number, appointmentAt: number | null, targetCounterId: string | null];
/** The line a ticket joined, as its create statement saw it: used once, by the create answer's estimate. */
const lineAtCreate = new WeakMap<object, { at: number; waiting: WaitingTicket[] }>();
/** How long after its create a ticket's line may stand in for a read (the create answer's estimate). */
const LINE_AT_CREATE_MS = 1_000;

/**
 * Create a ticket (greeter, kiosk, appointment check-in or API). Runs inside the caller's transaction if given one.
 * Two round trips: the office and the services it offers (read together), then ONE statement that draws the day's
 * number, inserts the ticket and logs the event. The per-office, per-day counter row is locked only for the length
 * of that statement, so arrivals at a busy office do not queue behind each other's transactions.
 */
export async function createTicket(db: Database, officeId: string, input: NewTicket, now = new Date(), trx?: Trx, check?: Promise<unknown>): Promise<CreatedTicket> {
  validateNew(input);
  const exec = trx ?? db;
  // `check`: the caller's authorisation, read in parallel with the office and its services, settled before writing
  const [, office, orgs] = await allInOrder([check, getOffice(exec, officeId), officeServiceOrgs(exec, officeId, input.services)]);
  const missing = input.services.map((s, i) => (orgs.has(s) ? null : { field: `services.${i}`, code: 'notOffered' })).filter(Boolean) as FieldError[];
  if (missing.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, missing);
  const day = localDate(now, office.timezone);
  const priority: Priority = input.appointmentId ? 'appointment' : input.accessibility ? 'accessibility' : 'none';
  const prefix = input.appointmentId ? 'R' : 'A';
  const [first, ...rest] = input.services;
  const row = await ticketInsert.first(exec, 'default', {
    officeId,
    day,
    prefix,
    serviceId: first,
    orgId: orgs.get(first)!,
    pendingServices: rest,
    language: input.language,
    priority,
    appointmentId: input.appointmentId ?? null,
    appointmentAt: input.appointmentAt ?? null,
    clientId: input.clientId ?? null,
    caseId: input.caseId ?? null,
    email: input.email || null,
    phone: input.phone || null,
    channel: input.channel,
    now,
    detail: JSON.stringify({ services: input.services, channel: input.channel }),
  });
  if (!row) throw new Error('ticket not written');
  const { waiting_before: before, ...ticket } = row;
  lineAtCreate.set(ticket, {
    at: Date.now(),
    waiting: before.map(([id, serviceId, orgId, language, priority, queuedAt, appointmentAt, targetCounterId]) => ({ id, serviceId, orgId, language, priority, queuedAt, appointmentAt, targetCounterId })),
  });
  // committed (no transaction of the caller's): wake an agent who may serve it (src/counters/waiters.ts); a caller
  // with its own transaction calls ticketWaiting after its commit
  if (!trx) ticketWaiting(ticket);
  return ticket;
}

export async function getTicket(db: Database, officeId: string, ticketId: string): Promise<Ticket> {
  if (!isUuid(ticketId)) throw new AppError(404, 'TICKET_NOT_FOUND');
  const t = await db.selectFrom('tickets').selectAll().where('id', '=', ticketId).where('office_id', '=', officeId).executeTakeFirst();
  if (!t) throw new AppError(404, 'TICKET_NOT_FOUND');
  return t;
}

interface CounterCtx {
  id: string;
  office_id: string;
  label: string;
  org_id: string | null;
  agent_id: string | null;
  agent_org: string | null;
  skills: string[] | null;
  languages: string[] | null;
  lent_to_org_id: string | null;
  collaboration_model: string;
  busy: boolean;
}

/** The counter with its agent's profile and whether a client is at it now (compiled once below: src/db/compiled.ts). */
function counterSelect(db: Trx, p: { officeId: string; counterId: string }) {
  return db
    .selectFrom('counters')
    .innerJoin('offices', 'offices.id', 'counters.office_id')
    .leftJoin('staff_users', 'staff_users.id', 'counters.agent_id')
    .leftJoin('agent_profiles', 'agent_profiles.staff_id', 'counters.agent_id')
    .leftJoin('agent_loans', (j) => j.onRef('agent_loans.staff_id', '=', 'counters.agent_id').onRef('agent_loans.office_id', '=', 'counters.office_id'))
    .select([
      'counters.id', 'counters.office_id', 'counters.label', 'counters.org_id', 'counters.agent_id', 'staff_users.org_id as agent_org',
      'agent_profiles.skills', 'agent_profiles.languages', 'agent_loans.lent_to_org_id', 'offices.collaboration_model',
      sql<boolean>`exists (select 1 from tickets b where b.counter_id = counters.id and b.status in ('called', 'serving'))`.as('busy'),
    ])
    .where('counters.id', '=', p.counterId)
    .where('counters.office_id', '=', p.officeId)
    .where('counters.active', '=', true);
}
const counterRead = reusable((db, p: { officeId: string; counterId: string }) => counterSelect(db, p));
/** The counter and, in the same row, the office's waiting tickets (see loadCounterAndWaiting). */
const counterAndWaitingRead = reusable((db, p: { officeId: string; counterId: string }) =>
  counterSelect(db, p).select(sql<WaitingRow[]>`(
      select coalesce(json_agg(json_build_array(w.id, w.service_id, w.org_id, w.language, w.priority,
        floor(extract(epoch from w.queued_at) * 1000)::bigint, floor(extract(epoch from w.appointment_at) * 1000)::bigint,
        w.target_counter_id, not w.near_notified and (w.email is not null or w.phone is not null)) order by w.queued_at, w.id), '[]'::json)
      from (select id, service_id, org_id, language, priority, queued_at, appointment_at, target_counter_id, near_notified, email, phone
            from tickets where office_id = ${p.officeId} and status = 'waiting' order by queued_at, id limit 1000) w)`.as('waiting')),
);

async function loadCounter(db: Trx, officeId: string, counterId: string): Promise<CounterCtx> {
  if (!isUuid(counterId)) throw new AppError(404, 'COUNTER_NOT_FOUND');
  const c = await counterRead.first(db, 'default', { officeId, counterId });
  if (!c) throw new AppError(404, 'COUNTER_NOT_FOUND');
  return c as CounterCtx;
}

type WaitingRow = [id: string, serviceId: string, orgId: string, language: string, priority: Priority, queuedAt: number, appointmentAt: number | null, targetCounterId: string | null, toNotify: boolean];

/**
 * Call-next's one read: the counter (as loadCounter) and, in the same row, the office's waiting tickets in order of
 * arrival (at most 1,000) as a JSON array of arrays, with whether each is owed a "your turn is near" notice. One
 * round trip instead of two; when nobody waits (the common answer in a quiet hour) it is the whole of call-next.
 */
async function loadCounterAndWaiting(db: Database, officeId: string, counterId: string): Promise<{ counter: CounterCtx; waiting: Array<WaitingTicket & { toNotify: boolean }> }> {
  if (!isUuid(counterId)) throw new AppError(404, 'COUNTER_NOT_FOUND');
  const c = await counterAndWaitingRead.first(db, 'default', { officeId, counterId });
  if (!c) throw new AppError(404, 'COUNTER_NOT_FOUND');
  const { waiting, ...counter } = c;
  return {
    counter: counter as CounterCtx,
    waiting: waiting.map(([id, serviceId, orgId, language, priority, queuedAt, appointmentAt, targetCounterId, toNotify]) => ({
      id, serviceId, orgId, language, priority, queuedAt, appointmentAt, targetCounterId, toNotify,
    })),
  };
}

export function callingCounter(c: Pick<CounterCtx, 'id' | 'org_id' | 'agent_org' | 'skills' | 'languages' | 'lent_to_org_id'>): CallingCounter {
  return {
    counterId: c.id,
    counterOrgId: c.org_id,
    agentOrgIds: c.lent_to_org_id ? [c.lent_to_org_id] : c.agent_org ? [c.agent_org] : [],
    skills: c.skills ?? [],
    languages: c.languages ?? ['en', 'fr'],
  };
}

function assertAgentAt(c: CounterCtx, staffId: string) {
  if (c.agent_id !== staffId) throw new AppError(409, 'COUNTER_NOT_YOURS');
}

const toWaiting = (r: Pick<Ticket, 'id' | 'service_id' | 'org_id' | 'language' | 'priority' | 'queued_at' | 'appointment_at' | 'target_counter_id'>): WaitingTicket => ({
  id: r.id, serviceId: r.service_id, orgId: r.org_id, language: r.language, priority: r.priority, queuedAt: r.queued_at.getTime(),
  appointmentAt: r.appointment_at ? r.appointment_at.getTime() : null, targetCounterId: r.target_counter_id,
});

/** Open a counter for the signed-in agent (closing any other counter they had open). */
export async function openCounter(db: Database, officeId: string, counterId: string, staffId: string, now = new Date()) {
  return db.transaction().execute(async (trx) => {
    const c = await loadCounter(trx, officeId, counterId);
    if (c.agent_id && c.agent_id !== staffId) throw new AppError(409, 'COUNTER_TAKEN');
    await trx.updateTable('counters').set({ agent_id: null, opened_at: null }).where('agent_id', '=', staffId).where('id', '!=', counterId).execute();
    await trx.updateTable('counters').set({ agent_id: staffId, opened_at: now }).where('id', '=', counterId).execute();
    return loadCounter(trx, officeId, counterId);
  }).finally(() => forgetOpenCounters(db, officeId));
}

export async function closeCounter(db: Database, officeId: string, counterId: string, staffId: string) {
  return db.transaction().execute(async (trx) => {
    const c = await loadCounter(trx, officeId, counterId);
    assertAgentAt(c, staffId);
    const busy = await trx.selectFrom('tickets').select('id').where('counter_id', '=', counterId).where('status', 'in', ['called', 'serving']).executeTakeFirst();
    if (busy) throw new AppError(409, 'COUNTER_BUSY');
    await trx.updateTable('counters').set({ agent_id: null, opened_at: null }).where('id', '=', counterId).execute();
  }).finally(() => forgetOpenCounters(db, officeId));
}

/** What a call-next or ticket command answer uses of the ticket (their hot statements return these columns, not all 32). */
export type CalledTicket = Pick<
  Ticket,
  'id' | 'office_id' | 'number' | 'status' | 'service_id' | 'org_id' | 'pending_services' | 'language' | 'priority' | 'counter_id' | 'arrived_at' | 'called_at' | 'served_at' | 'done_at' | 'recalls' | 'result' | 'case_id'
>;
/** What a create answers with: the ticket as the API shows it, and what its wait estimate and the waiters need. */
export type CreatedTicket = CalledTicket & Pick<Ticket, 'queued_at' | 'appointment_at' | 'target_counter_id'>;
/** The claim's RETURNING list (CalledTicket). */
const CALLED_COLUMNS = sql.raw(ANSWER_COLUMNS.join(', '));

export interface CallResult {
  ticket: CalledTicket | null;
  /** Waiting tickets now close to their turn that have contact details and were not told yet (claimed for notice). */
  near: Ticket[];
  /** The counter as routing sees it (for waiting: src/counters/waiters.ts). */
  calling: { counter: CallingCounter; pooling: Pooling };
  /** Waiting tickets this counter may serve when it read (none claimed: others took the first ones; call again). */
  eligible: number;
}

/** The usual call-next's one row: the counter (CounterCtx), whether the policy's order may differ from arrival order, the claimed ticket (t_*), the next ones. */
interface UsualCallRow extends CounterCtx {
  special: boolean;
  /** the first eligible waiting tickets in arrival order (at most NEAR_AHEAD + 1): [id, owed a "near" notice] */
  next: Array<[id: string, toNotify: boolean]>;
  t_id: string | null;
  t_number: string;
  t_status: Ticket['status'];
  t_service_id: string;
  t_org_id: string;
  t_pending_services: string[];
  t_language: string;
  t_priority: Priority;
  t_counter_id: string | null;
  t_arrived_at: Date;
  t_called_at: Date | null;
  t_served_at: Date | null;
  t_done_at: Date | null;
  t_recalls: number;
  t_result: string | null;
  t_case_id: string | null;
}

/**
 * A waiting ticket this counter may serve (routing.isEligible, without the target counter: the usual path runs only
 * when no waiting ticket of the office has one), in SQL, over `t` (tickets) and `c` (the counter's row). The same rule
 * written twice: queue-reads.test.ts checks the two agree on every kind of counter.
 */
const ELIGIBLE_SQL = sql.raw(`(c.collaboration_model = 'one_office_one_counter' or c.org_id is null or t.org_id = c.org_id or t.org_id = coalesce(c.lent_to_org_id, c.agent_org))
      and (c.skills is null or cardinality(c.skills) = 0 or t.service_id = any(c.skills))
      and (case when c.languages is null then t.language in ('en', 'fr') else cardinality(c.languages) = 0 or t.language = any(c.languages) end)`);

/**
 * Call-next in ONE statement, for the usual case: when no waiting ticket of the office has a priority (accessibility,
 * appointment) or a target counter, the routing policy (with its language required) ranks the tickets a counter
 * may serve by their place in line (score = minutes waited, the fairness cap keeps that order), so the best one is
 * the first eligible waiting ticket in arrival order: the statement reads the counter, claims that ticket (the first
 * one not locked by another counter: `FOR UPDATE SKIP LOCKED` walks the office's waiting index in order, and a row
 * another counter has just claimed no longer matches `status = 'waiting'`) and logs the call. It returns the counter
 * (checked here: not found, not this agent's, busy), whether anything special waits (then nothing was claimed and the
 * general path runs), the claimed ticket's columns and the next few eligible tickets (for "your turn is near").
 */
const usualCall = reusable((db, p: { officeId: string; counterId: string; staffId: string; now: Date }) => rawCompilable(db,
  sql<UsualCallRow>`
    with c as (
      select counters.id, counters.office_id, counters.label, counters.org_id, counters.agent_id, su.org_id as agent_org,
        ap.skills, ap.languages, al.lent_to_org_id, o.collaboration_model,
        exists (select 1 from tickets b where b.counter_id = counters.id and b.status in ('called', 'serving')) as busy,
        exists (select 1 from tickets s where s.office_id = ${p.officeId} and s.status = 'waiting'
          and (s.priority <> 'none' or s.target_counter_id is not null)) as special
      from counters
      join offices o on o.id = counters.office_id
      left join staff_users su on su.id = counters.agent_id
      left join agent_profiles ap on ap.staff_id = counters.agent_id
      left join agent_loans al on al.staff_id = counters.agent_id and al.office_id = counters.office_id
      where counters.id = ${p.counterId} and counters.office_id = ${p.officeId} and counters.active
    ), pick as (
      select t.id from tickets t, c
      where c.agent_id = ${p.staffId} and not c.busy and not c.special
        and t.office_id = ${p.officeId} and t.status = 'waiting' and ${ELIGIBLE_SQL}
      order by t.queued_at, t.id limit 1
      for update of t skip locked
    ), claimed as (
      update tickets set status = 'called', called_at = ${p.now}, counter_id = ${p.counterId}, agent_id = ${p.staffId}, target_counter_id = null, updated_at = ${p.now}
      where id = (select id from pick)
      returning ${CALLED_COLUMNS}
    ), ev as (
      insert into ticket_events (ticket_id, office_id, kind, at, counter_id, agent_id, detail)
      select id, office_id, 'called', ${p.now}, ${p.counterId}, ${p.staffId}, '{}'::jsonb from claimed
    )
    select c.*,
      (select coalesce(json_agg(json_build_array(n.id, n.to_notify) order by n.queued_at, n.id), '[]'::json) from (
        select t.id, t.queued_at, not t.near_notified and (t.email is not null or t.phone is not null) as to_notify
        from tickets t, c where c.agent_id = ${p.staffId} and not c.busy and not c.special
          and t.office_id = ${p.officeId} and t.status = 'waiting' and ${ELIGIBLE_SQL}
        order by t.queued_at, t.id limit ${NEAR_AHEAD + 1}) n) as next,
      k.id as t_id, k.number as t_number, k.status as t_status, k.service_id as t_service_id, k.org_id as t_org_id,
      k.pending_services as t_pending_services, k.language as t_language, k.priority as t_priority, k.counter_id as t_counter_id,
      k.arrived_at as t_arrived_at, k.called_at as t_called_at, k.served_at as t_served_at, k.done_at as t_done_at,
      k.recalls as t_recalls, k.result as t_result, k.case_id as t_case_id
    from c left join claimed k on true`),
);

/**
 * Call next: the routing policy picks, SKIP LOCKED claims. The usual case (no priority or transfer waiting at the
 * office) is ONE statement (usualCall); otherwise the counter and the waiting tickets are read together, the policy
 * ranks them here, and one statement claims the chosen ticket and logs the call. The unique index
 * tickets_one_current_per_counter guarantees one current client per counter even under double clicks.
 */
export async function callNext(
  db: Database, officeId: string, counterId: string, staffId: string, now = new Date(), policy: RoutingPolicy = DEFAULT_POLICY, check?: Promise<unknown>,
): Promise<CallResult> {
  if (!isUuid(counterId)) {
    await check;
    throw new AppError(404, 'COUNTER_NOT_FOUND');
  }
  // `check`: the caller's authorisation, settled before anything is claimed (usually from its cache: no wait)
  if (policy.languageRequired) {
    await check;
    const row = await usualCall
      .first(db, 'default', { officeId, counterId, staffId, now })
      .catch((err) => {
        if ((err as { code?: string }).code === '23505') throw new AppError(409, 'COUNTER_BUSY');
        throw err;
      });
    if (!row) throw new AppError(404, 'COUNTER_NOT_FOUND');
    assertAgentAt(row, staffId);
    if (row.busy) throw new AppError(409, 'COUNTER_BUSY');
    if (!row.special) {
      const calling = { counter: callingCounter(row), pooling: poolingFor(row.collaboration_model) };
      const ticket: CalledTicket | null = row.t_id
        ? {
            id: row.t_id, office_id: officeId, number: row.t_number, status: row.t_status, service_id: row.t_service_id, org_id: row.t_org_id,
            pending_services: row.t_pending_services, language: row.t_language, priority: row.t_priority, counter_id: row.t_counter_id,
            arrived_at: row.t_arrived_at, called_at: row.t_called_at, served_at: row.t_served_at, done_at: row.t_done_at, recalls: row.t_recalls,
            result: row.t_result, case_id: row.t_case_id,
          }
        : null;
      if (!ticket) return { ticket: null, near: [], calling, eligible: row.next.length };
      const nearIds = row.next.filter(([id]) => id !== ticket.id).slice(0, NEAR_AHEAD).filter(([, n]) => n).map(([id]) => id);
      return { ticket, near: await claimNear(db, officeId, nearIds, now), calling, eligible: row.next.length };
    }
    // a priority or a transfer waits: the policy ranks the whole line (below)
  }
  return callNextRanked(db, officeId, counterId, staffId, now, policy, check);
}

/** Call-next's general path: the counter and the line read together, ranked here by the policy, the best claimed. */
async function callNextRanked(
  db: Database, officeId: string, counterId: string, staffId: string, now: Date, policy: RoutingPolicy, check?: Promise<unknown>,
): Promise<CallResult> {
  // `check`: the caller's authorisation, read in parallel, settled before anything is claimed
  const [, { counter: c, waiting: rows }] = await allInOrder([check, loadCounterAndWaiting(db, officeId, counterId)]);
  assertAgentAt(c, staffId);
  if (c.busy) throw new AppError(409, 'COUNTER_BUSY');
  const pooling: Pooling = poolingFor(c.collaboration_model);
  const calling = { counter: callingCounter(c), pooling };
  const ranked = rankTickets(rows, calling.counter, { now: now.getTime(), pooling, policy });
  let claimed: CalledTicket | null = null;
  // ONE statement claims the best of the first 20 candidates still waiting and not locked by another counter (one
  // round trip under contention, where trying them one by one took about seven: bench:queue, 2 Dec 2026)
  const candidates = ranked.slice(0, 20).map((t) => t.id);
  if (candidates.length) {
    try {
      const r = await sql<CalledTicket>`
        with pick as (
          select id from tickets where id = any(${candidates}::uuid[]) and status = 'waiting'
          order by array_position(${candidates}::uuid[], id) limit 1 for update skip locked
        ), claimed as (
          update tickets set status = 'called', called_at = ${now}, counter_id = ${counterId}, agent_id = ${staffId}, target_counter_id = null, updated_at = ${now}
          where id = (select id from pick)
          returning ${CALLED_COLUMNS}
        ), ev as (
          insert into ticket_events (ticket_id, office_id, kind, at, counter_id, agent_id, detail)
          select id, office_id, 'called', ${now}, ${counterId}, ${staffId}, '{}'::jsonb from claimed
        )
        select * from claimed`.execute(db);
      claimed = r.rows[0] ?? null;
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new AppError(409, 'COUNTER_BUSY');
      throw err;
    }
  }
  if (!claimed) return { ticket: null, near: [], calling, eligible: ranked.length };
  const notify = new Set(rows.filter((r) => r.toNotify).map((r) => r.id));
  const nearIds = ranked.filter((t) => t.id !== claimed!.id).slice(0, NEAR_AHEAD).map((t) => t.id).filter((id) => notify.has(id));
  return { ticket: claimed, near: await claimNear(db, officeId, nearIds, now), calling, eligible: ranked.length };
}

/** Marks these waiting tickets as told "your turn is near" (those not told yet) and returns them, to be told. */
async function claimNear(db: Database, officeId: string, nearIds: string[], now: Date): Promise<Ticket[]> {
  if (!nearIds.length) return [];
  return db.transaction().execute(async (trx) => {
    const got = await trx
      .updateTable('tickets')
      .set({ near_notified: true })
      .where('id', 'in', nearIds)
      .where('status', '=', 'waiting')
      .where('near_notified', '=', false)
      .returningAll()
      .execute();
    for (const n of got) await logEvent(trx, { ticket_id: n.id, office_id: officeId, kind: 'near_notified', at: now });
    return got;
  });
}

type Action = 'serve' | 'recall' | 'hold' | 'no_show' | 'complete' | 'transfer' | 'abandon';

async function lockTicket(trx: Trx, officeId: string, ticketId: string): Promise<Ticket> {
  if (!isUuid(ticketId)) throw new AppError(404, 'TICKET_NOT_FOUND');
  const r = await sql<Ticket>`select * from tickets where id = ${ticketId} and office_id = ${officeId} for update`.execute(trx);
  if (!r.rows[0]) throw new AppError(404, 'TICKET_NOT_FOUND');
  return r.rows[0];
}

async function recordVisit(trx: Trx, t: Ticket, outcome: string, now: Date, extra: { result?: string | null; caseId?: string | null } = {}) {
  const calledAt = t.called_at;
  const servedAt = t.served_at;
  await trx
    .insertInto('ticket_visits')
    .values({
      ticket_id: t.id, office_id: t.office_id, service_id: t.service_id, org_id: t.org_id, counter_id: t.counter_id, agent_id: t.agent_id,
      queued_at: t.waiting_since, called_at: calledAt, served_at: servedAt, done_at: now, outcome, result: extra.result ?? null, case_id: extra.caseId ?? null,
      wait_seconds: calledAt ? (calledAt.getTime() - t.waiting_since.getTime()) / 1000 : (now.getTime() - t.waiting_since.getTime()) / 1000,
      service_seconds: servedAt ? (now.getTime() - servedAt.getTime()) / 1000 : calledAt ? (now.getTime() - calledAt.getTime()) / 1000 : null,
    })
    .execute();
}

export interface ActionInput {
  result?: string;
  caseId?: string;
  serviceId?: string;
  counterId?: string;
}

/** Every command on a called/serving/held ticket, from the counter that holds it. */
export async function ticketAction(
  db: Database, officeId: string, ticketId: string, action: Action, staffId: string, input: ActionInput = {}, now = new Date(), counterId?: string,
): Promise<CalledTicket> {
  return ticketActionTx(db, officeId, ticketId, action, staffId, input, now, counterId).catch((err) => {
    if ((err as { code?: string }).code === '23505') throw new AppError(409, 'COUNTER_BUSY');
    throw err;
  });
}

async function ticketActionTx(
  db: Database, officeId: string, ticketId: string, action: Action, staffId: string, input: ActionInput, now: Date, counterId?: string,
): Promise<CalledTicket> {
  if (action === 'complete') {
    const done = await completeInOneStatement(db, officeId, ticketId, staffId, input, now);
    if (done) return done;
    // otherwise: another service comes next in this visit, or the ticket is not this agent's current one: the
    // general path below says which (409) or sends the client on to the next service
  }
  return db.transaction().execute(async (trx) => {
    const t = await lockTicket(trx, officeId, ticketId);
    const mine = t.agent_id === staffId;
    const bad = () => new AppError(409, 'TICKET_STATE');
    const upd = (set: Partial<Record<keyof Ticket, unknown>>) =>
      trx.updateTable('tickets').set({ ...set, updated_at: now } as any).where('id', '=', t.id).returningAll().executeTakeFirstOrThrow();
    let out: Ticket;
    switch (action) {
      case 'serve':
        if (t.status !== 'called' || !mine) throw bad();
        out = await upd({ status: 'serving', served_at: now });
        break;
      case 'recall': {
        // re-announce a called ticket, or bring a held ticket back to the (free) counter of the agent
        if (t.status === 'called' && mine) {
          out = await upd({ recalls: t.recalls + 1, called_at: now });
        } else if (t.status === 'held') {
          const cid = counterId ?? t.counter_id;
          if (!cid) throw bad();
          const c = await loadCounter(trx, officeId, cid);
          assertAgentAt(c, staffId);
          const busy = await trx.selectFrom('tickets').select('id').where('counter_id', '=', cid).where('status', 'in', ['called', 'serving']).executeTakeFirst();
          if (busy) throw new AppError(409, 'COUNTER_BUSY');
          out = await upd({ status: 'called', counter_id: cid, agent_id: staffId, called_at: now, recalls: t.recalls + 1 });
        } else throw bad();
        break;
      }
      case 'hold':
        if ((t.status !== 'called' && t.status !== 'serving') || !mine) throw bad();
        out = await upd({ status: 'held' });
        break;
      case 'no_show':
        if ((t.status !== 'called' && t.status !== 'held') || !mine) throw bad();
        await recordVisit(trx, t, 'no_show', now);
        out = await upd({ status: 'no_show', done_at: now });
        break;
      case 'abandon':
        if (t.status !== 'waiting' && t.status !== 'held') throw bad();
        await recordVisit(trx, t, 'abandoned', now);
        out = await upd({ status: 'abandoned', abandoned_at: now });
        break;
      case 'complete': {
        if ((t.status !== 'called' && t.status !== 'serving') || !mine) throw bad();
        if (input.result && input.result.length > 500) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'result', code: 'tooLong' }]);
        await recordVisit(trx, t, 'served', now, { result: input.result, caseId: input.caseId });
        const [next, ...rest] = t.pending_services;
        if (next) {
          const orgs = await officeServiceOrgs(trx, officeId, [next]);
          out = await upd({
            status: 'waiting', service_id: next, org_id: orgs.get(next) ?? t.org_id, pending_services: rest, waiting_since: now,
            counter_id: null, agent_id: null, called_at: null, served_at: null, target_counter_id: null, result: input.result ?? null, case_id: input.caseId ?? t.case_id,
          });
        } else {
          out = await upd({ status: 'done', done_at: now, result: input.result ?? null, case_id: input.caseId ?? t.case_id });
        }
        break;
      }
      case 'transfer': {
        if ((t.status !== 'called' && t.status !== 'serving' && t.status !== 'held') || !mine) throw bad();
        if (!input.serviceId && !input.counterId) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'serviceId', code: 'required' }]);
        let serviceId = t.service_id;
        let orgId = t.org_id;
        if (input.serviceId) {
          const orgs = await officeServiceOrgs(trx, officeId, [input.serviceId]);
          if (!orgs.has(input.serviceId)) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'serviceId', code: 'notOffered' }]);
          serviceId = input.serviceId;
          orgId = orgs.get(input.serviceId)!;
        }
        if (input.counterId) {
          const target = await loadCounter(trx, officeId, input.counterId).catch(() => null);
          if (!target) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'counterId', code: 'invalid' }]);
        }
        await recordVisit(trx, t, 'transferred', now, { result: input.result });
        // the client keeps their place in line (queued_at unchanged)
        out = await upd({ status: 'waiting', service_id: serviceId, org_id: orgId, target_counter_id: input.counterId ?? null, waiting_since: now, counter_id: null, agent_id: null, called_at: null, served_at: null });
        break;
      }
    }
    await logEvent(trx, { ticket_id: t.id, office_id: officeId, kind: action === 'serve' ? 'serving' : action, counter_id: t.counter_id, agent_id: staffId, detail: { ...input }, at: now });
    return out;
  }).then((out) => {
    // waiting again (transferred, or on to the next service of the visit), committed: wake an agent who may serve it
    if (out.status === 'waiting') ticketWaiting(out);
    return out;
  });
}

/**
 * The usual end of a visit in one statement: the agent's current ticket, with no other service to follow, becomes
 * done, and its visit and event are written from the updated row (the UPDATE locks it; nothing else is read).
 * Returns null when that is not the case, for the general path to handle.
 */
async function completeInOneStatement(db: Database, officeId: string, ticketId: string, staffId: string, input: ActionInput, now: Date): Promise<CalledTicket | null> {
  if (!isUuid(ticketId)) throw new AppError(404, 'TICKET_NOT_FOUND');
  if (input.result && input.result.length > 500) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'result', code: 'tooLong' }]);
  return completeStatement.first(db, 'default', {
    officeId, ticketId, staffId, now, result: input.result ?? null, caseId: input.caseId ?? null, detail: JSON.stringify({ ...input }),
  }).then((row) => row ?? null);
}

/** completeInOneStatement's statement, compiled once (src/db/compiled.ts). */
const completeStatement = reusable((db, p: { officeId: string; ticketId: string; staffId: string; now: Date; result: string | null; caseId: string | null; detail: string }) => rawCompilable(db,
  sql<CalledTicket>`
    with upd as (
      update tickets set status = 'done', done_at = ${p.now}, result = ${p.result}, case_id = coalesce(${p.caseId}::text, case_id), updated_at = ${p.now}
      where id = ${p.ticketId} and office_id = ${p.officeId} and agent_id = ${p.staffId} and status in ('called', 'serving')
        and cardinality(pending_services) = 0
      returning *
    ), v as (
      insert into ticket_visits (ticket_id, office_id, service_id, org_id, counter_id, agent_id, queued_at, called_at, served_at, done_at, outcome, result, case_id, wait_seconds, service_seconds)
      select id, office_id, service_id, org_id, counter_id, agent_id, waiting_since, called_at, served_at, ${p.now}::timestamptz, 'served', ${p.result}::text, ${p.caseId}::text,
        extract(epoch from (coalesce(called_at, ${p.now}::timestamptz) - waiting_since)),
        extract(epoch from (${p.now}::timestamptz - coalesce(served_at, called_at)))
      from upd
    ), e as (
      insert into ticket_events (ticket_id, office_id, kind, counter_id, agent_id, detail, at)
      select id, office_id, 'complete', counter_id, ${p.staffId}::text, ${p.detail}::jsonb, ${p.now}::timestamptz from upd
    )
    select ${CALLED_COLUMNS} from upd`),
);

export interface QueueEstimate {
  position: number;
  /** null when no open counter can serve the ticket: no wait is promised then (the screens say so). */
  waitMinutes: number | null;
}

/** How many of an office's most recent served visits (of the last 30 days) its mean service times are taken from. */
export const MEAN_SERVICE_SAMPLE = 1000;

// Refreshed in the background (no request waits once an office has a value), each office at its own moment.
const meanCache = ttlCache<string, Map<string, number>>(60_000, { staleWhileRevalidate: true, spread: 0.5 });

/**
 * Mean service time per service at this office (minutes), over its last MEAN_SERVICE_SAMPLE served visits of the last
 * 30 days; kept a minute or so per process.
 */
export function meanServiceMinutes(db: Database, officeId: string): Promise<Map<string, number>> {
  return meanCache(db, officeId, () => computeMeanServiceMinutes(db, officeId));
}

/**
 * A bounded read: the office's visits newest first through the index on (office_id, queued_at), at most
 * MEAN_SERVICE_SAMPLE of them. Averaging all 30 days read every visit of the month (40–75 ms per office with
 * 20,000 visits each), and as every office's value expired in the same minute, those reads came together: the
 * slowest seconds of bench:queue, once a minute.
 */
async function computeMeanServiceMinutes(db: Database, officeId: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom((qb) =>
      qb
        .selectFrom('ticket_visits')
        .select(['service_id', 'service_seconds'])
        .where('office_id', '=', officeId)
        .where('queued_at', '>', sql<Date>`now() - interval '30 days'`)
        .where('outcome', '=', 'served')
        .orderBy('queued_at', 'desc')
        .limit(MEAN_SERVICE_SAMPLE)
        .as('v'),
    )
    .select(['v.service_id', sql<number>`avg(v.service_seconds)`.as('avg')])
    .groupBy('v.service_id')
    .execute();
  return new Map(rows.filter((r) => r.avg != null).map((r) => [r.service_id, Math.max(1, Number(r.avg) / 60)]));
}

/**
 * The office's waiting tickets in order of arrival, at most 1,000 (compiled once: src/db/compiled.ts): the ticket
 * page's estimate and the board. The status is a literal, not a bound value: the statement is prepared, and a
 * generic plan can use the partial index `tickets_waiting` (… where status = 'waiting') only when the statement says
 * 'waiting' itself.
 */
export const waitingRead = reusable((db, p: { officeId: string }) =>
  db
    .selectFrom('tickets')
    .select(['id', 'service_id', 'org_id', 'language', 'priority', 'queued_at', 'appointment_at', 'target_counter_id', 'pending_services', 'waiting_since'])
    .where('office_id', '=', p.officeId)
    .where('status', '=', sql.lit('waiting'))
    .orderBy('queued_at')
    .orderBy('id')
    .limit(1000),
);

/**
 * The board's tickets at counters: from the office's counters to their current ticket. The statuses are literals (see
 * waitingRead), so that a generic plan may go through the partial index `tickets_one_current_per_counter` (… where
 * status in ('called', 'serving')) rather than the office's whole day; the planner chooses by the table's size.
 */
export const boardCalledRead = reusable((db, p: { officeId: string; day: string }) =>
  db.selectFrom('counters').innerJoin('tickets', 'tickets.counter_id', 'counters.id')
    .select(['tickets.number', 'counters.label', 'tickets.called_at', 'tickets.status', 'tickets.service_id', 'tickets.pending_services'])
    .where('counters.office_id', '=', p.officeId).where('tickets.office_id', '=', p.officeId).where('tickets.day', '=', p.day)
    .where('tickets.status', 'in', [sql.lit<TicketStatus>('called'), sql.lit<TicketStatus>('serving')])
    .orderBy('tickets.called_at', 'desc').limit(8),
);

type EstimateCounter = Awaited<ReturnType<typeof openCounters>>[number];

/**
 * THE wait estimate (one function for the ticket, the kiosk and the board, so they never disagree): the tickets
 * ranked ahead of `me` by an open counter able to serve it, shared among those counters, times the service's mean
 * service time. No open counter able to serve it: the position only, no minutes.
 */
export function estimateOf(me: WaitingTicket, all: WaitingTicket[], counters: EstimateCounter[], pooling: Pooling, means: Map<string, number>, now: number): QueueEstimate {
  const able = counters.filter((c) => c.agent_id && isEligible(me, callingCounter(c), pooling));
  const ref = able[0] ? callingCounter(able[0]) : { counterId: '', counterOrgId: null, agentOrgIds: [], skills: [], languages: [] };
  const ranked = rankTickets(all, ref, { now, pooling });
  const idx = ranked.findIndex((t) => t.id === me.id);
  const ahead = idx >= 0 ? idx : all.filter((t) => t.queuedAt < me.queuedAt && t.serviceId === me.serviceId).length;
  return { position: ahead + 1, waitMinutes: able.length ? estimateWaitMinutes(ahead, able.length, means.get(me.serviceId) ?? DEFAULT_SERVICE_MIN) : null };
}

/** Position and estimated wait of a waiting ticket (estimateOf over the office's waiting line). */
export async function estimateFor(db: Database, ticket: Pick<Ticket, 'status' | 'office_id' | 'id' | 'service_id' | 'org_id' | 'language' | 'priority' | 'queued_at' | 'appointment_at' | 'target_counter_id'>, now = new Date()): Promise<QueueEstimate | null> {
  if (ticket.status !== 'waiting') return null;
  // just created: the line its create statement saw, plus itself (one read fewer per ticket); else read the line
  const line = lineAtCreate.get(ticket);
  lineAtCreate.delete(ticket);
  const fresh = line && Date.now() - line.at < LINE_AT_CREATE_MS ? [...line.waiting, toWaiting(ticket)] : null;
  const [office, waiting, counters, means] = await Promise.all([
    getOffice(db, ticket.office_id),
    fresh ?? waitingRead.rows(db, 'default', { officeId: ticket.office_id }).then((rows) => rows.map(toWaiting)),
    openCountersForEstimate(db, ticket.office_id),
    meanServiceMinutes(db, ticket.office_id),
  ]);
  return estimateOf(toWaiting(ticket), waiting, counters, poolingFor(office.collaboration_model), means, now.getTime());
}

/**
 * How long a process keeps an office's open counters for wait estimates: 10–15 s (spread, so offices filled together
 * do not expire together). A change made by this process (a counter opened, closed, added, changed or removed, an
 * agent lent) is seen at once (forgetOpenCounters); one made by another process within that time. An estimate is
 * an estimate: a counter opened a few seconds ago elsewhere changes it by minutes at most. At 2 s, this read was one
 * statement in 25 of bench:queue's day (docs/counters.md, thirteenth session).
 */
const ESTIMATE_COUNTERS_MS = 10_000;
const estimateCountersCache = ttlCache<string, Awaited<ReturnType<typeof openCounters>>>(ESTIMATE_COUNTERS_MS, { spread: 0.5, refreshAhead: OFFICE_READ_AHEAD });
/** The open counters as a wait estimate sees them: re-read at most every 10–15 s per office and process. */
function openCountersForEstimate(db: Database, officeId: string): ReturnType<typeof openCounters> {
  return estimateCountersCache(db, officeId, () => openCounters(db, officeId));
}
/** After a change to an office's counters or agents made by this process (no office: an agent's profile, every office). */
export function forgetOpenCounters(db: Database, officeId?: string): void {
  estimateCountersCache.forget(db, officeId === undefined ? undefined : [officeId]);
}

export async function openCounters(db: Database, officeId: string) {
  return db
    .selectFrom('counters')
    .leftJoin('staff_users', 'staff_users.id', 'counters.agent_id')
    .leftJoin('agent_profiles', 'agent_profiles.staff_id', 'counters.agent_id')
    .leftJoin('agent_loans', (j) => j.onRef('agent_loans.staff_id', '=', 'counters.agent_id').onRef('agent_loans.office_id', '=', 'counters.office_id'))
    .select(['counters.id', 'counters.label', 'counters.org_id', 'counters.agent_id', 'staff_users.name as agent_name', 'staff_users.org_id as agent_org', 'agent_profiles.skills', 'agent_profiles.languages', 'agent_loans.lent_to_org_id'])
    .where('counters.office_id', '=', officeId)
    .where('counters.active', '=', true)
    .orderBy('counters.label')
    .execute();
}

export interface BoardState {
  officeId: string;
  called: Array<{ number: string; counter: string; calledAt: string; status: string; services: Array<{ serviceId: string; title_en: string; title_fr: string }> }>;
  /**
   * Per service: tickets waiting for it now (`waiting`) and later in their visit (`later`, a ticket for several
   * services); `estimatedWaitMin` is the estimate of the LAST ticket in line for it (estimateOf, the same number that
   * ticket shows), null when no open counter can serve it.
   */
  services: Array<{ serviceId: string; title_en: string; title_fr: string; waiting: number; later: number; longestWaitMin: number; estimatedWaitMin: number | null }>;
  waiting: number;
  openCounters: number;
}

/** What the waiting-room screen shows: the tickets called last (with every service of their visit) and the waits per service. */
export async function boardState(db: Database, officeId: string, now = new Date()): Promise<BoardState> {
  const office = await getOffice(db, officeId);
  const day = localDate(now, office.timezone);
  const [called, waitingRows, counters, means, titles] = await Promise.all([
    // from the office's counters to their current ticket (tickets_one_current_per_counter), not over the day's tickets
    boardCalledRead.rows(db, 'default', { officeId, day }),
    waitingRead.rows(db, 'default', { officeId }),
    openCountersForEstimate(db, officeId), // the same read as the ticket's estimate, so the two agree
    meanServiceMinutes(db, officeId),
    officeServiceTitles(db, officeId),
  ]);
  const pooling = poolingFor(office.collaboration_model);
  const all = waitingRows.map(toWaiting);
  const per = new Map<string, { waiting: number; later: number; oldest: number; last: WaitingTicket | null }>();
  const entry = (id: string) => {
    let e = per.get(id);
    if (!e) per.set(id, (e = { waiting: 0, later: 0, oldest: Infinity, last: null }));
    return e;
  };
  waitingRows.forEach((w, i) => {
    const e = entry(w.service_id);
    e.waiting++;
    e.oldest = Math.min(e.oldest, w.waiting_since.getTime());
    e.last = all[i]; // rows come in order of arrival: the last one seen is the last in line
    for (const s of w.pending_services ?? []) if (s !== w.service_id) entry(s).later++;
  });
  const title = (id: string) => titles.get(id) ?? { title_en: id, title_fr: id };
  const services = [...per.entries()].map(([serviceId, e]) => ({
    serviceId, ...title(serviceId), waiting: e.waiting, later: e.later,
    longestWaitMin: e.waiting ? Math.max(0, Math.round((now.getTime() - e.oldest) / 60000)) : 0,
    estimatedWaitMin: e.last ? estimateOf(e.last, all, counters, pooling, means, now.getTime()).waitMinutes : null,
  })).sort((a, b) => a.title_en.localeCompare(b.title_en));
  return {
    officeId,
    called: called.map((c) => ({
      number: c.number, counter: c.label, calledAt: c.called_at!.toISOString(), status: c.status,
      services: [c.service_id, ...(c.pending_services ?? [])].map((id) => ({ serviceId: id, ...title(id) })),
    })),
    services,
    waiting: waitingRows.length,
    openCounters: counters.filter((c) => c.agent_id).length,
  };
}

/** Titles of the services an office offers (the board and the ticket name every service of a visit). */
const titlesCache = ttlCache<string, Map<string, { title_en: string; title_fr: string }>>(OFFICE_TTL_MS, { refreshAhead: OFFICE_READ_AHEAD });
export function officeServiceTitles(db: Database, officeId: string): Promise<Map<string, { title_en: string; title_fr: string }>> {
  return titlesCache(db, officeId, async () => {
    const rows = await db.selectFrom('office_services').innerJoin('services', 'services.id', 'office_services.service_id')
      .select(['services.id', 'services.title_en', 'services.title_fr']).where('office_services.office_id', '=', officeId).execute();
    return new Map(rows.map((r) => [r.id, { title_en: r.title_en, title_fr: r.title_fr }]));
  });
}
