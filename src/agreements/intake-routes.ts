/** Pages and API of the intake of new services (intake.ts). */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError, describeError, type FieldError } from '../http/errors';
import { requireStaff } from '../http/session';
import { t, type Lang } from '../i18n/index';
import { bilingualRoute, fillPath } from '../web/render';
import { decide, listProposals, proposalFor, propose, requestReevaluation, RESOURCE_FACTORS, score, VALUE_FACTORS } from './intake';
import { idempotent } from './idempotency';
import { isBoard, isManager, isPartnerStaff } from './service';
import { agreementOwners } from './owners';
import type { Owner } from '../http/ownership';

const PATHS = {
  list: { en: '/en/staff/proposals', fr: '/fr/personnel/propositions' },
  view: { en: '/en/staff/proposals/:id', fr: '/fr/personnel/propositions/:id' },
  score: { en: '/en/staff/proposals/:id/score', fr: '/fr/personnel/propositions/:id/evaluer' },
  decide: { en: '/en/staff/proposals/:id/decision', fr: '/fr/personnel/propositions/:id/decision' },
  reevaluate: { en: '/en/staff/proposals/:id/reevaluation', fr: '/fr/personnel/propositions/:id/reevaluation' },
  agreements: { en: '/en/staff/agreements', fr: '/fr/personnel/ententes' },
  login: { en: '/en/staff/login', fr: '/fr/personnel/connexion' },
} as const;
const path = (k: keyof typeof PATHS, lang: Lang, id?: string) => fillPath(PATHS[k][lang], id ? { id } : {});
const DONE = new Set(['proposed', 'scored', 'decided', 'reevaluation']);
const ApiError = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), code: Type.String(), message: Type.Optional(Type.String()) }))) }) });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const Proposal = Type.Object({ id: Type.String(), status: Type.String(), title_en: Type.String(), title_fr: Type.String(), partner_org_id: Type.String(), score_total: Type.Union([Type.Integer(), Type.Null()]), service_id: Type.Union([Type.String(), Type.Null()]), agreement_id: Type.Union([Type.String(), Type.Null()]), amendment_version: Type.Union([Type.Integer(), Type.Null()]) });
const pick = (p: Record<string, any>) => ({ id: p.id, status: p.status, title_en: p.title_en, title_fr: p.title_fr, partner_org_id: p.partner_org_id, score_total: p.score_total, service_id: p.service_id, agreement_id: p.agreement_id, amendment_version: p.amendment_version });

export async function intakeRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db } = deps;
  const own = agreementOwners(db);

  async function renderList(reply: FastifyReply, lang: Lang, staff: NonNullable<ReturnType<typeof requireStaff>>, done?: string, values: Record<string, unknown> = {}, errors: FieldError[] = []) {
    const rows = await listProposals(db, staff);
    const errs = errors.map((e) => ({ ...e, message: e.message ?? t(lang, `field.${e.code}`) }));
    return reply.page('agreements/views/proposals.njk', {
      title: t(lang, 'intake.title'),
      items: rows.map((r, i) => ({ ...r, rank: r.score_total !== null ? i + 1 : null, url: path('view', lang, r.id) })),
      canPropose: isPartnerStaff(staff), action: path('list', lang), values,
      errors: errs, fieldErrors: Object.fromEntries(errs.map((e) => [e.field, e.message])),
      agreementsUrl: path('agreements', lang),
      done: done && DONE.has(done) ? t(lang, `intake.done.${done}`) : null,
    }, errs.length ? 400 : 200);
  }

  bilingualRoute(app, 'GET', PATHS.list, async (request, reply, lang) => {
    if (!request.staff) return reply.redirect(path('login', lang), 303);
    return renderList(reply, lang, requireStaff(request), (request.query as { done?: string }).done);
  }, { config: own.proposalList });
  bilingualRoute(app, 'POST', PATHS.list, async (request, reply, lang) => {
    const s = requireStaff(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const id = await propose(db, s, body);
      return reply.redirect(`${path('view', lang, id)}?done=proposed`, 303);
    } catch (e) {
      if (!(e instanceof AppError) || e.status !== 400) throw e;
      return renderList(reply, lang, s, undefined, body, e.details ?? []);
    }
  }, { config: own.proposalCreate });
  bilingualRoute(app, 'GET', PATHS.view, async (request, reply, lang) => {
    if (!request.staff) return reply.redirect(path('login', lang), 303);
    const s = requireStaff(request);
    const p = await proposalFor(db, s, (request.params as { id: string }).id);
    const org = await db.selectFrom('organisations').select(['name_en', 'name_fr']).where('id', '=', p.partner_org_id).executeTakeFirst();
    const scores = (p.scores ?? {}) as Record<string, number>;
    const done = (request.query as { done?: string }).done;
    return reply.page('agreements/views/proposal.njk', {
      title: lang === 'fr' ? p.title_fr : p.title_en, p, partner: org ? (lang === 'fr' ? org.name_fr : org.name_en) : p.partner_org_id,
      valueFactors: VALUE_FACTORS.map((f) => ({ name: f, label: t(lang, `intake.factor.${f}`), value: scores[f] ?? '' })),
      resourceFactors: RESOURCE_FACTORS.map((f) => ({ name: f, label: t(lang, `intake.factor.${f}`), value: scores[f] ?? '' })),
      can: { score: isManager(s) && ['proposed', 'scored', 'reevaluation'].includes(p.status), decide: isBoard(s) && p.status === 'scored', reevaluate: isPartnerStaff(s) && ['scored', 'rejected'].includes(p.status) },
      urls: { score: path('score', lang, p.id), decide: path('decide', lang, p.id), reevaluate: path('reevaluate', lang, p.id), back: path('list', lang), agreement: p.agreement_id ? `${path('agreements', lang)}/${p.agreement_id}` : null },
      today: new Date().toISOString().slice(0, 10),
      done: done && DONE.has(done) ? t(lang, `intake.done.${done}`) : null,
    });
  }, { config: own.proposalRead });
  const post = (k: 'score' | 'decide' | 'reevaluate', done: string, config: { owner: Owner }, fn: (s: ReturnType<typeof requireStaff>, id: string, b: Record<string, string>) => Promise<unknown>) =>
    bilingualRoute(app, 'POST', PATHS[k], async (request, reply, lang) => {
      const s = requireStaff(request);
      const { id } = request.params as { id: string };
      await fn(s, id, (request.body ?? {}) as Record<string, string>);
      return reply.redirect(`${path('view', lang, id)}?done=${done}`, 303);
    }, { config });
  post('score', 'scored', own.proposalScore, (s, id, b) => score(db, s, id, b));
  post('decide', 'decided', own.proposalDecide, (s, id, b) => decide(db, s, id, { decision: String(b.decision ?? ''), decision_date: String(b.decision_date ?? '').trim(), decision_reference: String(b.decision_reference ?? '') }));
  post('reevaluate', 'reevaluation', own.proposalReevaluate, (s, id, b) => requestReevaluation(db, s, id, String(b.reason ?? '')));

  // ---- API
  app.get('/api/v1/proposals', { config: own.proposalList, schema: { tags: ['agreements'], summary: 'Proposed new services, ranked (managers and board: all; a partner: its own)', response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Type.String(), status: Type.String(), title_en: Type.String(), title_fr: Type.String(), partner_org_id: Type.String(), score_value: Type.Union([Type.Integer(), Type.Null()]), score_resources: Type.Union([Type.Integer(), Type.Null()]), score_total: Type.Union([Type.Integer(), Type.Null()]) })) }), 401: ApiError, 403: ApiError } } },
    async (request) => ({ items: await listProposals(db, requireStaff(request)) }));
  const ProposeBody = Type.Object({ title_en: Type.String({ maxLength: 200 }), title_fr: Type.String({ maxLength: 200 }), business_case_en: Type.String({ maxLength: 4000 }), business_case_fr: Type.String({ maxLength: 4000 }) }, { additionalProperties: false });
  app.post<{ Body: Static<typeof ProposeBody> }>('/api/v1/proposals', { config: { ...own.proposalCreate, idempotent: 'command' }, schema: { tags: ['agreements'], summary: 'Propose a new online service (a partner’s staff; Idempotency-Key)', body: ProposeBody, response: { 201: Proposal, 400: ApiError, 401: ApiError, 403: ApiError, 409: ApiError } } },
    async (request, reply) => {
      const s = requireStaff(request);
      if (!isPartnerStaff(s)) throw new AppError(403, 'FORBIDDEN');
      const out = await idempotent(db, request, `staff:${s.id}`, request.body, async () => ({ status: 201, body: pick(await proposalFor(db, s, await propose(db, s, request.body))) }));
      return reply.status(out.status).send(out.body);
    });
  app.get<{ Params: Static<typeof IdParams> }>('/api/v1/proposals/:id', { config: own.proposalRead, schema: { tags: ['agreements'], summary: 'A proposal', params: IdParams, response: { 200: Proposal, 401: ApiError, 404: ApiError } } },
    async (request) => pick(await proposalFor(db, requireStaff(request), request.params.id)));
  const ScoreBody = Type.Object(Object.fromEntries([...VALUE_FACTORS, ...RESOURCE_FACTORS].map((f) => [f, Type.Integer({ minimum: 0, maximum: 5 })])), { additionalProperties: false });
  app.post<{ Params: Static<typeof IdParams> }>('/api/v1/proposals/:id/score', { config: own.proposalScore, schema: { tags: ['agreements'], summary: 'Score a proposal on the board’s factors (managers)', params: IdParams, body: ScoreBody, response: { 200: Proposal, 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError } } },
    async (request) => {
      const s = requireStaff(request);
      await score(db, s, request.params.id, request.body as Record<string, unknown>);
      return pick(await proposalFor(db, s, request.params.id));
    });
  const DecideBody = Type.Object({ decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]), decision_date: Type.String({ maxLength: 10 }), decision_reference: Type.String({ maxLength: 100 }) }, { additionalProperties: false });
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof DecideBody> }>('/api/v1/proposals/:id/decision', { config: own.proposalDecide, schema: { tags: ['agreements'], summary: 'The board’s decision; approval creates a draft service and a draft agreement amendment', params: IdParams, body: DecideBody, response: { 200: Proposal, 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError, 422: ApiError } } },
    async (request) => {
      const s = requireStaff(request);
      await decide(db, s, request.params.id, request.body);
      return pick(await proposalFor(db, s, request.params.id));
    });
  const ReBody = Type.Object({ reason: Type.String({ maxLength: 2000 }) }, { additionalProperties: false });
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ReBody> }>('/api/v1/proposals/:id/reevaluation', { config: own.proposalReevaluate, schema: { tags: ['agreements'], summary: 'Ask for re-evaluation at the next meeting (the partner)', params: IdParams, body: ReBody, response: { 200: Proposal, 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError } } },
    async (request) => {
      const s = requireStaff(request);
      await requestReevaluation(db, s, request.params.id, request.body.reason);
      return pick(await proposalFor(db, s, request.params.id));
    });
  void describeError;
}
