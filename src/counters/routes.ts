/**
 * Counters capability: JSON API under /api/v1/offices/{officeId}/... (tag 'counters') and pages: greeter (reception),
 * self-service kiosk, agent's counter, display board (server-sent events), appointments, measurements, staffing.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { AppDeps } from '../http/deps';
import { AppError } from '../http/errors';
import { requireStaff, type StaffPrincipal } from '../http/session';
import type { Database } from '../db/database';
import { bilingualRoute } from '../web/render';
import { pick, type Lang } from '../i18n/index';
import { book, cancel, checkIn, findByReference, listSlots, reschedule, type Appointment } from './appointments';
import { ensureDemoCounters } from './demo';
import { staffingPlan } from './erlang';
import { createNotifier, notifyTurnNear, type Notifier } from './notify';
import { mailAppointment } from './reminders';
import { boardState, callNext, closeCounter, createTicket, estimateFor, getOffice, getTicket, openCounter, openCounters, ticketAction, type CalledTicket, type Ticket } from './queue';
import { waitStats } from './stats';
import { MAX_WAIT_SECONDS, QUEUE_CHANNEL, QueueWaiters, SAFETY_SWEEP_MS } from './waiters';
import { addCounter, addShift, changeCounter, changeShift, removeCounter, removeShift, setAgentProfile } from './team';
import { localDate } from './time';
import type { CallingCounter, Pooling } from './routing';
import { CalendarDate, Nullable } from '../http/schema';
import { withinLimit } from '../http/rate-limit';
import { callerOffices, loanAt, officeOwner, officeOrgs, publicRoute } from './owners';
import { ONE_STOP_ORG } from '../http/ownership';

const TAGS = ['counters'];
const AGENT_ROLES = ['agent', 'manager', 'admin'];
const MANAGER_ROLES = ['manager', 'admin'];

const Err = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Array(Type.Any())) }) });
const OfficeParams = Type.Object({ officeId: Type.String({ maxLength: 100 }) });
const TicketParams = Type.Object({ officeId: Type.String({ maxLength: 100 }), ticketId: Type.String({ maxLength: 40 }) });
const CounterParams = Type.Object({ officeId: Type.String({ maxLength: 100 }), counterId: Type.String({ maxLength: 40 }) });
const RefParams = Type.Object({ reference: Type.String({ maxLength: 20 }) });

const TicketOut = Type.Object({
  id: Type.String(), number: Type.String(), status: Type.String(), serviceId: Type.String(), orgId: Type.String(), pendingServices: Type.Array(Type.String()),
  language: Type.String(), priority: Type.String(), counterId: Type.Union([Type.String(), Type.Null()]), arrivedAt: Type.String(),
  calledAt: Type.Union([Type.String(), Type.Null()]), servedAt: Type.Union([Type.String(), Type.Null()]), doneAt: Type.Union([Type.String(), Type.Null()]),
  recalls: Type.Number(), result: Type.Union([Type.String(), Type.Null()]), caseId: Type.Union([Type.String(), Type.Null()]),
  estimate: Type.Optional(Type.Union([Type.Null(), Type.Object({ position: Type.Number(), waitMinutes: Nullable(Type.Number()) })])),
});

export function ticketJson(t: CalledTicket) {
  return {
    id: t.id, number: t.number, status: t.status, serviceId: t.service_id, orgId: t.org_id, pendingServices: t.pending_services, language: t.language,
    priority: t.priority, counterId: t.counter_id, arrivedAt: t.arrived_at.toISOString(), calledAt: t.called_at?.toISOString() ?? null,
    servedAt: t.served_at?.toISOString() ?? null, doneAt: t.done_at?.toISOString() ?? null, recalls: t.recalls, result: t.result, caseId: t.case_id,
  };
}

function appointmentJson(a: Appointment) {
  return {
    id: a.id, reference: a.reference, officeId: a.office_id, serviceId: a.service_id, startsAt: a.starts_at.toISOString(), endsAt: a.ends_at.toISOString(),
    name: a.name, language: a.language, accessibility: a.accessibility, channel: a.channel, status: a.status, ticketId: a.ticket_id,
  };
}
const AppointmentOut = Type.Object({
  id: Type.String(), reference: Type.String(), officeId: Type.String(), serviceId: Type.String(), startsAt: Type.String(), endsAt: Type.String(),
  name: Type.String(), language: Type.String(), accessibility: Type.Boolean(), channel: Type.String(), status: Type.String(), ticketId: Type.Union([Type.String(), Type.Null()]),
});

/** Staff who may work at an office: staff of an organisation hosted there (or admins). */
async function requireOfficeStaff(db: Database, request: FastifyRequest, officeId: string, roles = AGENT_ROLES): Promise<StaffPrincipal> {
  const staff = requireStaff(request, roles);
  await officeHostsStaff(db, staff, officeId);
  return staff;
}

/**
 * 404 OFFICE_NOT_FOUND unless the office exists and hosts the staff member's organisation (or the one they are lent
 * to). Every queue call asks it: from the same per-process copies as the ownership check (owners.ts: the office's
 * organisations, kept 5 s per office and shared by its agents; a loan, read only for an agent of another
 * organisation), so it reads nothing the ownership hook has not just read. Such a change reaches every process
 * within 5 s; signing out or losing a role takes effect as src/http/session.ts says.
 */
async function officeHostsStaff(db: Database, staff: StaffPrincipal, officeId: string): Promise<void> {
  if (staff.roles.includes('admin') && staff.orgId === ONE_STOP_ORG) {
    await getOffice(db, officeId); // the office must exist
    return;
  }
  const orgs = await officeOrgs(db, officeId);
  if (orgs?.includes(staff.orgId)) return;
  const lent = orgs ? await loanAt(db, staff.id, officeId) : null;
  if (!orgs || lent === null || !orgs.includes(lent)) throw new AppError(404, 'OFFICE_NOT_FOUND');
}

/** Shared board pollers: one database poll per office per process, fanned out to every SSE client. */
class BoardHub {
  private subs = new Map<string, { clients: Set<FastifyReply>; last: string; timer: NodeJS.Timeout; quiet: number }>();
  constructor(private db: Database, private intervalMs: number) {}
  subscribe(officeId: string, reply: FastifyReply, initial: string) {
    let s = this.subs.get(officeId);
    if (!s) {
      const entry = { clients: new Set<FastifyReply>(), last: initial, quiet: 0, timer: setInterval(() => void this.poll(officeId), this.intervalMs) };
      entry.timer.unref();
      this.subs.set(officeId, entry);
      s = entry;
    }
    s.clients.add(reply);
    return () => {
      s!.clients.delete(reply);
      if (!s!.clients.size) {
        clearInterval(s!.timer);
        this.subs.delete(officeId);
      }
    };
  }
  private async poll(officeId: string) {
    const s = this.subs.get(officeId);
    if (!s) return;
    try {
      const state = JSON.stringify(await boardState(this.db, officeId));
      if (state !== s.last) {
        s.last = state;
        for (const c of s.clients) c.raw.write(`event: board\ndata: ${state}\n\n`);
      } else if (++s.quiet % Math.max(1, Math.round(15000 / this.intervalMs)) === 0) for (const c of s.clients) c.raw.write(`: ping\n\n`);
    } catch {
      /* database briefly unavailable: try again next tick */
    }
  }
  close() {
    for (const s of this.subs.values()) {
      clearInterval(s.timer);
      for (const c of s.clients) c.raw.end();
    }
    this.subs.clear();
  }
}

export async function routes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db } = deps;
  const ownOffice = officeOwner(db);
  const ownOfficeManager = officeOwner(db, MANAGER_ROLES);
  const notifier: Notifier = createNotifier(app.log);
  const hub = new BoardHub(db, Number(process.env.COUNTERS_BOARD_POLL_MS ?? 1500));
  // agents waiting for a client (src/counters/waiters.ts): woken by NOTIFY, a slow safety sweep behind it
  const waiters = new QueueWaiters(db, Number(process.env.COUNTERS_SAFETY_SWEEP_MS ?? SAFETY_SWEEP_MS));
  let unlisten: (() => Promise<void>) | null = null;
  const base = deps.config.publicBaseUrl;
  app.addHook('onReady', async () => {
    await ensureDemoCounters(db).catch((err) => app.log.warn({ err }, 'demo counters not created'));
    unlisten = await deps.database.listen(QUEUE_CHANNEL, (p) => waiters.notify(p), () => {
      app.log.warn('queue notifications resumed after a gap: waiting agents look again');
      waiters.gap();
    });
    waiters.start();
  });
  app.addHook('preClose', async () => {
    hub.close();
    waiters.close();
    await unlisten?.();
  });
  app.addHook('onClose', async () => notifier.mailer.close());

  const serviceTitle = async (serviceId: string, lang: Lang) => {
    const s = await db.selectFrom('services').select(['title_en', 'title_fr']).where('id', '=', serviceId).executeTakeFirst();
    return s ? pick(s, 'title', lang) : serviceId;
  };
  /**
   * A confirmation or cancellation e-mail, unless this address has had `mailPerAddress` of them already (5 a day by
   * default): booking needs no sign-in, so without it anyone could fill a stranger's inbox. The booking stands either
   * way (its reference is on the page); reminders come from the background job, once per appointment.
   */
  const appointmentMail = async (a: Appointment, kind: 'confirmation' | 'reminder' | 'cancellation') => {
    if (a.email && kind !== 'reminder' && !(await withinLimit(db, deps.config.rateLimit, 'mailPerAddress', a.email.trim().toLowerCase()))) {
      app.log.info({ reference: a.reference, kind }, 'appointment e-mail not sent: too many to this address today');
      return;
    }
    await mailAppointment(db, notifier, base, a, kind);
  };
  const sendNear = (near: Ticket[], officeId: string) => {
    if (!near.length) return;
    void (async () => {
      const office = await getOffice(db, officeId);
      for (const n of near) await notifyTurnNear(notifier, n, pick(office, 'name', n.language === 'fr' ? 'fr' : 'en'));
    })().catch((err) => app.log.warn({ err }, 'turn-near notice failed'));
  };

  // ---------------------------------------------------------------- API: queue
  app.post('/api/v1/offices/:officeId/tickets', {
    config: { ...ownOffice, rateLimitPolicy: 'ticket', idempotent: true },
    schema: {
      tags: TAGS, summary: 'Create a walk-in ticket (greeter or kiosk)',
      params: OfficeParams,
      body: Type.Object({
        services: Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 5 }),
        language: Type.String({ maxLength: 3 }),
        accessibility: Type.Optional(Type.Boolean()),
        clientId: Type.Optional(Type.String({ maxLength: 100 })),
        caseId: Type.Optional(Type.String({ maxLength: 100 })),
        email: Type.Optional(Type.String({ maxLength: 200 })),
        phone: Type.Optional(Type.String({ maxLength: 30 })),
      }, { additionalProperties: false }),
      response: { 201: TicketOut, 400: Err, 401: Err, 404: Err },
    },
  }, async (request, reply) => {
    const { officeId } = request.params as { officeId: string };
    const staff = requireStaff(request, AGENT_ROLES);
    const b = request.body as { services: string[]; language: string; accessibility?: boolean; clientId?: string; caseId?: string; email?: string; phone?: string };
    // the office check runs alongside the ticket's first reads; nothing is written before it passes
    const t = await createTicket(db, officeId, { ...b, channel: 'api' }, new Date(), undefined, officeHostsStaff(db, staff, officeId));
    return reply.status(201).send({ ...ticketJson(t), estimate: await estimateFor(db, t) });
  });

  app.get('/api/v1/offices/:officeId/tickets', { config: ownOffice,
    schema: { tags: TAGS, summary: 'Tickets of today at the office', params: OfficeParams, querystring: Type.Object({ status: Type.Optional(Type.String({ maxLength: 20 })) }), response: { 200: Type.Object({ tickets: Type.Array(TicketOut) }) } },
  }, async (request) => {
    const { officeId } = request.params as { officeId: string };
    await requireOfficeStaff(db, request, officeId);
    const office = await getOffice(db, officeId);
    let q = db.selectFrom('tickets').selectAll().where('office_id', '=', officeId).where('day', '=', localDate(new Date(), office.timezone));
    const st = (request.query as { status?: string }).status;
    if (st) q = q.where('status', '=', st as Ticket['status']);
    return { tickets: (await q.orderBy('queued_at').limit(1000).execute()).map(ticketJson) };
  });

  app.get('/api/v1/offices/:officeId/tickets/:ticketId', { config: publicRoute,
    schema: { tags: TAGS, summary: 'A ticket with its position and estimated wait', params: TicketParams, response: { 200: TicketOut, 404: Err } },
  }, async (request) => {
    const { officeId, ticketId } = request.params as { officeId: string; ticketId: string };
    const t = await getTicket(db, officeId, ticketId); // the id is an unguessable UUID printed on the ticket
    return { ...ticketJson(t), estimate: await estimateFor(db, t) };
  });

  app.get('/api/v1/offices/:officeId/counters', { config: ownOffice,
    schema: { tags: TAGS, summary: 'Counters of the office and who is open at each', params: OfficeParams },
  }, async (request) => {
    const { officeId } = request.params as { officeId: string };
    await requireOfficeStaff(db, request, officeId);
    const cs = await openCounters(db, officeId);
    return { counters: cs.map((c) => ({ id: c.id, label: c.label, orgId: c.org_id, agentId: c.agent_id, agentName: c.agent_name })) };
  });

  app.post('/api/v1/offices/:officeId/counters', { config: { ...ownOfficeManager, idempotent: true },
    schema: { tags: TAGS, summary: 'Add a counter (owned by an organisation, or shared when orgId is null)', params: OfficeParams, body: Type.Object({ label: Type.String({ minLength: 1, maxLength: 10 }), orgId: Type.Optional(Nullable(Type.String({ maxLength: 100 }))) }, { additionalProperties: false }) },
  }, async (request, reply) => {
    const { officeId } = request.params as { officeId: string };
    await requireOfficeStaff(db, request, officeId, MANAGER_ROLES);
    const b = request.body as { label: string; orgId?: string | null };
    const c = await addCounter(db, officeId, b);
    return reply.status(201).send({ id: c.id, label: c.label, orgId: c.org_id });
  });

  app.patch('/api/v1/offices/:officeId/counters/:counterId', { config: ownOfficeManager,
    schema: { tags: TAGS, summary: "Change a counter's label or owning organisation (null: shared)", params: CounterParams, body: Type.Object({ label: Type.String({ minLength: 1, maxLength: 10 }), orgId: Type.Optional(Nullable(Type.String({ maxLength: 100 }))) }, { additionalProperties: false }), response: { 200: Type.Object({ id: Type.String(), label: Type.String(), orgId: Type.Union([Type.String(), Type.Null()]) }), 400: Err, 403: Err, 404: Err, 409: Err } },
  }, async (request) => {
    const { officeId, counterId } = request.params as { officeId: string; counterId: string };
    await requireOfficeStaff(db, request, officeId, MANAGER_ROLES);
    const c = await changeCounter(db, officeId, counterId, request.body as { label: string; orgId?: string | null });
    return { id: c.id, label: c.label, orgId: c.org_id };
  });

  app.delete('/api/v1/offices/:officeId/counters/:counterId', { config: ownOfficeManager,
    schema: { tags: TAGS, summary: 'Remove a counter (kept for the tickets it served; 409 while an agent has it open); its future shifts move to any counter', params: CounterParams, response: { 200: Type.Object({ id: Type.String(), shiftsMoved: Type.Integer() }), 403: Err, 404: Err, 409: Err } },
  }, async (request) => {
    const { officeId, counterId } = request.params as { officeId: string; counterId: string };
    await requireOfficeStaff(db, request, officeId, MANAGER_ROLES);
    return removeCounter(db, officeId, counterId);
  });

  app.patch('/api/v1/offices/:officeId/shifts/:shiftId', { config: ownOfficeManager,
    schema: { tags: TAGS, summary: 'Change a shift that has not ended (who, at which counter, when)', params: Type.Object({ officeId: Type.String({ maxLength: 100 }), shiftId: Type.String({ maxLength: 40 }) }), body: Type.Object({ staffId: Type.String({ maxLength: 100 }), counterId: Type.Optional(Nullable(Type.String({ maxLength: 40 }))), startsAt: Type.String({ format: 'date-time' }), endsAt: Type.String({ format: 'date-time' }) }, { additionalProperties: false }), response: { 200: Type.Object({ id: Type.String() }), 400: Err, 403: Err, 404: Err, 409: Err } },
  }, async (request) => {
    const { officeId, shiftId } = request.params as { officeId: string; shiftId: string };
    await requireOfficeStaff(db, request, officeId, MANAGER_ROLES);
    const b = request.body as { staffId: string; counterId?: string | null; startsAt: string; endsAt: string };
    return changeShift(db, officeId, shiftId, { staffId: b.staffId, counterId: b.counterId || null, startsAt: new Date(b.startsAt), endsAt: new Date(b.endsAt) });
  });

  app.delete('/api/v1/offices/:officeId/shifts/:shiftId', { config: ownOfficeManager,
    schema: { tags: TAGS, summary: 'Remove a shift that has not ended', params: Type.Object({ officeId: Type.String({ maxLength: 100 }), shiftId: Type.String({ maxLength: 40 }) }), response: { 200: Type.Object({ id: Type.String() }), 403: Err, 404: Err, 409: Err } },
  }, async (request) => {
    const { officeId, shiftId } = request.params as { officeId: string; shiftId: string };
    await requireOfficeStaff(db, request, officeId, MANAGER_ROLES);
    return removeShift(db, officeId, shiftId);
  });

  app.put('/api/v1/offices/:officeId/agents/:staffId', { config: ownOfficeManager,
    schema: {
      tags: TAGS, summary: "Set an agent's skills, languages and loan to another organisation (borrowed counter)",
      params: Type.Object({ officeId: Type.String({ maxLength: 100 }), staffId: Type.String({ maxLength: 100 }) }),
      body: Type.Object({ skills: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 200 }), languages: Type.Array(Type.String({ pattern: '^[a-z]{2,3}$' }), { minItems: 1, maxItems: 10 }), lentToOrgId: Type.Optional(Nullable(Type.String({ maxLength: 100 }))) }, { additionalProperties: false }),
    },
  }, async (request) => {
    const { officeId, staffId } = request.params as { officeId: string; staffId: string };
    const manager = await requireOfficeStaff(db, request, officeId, MANAGER_ROLES);
    const b = request.body as { skills: string[]; languages: string[]; lentToOrgId?: string | null };
    return setAgentProfile(db, officeId, staffId, b, manager);
  });

  app.post('/api/v1/offices/:officeId/shifts', { config: { ...ownOfficeManager, idempotent: true },
    schema: { tags: TAGS, summary: 'Schedule an agent (capacity for appointments and staffing)', params: OfficeParams, body: Type.Object({ staffId: Type.String({ maxLength: 100 }), counterId: Type.Optional(Type.String({ maxLength: 40 })), startsAt: Type.String({ format: 'date-time' }), endsAt: Type.String({ format: 'date-time' }) }, { additionalProperties: false }) },
  }, async (request, reply) => {
    const { officeId } = request.params as { officeId: string };
    await requireOfficeStaff(db, request, officeId, MANAGER_ROLES);
    const b = request.body as { staffId: string; counterId?: string; startsAt: string; endsAt: string };
    const row = await addShift(db, officeId, { staffId: b.staffId, counterId: b.counterId, startsAt: new Date(b.startsAt), endsAt: new Date(b.endsAt) });
    return reply.status(201).send({ id: row.id });
  });

  for (const action of ['open', 'close'] as const) {
    app.post(`/api/v1/offices/:officeId/counters/:counterId/${action}`, { config: ownOffice,
      schema: { tags: TAGS, summary: action === 'open' ? 'Open the counter for the signed-in agent' : 'Close the counter', params: CounterParams },
    }, async (request) => {
      const { officeId, counterId } = request.params as { officeId: string; counterId: string };
      const staff = await requireOfficeStaff(db, request, officeId);
      if (action === 'open') await openCounter(db, officeId, counterId, staff.id);
      else await closeCounter(db, officeId, counterId, staff.id);
      return { counterId, open: action === 'open' };
    });
  }

  app.post('/api/v1/offices/:officeId/counters/:counterId/call-next', { config: ownOffice,
    schema: {
      tags: TAGS,
      summary: 'Call the next ticket by the routing policy (skills, language, priority, longest wait, no starvation)',
      description:
        'With `wait` (seconds, at most 55) and nobody to call, the answer is held until a ticket this counter may serve ' +
        'arrives (`woken: true`: call again now) or the wait ends (`woken: false`: call again with the `cursor` of the ' +
        'answer, which lets the server skip the queue read when nothing changed). Without `wait`, answers at once.',
      params: CounterParams,
      querystring: Type.Object({ wait: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS })), cursor: Type.Optional(Type.String({ maxLength: 60 })) }),
      response: { 200: Type.Object({ ticket: Type.Union([TicketOut, Type.Null()]), woken: Type.Optional(Type.Boolean()), cursor: Type.Optional(Type.String()) }), 404: Err, 409: Err },
    },
  }, async (request, reply) => {
    const { officeId, counterId } = request.params as { officeId: string; counterId: string };
    const { wait = 0, cursor: after } = request.query as { wait?: number; cursor?: string };
    const staff = requireStaff(request, AGENT_ROLES);
    const check = officeHostsStaff(db, staff, officeId);
    // a long poll coming back with a cursor: nothing this counter may serve was announced since, hold at once
    let held = wait > 0 ? waiters.acceptCursor(after, officeId, counterId, staff.id) : null;
    let read = 0;
    if (held) await check;
    else {
      // the read in a function of its own: what it allocates (the row, the result) is not kept by this handler while
      // the answer is held (seconds; whatever a held request keeps alive outlives the garbage collector's young generation)
      const looked = await lookForClient(officeId, counterId, staff.id, wait, check);
      read = looked.read;
      if (looked.answer) {
        reply.header('server-timing', `read;dur=${read.toFixed(1)}`);
        return looked.answer;
      }
      held = looked.held;
    }
    const t1 = performance.now();
    const why = await waiters.wait(officeId, held.counter, held.pooling, wait * 1000, reply.raw);
    reply.header('server-timing', `${read ? `read;dur=${read.toFixed(1)}, ` : ''}hold;dur=${(performance.now() - t1).toFixed(1)}`);
    if (why === 'ticket' || why === 'check') return { ticket: null, woken: true };
    return { ticket: null, woken: false, cursor: waiters.cursor() };
  });

  /**
   * Call-next's read: claims the next client, or says whom to hold for. `answer`: what to send now; `held`: the
   * counter to hold the answer for (nobody it may serve waits, and none was announced during the read).
   */
  const lookForClient = async (
    officeId: string, counterId: string, staffId: string, wait: number, check: Promise<unknown>,
  ): Promise<{ read: number; answer?: object; held: { counter: CallingCounter; pooling: Pooling } }> => {
    const t0 = performance.now();
    const cursor = waiters.cursor(); // before the read: a ticket announced during it is seen below
    // the office check runs alongside call-next's reads; nothing is claimed before it passes
    const r = await callNext(db, officeId, counterId, staffId, new Date(), undefined, check);
    const read = performance.now() - t0;
    sendNear(r.near, officeId);
    waiters.remember(counterId, staffId, r.calling.counter, r.calling.pooling);
    const held = r.calling;
    // nobody claimed but tickets it may serve were waiting (other counters took the first ones): look again now
    if (!r.ticket && wait > 0 && r.eligible > 0) return { read, answer: { ticket: null, woken: true }, held };
    if (r.ticket || wait <= 0) return { read, answer: { ticket: r.ticket ? ticketJson(r.ticket) : null, ...(r.ticket ? {} : { cursor: waiters.cursor() }) }, held };
    // announced while we read: look again at once rather than wait
    if (waiters.announcedSince(officeId, cursor, r.calling.counter, r.calling.pooling)) return { read, answer: { ticket: null, woken: true }, held };
    return { read, held };
  };

  const actions: Record<string, 'serve' | 'recall' | 'hold' | 'no_show' | 'complete' | 'transfer' | 'abandon'> = {
    serve: 'serve', recall: 'recall', hold: 'hold', 'no-show': 'no_show', complete: 'complete', transfer: 'transfer', abandon: 'abandon',
  };
  for (const [path, action] of Object.entries(actions)) {
    app.post(`/api/v1/offices/:officeId/tickets/:ticketId/${path}`, { config: ownOffice,
      schema: {
        tags: TAGS, summary: `Ticket: ${path}`, params: TicketParams,
        body: Type.Optional(Type.Object({
          result: Type.Optional(Type.String({ maxLength: 500 })), caseId: Type.Optional(Type.String({ maxLength: 100 })),
          serviceId: Type.Optional(Type.String({ maxLength: 100 })), counterId: Type.Optional(Type.String({ maxLength: 40 })),
        }, { additionalProperties: false })),
        response: { 200: TicketOut, 400: Err, 404: Err, 409: Err },
      },
      preValidation: async (request) => {
        if (request.body == null) request.body = {};
      },
    }, async (request) => {
      const { officeId, ticketId } = request.params as { officeId: string; ticketId: string };
      const staff = await requireOfficeStaff(db, request, officeId);
      const body = (request.body ?? {}) as { result?: string; caseId?: string; serviceId?: string; counterId?: string };
      // recall brings a held ticket back to the agent's own counter: only that action needs it
      const mine = action === 'recall' ? await db.selectFrom('counters').select('id').where('agent_id', '=', staff.id).where('office_id', '=', officeId).executeTakeFirst() : undefined;
      const t = await ticketAction(db, officeId, ticketId, action, staff.id, body, new Date(), mine?.id);
      return ticketJson(t);
    });
  }

  app.get('/api/v1/offices/:officeId/board', { config: publicRoute,
    schema: { tags: TAGS, summary: 'Display board: tickets called and waits per service', params: OfficeParams },
  }, async (request) => boardState(db, (request.params as { officeId: string }).officeId));

  app.get('/api/v1/offices/:officeId/board/events', { config: publicRoute,
    schema: { tags: TAGS, summary: 'Display board as server-sent events (event: board)', params: OfficeParams },
  }, async (request, reply) => {
    const { officeId } = request.params as { officeId: string };
    const state = JSON.stringify(await boardState(db, officeId));
    reply.hijack();
    reply.raw.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    reply.raw.write(`retry: 3000\nevent: board\ndata: ${state}\n\n`);
    const off = hub.subscribe(officeId, reply, state);
    request.raw.on('close', off);
  });

  // ---------------------------------------------------------------- API: appointments
  app.get('/api/v1/offices/:officeId/slots', { config: publicRoute,
    schema: { tags: TAGS, summary: 'Bookable appointment slots of a day for a service', params: OfficeParams, querystring: Type.Object({ serviceId: Type.String({ maxLength: 100 }), date: CalendarDate() }) },
  }, async (request) => {
    const { officeId } = request.params as { officeId: string };
    const q = request.query as { serviceId: string; date: string };
    return { slots: await listSlots(db, officeId, q.serviceId, q.date) };
  });

  app.post('/api/v1/offices/:officeId/appointments', {
    config: { ...publicRoute, rateLimitPolicy: 'booking' },
    schema: {
      tags: TAGS, summary: 'Book an appointment (online; staff may book by phone or at reception)', params: OfficeParams,
      body: Type.Object({
        serviceId: Type.String({ maxLength: 100 }), startsAt: Type.String({ format: 'date-time' }), name: Type.String({ minLength: 1, maxLength: 200 }),
        email: Type.Optional(Type.String({ maxLength: 200 })), phone: Type.Optional(Type.String({ maxLength: 30 })), language: Type.String({ maxLength: 3 }),
        accessibility: Type.Optional(Type.Boolean()), channel: Type.Optional(Type.Union([Type.Literal('online'), Type.Literal('phone'), Type.Literal('reception')])),
      }, { additionalProperties: false }),
      response: { 201: AppointmentOut, 400: Err, 409: Err },
    },
  }, async (request, reply) => {
    const { officeId } = request.params as { officeId: string };
    const b = request.body as { serviceId: string; startsAt: string; name: string; email?: string; phone?: string; language: string; accessibility?: boolean; channel?: 'online' | 'phone' | 'reception' };
    const channel = b.channel ?? 'online';
    let bookedBy: string | null = null;
    if (channel !== 'online') bookedBy = (await requireOfficeStaff(db, request, officeId)).id;
    const a = await book(db, officeId, { ...b, channel, bookedBy, clientId: request.client?.id ?? null });
    await appointmentMail(a, 'confirmation').catch((err) => request.log.warn({ err }, 'confirmation e-mail failed'));
    return reply.status(201).send(appointmentJson(a));
  });

  app.get('/api/v1/appointments/:reference', { config: publicRoute,
    schema: { tags: TAGS, summary: 'An appointment by its reference', params: RefParams, response: { 200: AppointmentOut, 404: Err } },
  }, async (request) => appointmentJson(await findByReference(db, (request.params as { reference: string }).reference)));

  app.post('/api/v1/appointments/:reference/cancel', {
    config: { ...publicRoute, rateLimitPolicy: 'booking' },
    schema: { tags: TAGS, summary: 'Cancel an appointment', params: RefParams, response: { 200: AppointmentOut, 404: Err, 409: Err } },
  }, async (request) => {
    const a = await cancel(db, (request.params as { reference: string }).reference);
    await appointmentMail(a, 'cancellation').catch((err) => request.log.warn({ err }, 'cancellation e-mail failed'));
    return appointmentJson(a);
  });

  app.post('/api/v1/appointments/:reference/reschedule', {
    config: { ...publicRoute, rateLimitPolicy: 'booking' },
    schema: { tags: TAGS, summary: 'Move an appointment to another slot', params: RefParams, body: Type.Object({ startsAt: Type.String({ format: 'date-time' }) }, { additionalProperties: false }), response: { 200: AppointmentOut, 400: Err, 404: Err, 409: Err } },
  }, async (request) => {
    const a = await reschedule(db, (request.params as { reference: string }).reference, (request.body as { startsAt: string }).startsAt);
    await appointmentMail(a, 'confirmation').catch((err) => request.log.warn({ err }, 'confirmation e-mail failed'));
    return appointmentJson(a);
  });

  app.post('/api/v1/offices/:officeId/appointments/:reference/check-in', { config: ownOffice,
    schema: { tags: TAGS, summary: 'Check in on arrival: queue the client at appointment priority', params: Type.Object({ officeId: Type.String({ maxLength: 100 }), reference: Type.String({ maxLength: 20 }) }), response: { 200: Type.Object({ appointment: AppointmentOut, ticket: TicketOut }), 404: Err, 409: Err } },
  }, async (request) => {
    const { officeId, reference } = request.params as { officeId: string; reference: string };
    await requireOfficeStaff(db, request, officeId);
    const r = await checkIn(db, officeId, reference);
    return { appointment: appointmentJson(r.appointment), ticket: ticketJson(r.ticket) };
  });

  // ---------------------------------------------------------------- API: measurements and staffing
  app.get('/api/v1/offices/:officeId/wait-stats', { config: ownOffice,
    schema: { tags: TAGS, summary: 'Waits per service, organisation and hour (from every ticket visit)', params: OfficeParams, querystring: Type.Object({ from: Type.Optional(CalendarDate()), to: Type.Optional(CalendarDate()), targetMinutes: Type.Optional(Type.Number({ minimum: 1, maximum: 600 })) }) },
  }, async (request) => {
    const { officeId } = request.params as { officeId: string };
    await requireOfficeStaff(db, request, officeId);
    const q = request.query as { from?: string; to?: string; targetMinutes?: number };
    return waitStats(db, officeId, q);
  });

  app.get('/api/v1/counters/staffing', { config: publicRoute,
    schema: {
      tags: TAGS, summary: 'Erlang C: counters needed per hour to meet a target',
      querystring: Type.Object({
        arrivals: Type.String({ maxLength: 500, pattern: '^\\s*\\d+(\\.\\d+)?(\\s*,\\s*\\d+(\\.\\d+)?)*\\s*$' }),
        meanServiceMin: Type.Number({ exclusiveMinimum: 0, maximum: 480 }), share: Type.Optional(Type.Number({ minimum: 0.01, maximum: 0.999 })),
        withinMin: Type.Optional(Type.Number({ minimum: 0, maximum: 600 })), opens: Type.Optional(Type.String({ pattern: '^\\d{2}:\\d{2}$' })),
      }),
    },
  }, async (request) => {
    const q = request.query as { arrivals: string; meanServiceMin: number; share?: number; withinMin?: number; opens?: string };
    const rates = q.arrivals.split(',').map((x) => Number(x.trim()));
    if (rates.length > 24) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'arrivals', code: 'tooLong' }]);
    const start = q.opens ? Number(q.opens.slice(0, 2)) : 8;
    const rows = staffingPlan(rates.map((r, i) => ({ hour: `${String((start + i) % 24).padStart(2, '0')}:00`, arrivalsPerHour: r })), q.meanServiceMin, { share: q.share ?? 0.8, withinMin: q.withinMin ?? 15 });
    return { target: { share: q.share ?? 0.8, withinMin: q.withinMin ?? 15 }, hours: rows };
  });

  // ---------------------------------------------------------------- pages
  const { pageRoutes } = await import('./pages');
  await pageRoutes(app, { db, notifier, requireOfficeStaff: (r, o, roles) => requireOfficeStaff(db, r, o, roles), appointmentMail, sendNear, serviceTitle });
  }
