/**
 * Online form pages (client) and the partner's form API. Server-rendered, one form per page, no JavaScript needed:
 * answers are saved on every page, a draft resumes where the client left it, the review page lists every answer
 * with a "Change" link, and submitting creates the case and queues its delivery to the partner.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import type { Database } from '../db/database';
import { AppError, describeError, type FieldError } from '../http/errors';
import { requireStaff } from '../http/session';
import { t, type Lang } from '../i18n/index';
import { bilingualRoute, fillPath } from '../web/render';
import { currentBackground, enqueue } from '../jobs/index';
import { casesMailer } from './integration';
import { sendNotifications } from './notify';
import {
  answerLines,
  conditionHolds,
  DELIVER_QUEUE,
  latestForm,
  loadDraft,
  publishForm,
  readPage,
  saveDraft,
  startDraft,
  submitDraft,
  visiblePages,
  type Answers,
  type FormDefinition,
  type FormPage,
} from './forms';
import type { Ctx } from './service';
import { Nullable } from '../http/schema';
import { caseOwners, serviceFormOwner } from './owners';

export const FP = {
  start: { en: '/en/my-file/forms/:serviceId', fr: '/fr/mon-dossier/formulaires/:serviceId' },
  page: { en: '/en/my-file/forms/drafts/:draftId/pages/:n', fr: '/fr/mon-dossier/formulaires/brouillons/:draftId/pages/:n' },
  review: { en: '/en/my-file/forms/drafts/:draftId/review', fr: '/fr/mon-dossier/formulaires/brouillons/:draftId/verification' },
  myCase: { en: '/en/my-file/requests/:id', fr: '/fr/mon-dossier/demandes/:id' },
};

function requireClient(request: FastifyRequest): string {
  if (!request.client) throw new AppError(401, 'UNAUTHENTICATED');
  return request.client.id;
}

export function errorView(errors: FieldError[], lang: Lang, labels: Record<string, string>) {
  const fields: Record<string, string> = {};
  const list = errors.map((e) => {
    const message = e.message ?? t(lang, `field.${e.code}`);
    fields[e.field] = message;
    return { text: `${labels[e.field] ?? e.field} — ${message}`, href: `#${e.field}` };
  });
  return { fields, list };
}

/** Fields to show on a page: hidden only when their condition depends on an answer from an earlier page. */
export function shownFields(page: FormPage, data: Answers) {
  const onPage = new Set(page.fields.map((f) => f.name));
  return page.fields.filter((f) => !f.condition || onPage.has(f.condition.field) || conditionHolds(f.condition, data));
}

type Bilingual = { en: string; fr: string };
/** The URLs of one set of form pages: the client's own (FP), or an agent's with a client (assisted.ts). */
export interface FormPaths {
  start: Bilingual;
  page: Bilingual;
  review: Bilingual;
  /** The case, once the draft is submitted (`:id`). */
  done: Bilingual;
}
type Draft = Awaited<ReturnType<typeof loadDraft>>;

/** Queues the delivery of a submitted form's case to the partner (when the job queue runs). */
export async function enqueueDelivery(trx: Database, caseId: string) {
  if (currentBackground()) await enqueue(trx, DELIVER_QUEUE, { caseId }, { singletonKey: caseId });
}

/** The start page: the form, its service, the client's open draft and what can be pre-filled (only `allowedSources` when given). */
export async function startPageContext(db: Database, clientId: string, serviceId: string, lang: Lang, allowedSources?: string[]) {
  const form = await latestForm(db, serviceId);
  if (!form) throw new AppError(404, 'FORM_NOT_FOUND');
  const def = form.definition as FormDefinition;
  const svc = await db.selectFrom('services').innerJoin('organisations', 'organisations.id', 'services.owner_org_id').select(['services.title_en', 'services.title_fr', 'organisations.name_en', 'organisations.name_fr']).where('services.id', '=', serviceId).executeTakeFirstOrThrow();
  const draft = await db.selectFrom('case_form_drafts').select(['id', 'updated_at']).where('client_id', '=', clientId).where('service_id', '=', serviceId).where('submitted_case_id', 'is', null).executeTakeFirst();
  const prefillFields = def.pages
    .flatMap((p) => p.fields)
    .filter((f) => f.prefill && (!allowedSources || allowedSources.includes(f.prefill)))
    .map((f) => f.label[lang]);
  return { title: def.title[lang], def, svc, draft, prefillFields };
}

/** Where a started (or resumed) draft opens: its first visible page; resumed, the first incomplete one, or the review. */
export async function resumeUrl(db: Database, clientId: string, d: { id: string; resumed: boolean }, paths: FormPaths, lang: Lang) {
  const draft = await loadDraft(db, clientId, d.id);
  const pages = visiblePages(draft.definition, draft.data);
  let target = draft.definition.pages.indexOf(pages[0]);
  if (d.resumed) {
    const firstIncomplete = pages.find((p) => readPage(p, draft.data as Record<string, unknown>, draft.data).errors.length > 0);
    if (!firstIncomplete) return fillPath(paths.review[lang], { draftId: d.id });
    target = draft.definition.pages.indexOf(firstIncomplete);
  }
  return fillPath(paths.page[lang], { draftId: d.id, n: String(target + 1) });
}

/** Page `n` (1-based) of the draft's form, or 404 when there is none or it is not shown with the answers so far. */
function draftPage(draft: Draft, n: string) {
  const index = Number(n) - 1;
  const page = Number.isInteger(index) ? draft.definition.pages[index] : undefined;
  if (!page || !conditionHolds(page.condition, draft.data)) throw new AppError(404, 'NOT_FOUND');
  return page;
}

/** Shows page `n` of a draft (with the posted values and their errors after a failed post); a submitted draft goes to its case. */
export function renderFormPage(reply: FastifyReply, draft: Draft, n: string, lang: Lang, paths: FormPaths, extra: { errors?: FieldError[]; values?: Answers }, status: number, more: Record<string, unknown> = {}) {
  if (draft.submitted_case_id) return reply.redirect(fillPath(paths.done[lang], { id: draft.submitted_case_id }), 303);
  const page = draftPage(draft, n);
  const values = extra.values ? { ...draft.data, ...extra.values } : draft.data;
  const labels = Object.fromEntries(page.fields.map((f) => [f.name, f.label[lang]]));
  const pages = visiblePages(draft.definition, draft.data);
  const pos = pages.indexOf(page);
  const prev =
    pos > 0
      ? fillPath(paths.page[lang], { draftId: draft.id, n: String(draft.definition.pages.indexOf(pages[pos - 1]) + 1) })
      : fillPath(paths.start[lang], { clientId: draft.client_id, serviceId: draft.service_id });
  return reply.page(
    'cases/views/form-page.njk',
    {
      title: `${page.title[lang]} – ${draft.definition.title[lang]}`,
      formTitle: draft.definition.title[lang],
      surveyService: draft.service_id,
      page,
      fields: shownFields(page, values),
      values,
      step: pos + 1,
      steps: pages.length,
      action: fillPath(paths.page[lang], { draftId: draft.id, n }),
      back: prev,
      ...more,
      errors: (extra.errors?.length ? errorView(extra.errors, lang, labels) : undefined) as unknown as FieldError[] | undefined,
    },
    status,
  );
}

/** Page `n` posted: the draft's answers with this page's replaced by the posted ones, and the page's errors. */
export function postedPage(draft: Draft, n: string, body: Record<string, unknown>) {
  if (draft.submitted_case_id) throw new AppError(409, 'DRAFT_ALREADY_SUBMITTED');
  const page = draftPage(draft, n);
  const { values, errors } = readPage(page, body, draft.data);
  const data: Answers = { ...draft.data };
  for (const f of page.fields) delete data[f.name];
  Object.assign(data, values);
  return { page, values, errors, data };
}

/** After a page is saved: the next visible page with the new answers, or the review. */
export function nextPageUrl(draft: Draft, page: FormPage, data: Answers, paths: FormPaths, lang: Lang) {
  const pages = visiblePages(draft.definition, data);
  const next = pages[pages.indexOf(page) + 1];
  if (next) return fillPath(paths.page[lang], { draftId: draft.id, n: String(draft.definition.pages.indexOf(next) + 1) });
  return fillPath(paths.review[lang], { draftId: draft.id });
}

/** The review page: every answer with a "Change" link; a submitted draft goes to its case. */
export function renderReviewPage(reply: FastifyReply, draft: Draft, lang: Lang, paths: FormPaths, problem: string | null, status: number, more: Record<string, unknown> = {}) {
  if (draft.submitted_case_id) return reply.redirect(fillPath(paths.done[lang], { id: draft.submitted_case_id }), 303);
  const lines = answerLines(draft.definition, draft.data, lang).map((l) => ({
    label: l.field.label[lang],
    text: l.text,
    change: `${fillPath(paths.page[lang], { draftId: draft.id, n: String(draft.definition.pages.indexOf(l.page) + 1) })}#${l.field.name}`,
  }));
  return reply.page('cases/views/form-review.njk', { title: draft.definition.title[lang], lines, action: fillPath(paths.review[lang], { draftId: draft.id }), problem, ...more }, status);
}

/**
 * Submits a draft from its review page and redirects to the case; a page that is incomplete (e.g. a later change made
 * another page visible) is shown again with its errors; a conflict (409, e.g. already submitted) goes to `onConflict`.
 */
export async function submitAndRedirect(
  app: FastifyInstance,
  db: Database,
  reply: FastifyReply,
  lang: Lang,
  paths: FormPaths,
  draftId: string,
  submit: () => ReturnType<typeof submitDraft>,
  onConflict: (message: string) => unknown,
) {
  try {
    const r = await submit();
    if (!r.ok) return reply.redirect(fillPath(paths.page[lang], { draftId, n: String(r.pageIndex + 1) }), 303);
    if (r.notificationIds.length) await sendNotifications(db, casesMailer(app.log), r.notificationIds).catch(() => undefined);
    return reply.redirect(fillPath(paths.done[lang], { id: r.caseId }), 303);
  } catch (err) {
    const d = describeError(err as Error, lang);
    if (d.status !== 409) throw err;
    return onConflict(d.message);
  }
}

export async function formRoutes(app: FastifyInstance, deps: AppDeps, ctx: Ctx) {
  const { db } = deps;
  const own = caseOwners(db);
  const paths: FormPaths = { start: FP.start, page: FP.page, review: FP.review, done: FP.myCase };

  app.put(
    '/api/v1/cases/forms/:serviceId',
    { config: serviceFormOwner(db),
      schema: {
        tags: ['cases'],
        summary: 'Partner: publish a new version of a service’s online form (pages, fields, conditions, validation, bilingual labels)',
        params: Type.Object({ serviceId: Type.String({ maxLength: 100 }) }),
        body: Type.Object({ definition: Type.Unknown(), webhookUrl: Type.Optional(Nullable(Type.String({ maxLength: 500 }))) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const staff = requireStaff(request);
      const b = request.body as { definition: unknown; webhookUrl?: string | null };
      const r = await publishForm(db, staff, (request.params as { serviceId: string }).serviceId, b.definition, b.webhookUrl ?? null);
      return reply.status(201).send(r);
    },
  );

  app.get(
    '/api/v1/cases/forms/:serviceId',
    { config: own.none, schema: { tags: ['cases'], summary: 'The latest version of a service’s online form', params: Type.Object({ serviceId: Type.String({ maxLength: 100 }) }) } },
    async (request) => {
      const f = await latestForm(db, (request.params as { serviceId: string }).serviceId);
      if (!f) throw new AppError(404, 'FORM_NOT_FOUND');
      return { serviceId: f.service_id, version: f.version, definition: f.definition, createdAt: f.created_at };
    },
  );

  bilingualRoute(app, 'GET', FP.start, async (request, reply, lang) => {
    const clientId = requireClient(request);
    const serviceId = (request.params as { serviceId: string }).serviceId;
    const start = await startPageContext(db, clientId, serviceId, lang);
    return reply.page('cases/views/form-start.njk', { ...start, action: fillPath(FP.start[lang], { serviceId }) });
  }, { config: own.client });

  bilingualRoute(app, 'POST', FP.start, async (request, reply, lang) => {
    const clientId = requireClient(request);
    const serviceId = (request.params as { serviceId: string }).serviceId;
    const b = (request.body ?? {}) as Record<string, string>;
    const d = await startDraft(db, clientId, serviceId, b.prefill === 'yes');
    // Resume on the first visible page that is not complete yet.
    return reply.redirect(await resumeUrl(db, clientId, d, paths, lang), 303);
  }, { config: own.client });

  async function formPage(request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: { errors?: FieldError[]; values?: Answers } = {}, status = 200) {
    const clientId = requireClient(request);
    const p = request.params as { draftId: string; n: string };
    const draft = await loadDraft(db, clientId, p.draftId);
    return renderFormPage(reply, draft, p.n, lang, paths, extra, status);
  }

  bilingualRoute(app, 'GET', FP.page, async (request, reply, lang) => formPage(request, reply, lang), { config: own.client });

  bilingualRoute(app, 'POST', FP.page, async (request, reply, lang) => {
    const clientId = requireClient(request);
    const p = request.params as { draftId: string; n: string };
    const draft = await loadDraft(db, clientId, p.draftId);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { page, values, errors, data } = postedPage(draft, p.n, body);
    if (body.action === 'save') {
      // "Save and come back later": keep what was typed, valid or not; errors are shown when continuing.
      await saveDraft(db, draft.id, data);
      return reply.redirect(lang === 'fr' ? '/fr/mon-dossier/demandes?brouillon=enregistre' : '/en/my-file/requests?draft=saved', 303);
    }
    if (errors.length) return formPage(request, reply, lang, { errors, values }, 400);
    await saveDraft(db, draft.id, data);
    return reply.redirect(nextPageUrl(draft, page, data, paths, lang), 303);
  }, { config: own.client });

  async function reviewPage(request: FastifyRequest, reply: FastifyReply, lang: Lang, errors: string | null = null, status = 200) {
    const clientId = requireClient(request);
    const draft = await loadDraft(db, clientId, (request.params as { draftId: string }).draftId);
    return renderReviewPage(reply, draft, lang, paths, errors, status);
  }

  bilingualRoute(app, 'GET', FP.review, async (request, reply, lang) => reviewPage(request, reply, lang), { config: own.client });

  bilingualRoute(app, 'POST', FP.review, async (request, reply, lang) => {
    const clientId = requireClient(request);
    const draftId = (request.params as { draftId: string }).draftId;
    return submitAndRedirect(app, db, reply, lang, paths, draftId, () => submitDraft(ctx, clientId, draftId, lang, enqueueDelivery), (message) => reviewPage(request, reply, lang, message, 409));
  }, { config: own.client });
}
