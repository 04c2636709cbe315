/** Server-rendered pages of the counters capability (work without JavaScript; the board is enhanced by SSE). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../db/database';
import { AppError, describeError, type FieldError, signInRedirect } from '../http/errors';
import type { StaffPrincipal } from '../http/session';
import { allMessages, pick, t, type Lang } from '../i18n/index';
import { bilingualRoute } from '../web/render';
import { book, cancel, checkIn, findByReference, listSlots, reschedule, walkInStatus, type Appointment } from './appointments';
import { countersNeeded, staffingPlan } from './erlang';
import type { Notifier } from './notify';
import { boardState, callNext, closeCounter, createTicket, estimateFor, getOffice, getTicket, openCounter, openCounters, ticketAction, type Ticket } from './queue';
import { arrivalProfile, waitStats } from './stats';
import { addCounter, addShift, changeCounter, changeShift, MANAGER_ROLES, removeCounter, removeShift, setAgentProfile } from './team';
import { isDate, localDate, localParts, zonedTime } from './time';
import { callerOffices, officeOwner, publicRoute } from './owners';
import { ONE_STOP_ORG } from '../http/ownership';

interface PageDeps {
  db: Database;
  notifier: Notifier;
  requireOfficeStaff(request: FastifyRequest, officeId: string, roles?: string[]): Promise<StaffPrincipal>;
  appointmentMail(a: Appointment, kind: 'confirmation' | 'reminder' | 'cancellation'): Promise<void>;
  sendNear(near: Ticket[], officeId: string): void;
  serviceTitle(id: string, lang: Lang): Promise<string>;
}

export const paths = {
  offices: { en: '/en/staff/counters', fr: '/fr/personnel/comptoirs' },
  reception: { en: '/en/staff/offices/:officeId/reception', fr: '/fr/personnel/bureaux/:officeId/accueil' },
  counter: { en: '/en/staff/offices/:officeId/counter', fr: '/fr/personnel/bureaux/:officeId/comptoir' },
  stats: { en: '/en/staff/offices/:officeId/waits', fr: '/fr/personnel/bureaux/:officeId/attentes' },
  staffing: { en: '/en/staff/offices/:officeId/staffing', fr: '/fr/personnel/bureaux/:officeId/effectifs' },
  team: { en: '/en/staff/offices/:officeId/team', fr: '/fr/personnel/bureaux/:officeId/equipe' },
  board: { en: '/en/offices/:officeId/board', fr: '/fr/bureaux/:officeId/tableau' },
  kiosk: { en: '/en/offices/:officeId/kiosk', fr: '/fr/bureaux/:officeId/borne' },
  ticket: { en: '/en/offices/:officeId/tickets/:ticketId', fr: '/fr/bureaux/:officeId/billets/:ticketId' },
  book: { en: '/en/offices/:officeId/appointments', fr: '/fr/bureaux/:officeId/rendez-vous' },
  appointment: { en: '/en/appointments/:reference', fr: '/fr/rendez-vous/:reference' },
  /** The signed-in client's appointments: a section of My file (linked from it by this URL; clients import nothing of counters). */
  myAppointments: { en: '/en/my-file/appointments', fr: '/fr/mon-dossier/rendez-vous' },
};

export function urlFor(name: keyof typeof paths, lang: Lang, params: Record<string, string> = {}): string {
  return paths[name][lang].replace(/:(\w+)/g, (_m, k: string) => encodeURIComponent(params[k] ?? ''));
}

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []);

export async function pageRoutes(app: FastifyInstance, d: PageDeps) {
  const { db } = d;
  const ownOffice = officeOwner(db);
  const ownOfficeManager = officeOwner(db, MANAGER_ROLES);

  const officeServices = async (officeId: string, lang: Lang) => {
    const rows = await db.selectFrom('office_services').innerJoin('services', 'services.id', 'office_services.service_id')
      .innerJoin('organisations', 'organisations.id', 'services.owner_org_id')
      .select(['services.id', 'services.title_en', 'services.title_fr', 'organisations.name_en as org_en', 'organisations.name_fr as org_fr'])
      .where('office_services.office_id', '=', officeId).execute();
    return rows.map((r) => ({ id: r.id, title: pick(r, 'title', lang), org: lang === 'fr' ? r.org_fr : r.org_en })).sort((a, b) => a.title.localeCompare(b.title, lang));
  };
  const officeCtx = async (officeId: string, lang: Lang) => {
    const o = await getOffice(db, officeId);
    const links = Object.fromEntries(Object.keys(paths).map((k) => [k, urlFor(k as keyof typeof paths, lang, { officeId })]));
    return { office: { ...o, name: pick(o, 'name', lang) }, links };
  };
  /** Render an AppError as a form error summary (status 400/409) instead of an error page. */
  const formErrors = (err: unknown, lang: Lang): { status: number; errors: FieldError[]; message: string } => {
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    const dsc = describeError(err, lang);
    // A person reads the error beside the field: a sentence of its own ('Choose at least one service.') where the
    // capability has one (counters.formError.<field>.<code>), else the field's label and the generic message.
    const errors = (dsc.details ?? []).map((e) => {
      const field = e.field.split('.')[0];
      const own = `counters.formError.${field}.${e.code}`;
      const label = allMessages[lang][`counters.field.${field}`];
      return { ...e, message: allMessages[lang][own] ? t(lang, own) : label ? `${label}: ${e.message}` : e.message };
    });
    return { status: dsc.status, message: errors.length ? '' : dsc.message, errors };
  };
  const ticketView = async (tk: Ticket, lang: Lang) => ({
    ...tk,
    serviceTitle: await d.serviceTitle(tk.service_id, lang),
    // every service of the visit, the current one first (a ticket for two services names both)
    serviceTitles: await Promise.all([tk.service_id, ...(tk.pending_services ?? []).filter((s) => s !== tk.service_id)].map((s) => d.serviceTitle(s, lang))),
    waitedMin: Math.max(0, Math.round((Date.now() - tk.waiting_since.getTime()) / 60000)) });

  // ---------------------------------------------------------------- staff: offices
  bilingualRoute(app, 'GET', paths.offices, async (request, reply, lang) => {
    if (!request.staff) return reply.redirect(signInRedirect(request) ?? (lang === 'fr' ? '/fr/personnel/connexion' : '/en/staff/login'), 303);
    const staff = request.staff;
    let q = db.selectFrom('offices').select(['offices.id', 'offices.name_en', 'offices.name_fr']).orderBy('offices.name_en');
    if (!(staff.roles.includes('admin') && staff.orgId === ONE_STOP_ORG)) q = q.where('offices.id', 'in', db.selectFrom('office_organisations').select('office_id').where('org_id', '=', staff.orgId));
    const offices = (await q.execute()).map((o) => ({ id: o.id, name: pick(o, 'name', lang), links: Object.fromEntries(Object.keys(paths).map((k) => [k, urlFor(k as keyof typeof paths, lang, { officeId: o.id })])) }));
    return reply.page('counters/views/offices.njk', { title: t(lang, 'counters.offices.title'), offices, manager: staff.roles.some((r) => ['manager', 'admin'].includes(r)) });
  }, { config: callerOffices });

  // ---------------------------------------------------------------- greeter
  const receptionPage = async (request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: Record<string, unknown> = {}, status = 200) => {
    const { officeId } = request.params as { officeId: string };
    await d.requireOfficeStaff(request, officeId);
    const ctx = await officeCtx(officeId, lang);
    const day = localDate(new Date(), ctx.office.timezone);
    const waiting = await db.selectFrom('tickets').selectAll().where('office_id', '=', officeId).where('day', '=', day).where('status', 'in', ['waiting', 'held']).orderBy('queued_at').limit(200).execute();
    const created = str((request.query as Record<string, unknown>)?.created);
    let createdTicket = null;
    if (created) {
      const tk = await getTicket(db, officeId, created).catch(() => null);
      if (tk) createdTicket = { ...(await ticketView(tk, lang)), estimate: await estimateFor(db, tk), url: urlFor('ticket', lang, { officeId, ticketId: tk.id }) };
    }
    return reply.page('counters/views/reception.njk', {
      title: t(lang, 'counters.reception.title'), ...ctx, services: await officeServices(officeId, lang),
      waiting: await Promise.all(waiting.map((w) => ticketView(w, lang))), createdTicket, ...extra,
    }, status);
  };
  bilingualRoute(app, 'GET', paths.reception, (request, reply, lang) => receptionPage(request, reply, lang), { config: ownOffice });
  bilingualRoute(app, 'POST', paths.reception, async (request, reply, lang) => {
    const { officeId } = request.params as { officeId: string };
    const staff = await d.requireOfficeStaff(request, officeId);
    const b = (request.body ?? {}) as Record<string, unknown>;
    const self = urlFor('reception', lang, { officeId });
    try {
      if (b.action === 'checkin') {
        const r = await checkIn(db, officeId, str(b.reference));
        return reply.redirect(`${self}?created=${r.ticket.id}`, 303);
      }
      if (b.action === 'abandon') {
        await ticketAction(db, officeId, str(b.ticketId), 'abandon', staff.id);
        return reply.redirect(self, 303);
      }
      const tk = await createTicket(db, officeId, {
        services: list(b.services), language: str(b.language), accessibility: b.accessibility === 'yes', clientId: str(b.clientId) || null,
        email: str(b.email) || null, phone: str(b.phone) || null, channel: 'greeter',
      });
      return reply.redirect(`${self}?created=${tk.id}`, 303);
    } catch (err) {
      const e = formErrors(err, lang);
      return receptionPage(request, reply, lang, { errors: e.errors, errorMessage: e.message, values: b }, e.status);
    }
  }, { config: ownOffice });

  // ---------------------------------------------------------------- kiosk (public, large touch targets)
  const kioskPage = async (request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: Record<string, unknown> = {}, status = 200) => {
    const { officeId } = request.params as { officeId: string };
    const ctx = await officeCtx(officeId, lang);
    const walkIn = await walkInStatus(db, officeId, ctx.office.timezone);
    const closed = walkIn.open ? null : {
      reason: walkIn.reason,
      hours: walkIn.hours.map((h) => `${h.opens}–${h.closes}`).join(', '),
    };
    return reply.page('counters/views/kiosk.njk', { title: t(lang, 'counters.kiosk.title'), bare: true, ...ctx, closed, services: closed ? [] : await officeServices(officeId, lang), ...extra }, closed && status === 200 ? 200 : status);
  };
  bilingualRoute(app, 'GET', paths.kiosk, (request, reply, lang) => kioskPage(request, reply, lang), { config: publicRoute });
  bilingualRoute(app, 'POST', paths.kiosk, async (request, reply, lang) => {
    const { officeId } = request.params as { officeId: string };
    const b = (request.body ?? {}) as Record<string, unknown>;
    try {
      // Closed, or no counter at all: no ticket (its estimate would promise a wait nobody serves); the page says why.
      const office = await getOffice(db, officeId);
      if (!(await walkInStatus(db, officeId, office.timezone)).open) return kioskPage(request, reply, lang, {}, 409);
      const tk = await createTicket(db, officeId, { services: list(b.services), language: str(b.language) || lang, accessibility: b.accessibility === 'yes', email: str(b.email) || null, phone: str(b.phone) || null, channel: 'kiosk' });
      return reply.redirect(urlFor('ticket', lang, { officeId, ticketId: tk.id }), 303);
    } catch (err) {
      const e = formErrors(err, lang);
      return kioskPage(request, reply, lang, { errors: e.errors, errorMessage: e.message, values: b }, e.status);
    }
  }, { config: { ...publicRoute, rateLimitPolicy: 'ticket' } as any });

  bilingualRoute(app, 'GET', paths.ticket, async (request, reply, lang) => {
    const { officeId, ticketId } = request.params as { officeId: string; ticketId: string };
    const ctx = await officeCtx(officeId, lang);
    const tk = await getTicket(db, officeId, ticketId);
    const counter = tk.counter_id ? await db.selectFrom('counters').select('label').where('id', '=', tk.counter_id).executeTakeFirst() : undefined;
    return reply.page('counters/views/ticket.njk', { title: t(lang, 'counters.ticket.title', { number: tk.number }), bare: true, ...ctx, ticket: await ticketView(tk, lang), estimate: await estimateFor(db, tk), counterLabel: counter?.label ?? null });
  }, { config: publicRoute });

  // ---------------------------------------------------------------- agent's counter
  const counterPage = async (request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: Record<string, unknown> = {}, status = 200) => {
    const { officeId } = request.params as { officeId: string };
    const staff = await d.requireOfficeStaff(request, officeId);
    const ctx = await officeCtx(officeId, lang);
    const counters = await openCounters(db, officeId);
    const mine = counters.find((c) => c.agent_id === staff.id) ?? null;
    let current = null;
    let held: unknown[] = [];
    if (mine) {
      const cur = await db.selectFrom('tickets').selectAll().where('counter_id', '=', mine.id).where('status', 'in', ['called', 'serving']).executeTakeFirst();
      if (cur) current = await ticketView(cur, lang);
      held = await Promise.all((await db.selectFrom('tickets').selectAll().where('agent_id', '=', staff.id).where('office_id', '=', officeId).where('status', '=', 'held').execute()).map((h) => ticketView(h, lang)));
    }
    const board = await boardState(db, officeId);
    const orgs = await db.selectFrom('organisations').select(['id', 'name_en', 'name_fr']).where('id', 'in', ['', ...counters.map((c) => c.org_id ?? '')]).execute();
    return reply.page('counters/views/counter.njk', {
      title: t(lang, 'counters.counter.title'), ...ctx, counters: counters.map((c) => ({ ...c, orgName: c.org_id ? pick(orgs.find((o) => o.id === c.org_id) ?? { name_en: c.org_id, name_fr: c.org_id }, 'name', lang) : null })),
      mine, current, held, services: await officeServices(officeId, lang), waiting: board.waiting, ...extra,
    }, status);
  };
  bilingualRoute(app, 'GET', paths.counter, (request, reply, lang) => counterPage(request, reply, lang), { config: ownOffice });
  bilingualRoute(app, 'POST', paths.counter, async (request, reply, lang) => {
    const { officeId } = request.params as { officeId: string };
    const staff = await d.requireOfficeStaff(request, officeId);
    const b = (request.body ?? {}) as Record<string, unknown>;
    const self = urlFor('counter', lang, { officeId });
    const mine = await db.selectFrom('counters').select('id').where('agent_id', '=', staff.id).where('office_id', '=', officeId).executeTakeFirst();
    try {
      const action = str(b.action);
      if (action === 'open') await openCounter(db, officeId, str(b.counterId), staff.id);
      else if (action === 'close') {
        if (!mine) throw new AppError(409, 'COUNTER_NOT_YOURS');
        await closeCounter(db, officeId, mine.id, staff.id);
      } else if (action === 'call') {
        if (!mine) throw new AppError(409, 'COUNTER_NOT_YOURS');
        const r = await callNext(db, officeId, mine.id, staff.id);
        d.sendNear(r.near, officeId);
        // nobody: the page says so; with JavaScript it then waits for the next client (a held call-next, below)
        if (!r.ticket) return counterPage(request, reply, lang, { notice: t(lang, 'counters.counter.nobody'), waitFor: { url: `/api/v1/offices/${encodeURIComponent(officeId)}/counters/${mine.id}/call-next`, self } });
      } else if (['serve', 'recall', 'hold', 'no_show', 'complete', 'transfer'].includes(action)) {
        const target = str(b.transferTo);
        if (action === 'transfer' && !/^(counter|service):./.test(target)) {
          throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'transferTo', code: 'required', message: t(lang, 'counters.counter.transferRequired') }]);
        }
        const input = action === 'transfer'
          ? target.startsWith('counter:') ? { counterId: target.slice(8) } : target.startsWith('service:') ? { serviceId: target.slice(8) } : {}
          : { result: str(b.result) || undefined, caseId: str(b.caseId) || undefined };
        await ticketAction(db, officeId, str(b.ticketId), action as 'serve', staff.id, input, new Date(), mine?.id);
      } else throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'action', code: 'invalid' }]);
      return reply.redirect(self, 303);
    } catch (err) {
      const e = formErrors(err, lang);
      return counterPage(request, reply, lang, { errors: e.errors, errorMessage: e.message }, e.status);
    }
  }, { config: ownOffice });

  // ---------------------------------------------------------------- display board (public)
  bilingualRoute(app, 'GET', paths.board, async (request, reply, lang) => {
    const { officeId } = request.params as { officeId: string };
    const ctx = await officeCtx(officeId, lang);
    const board = await boardState(db, officeId);
    return reply.page('counters/views/board.njk', { title: t(lang, 'counters.board.title'), bare: true, bodyClass: 'guichet-screen', ...ctx, board, eventsUrl: `/api/v1/offices/${encodeURIComponent(officeId)}/board/events` });
  }, { config: publicRoute });

  // ---------------------------------------------------------------- appointments (public)
  const bookPage = async (request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: Record<string, unknown> = {}, status = 200) => {
    const { officeId } = request.params as { officeId: string };
    const ctx = await officeCtx(officeId, lang);
    const q = (request.query ?? {}) as Record<string, unknown>;
    const values = { ...(q as Record<string, string>), ...((extra.values as Record<string, string>) ?? {}) };
    const services = await officeServices(officeId, lang);
    let slots = null;
    let slotError = null;
    const date = str(values.date) || localDate(new Date(Date.now() + 86400_000), ctx.office.timezone);
    if (str(values.serviceId)) {
      try {
        slots = (await listSlots(db, officeId, str(values.serviceId), date)).filter((s) => s.available > 0);
      } catch (err) {
        const e = formErrors(err, lang);
        slotError = e.message || e.errors.map((x) => x.message).join(' ');
      }
    }
    return reply.page('counters/views/book.njk', { title: t(lang, 'counters.book.title'), ...ctx, services, slots, slotError, values: { ...values, date }, staffBooking: Boolean(request.staff), ...extra }, status);
  };
  bilingualRoute(app, 'GET', paths.book, (request, reply, lang) => bookPage(request, reply, lang), { config: publicRoute });
  bilingualRoute(app, 'POST', paths.book, async (request, reply, lang) => {
    const { officeId } = request.params as { officeId: string };
    const b = (request.body ?? {}) as Record<string, string>;
    try {
      let channel: 'online' | 'phone' | 'reception' = 'online';
      let bookedBy: string | null = null;
      if (b.channel === 'phone' || b.channel === 'reception') {
        channel = b.channel;
        bookedBy = (await d.requireOfficeStaff(request, officeId)).id;
      }
      if (!str(b.startsAt)) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'startsAt', code: 'required' }]);
      const a = await book(db, officeId, { serviceId: str(b.serviceId), startsAt: str(b.startsAt), name: str(b.name), email: str(b.email) || null, phone: str(b.phone) || null, language: str(b.language) || lang, accessibility: b.accessibility === 'yes', channel, bookedBy, clientId: request.client?.id ?? null });
      await d.appointmentMail(a, 'confirmation').catch((err) => request.log.warn({ err }, 'confirmation e-mail failed'));
      return reply.redirect(`${urlFor('appointment', lang, { reference: a.reference })}?booked=1`, 303);
    } catch (err) {
      const e = formErrors(err, lang);
      return bookPage(request, reply, lang, { errors: e.errors, errorMessage: e.message, values: b }, e.status);
    }
  }, { config: { ...publicRoute, rateLimitPolicy: 'booking' } });

  const appointmentPage = async (request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: Record<string, unknown> = {}, status = 200) => {
    const { reference } = request.params as { reference: string };
    const a = await findByReference(db, reference);
    const ctx = await officeCtx(a.office_id, lang);
    const q = (request.query ?? {}) as Record<string, string>;
    const date = str(q.date);
    const slots = date ? (await listSlots(db, a.office_id, a.service_id, date).catch(() => [])).filter((s) => s.available > 0) : null;
    const when = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-CA' : 'en-CA', { timeZone: ctx.office.timezone, dateStyle: 'full', timeStyle: 'short' }).format(a.starts_at);
    return reply.page('counters/views/appointment.njk', { title: t(lang, 'counters.appointment.title'), ...ctx, appointment: a, when, serviceTitle: await d.serviceTitle(a.service_id, lang), booked: q.booked === '1', slots, date, ...extra }, status);
  };
  bilingualRoute(app, 'GET', paths.appointment, (request, reply, lang) => appointmentPage(request, reply, lang), { config: publicRoute });
  bilingualRoute(app, 'POST', paths.appointment, async (request, reply, lang) => {
    const { reference } = request.params as { reference: string };
    const b = (request.body ?? {}) as Record<string, string>;
    try {
      const a = b.action === 'cancel' ? await cancel(db, reference) : await reschedule(db, reference, str(b.startsAt));
      await d.appointmentMail(a, b.action === 'cancel' ? 'cancellation' : 'confirmation').catch((err) => request.log.warn({ err }, 'e-mail failed'));
      return reply.redirect(urlFor('appointment', lang, { reference: a.reference }), 303);
    } catch (err) {
      const e = formErrors(err, lang);
      return appointmentPage(request, reply, lang, { errors: e.errors, errorMessage: e.message }, e.status);
    }
  }, { config: { ...publicRoute, rateLimitPolicy: 'booking' } });

  // ---------------------------------------------------------------- My file: my appointments (signed-in client)
  bilingualRoute(app, 'GET', paths.myAppointments, async (request, reply, lang) => {
    if (!request.client) {
      const signIn = lang === 'fr' ? '/fr/connexion' : '/en/sign-in';
      return reply.redirect(`${signIn}?returnTo=${encodeURIComponent(paths.myAppointments[lang])}`, 303);
    }
    // the client's own appointments only (booked while signed in), newest first
    const rows = await db.selectFrom('appointments')
      .innerJoin('offices', 'offices.id', 'appointments.office_id')
      .innerJoin('services', 'services.id', 'appointments.service_id')
      .select(['appointments.reference', 'appointments.starts_at', 'appointments.status', 'appointments.office_id', 'offices.name_en as office_en', 'offices.name_fr as office_fr', 'offices.timezone', 'services.title_en', 'services.title_fr'])
      .where('appointments.client_id', '=', request.client.id)
      .orderBy('appointments.starts_at', 'desc')
      .limit(200)
      .execute();
    const now = Date.now();
    const view = rows.map((r) => ({
      reference: r.reference,
      when: new Intl.DateTimeFormat(lang === 'fr' ? 'fr-CA' : 'en-CA', { timeZone: r.timezone, dateStyle: 'full', timeStyle: 'short' }).format(r.starts_at),
      office: lang === 'fr' ? r.office_fr : r.office_en,
      service: lang === 'fr' ? r.title_fr : r.title_en,
      status: r.status,
      upcoming: r.status === 'booked' && r.starts_at.getTime() > now,
      url: urlFor('appointment', lang, { reference: r.reference }),
    }));
    reply.header('Cache-Control', 'no-store'); // personal data: never kept by the browser or a proxy
    return reply.page('counters/views/my-appointments.njk', {
      title: t(lang, 'counters.myAppointments.title'),
      upcoming: view.filter((v) => v.upcoming).reverse(),
      past: view.filter((v) => !v.upcoming),
      myFile: lang === 'fr' ? '/fr/mon-dossier' : '/en/my-file',
      officesUrl: lang === 'fr' ? '/fr/bureaux' : '/en/offices',
    });
  }, { config: { owner: 'client' } });

  // ---------------------------------------------------------------- measurements and staffing (staff)
  bilingualRoute(app, 'GET', paths.stats, async (request, reply, lang) => {
    const { officeId } = request.params as { officeId: string };
    await d.requireOfficeStaff(request, officeId);
    const ctx = await officeCtx(officeId, lang);
    const q = (request.query ?? {}) as Record<string, string>;
    const isD = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);
    const stats = await waitStats(db, officeId, { from: isD(q.from ?? '') ? q.from : undefined, to: isD(q.to ?? '') ? q.to : undefined });
    return reply.page('counters/views/stats.njk', { title: t(lang, 'counters.stats.title'), ...ctx, stats });
  }, { config: ownOffice });

  bilingualRoute(app, 'GET', paths.staffing, async (request, reply, lang) => {
    const { officeId } = request.params as { officeId: string };
    await d.requireOfficeStaff(request, officeId);
    const ctx = await officeCtx(officeId, lang);
    const asked = (request.query ?? {}) as Record<string, string>;
    const errors: FieldError[] = [];
    // First visit: the office's own last 28 days (arrivals per hour, mean service time); example figures if it has none.
    const history = asked.arrivals === undefined ? await arrivalProfile(db, officeId) : null;
    const source = asked.arrivals !== undefined ? 'entered' : history ? 'history' : 'example';
    const fromHistory: Record<string, string> = history
      ? { arrivals: history.arrivalsPerHour.join(', '), opens: String(history.opensHour).padStart(2, '0'), ...(history.meanServiceMin ? { meanServiceMin: String(history.meanServiceMin) } : {}) }
      : {};
    const q = { ...fromHistory, ...asked };
    const arrivalsText = q.arrivals ?? '20, 35, 40, 30, 25, 35, 30, 15';
    const rates = arrivalsText.split(',').map((x) => Number(x.trim()));
    if (!rates.length || rates.length > 24 || rates.some((r) => !Number.isFinite(r) || r < 0)) errors.push({ field: 'arrivals', code: 'invalid', message: `${t(lang, 'counters.field.arrivals')}: ${t(lang, 'field.invalid')}` });
    const mean = Number(q.meanServiceMin ?? 10);
    if (!(mean > 0 && mean <= 480)) errors.push({ field: 'meanServiceMin', code: 'invalid', message: `${t(lang, 'counters.field.meanServiceMin')}: ${t(lang, 'field.invalid')}` });
    const share = Number(q.share ?? 80) / 100;
    if (!(share > 0 && share < 1)) errors.push({ field: 'share', code: 'invalid', message: `${t(lang, 'counters.field.share')}: ${t(lang, 'field.invalid')}` });
    const within = Number(q.withinMin ?? 15);
    if (!(within >= 0 && within <= 600)) errors.push({ field: 'withinMin', code: 'invalid', message: `${t(lang, 'counters.field.withinMin')}: ${t(lang, 'field.invalid')}` });
    const opens = Number((q.opens ?? '08').slice(0, 2)) || 8;
    const plan = errors.length ? [] : staffingPlan(rates.map((r, i) => ({ hour: `${String((opens + i) % 24).padStart(2, '0')}:00`, arrivalsPerHour: r })), mean, { share, withinMin: within });
    void countersNeeded;
    return reply.page('counters/views/staffing.njk', { title: t(lang, 'counters.staffing.title'), ...ctx, plan, errors, source, history, values: { arrivals: arrivalsText, meanServiceMin: q.meanServiceMin ?? '10', share: q.share ?? '80', withinMin: q.withinMin ?? '15', opens: q.opens ?? '08' } }, errors.length ? 400 : 200);
  }, { config: ownOffice });

  // ---------------------------------------------------------------- team: counters, agent profiles, shifts (managers change them)
  const teamAgents = async (officeId: string) =>
    db.selectFrom('staff_users').leftJoin('agent_profiles', 'agent_profiles.staff_id', 'staff_users.id')
      .leftJoin('agent_loans', (j) => j.onRef('agent_loans.staff_id', '=', 'staff_users.id').on('agent_loans.office_id', '=', officeId))
      .select(['staff_users.id', 'staff_users.name', 'staff_users.org_id', 'agent_profiles.skills', 'agent_profiles.languages', 'agent_loans.lent_to_org_id'])
      .where('staff_users.active', '=', true)
      .where('staff_users.org_id', 'in', db.selectFrom('office_organisations').select('org_id').where('office_id', '=', officeId))
      .orderBy('staff_users.name').execute();
  const teamPage = async (request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: Record<string, unknown> = {}, status = 200) => {
    const { officeId } = request.params as { officeId: string };
    const staff = await d.requireOfficeStaff(request, officeId);
    const canManage = staff.roles.some((r) => MANAGER_ROLES.includes(r));
    const ctx = await officeCtx(officeId, lang);
    const tz = ctx.office.timezone;
    const q = (request.query ?? {}) as Record<string, unknown>;
    const orgRows = await db.selectFrom('office_organisations').innerJoin('organisations', 'organisations.id', 'office_organisations.org_id')
      .select(['organisations.id', 'organisations.name_en', 'organisations.name_fr']).where('office_organisations.office_id', '=', officeId).execute();
    const orgs = orgRows.map((o) => ({ id: o.id, name: pick(o, 'name', lang) })).sort((a, b) => a.name.localeCompare(b.name, lang));
    const orgName = (id: string | null) => (id ? orgs.find((o) => o.id === id)?.name ?? id : null);
    const services = await officeServices(officeId, lang);
    const serviceName = (id: string) => services.find((s) => s.id === id)?.title ?? id;
    const counters = (await openCounters(db, officeId)).map((c) => ({ id: c.id, label: c.label, orgId: c.org_id, orgName: orgName(c.org_id), agentName: c.agent_id ? c.agent_name ?? c.agent_id : null }));
    const agents = (await teamAgents(officeId)).map((a) => ({
      id: a.id, name: a.name, orgName: orgName(a.org_id), skills: a.skills ?? [], skillNames: (a.skills ?? []).map(serviceName), languages: a.languages ?? [],
      lentTo: a.lent_to_org_id, lentToName: orgName(a.lent_to_org_id), hasProfile: a.skills != null,
    }));
    // shifts from today (office time) for 7 days
    const today = localDate(new Date(), tz);
    const plusDays = (date: string, n: number) => new Date(Date.parse(`${date}T12:00:00Z`) + n * 86400_000).toISOString().slice(0, 10);
    const shiftRows = await db.selectFrom('agent_shifts').innerJoin('staff_users', 'staff_users.id', 'agent_shifts.staff_id').leftJoin('counters', 'counters.id', 'agent_shifts.counter_id')
      .select(['agent_shifts.id', 'agent_shifts.staff_id', 'agent_shifts.counter_id', 'agent_shifts.starts_at', 'agent_shifts.ends_at', 'staff_users.name', 'counters.label'])
      .where('agent_shifts.office_id', '=', officeId)
      .where('agent_shifts.ends_at', '>', zonedTime(today, '00:00', tz))
      .where('agent_shifts.starts_at', '<', zonedTime(plusDays(today, 7), '00:00', tz))
      .orderBy('agent_shifts.starts_at').orderBy('staff_users.name').limit(500).execute();
    const dayFmt = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-CA' : 'en-CA', { timeZone: tz, weekday: 'long', day: 'numeric', month: 'long' });
    const shifts = shiftRows.map((r) => {
      const s = localParts(r.starts_at, tz);
      const e = localParts(r.ends_at, tz);
      return {
        id: r.id, day: dayFmt.format(r.starts_at), date: s.date, starts: s.time, ends: e.date === s.date ? e.time : `${dayFmt.format(r.ends_at)} ${e.time}`, name: r.name, counter: r.label,
        removable: r.ends_at.getTime() > Date.now(),
        // what the change form starts from (a shift ending on a later day keeps its end time on the form's day)
        form: { staffId: r.staff_id, counterId: r.counter_id ?? '', date: s.date, startTime: s.time, endTime: e.time },
      };
    });
    const posted = (extra.values as Record<string, unknown> | undefined) ?? {};
    const values = { ...posted, skills: list(posted.skills), languages: list(posted.languages) };
    const selectedId = str(extra.agentId) || str(q.agent);
    const selected = canManage && selectedId ? agents.find((a) => a.id === selectedId) ?? null : null;
    const counterId = str(extra.counterId) || str(q.counter);
    const selectedCounter = canManage && counterId ? counters.find((c) => c.id === counterId) ?? null : null;
    const shiftId = str(extra.shiftId) || str(q.shift);
    const selectedShift = canManage && shiftId ? shifts.find((x) => x.id === shiftId && x.removable) ?? null : null;
    const errors = (extra.errors as FieldError[] | undefined) ?? [];
    const fieldErrors: Record<string, string> = {};
    for (const e of errors) fieldErrors[e.field.split('.')[0]] ??= e.message ?? '';
    const saved = str(q.saved);
    // English and French, and any other language already set for the agent (through the API): kept unless unticked
    const languageChoices = [...new Set(['en', 'fr', ...(selected?.languages ?? []), ...(extra.form === 'agent' ? values.languages.filter((l) => /^[a-z]{2,3}$/.test(l)) : [])])];
    const names = new Intl.DisplayNames([lang], { type: 'language' });
    const langNames = Object.fromEntries([...new Set([...languageChoices, ...agents.flatMap((a) => a.languages)])].map((l) => [l, l === 'en' || l === 'fr' ? t(lang, `counters.lang.${l}`) : (() => { try { return names.of(l) ?? l; } catch { return l; } })()]));
    return reply.page('counters/views/team.njk', {
      title: t(lang, 'counters.team.title'), ...ctx, canManage, counters, agents, orgs, services, shifts, selected, selectedCounter, selectedShift, today, timezone: tz,
      languageChoices, langNames, saved: ['counter', 'agent', 'shift', 'counterChanged', 'counterRemoved', 'shiftChanged', 'shiftRemoved'].includes(saved) ? saved : null, fieldErrors, form: '', ...extra, values,
    }, status);
  };
  bilingualRoute(app, 'GET', paths.team, (request, reply, lang) => teamPage(request, reply, lang), { config: ownOffice });
  bilingualRoute(app, 'POST', paths.team, async (request, reply, lang) => {
    const { officeId } = request.params as { officeId: string };
    const manager = await d.requireOfficeStaff(request, officeId, MANAGER_ROLES);
    const b = (request.body ?? {}) as Record<string, unknown>;
    const self = urlFor('team', lang, { officeId });
    const action = str(b.action);
    const invalid = (details: FieldError[]) => new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);
    /** The shared functions name fields as the API does; the page's form may name them otherwise. */
    const renamed = (err: unknown, names: Record<string, string>) =>
      err instanceof AppError && err.details ? new AppError(err.status, err.code, err.messageKey, err.params, err.details.map((x) => ({ ...x, field: names[x.field.split('.')[0]] ?? x.field }))) : err;
    try {
      if (action === 'counter') {
        try {
          await addCounter(db, officeId, { label: str(b.label), orgId: str(b.orgId) || null });
        } catch (err) {
          // on the page, a label already used is an error on the label field
          if (err instanceof AppError && err.code === 'COUNTER_EXISTS') throw invalid([{ field: 'label', code: 'counterExists' }]);
          throw err;
        }
      } else if (action === 'counterChange') {
        try {
          await changeCounter(db, officeId, str(b.counterId), { label: str(b.label), orgId: str(b.orgId) || null });
        } catch (err) {
          if (err instanceof AppError && err.code === 'COUNTER_EXISTS') throw invalid([{ field: 'counterLabel', code: 'counterExists' }]);
          throw renamed(err, { label: 'counterLabel', orgId: 'counterOrgId' });
        }
      } else if (action === 'counterRemove') {
        await removeCounter(db, officeId, str(b.counterId));
      } else if (action === 'shiftRemove') {
        await removeShift(db, officeId, str(b.shiftId));
      } else if (action === 'agent') {
        const staffId = str(b.staffId);
        try {
          // only the office's own people (setAgentProfile answers 404 for anyone else, as for an unknown id)
          await setAgentProfile(db, officeId, staffId, { skills: list(b.skills), languages: list(b.languages), lentToOrgId: str(b.lentToOrgId) || null }, manager);
        } catch (err) {
          throw renamed(err, { languages: 'languages', skills: 'skills' });
        }
      } else if (action === 'shift' || action === 'shiftChange') {
        const ctx = await officeCtx(officeId, lang);
        const hhmm = (v: unknown) => {
          const m = /^(\d{1,2})[:h.](\d{2})$/.exec(str(v));
          return m && Number(m[1]) < 24 && Number(m[2]) < 60 ? `${m[1].padStart(2, '0')}:${m[2]}` : null;
        };
        const date = str(b.date);
        const start = hhmm(b.startTime);
        const end = hhmm(b.endTime);
        const staffId = str(b.staffId);
        const errors: FieldError[] = [];
        if (!staffId) errors.push({ field: 'staffId', code: 'required' }); // someone not of this office: addShift's field error
        // a real calendar day (2030-02-30 is not)
        if (!(isDate(date) && new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) === date)) errors.push({ field: 'date', code: date ? 'invalid' : 'required' });
        if (!start) errors.push({ field: 'startTime', code: str(b.startTime) ? 'invalid' : 'required' });
        if (!end) errors.push({ field: 'endTime', code: str(b.endTime) ? 'invalid' : 'required' });
        if (errors.length) throw invalid(errors);
        try {
          const shift = { staffId, counterId: str(b.counterId) || null, startsAt: zonedTime(date, start!, ctx.office.timezone), endsAt: zonedTime(date, end!, ctx.office.timezone) };
          if (action === 'shift') await addShift(db, officeId, shift);
          else await changeShift(db, officeId, str(b.shiftId), shift);
        } catch (err) {
          throw renamed(err, { startsAt: 'startTime', endsAt: 'endTime' });
        }
      } else throw invalid([{ field: 'action', code: 'invalid' }]);
      const done: Record<string, string> = { counterChange: 'counterChanged', counterRemove: 'counterRemoved', shiftChange: 'shiftChanged', shiftRemove: 'shiftRemoved' };
      return reply.redirect(`${self}?saved=${done[action] ?? action}`, 303);
    } catch (err) {
      const e = formErrors(err, lang);
      return teamPage(
        request,
        reply,
        lang,
        { errors: e.errors, errorMessage: e.message, values: b, form: action, agentId: action === 'agent' ? str(b.staffId) : '', counterId: action === 'counterChange' ? str(b.counterId) : '', shiftId: action === 'shiftChange' ? str(b.shiftId) : '' },
        e.status,
      );
    }
  }, { config: ownOfficeManager });
}
