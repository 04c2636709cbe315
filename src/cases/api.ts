/**
 * JSON API of cases: /api/v1/cases (tags ['cases']). Clients use their session; staff use theirs (role agent,
 * manager, partner or admin). Authorisation per case is decided in service.ts.
 */
import { Type } from '@sinclair/typebox';
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { AppDeps } from '../http/deps';
import { AppError } from '../http/errors';
import { requireStaff } from '../http/session';
import { casesMailer, sha256 } from './integration';
import { sendNotifications } from './notify';
import {
  answerReferral,
  assignCase,
  caseDetail,
  CASE_STATUSES,
  changeStatus,
  CHANNELS,
  createAccessCode,
  createCase,
  listCases,
  loadCase,
  logInteraction,
  OUTCOMES,
  postMessage,
  redeemAccessCode,
  referCase,
  requireCaseRole,
  servedClient,
  type Actor,
  type Ctx,
} from './service';
import { CASE_ROLES, type CreatedCase } from './service';
import type { CaseChannel, CaseStatus } from './tables';
import { detectGuaranteeBreaches } from './guarantee';
import { allReferralStats } from './questions';
import { Nullable } from '../http/schema';
import { caseOwners } from './owners';

const tags = ['cases'];
const Id = Type.String({ maxLength: 100 });
const StatusE = Type.Union(CASE_STATUSES.map((s) => Type.Literal(s)));
const ChannelE = Type.Union(CHANNELS.map((s) => Type.Literal(s)));
const OutcomeE = Type.Union(OUTCOMES.map((s) => Type.Literal(s)));

export function actorOf(request: FastifyRequest): Actor {
  if (request.staff) return { kind: 'staff', staff: request.staff };
  if (request.client) return { kind: 'client', clientId: request.client.id };
  throw new AppError(401, 'UNAUTHENTICATED');
}

export const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;
export const DOCUMENT_TYPES: Record<string, Buffer[]> = {
  'application/pdf': [Buffer.from('%PDF-')],
  'image/png': [Buffer.from([0x89, 0x50, 0x4e, 0x47])],
  'image/jpeg': [Buffer.from([0xff, 0xd8, 0xff])],
};

export async function apiRoutes(app: FastifyInstance, deps: AppDeps, ctx: Ctx) {
  const { db } = deps;
  const own = caseOwners(db);
  const flush = async (ids: number[]) => {
    if (ids.length) await sendNotifications(db, casesMailer(app.log), ids).catch((err) => app.log.error({ err }, 'case notification failed'));
  };

  app.post(
    '/api/v1/cases',
    {
      // a retry with the same Idempotency-Key answers the first result (src/http/idempotency.ts)
      config: { ...own.caller('a client’s own case, or a case staff open in their organisation’s queue for a client they may serve', 'any'), idempotent: true },
      schema: {
        tags,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Retry safely: the same key with the same body answers the first result; with another body, 409 IDEMPOTENCY_KEY_REUSED (kept 24 hours, per caller).' })) }),
        summary: 'Open a case (client online, or staff on the client’s behalf)',
        body: Type.Object(
          {
            serviceId: Id,
            summary: Type.String({ minLength: 1, maxLength: 4000 }),
            channel: Type.Optional(ChannelE),
            clientId: Type.Optional(Id),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const b = request.body as { serviceId: string; summary: string; channel?: CaseChannel; clientId?: string };
      const r = await createCase(ctx, actor, b);
      await flush(r.notificationIds);
      return reply.status(201).send(caseCreated(r.created, actor));
    },
  );

  app.get(
    '/api/v1/cases',
    { config: own.caller('the cases the caller may see (scoped to the caller’s organisation, referrals to it and clients it serves)', 'any'),
      schema: {
        tags,
        summary: 'Cases the caller may see',
        querystring: Type.Object({
          status: Type.Optional(Type.Array(StatusE, { maxItems: 6 })),
          clientId: Type.Optional(Id),
          queue: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('referred'), Type.Literal('mine'), Type.Literal('overdue')])),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
          offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
          lang: Type.Optional(Type.String()),
        }),
      },
    },
    async (request) => {
      const q = request.query as { status?: CaseStatus[]; clientId?: string; queue?: 'all' | 'referred' | 'mine' | 'overdue'; limit?: number; offset?: number };
      const items = await listCases(db, actorOf(request), q);
      return { items };
    },
  );

  app.get(
    '/api/v1/cases/referrals/stats',
    { config: own.caller('referral figures of the caller’s organisation', 'any'), schema: { tags, summary: 'Warm referrals answered and the share that needed no repeat of information' } },
    async (request) => allReferralStats(db, requireStaff(request)),
  );

  app.get(
    '/api/v1/cases/guarantee-refunds',
    { config: own.caller('refunds owed by the caller’s organisation', ['manager', 'partner', 'admin', 'agent']), schema: { tags, summary: 'Refunds owed because a service guarantee was missed (the caller’s organisation)' } },
    async (request) => {
      const staff = requireStaff(request, ['manager', 'partner', 'admin', 'agent']);
      requireCaseRole(staff);
      const items = await db
        .selectFrom('guarantee_refunds')
        .innerJoin('cases', 'cases.id', 'guarantee_refunds.case_id')
        .select([
          'guarantee_refunds.id',
          'guarantee_refunds.case_id',
          'cases.reference',
          'guarantee_refunds.service_id',
          'guarantee_refunds.org_id',
          'guarantee_refunds.guarantee_days',
          'guarantee_refunds.guarantee_due_date',
          'guarantee_refunds.amount_cents',
          'guarantee_refunds.currency',
          'guarantee_refunds.status',
          'guarantee_refunds.detected_at',
        ])
        .where('guarantee_refunds.org_id', '=', staff.orgId)
        .orderBy('guarantee_refunds.detected_at', 'desc')
        .limit(500)
        .execute();
      return { items };
    },
  );

  app.post(
    '/api/v1/cases/guarantee-check',
    { config: own.caller('the guarantee check of the caller’s organisation’s cases', ['admin']), schema: { tags, summary: 'Run the guarantee check now (admin; it also runs on a schedule)' } },
    async (request) => {
      requireStaff(request, ['admin']);
      return detectGuaranteeBreaches(db);
    },
  );

  app.get(
    '/api/v1/cases/:id',
    { config: own.theCase, schema: { tags, summary: 'One case with its history, interactions, messages, referrals and documents', params: Type.Object({ id: Id }) } },
    async (request) => serialiseDetail(await caseDetail(db, actorOf(request), (request.params as { id: string }).id)),
  );

  app.post(
    '/api/v1/cases/:id/status',
    { config: own.theCase,
      schema: {
        tags,
        summary: 'Change the status (allowed transitions only; a client may only withdraw)',
        params: Type.Object({ id: Id }),
        body: Type.Object(
          {
            status: StatusE,
            note: Type.Optional(Type.String({ maxLength: 2000 })),
            decision: Type.Optional(Type.String({ maxLength: 2000 })),
            version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
            channel: Type.Optional(ChannelE),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const r = await changeStatus(ctx, actor, (request.params as { id: string }).id, request.body as any);
      await flush(r.notificationIds);
      return serialiseDetail(await caseDetail(db, actor, r.id, { audit: false }));
    },
  );

  app.post(
    '/api/v1/cases/:id/assign',
    { config: own.theCase,
      schema: {
        tags,
        summary: 'Assign to a team and/or an agent of the responsible organisation',
        params: Type.Object({ id: Id }),
        body: Type.Object({ team: Type.Optional(Nullable(Type.String({ maxLength: 100 }))), staffId: Type.Optional(Nullable(Id)) }, { additionalProperties: false }),
      },
    },
    async (request) => assignCase(ctx, actorOf(request), (request.params as { id: string }).id, request.body as any),
  );

  app.post(
    '/api/v1/cases/:id/interactions',
    { config: { ...own.theCase, idempotent: true },
      schema: {
        tags,
        summary: 'Log an interaction (channel, outcome, note)',
        params: Type.Object({ id: Id }),
        body: Type.Object({ channel: ChannelE, outcome: OutcomeE, note: Type.Optional(Type.String({ maxLength: 4000 })) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => reply.status(201).send(await logInteraction(ctx, actorOf(request), (request.params as { id: string }).id, request.body as any)),
  );

  app.post(
    '/api/v1/cases/:id/messages',
    { config: { ...own.theCase, idempotent: true },
      schema: {
        tags,
        summary: 'Send a message inside the case (client or agency)',
        params: Type.Object({ id: Id }),
        body: Type.Object({ body: Type.String({ minLength: 1, maxLength: 5000 }) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const r = await postMessage(ctx, actorOf(request), (request.params as { id: string }).id, (request.body as { body: string }).body);
      await flush(r.notificationIds);
      return reply.status(201).send({ id: r.id });
    },
  );

  app.post(
    '/api/v1/cases/:id/referrals',
    { config: { ...own.theCase, idempotent: true },
      schema: {
        tags,
        summary: 'Warm referral to another organisation, with a context summary and the client’s consent',
        params: Type.Object({ id: Id }),
        body: Type.Object(
          { toOrgId: Id, summary: Type.String({ minLength: 1, maxLength: 4000 }), clientConsent: Type.Boolean(), channel: Type.Optional(ChannelE) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => reply.status(201).send(await referCase(ctx, actorOf(request), (request.params as { id: string }).id, request.body as any)),
  );

  app.post(
    '/api/v1/cases/:id/referrals/:referralId/answer',
    { config: own.theCase,
      schema: {
        tags,
        summary: 'Accept (recording whether the client had to repeat anything) or decline a referral',
        params: Type.Object({ id: Id, referralId: Id }),
        body: Type.Object({ accept: Type.Boolean(), noRepeat: Type.Optional(Type.Boolean()), note: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const p = request.params as { id: string; referralId: string };
      const r = await answerReferral(ctx, actorOf(request), p.id, p.referralId, request.body as any);
      await flush(r.notificationIds);
      return { id: r.id };
    },
  );

  // One-time codes: the client creates one in their file and reads it to the agent.
  app.post('/api/v1/cases/access-codes', { config: { ...own.client, rateLimitPolicy: 'accessCode' }, schema: { tags, summary: 'Client: create a one-time code for an agent (10 minutes, single use)' } }, async (request, reply) => {
    if (!request.client) throw new AppError(401, 'UNAUTHENTICATED');
    const r = await createAccessCode(db, request.client.id);
    return reply.status(201).send(r);
  });

  app.post(
    '/api/v1/cases/agent/redeem',
    { config: { ...own.caller('a client’s file opened to the caller’s organisation by the client’s one-time code'), rateLimitPolicy: 'accessCode' }, schema: { tags, summary: 'Agent: redeem the client’s one-time code (serve the client for two hours)', body: Type.Object({ code: Type.String({ maxLength: 20 }) }, { additionalProperties: false }) } },
    async (request) => {
      const staff = requireStaff(request, CASE_ROLES);
      return redeemAccessCode(db, staff, (request.body as { code: string }).code);
    },
  );

  app.get(
    '/api/v1/cases/agent/clients/:clientId',
    { config: own.caller('a client the caller’s organisation serves (consent), and the cases it may see'), schema: { tags, summary: 'Agent: the client being served and the cases the agent’s organisation may see', params: Type.Object({ clientId: Id }) } },
    async (request) => {
      const staff = requireStaff(request, CASE_ROLES);
      const clientId = (request.params as { clientId: string }).clientId;
      const client = await servedClient(db, staff, clientId);
      const cases = await listCases(db, { kind: 'staff', staff }, { clientId });
      return { client, cases };
    },
  );

  // Open311 keys for an organisation's 311 app (manager or admin); the key is shown once.
  app.post(
    '/api/v1/cases/open311-keys',
    { config: own.caller('Open311 keys of the caller’s organisation', ['manager', 'admin']), schema: { tags, summary: 'Create an Open311 API key for the caller’s organisation', body: Type.Object({ label: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }) } },
    async (request, reply) => {
      const staff = requireStaff(request, ['manager', 'admin']);
      const key = `o311_${crypto.randomBytes(24).toString('base64url')}`;
      await db.insertInto('open311_keys').values({ key_hash: sha256(key), org_id: staff.orgId, label: (request.body as { label: string }).label, revoked_at: null }).execute();
      return reply.status(201).send({ apiKey: key, orgId: staff.orgId });
    },
  );

  // Documents (multipart, in their own encapsulated plugin so the parser is not registered twice).
  await app.register(async (child) => {
    await child.register(multipart, { limits: { fileSize: MAX_DOCUMENT_BYTES, files: 1, fields: 5, parts: 6 } });
    child.post(
      '/api/v1/cases/:id/documents',
      { config: own.theCase, schema: { tags, summary: 'Attach a document (PDF, PNG or JPEG, at most 5 MB; multipart field "file")', consumes: ['multipart/form-data'], params: Type.Object({ id: Id }) } },
      async (request, reply) => {
        const actor = actorOf(request);
        const id = (request.params as { id: string }).id;
        if (!request.isMultipart()) throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE');
        const stored = await storeDocument(ctx, actor, id, request);
        return reply.status(201).send(stored);
      },
    );
  });

  app.get(
    '/api/v1/cases/:id/documents/:docId',
    { config: own.theCase, schema: { tags, summary: 'Download a document of a case the caller may see', params: Type.Object({ id: Id, docId: Id }) } },
    async (request, reply) => {
      const p = request.params as { id: string; docId: string };
      const { row } = await loadCase(db, actorOf(request), p.id, { audit: true });
      const doc = await db.selectFrom('case_documents').selectAll().where('id', '=', p.docId).where('case_id', '=', row.id).executeTakeFirst();
      if (!doc) throw new AppError(404, 'DOCUMENT_NOT_FOUND');
      const safeName = doc.filename.replace(/[^\w.\- ]/g, '_');
      return reply
        .header('Content-Type', doc.content_type)
        .header('Content-Disposition', `attachment; filename="${safeName}"`)
        .header('Cache-Control', 'private, no-store')
        .header('Content-Security-Policy', "default-src 'none'; sandbox")
        .send(Buffer.from(doc.content));
    },
  );
}

/** `opts.verify` (pages: the CSRF token sent as a form field before the file) runs before the file is read. */
export async function storeDocument(ctx: Ctx, actor: Actor, caseId: string, request: FastifyRequest, opts: { verify?: (fields: Record<string, unknown>) => void } = {}) {
  // Check access first: nothing is read from a caller who may not see the case.
  const { row } = await loadCase(ctx.db, actor, caseId);
  if (row.status === 'closed' || row.status === 'withdrawn') throw new AppError(409, 'CASE_CLOSED');
  const file = await request.file();
  if (!file) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'file', code: 'required' }]);
  if (opts.verify) {
    try {
      opts.verify(file.fields as Record<string, unknown>);
    } catch (err) {
      file.file.resume(); // drain the upload we refuse
      throw err;
    }
  }
  const buf = await file.toBuffer();
  if (file.file.truncated || buf.length > MAX_DOCUMENT_BYTES) throw new AppError(413, 'PAYLOAD_TOO_LARGE');
  if (buf.length === 0) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'file', code: 'required' }]);
  // Trust the bytes, not the declared type.
  const type = Object.entries(DOCUMENT_TYPES).find(([, sigs]) => sigs.some((s) => buf.subarray(0, s.length).equals(s)))?.[0];
  if (!type) throw new AppError(415, 'DOCUMENT_TYPE_NOT_ALLOWED');
  const filename = (file.filename || 'document').replace(/[\\/\u0000-\u001f]/g, '_').slice(0, 200);
  const id = crypto.randomUUID();
  const who = actor.kind === 'client' ? { k: 'client' as const, id: actor.clientId } : { k: 'staff' as const, id: actor.staff.id };
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('case_documents')
      .values({ id, case_id: row.id, filename, content_type: type, size_bytes: buf.length, sha256: crypto.createHash('sha256').update(buf).digest('hex'), content: buf, uploaded_by_kind: who.k, uploaded_by_id: who.id })
      .execute();
    await trx
      .insertInto('case_interactions')
      .values({ case_id: row.id, channel: 'web', actor_kind: who.k, actor_id: who.id, org_id: actor.kind === 'staff' ? actor.staff.orgId : null, outcome: 'documents_received', note: filename })
      .execute();
  });
  return { id, filename, contentType: type, sizeBytes: buf.length };
}

/** The 201 answer: what createCase wrote (the full record is at GET /api/v1/cases/{id}). */
function caseCreated(c: CreatedCase, actor: Actor) {
  return { ...c, access: actor.kind === 'client' ? 'owner' : c.responsibleOrg.id === actor.staff.orgId ? 'org' : 'serving' };
}

export function serialiseDetail(d: Awaited<ReturnType<typeof caseDetail>>) {
  const c = d.case;
  return {
    id: c.id,
    reference: c.reference,
    clientId: c.client_id,
    serviceId: c.service_id,
    service: { id: d.service.id, title_en: d.service.title_en, title_fr: d.service.title_fr, guaranteeDays: d.service.guarantee_days },
    originChannel: c.origin_channel,
    status: c.status,
    responsibleOrg: { id: d.org.id, name_en: d.org.name_en, name_fr: d.org.name_fr },
    assignedTeam: c.assigned_team,
    assignedStaffId: c.assigned_staff_id,
    summary: c.summary,
    decision: c.decision,
    submittedAt: c.submitted_at,
    dueDate: c.due_date,
    dueRule: c.due_rule,
    guaranteeDueDate: c.guarantee_due_date,
    guaranteeBreachedAt: c.guarantee_breached_at,
    decidedAt: c.decided_at,
    closedAt: c.closed_at,
    version: c.version,
    access: d.access.via,
    nextStatuses: d.nextStatuses,
    history: d.history,
    interactions: d.interactions,
    messages: d.messages,
    referrals: d.referrals,
    documents: d.documents,
    refund: d.refund,
  };
}
