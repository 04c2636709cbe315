/**
 * Appointments: bookable slots per office and service, with capacity derived from the agents scheduled (shifts) and
 * their skills; booking (online, phone agent, reception), reschedule, cancel, reminders, and check-in into the queue.
 *
 * Capacity of a slot for a service = agents on shift for the whole slot who can serve it (skills, and organisation in
 * the separate-queues models); an office-wide slot row (appointment_slots) is locked FOR UPDATE while booking, so
 * concurrent bookings (any number of processes) never exceed it.
 */
import crypto from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type { Database } from '../db/database';
import { AppError, type FieldError } from '../http/errors';
import { poolingFor } from './routing';
import { createTicket, getOffice, type CreatedTicket, type Ticket } from './queue';
import { ticketWaiting } from './waiters';
import type { AppointmentsTable, BookingChannel } from './tables';
import { hhmmOf, isDate, localParts, minutesOf, zonedTime } from './time';

export type Appointment = Selectable<AppointmentsTable>;
export const SLOT_MINUTES = 30;
/** Check-in is accepted from this many minutes before the appointment until this many after. */
export const CHECKIN_EARLY_MIN = 60;
export const CHECKIN_LATE_MIN = 30;

export interface Slot {
  startsAt: string; // ISO
  time: string; // office-local HH:MM
  capacity: number;
  booked: number;
  available: number;
}

async function openingFor(db: Database, officeId: string, date: string, weekday: number) {
  const ex = await db.selectFrom('office_hours_exceptions').selectAll().where('office_id', '=', officeId).where('date', '=', date).executeTakeFirst();
  if (ex) return ex.closed || !ex.opens || !ex.closes ? [] : [{ opens: ex.opens, closes: ex.closes }];
  return db.selectFrom('office_hours').select(['opens', 'closes']).where('office_id', '=', officeId).where('weekday', '=', weekday).orderBy('opens').execute();
}

/**
 * Whether the office takes walk-in clients now: within today's opening hours (exceptions first) AND it has at least
 * one counter. The kiosk gives no ticket otherwise (a ticket at 22:45 would promise a wait nobody will serve).
 */
export async function walkInStatus(db: Database, officeId: string, timezone: string, now = new Date()): Promise<{ open: boolean; reason: 'hours' | 'noCounters' | null; hours: Array<{ opens: string; closes: string }> }> {
  const p = localParts(now, timezone);
  const [hours, counters] = await Promise.all([
    openingFor(db, officeId, p.date, p.weekday),
    db.selectFrom('counters').select(sql<number>`count(*)`.as('n')).where('office_id', '=', officeId).where('active', '=', true).executeTakeFirst(),
  ]);
  const nowMin = p.hour * 60 + p.minute;
  const inHours = hours.some((h) => minutesOf(h.opens) <= nowMin && nowMin < minutesOf(h.closes));
  const fmt = hours.map((h) => ({ opens: h.opens.slice(0, 5), closes: h.closes.slice(0, 5) }));
  if (!inHours) return { open: false, reason: 'hours', hours: fmt };
  if (!Number(counters?.n ?? 0)) return { open: false, reason: 'noCounters', hours: fmt };
  return { open: true, reason: null, hours: fmt };
}

async function serviceOrg(db: Database, officeId: string, serviceId: string): Promise<string> {
  const s = await db
    .selectFrom('office_services')
    .innerJoin('services', 'services.id', 'office_services.service_id')
    .select('services.owner_org_id')
    .where('office_services.office_id', '=', officeId)
    .where('office_services.service_id', '=', serviceId)
    .executeTakeFirst();
  if (!s) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'serviceId', code: 'notOffered' }]);
  return s.owner_org_id;
}

/** Agents on shift covering [start, end): their skills and organisations. */
async function shiftsCovering(db: Database, officeId: string, start: Date, end: Date) {
  return db
    .selectFrom('agent_shifts')
    .innerJoin('staff_users', 'staff_users.id', 'agent_shifts.staff_id')
    .leftJoin('agent_profiles', 'agent_profiles.staff_id', 'agent_shifts.staff_id')
    .leftJoin('counters', 'counters.id', 'agent_shifts.counter_id')
    .leftJoin('agent_loans', (j) => j.onRef('agent_loans.staff_id', '=', 'agent_shifts.staff_id').onRef('agent_loans.office_id', '=', 'agent_shifts.office_id'))
    .select(['agent_shifts.staff_id', 'agent_shifts.starts_at', 'agent_shifts.ends_at', 'staff_users.org_id', 'agent_profiles.skills', 'agent_loans.lent_to_org_id', 'counters.org_id as counter_org'])
    .where('agent_shifts.office_id', '=', officeId)
    .where('agent_shifts.starts_at', '<', end)
    .where('agent_shifts.ends_at', '>', start)
    .execute();
}

type ShiftRow = Awaited<ReturnType<typeof shiftsCovering>>[number];

function capacityFor(shifts: ShiftRow[], start: Date, end: Date, serviceId: string, orgId: string, pooled: boolean): number {
  const agents = new Set<string>();
  for (const s of shifts) {
    if (s.starts_at > start || s.ends_at < end) continue;
    if (serviceId && s.skills && s.skills.length && !s.skills.includes(serviceId)) continue;
    if (!pooled) {
      const orgs = [s.lent_to_org_id ?? s.org_id, s.counter_org].filter(Boolean);
      if (s.counter_org !== null && !orgs.includes(orgId)) continue;
    }
    agents.add(s.staff_id);
  }
  return agents.size;
}

/** Slots of one office-local day for a service. */
export async function listSlots(db: Database, officeId: string, serviceId: string, date: string, now = new Date()): Promise<Slot[]> {
  if (!isDate(date)) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'date', code: 'invalid' }]);
  const office = await getOffice(db, officeId);
  const orgId = await serviceOrg(db, officeId, serviceId);
  const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
  const hours = await openingFor(db, officeId, date, weekday);
  if (!hours.length) return [];
  const dayStart = zonedTime(date, '00:00', office.timezone);
  const dayEnd = new Date(dayStart.getTime() + 26 * 3600_000);
  const [shifts, booked, bookedSvc] = await Promise.all([
    shiftsCovering(db, officeId, dayStart, dayEnd),
    db.selectFrom('appointment_slots').select(['starts_at', 'booked']).where('office_id', '=', officeId).where('starts_at', '>=', dayStart).where('starts_at', '<', dayEnd).execute(),
    db.selectFrom('appointments').select(['starts_at', sql<number>`count(*)`.as('n')]).where('office_id', '=', officeId).where('service_id', '=', serviceId).where('status', 'in', ['booked', 'checked_in'])
      .where('starts_at', '>=', dayStart).where('starts_at', '<', dayEnd).groupBy('starts_at').execute(),
  ]);
  const bookedAt = new Map(booked.map((b) => [b.starts_at.getTime(), b.booked]));
  const bookedSvcAt = new Map(bookedSvc.map((b) => [new Date(b.starts_at).getTime(), Number(b.n)]));
  const pooled = poolingFor(office.collaboration_model) === 'pooled';
  const out: Slot[] = [];
  for (const h of hours) {
    for (let m = minutesOf(h.opens); m + SLOT_MINUTES <= minutesOf(h.closes); m += SLOT_MINUTES) {
      const start = zonedTime(date, hhmmOf(m), office.timezone);
      const end = new Date(start.getTime() + SLOT_MINUTES * 60000);
      if (start.getTime() <= now.getTime()) continue;
      const total = capacityFor(shifts, start, end, '', '', true);
      const forSvc = capacityFor(shifts, start, end, serviceId, orgId, pooled);
      const all = bookedAt.get(start.getTime()) ?? 0;
      const svc = bookedSvcAt.get(start.getTime()) ?? 0;
      const available = Math.max(0, Math.min(total - all, forSvc - svc));
      out.push({ startsAt: start.toISOString(), time: hhmmOf(m), capacity: forSvc, booked: svc, available });
    }
  }
  return out;
}

export interface BookingInput {
  serviceId: string;
  startsAt: string;
  name: string;
  email?: string | null;
  phone?: string | null;
  language: string;
  accessibility?: boolean;
  channel: BookingChannel;
  clientId?: string | null;
  bookedBy?: string | null;
}

function validateBooking(b: BookingInput) {
  const errs: FieldError[] = [];
  if (!b.name || !b.name.trim()) errs.push({ field: 'name', code: 'required' });
  else if (b.name.length > 200) errs.push({ field: 'name', code: 'tooLong' });
  if (!b.email && !b.phone) errs.push({ field: 'email', code: 'required' });
  if (b.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(b.email)) errs.push({ field: 'email', code: 'invalid' });
  if (b.phone && !/^\+?[0-9 ().-]{7,20}$/.test(b.phone)) errs.push({ field: 'phone', code: 'invalid' });
  if (!/^[a-z]{2,3}$/.test(b.language ?? '')) errs.push({ field: 'language', code: 'invalid' });
  if (!b.startsAt || Number.isNaN(Date.parse(b.startsAt))) errs.push({ field: 'startsAt', code: 'invalid' });
  if (!b.serviceId) errs.push({ field: 'serviceId', code: 'required' });
  if (errs.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, errs);
}

/** Claim one place in the slot at `start` for the service, inside trx (locks the slot row). */
async function claimPlace(trx: Database, officeId: string, serviceId: string, start: Date, now: Date, excludeId?: string) {
  const office = await getOffice(trx, officeId);
  const orgId = await serviceOrg(trx, officeId, serviceId);
  const local = localParts(start, office.timezone);
  const valid = (await listSlotsTimes(trx, officeId, local.date, local.weekday)).includes(local.time) && zonedTime(local.date, local.time, office.timezone).getTime() === start.getTime();
  if (!valid || start.getTime() <= now.getTime()) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'startsAt', code: 'notASlot' }]);
  await trx.insertInto('appointment_slots').values({ office_id: officeId, starts_at: start, booked: 0 }).onConflict((oc) => oc.columns(['office_id', 'starts_at']).doNothing()).execute();
  const slot = await sql<{ booked: number }>`select booked from appointment_slots where office_id = ${officeId} and starts_at = ${start} for update`.execute(trx);
  const end = new Date(start.getTime() + SLOT_MINUTES * 60000);
  const shifts = await shiftsCovering(trx, officeId, start, end);
  const pooled = poolingFor(office.collaboration_model) === 'pooled';
  const total = capacityFor(shifts, start, end, '', '', true);
  const forSvc = capacityFor(shifts, start, end, serviceId, orgId, pooled);
  let q = trx.selectFrom('appointments').select(sql<number>`count(*)`.as('n')).where('office_id', '=', officeId).where('service_id', '=', serviceId).where('starts_at', '=', start).where('status', 'in', ['booked', 'checked_in']);
  if (excludeId) q = q.where('id', '!=', excludeId);
  const svcBooked = Number((await q.executeTakeFirstOrThrow()).n);
  if (slot.rows[0].booked >= total || svcBooked >= forSvc) throw new AppError(409, 'SLOT_FULL');
  await trx.updateTable('appointment_slots').set({ booked: sql`booked + 1` }).where('office_id', '=', officeId).where('starts_at', '=', start).execute();
  return { end };
}

async function listSlotsTimes(db: Database, officeId: string, date: string, weekday: number): Promise<string[]> {
  const hours = await openingFor(db, officeId, date, weekday);
  const out: string[] = [];
  for (const h of hours) for (let m = minutesOf(h.opens); m + SLOT_MINUTES <= minutesOf(h.closes); m += SLOT_MINUTES) out.push(hhmmOf(m));
  return out;
}

const REF_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
function newReference(): string {
  const b = crypto.randomBytes(8);
  return Array.from(b, (x) => REF_ALPHABET[x % REF_ALPHABET.length]).join('');
}

export async function book(db: Database, officeId: string, input: BookingInput, now = new Date()): Promise<Appointment> {
  validateBooking(input);
  const start = new Date(input.startsAt);
  return db.transaction().execute(async (trx) => {
    const { end } = await claimPlace(trx, officeId, input.serviceId, start, now);
    return trx
      .insertInto('appointments')
      .values({
        reference: newReference(), office_id: officeId, service_id: input.serviceId, starts_at: start, ends_at: end, name: input.name.trim(),
        email: input.email || null, phone: input.phone || null, language: input.language, accessibility: Boolean(input.accessibility), channel: input.channel,
        status: 'booked', client_id: input.clientId ?? null, ticket_id: null, booked_by: input.bookedBy ?? null, updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

export async function findByReference(db: Database, reference: string): Promise<Appointment> {
  const ref = String(reference ?? '').toUpperCase().replace(/[^A-Z0-9]/g, '');
  const a = ref.length === 8 ? await db.selectFrom('appointments').selectAll().where('reference', '=', ref).executeTakeFirst() : undefined;
  if (!a) throw new AppError(404, 'APPOINTMENT_NOT_FOUND');
  return a;
}

async function lockAppointment(trx: Database, reference: string): Promise<Appointment> {
  const a = await findByReference(trx, reference);
  const r = await sql<Appointment>`select * from appointments where id = ${a.id} for update`.execute(trx);
  return r.rows[0];
}

export async function cancel(db: Database, reference: string, now = new Date()): Promise<Appointment> {
  return db.transaction().execute(async (trx) => {
    const a = await lockAppointment(trx, reference);
    if (a.status !== 'booked') throw new AppError(409, 'APPOINTMENT_STATE');
    await sql`update appointment_slots set booked = booked - 1 where office_id = ${a.office_id} and starts_at = ${a.starts_at} and booked > 0`.execute(trx);
    return trx.updateTable('appointments').set({ status: 'cancelled', updated_at: now }).where('id', '=', a.id).returningAll().executeTakeFirstOrThrow();
  });
}

export async function reschedule(db: Database, reference: string, startsAt: string, now = new Date()): Promise<Appointment> {
  if (!startsAt || Number.isNaN(Date.parse(startsAt))) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'startsAt', code: 'invalid' }]);
  const start = new Date(startsAt);
  return db.transaction().execute(async (trx) => {
    const a = await lockAppointment(trx, reference);
    if (a.status !== 'booked') throw new AppError(409, 'APPOINTMENT_STATE');
    if (a.starts_at.getTime() === start.getTime()) return a;
    const { end } = await claimPlace(trx, a.office_id, a.service_id, start, now, a.id);
    await sql`update appointment_slots set booked = booked - 1 where office_id = ${a.office_id} and starts_at = ${a.starts_at} and booked > 0`.execute(trx);
    return trx.updateTable('appointments').set({ starts_at: start, ends_at: end, reminder_sent_at: null, updated_at: now }).where('id', '=', a.id).returningAll().executeTakeFirstOrThrow();
  });
}

/** Check-in on arrival: a ticket with appointment priority, due at the appointment time. */
export async function checkIn(db: Database, officeId: string, reference: string, now = new Date()): Promise<{ appointment: Appointment; ticket: CreatedTicket }> {
  const r = await checkInTx(db, officeId, reference, now);
  ticketWaiting(r.ticket); // committed: wake an agent who may serve it (src/counters/waiters.ts)
  return r;
}

function checkInTx(db: Database, officeId: string, reference: string, now: Date): Promise<{ appointment: Appointment; ticket: CreatedTicket }> {
  return db.transaction().execute(async (trx) => {
    const a = await lockAppointment(trx, reference);
    if (a.office_id !== officeId) throw new AppError(404, 'APPOINTMENT_NOT_FOUND');
    if (a.status !== 'booked') throw new AppError(409, 'APPOINTMENT_STATE');
    const early = (a.starts_at.getTime() - now.getTime()) / 60000;
    if (early > CHECKIN_EARLY_MIN) throw new AppError(409, 'CHECKIN_TOO_EARLY');
    if (early < -CHECKIN_LATE_MIN) throw new AppError(409, 'CHECKIN_TOO_LATE');
    const ticket = await createTicket(trx, officeId, {
      services: [a.service_id], language: a.language, accessibility: a.accessibility, appointmentId: a.id, appointmentAt: a.starts_at,
      clientId: a.client_id, email: a.email, phone: a.phone, channel: 'appointment',
    }, now, trx);
    const appointment = await trx.updateTable('appointments').set({ status: 'checked_in', ticket_id: ticket.id, updated_at: now }).where('id', '=', a.id).returningAll().executeTakeFirstOrThrow();
    return { appointment, ticket };
  });
}

/** Appointments due for a reminder (start within `horizonHours`), claimed so that only one process sends each. */
export async function claimReminders(db: Database, now = new Date(), horizonHours = 24): Promise<Appointment[]> {
  return db
    .updateTable('appointments')
    .set({ reminder_sent_at: now })
    .where('status', '=', 'booked')
    .where('reminder_sent_at', 'is', null)
    .where('starts_at', '>', now)
    .where('starts_at', '<=', new Date(now.getTime() + horizonHours * 3600_000))
    .returningAll()
    .execute();
}
