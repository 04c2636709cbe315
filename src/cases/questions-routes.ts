/**
 * Pages for warm referrals of a question (questions.ts): the agent refers it from the console, the receiving
 * organisation answers, declines or turns it into a case, the client follows it in their file. Forms post and
 * redirect (or show the page again with an error summary); no JavaScript needed.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError } from '../http/errors';
import { requireStaff } from '../http/session';
import { t, type Lang } from '../i18n/index';
import { bilingualRoute, fillPath } from '../web/render';
import { casesMailer } from './integration';
import { sendNotifications } from './notify';
import { answerQuestion, convertQuestion, declineQuestion, questionDetail, questionsForRecipient, questionsForServedClient, questionsOfClient, referQuestion } from './questions';
import { CASE_ROLES, CHANNELS, servedClient, type Ctx } from './service';
import type { CaseChannel } from './tables';
import { userErrors } from './routes';
import { consoleClientUrl, staffOrRedirect } from './staff-pages';
import { caseOwners } from './owners';

export const QP = {
  consoleQuestions: { en: '/en/staff/console/clients/:clientId/questions', fr: '/fr/personnel/console/clients/:clientId/questions' },
  staffQuestion: { en: '/en/staff/questions/:id', fr: '/fr/personnel/questions/:id' },
  staffAnswer: { en: '/en/staff/questions/:id/answer', fr: '/fr/personnel/questions/:id/reponse' },
  staffDecline: { en: '/en/staff/questions/:id/decline', fr: '/fr/personnel/questions/:id/refus' },
  staffConvert: { en: '/en/staff/questions/:id/case', fr: '/fr/personnel/questions/:id/dossier' },
  myQuestion: { en: '/en/my-file/questions/:id', fr: '/fr/mon-dossier/questions/:id' },
  console: { en: '/en/staff/console', fr: '/fr/personnel/console' },
  staffCase: { en: '/en/staff/cases/:id', fr: '/fr/personnel/dossiers/:id' },
  myList: { en: '/en/my-file/requests', fr: '/fr/mon-dossier/demandes' },
};

const yesNo = (v: unknown) => (v === 'yes' ? true : v === 'no' ? false : undefined);

export async function questionRoutes(app: FastifyInstance, deps: AppDeps, ctx: Ctx) {
  const { db } = deps;
  const own = caseOwners(db);
  const flush = async (ids: number[]) => {
    if (ids.length) await sendNotifications(db, casesMailer(app.log), ids).catch((err) => app.log.error({ err }, 'case notification failed'));
  };

  // ---------- JSON API (same commands and authorisation as the pages) ----------
  const tags = ['cases'];
  const Id = Type.String({ maxLength: 100 });
  const ChannelE = Type.Union(CHANNELS.map((c) => Type.Literal(c)));
  app.post(
    '/api/v1/cases/questions',
    { config: { ...own.caller('a question the caller’s organisation hands to another, for a client it serves', 'any'), idempotent: true },
      schema: {
        tags,
        summary: 'Warm referral of a client’s question (no case) to another organisation, with a context summary and the client’s consent (staff serving the client)',
        body: Type.Object(
          { clientId: Id, toOrgId: Id, question: Type.String({ minLength: 1, maxLength: 2000 }), summary: Type.String({ minLength: 1, maxLength: 4000 }), clientConsent: Type.Boolean(), channel: ChannelE },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => reply.status(201).send(await referQuestion(ctx, requireStaff(request), request.body as any)),
  );
  app.get(
    '/api/v1/cases/questions',
    { config: own.caller('questions handed to the caller’s organisation (or the signed-in client’s own)', 'any'), schema: { tags, summary: 'Questions: for staff, those waiting for an answer from their organisation; for a client, their own' } },
    async (request) => {
      if (request.staff) return { items: await questionsForRecipient(db, requireStaff(request, CASE_ROLES)) };
      if (request.client) return { items: await questionsOfClient(db, request.client.id) };
      throw new AppError(401, 'UNAUTHENTICATED');
    },
  );
  app.get('/api/v1/cases/questions/:id', { config: own.question, schema: { tags, summary: 'One referred question (clients: without the context summary)', params: Type.Object({ id: Id }) } }, async (request) => {
    const actor = request.staff ? { kind: 'staff' as const, staff: request.staff } : request.client ? { kind: 'client' as const, clientId: request.client.id } : null;
    if (!actor) throw new AppError(401, 'UNAUTHENTICATED');
    const d = await questionDetail(db, actor, (request.params as { id: string }).id);
    const n = d.names;
    return {
      ...d.question,
      access: d.via,
      toOrg: { id: d.question.to_org_id, name_en: n.to_name_en, name_fr: n.to_name_fr },
      fromOrg: { id: d.question.from_org_id, name_en: n.from_name_en, name_fr: n.from_name_fr },
      caseReference: n.case_reference,
    };
  });
  app.post(
    '/api/v1/cases/questions/:id/answer',
    { config: own.question,
      schema: {
        tags,
        summary: 'The receiving organisation answers (recording whether the client had to repeat anything)',
        params: Type.Object({ id: Id }),
        body: Type.Object({ answer: Type.String({ minLength: 1, maxLength: 4000 }), noRepeat: Type.Boolean() }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const r = await answerQuestion(ctx, requireStaff(request), (request.params as { id: string }).id, request.body as any);
      await flush(r.notificationIds);
      return { id: r.id };
    },
  );
  app.post(
    '/api/v1/cases/questions/:id/decline',
    { config: own.question, schema: { tags, summary: 'The receiving organisation declines (back to the referring organisation)', params: Type.Object({ id: Id }), body: Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false }) } },
    async (request) => declineQuestion(ctx, requireStaff(request), (request.params as { id: string }).id, (request.body ?? {}) as any),
  );
  app.post(
    '/api/v1/cases/questions/:id/case',
    { config: { ...own.question, idempotent: true },
      schema: {
        tags,
        summary: 'The receiving organisation turns the question into a case for one of its services',
        params: Type.Object({ id: Id }),
        body: Type.Object({ serviceId: Id, noRepeat: Type.Boolean() }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const r = await convertQuestion(ctx, requireStaff(request), (request.params as { id: string }).id, request.body as any);
      await flush(r.notificationIds);
      return reply.status(201).send({ id: r.id, caseId: r.caseId });
    },
  );

  const orgsFor = (lang: Lang, exclude: string) =>
    db
      .selectFrom('organisations')
      .select(['id', 'name_en', 'name_fr'])
      .where((eb) => eb.or([eb('is_demo', '=', true), eb('id', 'in', ['esdc-edsc', 'cra-arc'])]))
      .where('id', '<>', exclude)
      .orderBy(lang === 'fr' ? 'name_fr' : 'name_en')
      .execute();

  // ---------- the agent refers a client's question (from the console, while serving the client) ----------
  async function referPage(request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: Record<string, unknown> = {}, status = 200) {
    const staff = requireStaff(request, CASE_ROLES);
    const clientId = (request.params as { clientId: string }).clientId;
    const client = await servedClient(db, staff, clientId);
    const [orgs, questions] = await Promise.all([orgsFor(lang, staff.orgId), questionsForServedClient(db, staff, clientId)]);
    return reply.page(
      'cases/views/question-new.njk',
      {
        title: t(lang, 'cases.q.refer'),
        client,
        orgs,
        questions,
        action: fillPath(QP.consoleQuestions[lang], { clientId }),
        consoleUrl: consoleClientUrl(lang, clientId),
        questionBase: QP.staffQuestion[lang].replace(':id', ''),
        ...extra,
      },
      status,
    );
  }

  bilingualRoute(app, 'GET', QP.consoleQuestions, async (request, reply, lang) => {
    if (!staffOrRedirect(request, reply, lang)) return reply;
    return referPage(request, reply, lang);
  }, { config: own.caller('questions of a client the caller’s organisation serves') });

  bilingualRoute(app, 'POST', QP.consoleQuestions, async (request, reply, lang) => {
    const staff = requireStaff(request, CASE_ROLES);
    const clientId = (request.params as { clientId: string }).clientId;
    const b = (request.body ?? {}) as Record<string, string>;
    try {
      const r = await referQuestion(ctx, staff, {
        clientId,
        toOrgId: b.toOrgId ?? '',
        question: b.question ?? '',
        summary: b.summary ?? '',
        clientConsent: b.clientConsent === 'yes',
        channel: (CHANNELS as readonly string[]).includes(b.channel) ? (b.channel as CaseChannel) : undefined,
      });
      return reply.redirect(fillPath(QP.staffQuestion[lang], { id: r.id }), 303);
    } catch (err) {
      const e = userErrors(err, lang);
      if (!e) throw err;
      return referPage(request, reply, lang, { errors: e, values: b }, e.status);
    }
  }, { config: own.caller('a question the caller’s organisation hands to another, for a client it serves') });

  // ---------- staff: one question (receiving organisation, referring agent) ----------
  async function staffQuestionPage(request: FastifyRequest, reply: FastifyReply, lang: Lang, id: string, extra: Record<string, unknown> = {}, status = 200) {
    const staff = requireStaff(request, CASE_ROLES);
    const d = await questionDetail(db, { kind: 'staff', staff }, id);
    const services = d.canAnswer
      ? await db
          .selectFrom('services')
          .select(['id', 'title_en', 'title_fr'])
          .where('owner_org_id', '=', staff.orgId)
          .where('status', '=', 'published')
          .orderBy(lang === 'fr' ? 'title_fr' : 'title_en')
          .limit(500)
          .execute()
      : [];
    const base = (p: { en: string; fr: string }) => fillPath(p[lang], { id: d.question.id });
    return reply.page(
      'cases/views/question-staff.njk',
      {
        title: t(lang, 'cases.q.title'),
        d,
        services,
        answerAction: base(QP.staffAnswer),
        declineAction: base(QP.staffDecline),
        convertAction: base(QP.staffConvert),
        caseUrl: d.question.case_id ? fillPath(QP.staffCase[lang], { id: d.question.case_id }) : null,
        ...extra,
      },
      status,
    );
  }

  bilingualRoute(app, 'GET', QP.staffQuestion, async (request, reply, lang) => {
    if (!staffOrRedirect(request, reply, lang)) return reply;
    return staffQuestionPage(request, reply, lang, (request.params as { id: string }).id);
  }, { config: own.question });

  function questionPost(p: { en: string; fr: string }, run: (request: FastifyRequest, b: Record<string, string>, id: string, lang: Lang) => Promise<string | void>) {
    bilingualRoute(app, 'POST', p, async (request, reply, lang) => {
      requireStaff(request, CASE_ROLES);
      const id = (request.params as { id: string }).id;
      const b = (request.body ?? {}) as Record<string, string>;
      try {
        const to = await run(request, b, id, lang);
        return reply.redirect(to ?? fillPath(QP.staffQuestion[lang], { id }), 303);
      } catch (err) {
        const e = userErrors(err, lang);
        if (!e) throw err;
        return staffQuestionPage(request, reply, lang, id, { errors: e, values: b }, e.status);
      }
    }, { config: own.question });
  }

  questionPost(QP.staffAnswer, async (request, b, id) => {
    const r = await answerQuestion(ctx, request.staff!, id, { answer: b.answer ?? '', noRepeat: yesNo(b.noRepeat) });
    await flush(r.notificationIds);
  });
  questionPost(QP.staffDecline, async (request, b, id) => {
    await declineQuestion(ctx, request.staff!, id, { note: b.note ?? '' });
  });
  questionPost(QP.staffConvert, async (request, b, id, lang) => {
    let r: Awaited<ReturnType<typeof convertQuestion>>;
    try {
      r = await convertQuestion(ctx, request.staff!, id, { serviceId: b.serviceId ?? '', noRepeat: yesNo(b.convertNoRepeat) });
    } catch (err) {
      // Two forms on the page ask about repeats: point the error at the one that was sent.
      if (err instanceof AppError && err.details) {
        throw new AppError(err.status, err.code, err.messageKey, err.params, err.details.map((d) => (d.field === 'noRepeat' ? { ...d, field: 'convertNoRepeat' } : d)));
      }
      throw err;
    }
    await flush(r.notificationIds);
    return fillPath(QP.staffCase[lang], { id: r.caseId });
  });

  // ---------- the client follows their question ----------
  bilingualRoute(app, 'GET', QP.myQuestion, async (request, reply, lang) => {
    if (!request.client) throw new AppError(401, 'UNAUTHENTICATED');
    const d = await questionDetail(db, { kind: 'client', clientId: request.client.id }, (request.params as { id: string }).id);
    return reply.page('cases/views/question-client.njk', {
      title: t(lang, 'cases.q.title'),
      d,
      backUrl: QP.myList[lang],
      caseUrl: d.question.case_id ? `${QP.myList[lang]}/${encodeURIComponent(d.question.case_id)}` : null,
    });
  }, { config: own.client });
}
