/**
 * Warm referral of a question (no case yet): an agent serving a client hands the client's question to another
 * organisation, with a context summary and the client's consent (recorded in the consent register, purpose
 * 'case-referral', in the same transaction). The receiving organisation sees it in its "Referred to us" queue and
 * answers it, declines it, or turns it into a case for one of its services; answering or converting records whether
 * the client had to repeat anything (`no_repeat`), counted with case referrals in the referral statistics.
 *
 * Who sees a question (anything else: 404 QUESTION_NOT_FOUND, the same for a guessed id):
 *   - the client (and representatives of a business client): the question, who has it now, the answer;
 *   - staff of the receiving organisation, unless they declined it (they act on it while it is pending);
 *   - the referring agent, and staff of the referring organisation (for the one-stop: only while serving the client).
 * Clients never see the context summary or staff names. Staff reads are written to the client's access log.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { isUuid } from '../db/ids';
import { formatDate, localDate, t, type Lang } from '../i18n/index';
import { AppError, type FieldError } from '../http/errors';
import type { StaffPrincipal } from '../http/session';
import { ONE_STOP_ORG_ID } from '../catalogue/demo-data';
import { AGENT_ACCESS_PURPOSE, auditStaffRead, grantQuestionReferralConsent, REFERRAL_PURPOSE, staffMayServe } from './integration';
import { CHANNELS, createCase, referralStats, requireCaseRole, type Actor, type Ctx } from './service';
import type { CaseChannel, QuestionStatus } from './tables';

const notFound = () => new AppError(404, 'QUESTION_NOT_FOUND');
const invalid = (details: FieldError[]) => new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);

export type QuestionAccess = 'owner' | 'to' | 'from';

export interface ReferQuestionInput {
  clientId: string;
  toOrgId: string;
  question: string;
  summary: string;
  clientConsent: boolean;
  channel?: CaseChannel;
}

function text(v: unknown, field: string, max: number, errors: FieldError[]): string {
  const s = typeof v === 'string' ? v.trim() : '';
  if (!s) errors.push({ field, code: 'required' });
  else if (s.length > max) errors.push({ field, code: 'tooLong' });
  return s;
}

/** An agent serving the client hands their question to another organisation (one transaction). */
export async function referQuestion(ctx: Ctx, staff: StaffPrincipal, input: ReferQuestionInput): Promise<{ id: string }> {
  requireCaseRole(staff);
  const errors: FieldError[] = [];
  if (!input.toOrgId) errors.push({ field: 'toOrgId', code: 'required' });
  else if (input.toOrgId === staff.orgId) errors.push({ field: 'toOrgId', code: 'sameOrganisation' });
  const question = text(input.question, 'question', 2000, errors);
  const summary = text(input.summary, 'summary', 4000, errors);
  if (!input.channel) errors.push({ field: 'channel', code: 'required' });
  else if (!CHANNELS.includes(input.channel)) errors.push({ field: 'channel', code: 'notAllowed' });
  if (input.clientConsent !== true) errors.push({ field: 'clientConsent', code: 'required' });
  return ctx.db.transaction().execute(async (trx) => {
    // Only while serving the client (consent at that moment, or a recorded legal basis); an unknown id is refused alike.
    if (!input.clientId || !(await staffMayServe(trx, staff, input.clientId))) throw new AppError(404, 'CASE_CLIENT_NOT_FOUND');
    if (errors.length) throw invalid(errors);
    let consentId: string;
    try {
      consentId = await grantQuestionReferralConsent(trx, input.clientId, input.toOrgId, staff);
    } catch (err) {
      if (err instanceof AppError && err.details?.some((d) => d.field === 'orgId')) throw invalid([{ field: 'toOrgId', code: 'notFound' }]);
      throw err;
    }
    const id = crypto.randomUUID();
    await trx
      .insertInto('case_questions')
      .values({
        id,
        client_id: input.clientId,
        from_org_id: staff.orgId,
        to_org_id: input.toOrgId,
        referred_by: staff.id,
        channel: input.channel!,
        question,
        summary,
        consent_id: consentId,
        answer: null,
        answered_by: null,
        answered_at: null,
        no_repeat: null,
        case_id: null,
      })
      .execute();
    return { id };
  });
}

type QuestionRow = { id: string; client_id: string; from_org_id: string; to_org_id: string; referred_by: string; status: QuestionStatus };

export async function questionAccess(db: Database, actor: Actor, q: QuestionRow): Promise<QuestionAccess | null> {
  if (actor.kind === 'client') {
    if (q.client_id === actor.clientId) return 'owner';
    const rep = await db.selectFrom('business_representatives').select('person_id').where('business_id', '=', q.client_id).where('person_id', '=', actor.clientId).executeTakeFirst();
    return rep ? 'owner' : null;
  }
  const staff = actor.staff;
  if (staff.orgId === q.to_org_id && q.status !== 'declined') return 'to';
  if (staff.id === q.referred_by) return 'from';
  if (staff.orgId === q.from_org_id && (q.from_org_id !== ONE_STOP_ORG_ID || (await staffMayServe(db, staff, q.client_id)))) return 'from';
  return null;
}

/** A question the actor may see, or 404 QUESTION_NOT_FOUND (also for malformed ids). */
export async function loadQuestion(db: Database, actor: Actor, id: string, opts: { audit?: boolean; forUpdate?: boolean } = {}) {
  if (actor.kind === 'staff') requireCaseRole(actor.staff);
  if (!isUuid(id)) throw notFound();
  let q = db.selectFrom('case_questions').selectAll().where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) throw notFound();
  const via = await questionAccess(db, actor, row);
  if (!via) throw notFound();
  if (opts.audit && actor.kind === 'staff') {
    const serving = via === 'from' && actor.staff.orgId === ONE_STOP_ORG_ID;
    await auditStaffRead(db, actor.staff, row.client_id, ['question', 'profile.contact'], serving ? AGENT_ACCESS_PURPOSE : REFERRAL_PURPOSE, 'consent');
  }
  return { row, via };
}

/** Everything about a question the actor may see (clients: no context summary, no staff names). */
export async function questionDetail(db: Database, actor: Actor, id: string) {
  const { row, via } = await loadQuestion(db, actor, id, { audit: true });
  const d = await db
    .selectFrom('case_questions as q')
    .innerJoin('organisations as t', 't.id', 'q.to_org_id')
    .innerJoin('organisations as f', 'f.id', 'q.from_org_id')
    .innerJoin('clients as c', 'c.id', 'q.client_id')
    .leftJoin('staff_users as rb', 'rb.id', 'q.referred_by')
    .leftJoin('staff_users as ab', 'ab.id', 'q.answered_by')
    .leftJoin('cases as k', 'k.id', 'q.case_id')
    .select([
      't.name_en as to_name_en',
      't.name_fr as to_name_fr',
      'f.name_en as from_name_en',
      'f.name_fr as from_name_fr',
      'c.given_name',
      'c.family_name',
      'c.business_name',
      'c.email',
      'c.phone',
      'c.preferred_lang',
      'rb.name as referred_by_name',
      'ab.name as answered_by_name',
      'k.reference as case_reference',
    ])
    .where('q.id', '=', row.id)
    .executeTakeFirstOrThrow();
  const forClient = actor.kind === 'client';
  return {
    question: forClient ? { ...row, summary: '', referred_by: '', answered_by: null } : row,
    via,
    names: forClient ? { ...d, referred_by_name: null, answered_by_name: null } : d,
    canAnswer: via === 'to' && row.status === 'pending',
  };
}

async function pendingForRecipient(trx: Database, staff: StaffPrincipal, id: string) {
  const { row, via } = await loadQuestion(trx, { kind: 'staff', staff }, id, { forUpdate: true });
  if (via !== 'to') throw new AppError(403, 'CASE_NOT_RESPONSIBLE');
  if (row.status !== 'pending') throw new AppError(409, 'QUESTION_ALREADY_ANSWERED');
  return row;
}

function noRepeatOf(v: unknown, errors: FieldError[]): boolean {
  if (typeof v !== 'boolean') errors.push({ field: 'noRepeat', code: 'required' });
  return v === true;
}

/** The receiving organisation answers: the client sees the answer in their file, the referring agent too. */
export async function answerQuestion(ctx: Ctx, staff: StaffPrincipal, id: string, input: { answer: string; noRepeat?: boolean }) {
  requireCaseRole(staff);
  const errors: FieldError[] = [];
  const answer = text(input.answer, 'answer', 4000, errors);
  const noRepeat = noRepeatOf(input.noRepeat, errors);
  return ctx.db.transaction().execute(async (trx) => {
    const row = await pendingForRecipient(trx, staff, id);
    if (errors.length) throw invalid(errors);
    await trx
      .updateTable('case_questions')
      .set({ status: 'answered', answer, answered_by: staff.id, answered_at: new Date(), no_repeat: noRepeat })
      .where('id', '=', row.id)
      .where('status', '=', 'pending')
      .execute();
    const mail = await answeredMail(trx, row, ctx.publicBaseUrl);
    const notificationIds = mail ? [(await trx.insertInto('case_notifications').values(mail).returning('id').executeTakeFirstOrThrow()).id] : [];
    return { id: row.id, notificationIds };
  });
}

/**
 * The e-mail telling the client their question was answered (in their language, when they accept e-mail), for the
 * outbox in the same transaction as the answer. It names who answered and where to read it, not the answer itself:
 * an e-mail is less private than the client's file.
 */
async function answeredMail(trx: Database, q: { id: string; client_id: string; to_org_id: string; created_at: Date }, publicBaseUrl: string) {
  const c = await trx
    .selectFrom('clients')
    .innerJoin('organisations as o', (j) => j.on('o.id', '=', q.to_org_id))
    .select(['clients.email', 'clients.preferred_lang', 'clients.contact_preferences', 'o.name_en', 'o.name_fr'])
    .where('clients.id', '=', q.client_id)
    .executeTakeFirst();
  const prefs = c?.contact_preferences as { email?: boolean } | null | undefined;
  if (!c?.email || prefs?.email === false) return null;
  const lang: Lang = c.preferred_lang === 'fr' ? 'fr' : 'en';
  const params = {
    org: lang === 'fr' ? c.name_fr : c.name_en,
    date: formatDate(localDate(q.created_at), lang),
    url: `${publicBaseUrl}/${lang === 'fr' ? 'fr/mon-dossier/demandes' : 'en/my-file/requests'}#my-questions`,
  };
  return { case_id: null, question_id: q.id, to_address: c.email, lang, subject: t(lang, 'cases.mail.answer.subject', params), body: t(lang, 'cases.mail.answer.body', params) };
}

/** The receiving organisation declines (not theirs): it goes back to the referring organisation. */
export async function declineQuestion(ctx: Ctx, staff: StaffPrincipal, id: string, input: { note?: string }) {
  requireCaseRole(staff);
  const note = (input.note ?? '').trim();
  if (note.length > 2000) throw invalid([{ field: 'note', code: 'tooLong' }]);
  return ctx.db.transaction().execute(async (trx) => {
    const row = await pendingForRecipient(trx, staff, id);
    await trx
      .updateTable('case_questions')
      .set({ status: 'declined', answer: note || null, answered_by: staff.id, answered_at: new Date(), no_repeat: null })
      .where('id', '=', row.id)
      .where('status', '=', 'pending')
      .execute();
    return { id: row.id };
  });
}

/**
 * The receiving organisation turns the question into a case for one of its own services. The client's consent to
 * the referral covers it; the case is opened in the same transaction (createCase's rules: due date, reference,
 * notification), on the channel the client used, recorded as opened by the receiving agent.
 */
export async function convertQuestion(ctx: Ctx, staff: StaffPrincipal, id: string, input: { serviceId: string; noRepeat?: boolean }, now = new Date()) {
  requireCaseRole(staff);
  const errors: FieldError[] = [];
  if (!input.serviceId) errors.push({ field: 'serviceId', code: 'required' });
  const noRepeat = noRepeatOf(input.noRepeat, errors);
  return ctx.db.transaction().execute(async (trx) => {
    const row = await pendingForRecipient(trx, staff, id);
    if (errors.length) throw invalid(errors);
    const svc = await trx.selectFrom('services').select(['id', 'owner_org_id', 'status']).where('id', '=', input.serviceId).executeTakeFirst();
    if (!svc || svc.status !== 'published' || svc.owner_org_id !== staff.orgId) throw invalid([{ field: 'serviceId', code: 'notFound' }]);
    const q = await trx.selectFrom('case_questions').select(['question', 'channel']).where('id', '=', row.id).executeTakeFirstOrThrow();
    // createCase checks that staff serve the client; here the client's consent to this referral is the basis, so the
    // case is opened as the organisation (no serving check), then recorded as the receiving agent's, on the client's channel.
    const r = await createCase(ctx, { kind: 'partner', orgId: staff.orgId, clientId: row.client_id }, { serviceId: svc.id, summary: q.question }, now, { trx });
    await trx.updateTable('cases').set({ origin_channel: q.channel, created_by_kind: 'staff', created_by_id: staff.id }).where('id', '=', r.id).execute();
    await trx.updateTable('case_status_history').set({ actor_kind: 'staff', actor_id: staff.id }).where('case_id', '=', r.id).execute();
    await trx.updateTable('case_interactions').set({ actor_kind: 'staff', actor_id: staff.id, org_id: staff.orgId, channel: q.channel }).where('case_id', '=', r.id).execute();
    await trx
      .insertInto('case_interactions')
      .values({ case_id: r.id, channel: q.channel, actor_kind: 'staff', actor_id: staff.id, org_id: staff.orgId, outcome: 'referral_accepted', note: `question ${row.id}` })
      .execute();
    await trx
      .updateTable('case_questions')
      .set({ status: 'converted', case_id: r.id, answered_by: staff.id, answered_at: now, no_repeat: noRepeat })
      .where('id', '=', row.id)
      .where('status', '=', 'pending')
      .execute();
    return { id: row.id, caseId: r.id, notificationIds: r.notificationIds };
  });
}

const listColumns = [
  'q.id',
  'q.client_id',
  'q.status',
  'q.question',
  'q.channel',
  'q.created_at',
  'q.answered_at',
  'q.case_id',
  'q.to_org_id',
  'q.from_org_id',
  't.name_en as to_name_en',
  't.name_fr as to_name_fr',
  'f.name_en as from_name_en',
  'f.name_fr as from_name_fr',
] as const;

/** Questions handed to the staff member's organisation, still waiting for an answer (their queue). */
export async function questionsForRecipient(db: Database, staff: StaffPrincipal, limit = 200) {
  requireCaseRole(staff);
  return db
    .selectFrom('case_questions as q')
    .innerJoin('organisations as t', 't.id', 'q.to_org_id')
    .innerJoin('organisations as f', 'f.id', 'q.from_org_id')
    .select([...listColumns])
    .where('q.to_org_id', '=', staff.orgId)
    .where('q.status', '=', 'pending')
    .orderBy('q.created_at')
    .limit(limit)
    .execute();
}

/** A client's questions (their own, and a business's they represent), newest first. */
export async function questionsOfClient(db: Database, clientId: string) {
  return db
    .selectFrom('case_questions as q')
    .innerJoin('organisations as t', 't.id', 'q.to_org_id')
    .innerJoin('organisations as f', 'f.id', 'q.from_org_id')
    .select([...listColumns])
    .where((eb) => eb.or([eb('q.client_id', '=', clientId), eb('q.client_id', 'in', eb.selectFrom('business_representatives').select('business_id').where('person_id', '=', clientId))]))
    .orderBy('q.created_at', 'desc')
    .limit(200)
    .execute();
}

/** The questions about one client that this agent may see (they must be serving the client). */
export async function questionsForServedClient(db: Database, staff: StaffPrincipal, clientId: string) {
  const rows = await db
    .selectFrom('case_questions as q')
    .innerJoin('organisations as t', 't.id', 'q.to_org_id')
    .innerJoin('organisations as f', 'f.id', 'q.from_org_id')
    .select([...listColumns, 'q.referred_by'])
    .where('q.client_id', '=', clientId)
    .where((eb) => eb.or([eb('q.from_org_id', '=', staff.orgId), eb('q.to_org_id', '=', staff.orgId)]))
    .orderBy('q.created_at', 'desc')
    .limit(100)
    .execute();
  const out = [];
  for (const r of rows) if (await questionAccess(db, { kind: 'staff', staff }, { ...r, referred_by: r.referred_by })) out.push(r);
  return out;
}

/**
 * Warm referrals answered (cases accepted; questions answered or turned into a case) and the share that needed no
 * repeat of information; same scope as referralStats (the one-stop's managers: all organisations; others: their own).
 */
export async function allReferralStats(db: Database, staff: StaffPrincipal) {
  const cases = await referralStats(db, staff);
  let q = db
    .selectFrom('case_questions')
    .select([
      sql<number>`count(*) filter (where status in ('answered', 'converted'))::int`.as('accepted'),
      sql<number>`count(*) filter (where status in ('answered', 'converted') and no_repeat)::int`.as('no_repeat'),
      sql<number>`count(*) filter (where status = 'pending')::int`.as('pending'),
      sql<number>`count(*) filter (where status = 'declined')::int`.as('declined'),
    ]);
  if (cases.scope !== 'all') q = q.where((eb) => eb.or([eb('to_org_id', '=', staff.orgId), eb('from_org_id', '=', staff.orgId)]));
  const r = await q.executeTakeFirstOrThrow();
  const questions = { accepted: r.accepted, noRepeat: r.no_repeat, pending: r.pending, declined: r.declined, noRepeatRate: r.accepted ? r.no_repeat / r.accepted : null };
  const accepted = cases.accepted + questions.accepted;
  const noRepeat = cases.noRepeat + questions.noRepeat;
  return {
    scope: cases.scope,
    accepted,
    noRepeat,
    pending: cases.pending + questions.pending,
    declined: cases.declined + questions.declined,
    noRepeatRate: accepted ? noRepeat / accepted : null,
    cases: { accepted: cases.accepted, noRepeat: cases.noRepeat, pending: cases.pending, declined: cases.declined, noRepeatRate: cases.noRepeatRate },
    questions,
  };
}
