/**
 * Managing an office's team: counters, agent profiles (skills, languages, loan) and shifts. Shared by the JSON API
 * (src/counters/routes.ts) and the staff page (src/counters/pages.ts), so both apply the same rules and return the
 * same AppError codes and field details. Each function validates its own input (the API's schema rejects bad
 * input before these run; the page relies on these checks) and writes nothing unless every check passes.
 */
import type { Database } from '../db/database';
import { isUuid } from '../db/ids';
import { AppError, type FieldError } from '../http/errors';
import type { StaffPrincipal } from '../http/session';
import { forgetLoans } from './owners';
import { forgetOpenCounters } from './queue';

/** Roles that may change counters, agent profiles and shifts. */
export const MANAGER_ROLES = ['manager', 'admin'];

const invalid = (details: FieldError[]) => new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);

async function isHosted(db: Database, officeId: string, orgId: string): Promise<boolean> {
  const hosted = await db.selectFrom('office_organisations').select('org_id').where('office_id', '=', officeId).where('org_id', '=', orgId).executeTakeFirst();
  return Boolean(hosted);
}

export interface CounterInput {
  label: string;
  /** Owning organisation; null or absent = shared counter. */
  orgId?: string | null;
}

/** The checks of a counter's label and owner (add or change): 400 field label (required, tooLong) or orgId (notHosted). */
async function checkCounter(db: Database, officeId: string, input: CounterInput): Promise<string> {
  const label = input.label ?? '';
  if (label.length < 1) throw invalid([{ field: 'label', code: 'required' }]);
  if (label.length > 10) throw invalid([{ field: 'label', code: 'tooLong' }]);
  if (input.orgId && input.orgId.length > 100) throw invalid([{ field: 'orgId', code: 'tooLong' }]);
  if (input.orgId && !(await isHosted(db, officeId, input.orgId))) throw invalid([{ field: 'orgId', code: 'notHosted' }]);
  return label;
}

/** Add a counter. 400 field orgId notHosted; 409 COUNTER_EXISTS when the label is taken at this office. */
export async function addCounter(db: Database, officeId: string, input: CounterInput) {
  // '' as well as null means shared (the API's body validation turns a JSON null into '' for string-or-null fields)
  const label = await checkCounter(db, officeId, input);
  const exists = await db.selectFrom('counters').select('id').where('office_id', '=', officeId).where('label', '=', label).where('active', '=', true).executeTakeFirst();
  if (exists) throw new AppError(409, 'COUNTER_EXISTS');
  try {
    const row = await db.insertInto('counters').values({ office_id: officeId, label, org_id: input.orgId || null, agent_id: null, opened_at: null }).returning(['id', 'label', 'org_id']).executeTakeFirstOrThrow();
    forgetOpenCounters(db, officeId);
    return row;
  } catch (err) {
    // two managers adding the same label at the same time: unique (office_id, label) among active counters
    if ((err as { code?: string }).code === '23505') throw new AppError(409, 'COUNTER_EXISTS');
    throw err;
  }
}

/**
 * Change a counter's label or owning organisation (same checks as addCounter). 404 COUNTER_NOT_FOUND for a counter
 * that is not this office's, was removed, or is not an id; 409 COUNTER_EXISTS when another counter has the label.
 * An agent may stay open at it: the board shows the new label from the next poll.
 */
export async function changeCounter(db: Database, officeId: string, counterId: string, input: CounterInput) {
  if (!isUuid(counterId)) throw new AppError(404, 'COUNTER_NOT_FOUND');
  const label = await checkCounter(db, officeId, input);
  try {
    const row = await db
      .updateTable('counters')
      .set({ label, org_id: input.orgId || null })
      .where('id', '=', counterId)
      .where('office_id', '=', officeId)
      .where('active', '=', true)
      .returning(['id', 'label', 'org_id'])
      .executeTakeFirst();
    if (!row) throw new AppError(404, 'COUNTER_NOT_FOUND');
    forgetOpenCounters(db, officeId);
    return row;
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new AppError(409, 'COUNTER_EXISTS');
    throw err;
  }
}

/**
 * Remove a counter: it leaves the board, the team page and the counters agents can open; it is kept (inactive) for
 * the tickets it served, and its label may be given to a new counter. Shifts planned at it keep their times, at any
 * counter. 409 COUNTER_IN_USE while an agent has it open (they close it first); 404 COUNTER_NOT_FOUND.
 * One statement: the check and the change cannot be separated by an agent opening it.
 */
export async function removeCounter(db: Database, officeId: string, counterId: string, now = new Date()) {
  if (!isUuid(counterId)) throw new AppError(404, 'COUNTER_NOT_FOUND');
  const done = await db
    .with('c', (qc) =>
      qc.updateTable('counters').set({ active: false }).where('id', '=', counterId).where('office_id', '=', officeId).where('active', '=', true).where('agent_id', 'is', null).returning('id'),
    )
    .with('s', (qc) => qc.updateTable('agent_shifts').set({ counter_id: null }).where('counter_id', 'in', qc.selectFrom('c').select('c.id')).where('ends_at', '>', now).returning('agent_shifts.id'))
    .selectFrom('c')
    .select((eb) => ['c.id', eb.selectFrom('s').select(eb.fn.countAll<number>().as('n')).as('shifts')])
    .executeTakeFirst();
  if (done) {
    forgetOpenCounters(db, officeId);
    return { id: done.id, shiftsMoved: Number(done.shifts) };
  }
  const c = await db.selectFrom('counters').select(['agent_id']).where('id', '=', counterId).where('office_id', '=', officeId).where('active', '=', true).executeTakeFirst();
  if (!c) throw new AppError(404, 'COUNTER_NOT_FOUND');
  throw new AppError(409, 'COUNTER_IN_USE');
}

/** Remove a shift that has not ended (an ended one is the record of who worked). 404 SHIFT_NOT_FOUND; 409 SHIFT_ENDED. */
export async function removeShift(db: Database, officeId: string, shiftId: string, now = new Date()) {
  if (!isUuid(shiftId)) throw new AppError(404, 'SHIFT_NOT_FOUND');
  const gone = await db.deleteFrom('agent_shifts').where('id', '=', shiftId).where('office_id', '=', officeId).where('ends_at', '>', now).returning('id').executeTakeFirst();
  if (gone) return { id: gone.id };
  const s = await db.selectFrom('agent_shifts').select('id').where('id', '=', shiftId).where('office_id', '=', officeId).executeTakeFirst();
  throw s ? new AppError(409, 'SHIFT_ENDED') : new AppError(404, 'SHIFT_NOT_FOUND');
}

export interface AgentProfileInput {
  skills: string[];
  languages: string[];
  lentToOrgId?: string | null;
}

/**
 * Set an agent's skills (service ids; empty = every service of the organisations they serve), languages (2–3 letter
 * codes, at least one) and loan to an organisation hosted at the office. 404 STAFF_NOT_FOUND; 400 field details.
 */
export async function setAgentProfile(db: Database, officeId: string, staffId: string, input: AgentProfileInput, actor: Pick<StaffPrincipal, 'id' | 'orgId'>) {
  const skills = input.skills;
  const languages = input.languages;
  // '' as well as null means none (the API's body validation turns a JSON null into '' for these string-or-null fields)
  const lentToOrgId = input.lentToOrgId || null;
  const errors: FieldError[] = [];
  if (skills.length > 200) errors.push({ field: 'skills', code: 'tooLong' });
  skills.forEach((s, i) => s.length > 100 && errors.push({ field: `skills.${i}`, code: 'tooLong' }));
  if (languages.length < 1) errors.push({ field: 'languages', code: 'tooShort' });
  else if (languages.length > 10) errors.push({ field: 'languages', code: 'tooLong' });
  languages.forEach((l, i) => !/^[a-z]{2,3}$/.test(l) && errors.push({ field: `languages.${i}`, code: 'invalid' }));
  if (lentToOrgId && lentToOrgId.length > 100) errors.push({ field: 'lentToOrgId', code: 'tooLong' });
  if (errors.length) throw invalid(errors);
  // Only the office's own people (see officePerson); anyone else answers 404 like an unknown id.
  const s = await officePerson(db, officeId, staffId);
  if (!s) throw new AppError(404, 'STAFF_NOT_FOUND');
  // A loan (at this office only) is set by a manager of the agent's OWN organisation, never by the agent: a manager
  // may not lend themselves, nor lend (or end the loan of) another organisation's staff. Skills and languages of the
  // office's people stay the office managers' to set.
  const current = await db.selectFrom('agent_loans').select('lent_to_org_id').where('staff_id', '=', staffId).where('office_id', '=', officeId).executeTakeFirst();
  if ((current?.lent_to_org_id ?? null) !== lentToOrgId) {
    if (staffId === actor.id) throw new AppError(403, 'LOAN_SELF');
    if (s.org_id !== actor.orgId) throw new AppError(403, 'LOAN_OTHER_ORG');
  }
  if (lentToOrgId && !(await isHosted(db, officeId, lentToOrgId))) throw invalid([{ field: 'lentToOrgId', code: 'notHosted' }]);
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('agent_profiles').values({ staff_id: staffId, skills, languages })
      .onConflict((oc) => oc.column('staff_id').doUpdateSet({ skills, languages, updated_at: new Date() })).execute();
    if (lentToOrgId) {
      await trx.insertInto('agent_loans').values({ staff_id: staffId, office_id: officeId, lent_to_org_id: lentToOrgId, lent_by: actor.id })
        .onConflict((oc) => oc.columns(['staff_id', 'office_id']).doUpdateSet({ lent_to_org_id: lentToOrgId, lent_by: actor.id, created_at: new Date() })).execute();
    } else {
      await trx.deleteFrom('agent_loans').where('staff_id', '=', staffId).where('office_id', '=', officeId).execute();
    }
  });
  forgetLoans(db);
  forgetOpenCounters(db);
  return { staffId, skills, languages, lentToOrgId };
}

export interface ShiftInput {
  staffId: string;
  counterId?: string | null;
  startsAt: Date;
  endsAt: Date;
}

/**
 * An active staff member of an organisation the office hosts, or one already lent to such an organisation: the only
 * people whose profile a manager of this office may change or whom they may schedule here (not another office's
 * staff, nor lend someone into this office from outside).
 */
async function officePerson(db: Database, officeId: string, staffId: string) {
  return db
    .selectFrom('staff_users')
    .select(['staff_users.id', 'staff_users.org_id'])
    .where('staff_users.id', '=', staffId)
    .where('staff_users.active', '=', true)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('office_organisations as oo')
          .select('oo.org_id')
          .where('oo.office_id', '=', officeId)
          .where((w) =>
            w.or([
              w('oo.org_id', '=', w.ref('staff_users.org_id')),
              w('oo.org_id', '=', w.selectFrom('agent_loans').select('lent_to_org_id').where('agent_loans.staff_id', '=', staffId).where('agent_loans.office_id', '=', officeId)),
            ]),
          ),
      ),
    )
    .executeTakeFirst();
}

const DAY_MS = 86_400_000;
export const SHIFT_PAST_MS = 366 * DAY_MS;
export const SHIFT_FUTURE_MS = 5 * 366 * DAY_MS;
export const SHIFT_MAX_MS = DAY_MS;

/** The checks of a shift (add or change): 400 field endsAt (not after the start), staffId or counterId (unknown here). */
async function checkShift(db: Database, officeId: string, input: ShiftInput) {
  const start = input.startsAt.getTime();
  const end = input.endsAt.getTime();
  if (Number.isNaN(start)) throw invalid([{ field: 'startsAt', code: 'invalid' }]);
  if (!(end > start)) throw invalid([{ field: 'endsAt', code: 'invalid' }]);
  // a sane range: from a year ago to five years ahead, at most 24 hours long (not the years 1900 or 9999)
  const now = Date.now();
  if (start < now - SHIFT_PAST_MS || start > now + SHIFT_FUTURE_MS) throw invalid([{ field: 'startsAt', code: 'shiftOutOfRange' }]);
  if (end - start > SHIFT_MAX_MS) throw invalid([{ field: 'endsAt', code: 'shiftTooLong' }]);
  const s = input.staffId ? await officePerson(db, officeId, input.staffId) : undefined;
  if (!s) throw invalid([{ field: 'staffId', code: 'invalid' }]);
  if (input.counterId) {
    const c = isUuid(input.counterId)
      ? await db.selectFrom('counters').select('id').where('id', '=', input.counterId).where('office_id', '=', officeId).where('active', '=', true).executeTakeFirst()
      : undefined;
    if (!c) throw invalid([{ field: 'counterId', code: 'invalid' }]);
  }
}

/** Schedule an agent at the office. 400 field endsAt (not after the start), staffId or counterId (unknown here). */
export async function addShift(db: Database, officeId: string, input: ShiftInput) {
  await checkShift(db, officeId, input);
  return db.insertInto('agent_shifts').values({ office_id: officeId, staff_id: input.staffId, counter_id: input.counterId || null, starts_at: input.startsAt, ends_at: input.endsAt }).returning('id').executeTakeFirstOrThrow();
}

/**
 * Change a shift that has not ended (who, where, when; the same checks as addShift). 404 SHIFT_NOT_FOUND; 409
 * SHIFT_ENDED for a shift that is over (the record of who worked).
 */
export async function changeShift(db: Database, officeId: string, shiftId: string, input: ShiftInput, now = new Date()) {
  if (!isUuid(shiftId)) throw new AppError(404, 'SHIFT_NOT_FOUND');
  const current = await db.selectFrom('agent_shifts').select(['id', 'ends_at']).where('id', '=', shiftId).where('office_id', '=', officeId).executeTakeFirst();
  if (!current) throw new AppError(404, 'SHIFT_NOT_FOUND');
  if (current.ends_at.getTime() <= now.getTime()) throw new AppError(409, 'SHIFT_ENDED');
  await checkShift(db, officeId, input);
  const row = await db
    .updateTable('agent_shifts')
    .set({ staff_id: input.staffId, counter_id: input.counterId || null, starts_at: input.startsAt, ends_at: input.endsAt })
    .where('id', '=', shiftId)
    .where('office_id', '=', officeId)
    .where('ends_at', '>', now) // ended between the read and now: unchanged
    .returning('id')
    .executeTakeFirst();
  if (!row) throw new AppError(409, 'SHIFT_ENDED');
  return row;
}
