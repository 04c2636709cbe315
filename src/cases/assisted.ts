/**
 * Assisted online forms: from the agent console, an agent serving a client (one-time code or a recorded legal basis,
 * see integration.ts staffMayServe) fills in a service's online form with them, on the phone or at a counter.
 * The same form pages as online (forms.ts): the draft is the client's (they can finish it online later), pre-filled
 * from their file only with the client's agreement and only with the fields the agent's access covers, and records
 * the agent (`case_form_drafts.assisted_by`). Submitting creates the case on the channel the agent picks (phone or
 * counter), opened by the agent (createCase with the staff actor logs the interaction), and the client sees it in
 * their file. Staff who do not serve the client get 404, the same as for a guessed id.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError, type FieldError } from '../http/errors';
import type { StaffPrincipal } from '../http/session';
import { requireStaff } from '../http/session';
import { t, type Lang } from '../i18n/index';
import { bilingualRoute, fillPath } from '../web/render';
import { servingFields, staffMayServe } from './integration';
import { loadDraft, saveDraft, startDraft, submitDraft, type Answers } from './forms';
import { enqueueDelivery, nextPageUrl, postedPage, renderFormPage, renderReviewPage, resumeUrl, startPageContext, submitAndRedirect, type FormPaths } from './forms-routes';
import { CASE_ROLES, servedClient, type Ctx } from './service';
import { consoleClientUrl as consoleUrl, staffOrRedirect } from './staff-pages';
import { isUuid } from '../db/ids';
import { caseOwners } from './owners';

export const AP = {
  choose: { en: '/en/staff/console/clients/:clientId/forms', fr: '/fr/personnel/console/clients/:clientId/formulaires' },
  start: { en: '/en/staff/console/clients/:clientId/forms/:serviceId', fr: '/fr/personnel/console/clients/:clientId/formulaires/:serviceId' },
  page: { en: '/en/staff/console/drafts/:draftId/pages/:n', fr: '/fr/personnel/console/brouillons/:draftId/pages/:n' },
  review: { en: '/en/staff/console/drafts/:draftId/review', fr: '/fr/personnel/console/brouillons/:draftId/verification' },
  console: { en: '/en/staff/console', fr: '/fr/personnel/console' },
  staffCase: { en: '/en/staff/cases/:id', fr: '/fr/personnel/dossiers/:id' },
};

export const ASSISTED_CHANNELS = ['phone', 'counter'] as const;
const clientName = (c: { given_name: string | null; family_name: string | null; business_name: string | null }) =>
  c.business_name || [c.given_name, c.family_name].filter(Boolean).join(' ');

export async function assistedFormRoutes(app: FastifyInstance, deps: AppDeps, ctx: Ctx) {
  const { db } = deps;
  const own = caseOwners(db);
  const paths: FormPaths = { start: AP.start, page: AP.page, review: AP.review, done: AP.staffCase };

  /** A draft of a client this agent serves now, or 404 (the same for a guessed id). */
  async function assistedDraft(staff: StaffPrincipal, draftId: string) {
    if (!isUuid(draftId)) throw new AppError(404, 'DRAFT_NOT_FOUND');
    const row = await db.selectFrom('case_form_drafts').select('client_id').where('id', '=', draftId).executeTakeFirst();
    if (!row || !(await staffMayServe(db, staff, row.client_id))) throw new AppError(404, 'DRAFT_NOT_FOUND');
    const [draft, client] = await Promise.all([loadDraft(db, row.client_id, draftId), servedClient(db, staff, row.client_id)]);
    return { draft, client };
  }

  // ---------- which form ----------
  bilingualRoute(app, 'GET', AP.choose, async (request, reply, lang) => {
    const staff = staffOrRedirect(request, reply, lang);
    if (!staff) return reply;
    const clientId = (request.params as { clientId: string }).clientId;
    const client = await servedClient(db, staff, clientId);
    const forms = await db
      .selectFrom('case_forms')
      .innerJoin('services', 'services.id', 'case_forms.service_id')
      .innerJoin('organisations', 'organisations.id', 'services.owner_org_id')
      .select(['services.id', 'services.title_en', 'services.title_fr', 'organisations.name_en', 'organisations.name_fr'])
      .where('services.status', '=', 'published')
      .distinct()
      .orderBy(lang === 'fr' ? 'services.title_fr' : 'services.title_en')
      .execute();
    return reply.page('cases/views/assisted-choose.njk', {
      title: t(lang, 'cases.assisted.choose'),
      client,
      clientName: clientName(client),
      forms: forms.map((f) => ({ ...f, url: fillPath(AP.start[lang], { clientId, serviceId: f.id }) })),
      consoleUrl: consoleUrl(lang, clientId),
    });
  }, { config: own.caller('a form filled in for a client who gave the caller’s organisation access') });

  // ---------- start (or resume the client's draft) ----------
  bilingualRoute(app, 'GET', AP.start, async (request, reply, lang) => {
    const staff = staffOrRedirect(request, reply, lang);
    if (!staff) return reply;
    const { clientId, serviceId } = request.params as { clientId: string; serviceId: string };
    const client = await servedClient(db, staff, clientId);
    // Pre-fill offers only the fields the agent's access covers.
    const start = await startPageContext(db, clientId, serviceId, lang, await servingFields(db, staff, clientId));
    return reply.page('cases/views/form-start.njk', {
      ...start,
      assisted: { name: clientName(client), consoleUrl: consoleUrl(lang, clientId) },
      action: fillPath(AP.start[lang], { clientId, serviceId }),
    });
  }, { config: own.caller('a form filled in for a client who gave the caller’s organisation access') });

  bilingualRoute(app, 'POST', AP.start, async (request, reply, lang) => {
    const staff = requireStaff(request, CASE_ROLES);
    const { clientId, serviceId } = request.params as { clientId: string; serviceId: string };
    await servedClient(db, staff, clientId);
    const b = (request.body ?? {}) as Record<string, string>;
    const allowed = await servingFields(db, staff, clientId);
    const d = await startDraft(db, clientId, serviceId, b.prefill === 'yes', { staff, allowedSources: allowed });
    return reply.redirect(await resumeUrl(db, clientId, d, paths, lang), 303);
  }, { config: own.caller('a form filled in for a client who gave the caller’s organisation access') });

  // ---------- one page of the form ----------
  async function formPage(request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: { errors?: FieldError[]; values?: Answers } = {}, status = 200) {
    const staff = requireStaff(request, CASE_ROLES);
    const p = request.params as { draftId: string; n: string };
    const { draft, client } = await assistedDraft(staff, p.draftId);
    return renderFormPage(reply, draft, p.n, lang, paths, extra, status, { assisted: { name: clientName(client), consoleUrl: consoleUrl(lang, draft.client_id) } });
  }

  bilingualRoute(app, 'GET', AP.page, async (request, reply, lang) => {
    if (!staffOrRedirect(request, reply, lang)) return reply;
    return formPage(request, reply, lang);
  }, { config: own.caller('a form filled in for a client who gave the caller’s organisation access') });

  bilingualRoute(app, 'POST', AP.page, async (request, reply, lang) => {
    const staff = requireStaff(request, CASE_ROLES);
    const p = request.params as { draftId: string; n: string };
    const { draft } = await assistedDraft(staff, p.draftId);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { page, values, errors, data } = postedPage(draft, p.n, body);
    if (body.action === 'save') {
      // Saved under the client, with the agent recorded: the client can finish it online, or with an agent later.
      await saveDraft(db, draft.id, data, staff.id);
      return reply.redirect(`${consoleUrl(lang, draft.client_id)}&draft=saved`, 303);
    }
    if (errors.length) return formPage(request, reply, lang, { errors, values }, 400);
    await saveDraft(db, draft.id, data, staff.id);
    return reply.redirect(nextPageUrl(draft, page, data, paths, lang), 303);
  }, { config: own.caller('a form filled in for a client who gave the caller’s organisation access') });

  // ---------- check the answers with the client, pick the channel, submit ----------
  async function reviewPage(request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: { problem?: string; channelError?: string; channel?: string } = {}, status = 200) {
    const staff = requireStaff(request, CASE_ROLES);
    const { draft, client } = await assistedDraft(staff, (request.params as { draftId: string }).draftId);
    const errors = extra.channelError ? { fields: { channel: extra.channelError }, list: [{ text: `${t(lang, 'cases.assisted.channel')} — ${extra.channelError}`, href: '#channel' }] } : undefined;
    return renderReviewPage(reply, draft, lang, paths, extra.problem ?? null, status, {
      errors: errors as unknown as FieldError[] | undefined,
      assisted: { name: clientName(client), consoleUrl: consoleUrl(lang, draft.client_id), channels: ASSISTED_CHANNELS, channel: extra.channel ?? '' },
    });
  }

  bilingualRoute(app, 'GET', AP.review, async (request, reply, lang) => {
    if (!staffOrRedirect(request, reply, lang)) return reply;
    return reviewPage(request, reply, lang);
  }, { config: own.caller('a form filled in for a client who gave the caller’s organisation access') });

  bilingualRoute(app, 'POST', AP.review, async (request, reply, lang) => {
    const staff = requireStaff(request, CASE_ROLES);
    const draftId = (request.params as { draftId: string }).draftId;
    const { draft, client } = await assistedDraft(staff, draftId);
    const b = (request.body ?? {}) as Record<string, string>;
    const channel = ASSISTED_CHANNELS.find((c) => c === b.channel);
    if (!channel) return reviewPage(request, reply, lang, { channelError: t(lang, b.channel ? 'field.notAllowed' : 'field.required') }, 400);
    const clientLang = client.preferred_lang === 'fr' ? 'fr' : 'en';
    return submitAndRedirect(app, db, reply, lang, paths, draftId, () => submitDraft(ctx, draft.client_id, draftId, clientLang, enqueueDelivery, { staff, channel }), (message) =>
      reviewPage(request, reply, lang, { problem: message, channel }, 409),
    );
  }, { config: own.caller('a form filled in for a client who gave the caller’s organisation access') });
}
