/**
 * API routes and pages of the cases capability:
 *   - JSON API /api/v1/cases (api.ts) and Open311 GeoReport v2 (open311.ts);
 *   - client pages: /en/my-file/requests, /fr/mon-dossier/demandes;
 *   - staff pages: /en/staff/cases (queue and case), /en/staff/console (agent console).
 * Pages work without JavaScript: every action is a form post followed by a redirect (or the page again with errors).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { AppDeps } from '../http/deps';
import { AppError, describeError } from '../http/errors';
import { requireStaff } from '../http/session';
import { t, type Lang } from '../i18n/index';
import { bilingualRoute, fillPath } from '../web/render';
import { searchInformationBank } from '../catalogue/search/index';
import { actorOf, apiRoutes } from './api';
import { casesMailer } from './integration';
import { sendNotifications } from './notify';
import { open311Routes } from './open311';
import { formRoutes } from './forms-routes';
import multipart from '@fastify/multipart';
import crypto from 'node:crypto';
import { expectedCsrf } from '../http/session';
import { MAX_DOCUMENT_BYTES, storeDocument } from './api';
import { assistedFormRoutes } from './assisted';
import { allReferralStats, questionsForRecipient, questionsOfClient } from './questions';
import { questionRoutes } from './questions-routes';
import { staffOrRedirect } from './staff-pages';
import {
  answerReferral,
  assignCase,
  caseDetail,
  CASE_ROLES,
  CASE_STATUSES,
  changeStatus,
  CHANNELS,
  createAccessCode,
  createCase,
  listCases,
  logInteraction,
  OUTCOMES,
  postMessage,
  redeemAccessCode,
  referCase,
  servedClient,
  type Ctx,
} from './service';
import { localDate } from './due-date';
import type { CaseChannel, CaseStatus } from './tables';
import { caseOwners } from './owners';

export const P = {
  myList: { en: '/en/my-file/requests', fr: '/fr/mon-dossier/demandes' },
  myNew: { en: '/en/my-file/requests/new', fr: '/fr/mon-dossier/demandes/nouvelle' },
  myCode: { en: '/en/my-file/requests/agent-code', fr: '/fr/mon-dossier/demandes/code-agent' },
  myCase: { en: '/en/my-file/requests/:id', fr: '/fr/mon-dossier/demandes/:id' },
  myMessage: { en: '/en/my-file/requests/:id/messages', fr: '/fr/mon-dossier/demandes/:id/messages' },
  myWithdraw: { en: '/en/my-file/requests/:id/withdraw', fr: '/fr/mon-dossier/demandes/:id/retirer' },
  queue: { en: '/en/staff/cases', fr: '/fr/personnel/dossiers' },
  staffCase: { en: '/en/staff/cases/:id', fr: '/fr/personnel/dossiers/:id' },
  staffStatus: { en: '/en/staff/cases/:id/status', fr: '/fr/personnel/dossiers/:id/statut' },
  staffInteraction: { en: '/en/staff/cases/:id/interactions', fr: '/fr/personnel/dossiers/:id/interactions' },
  staffMessage: { en: '/en/staff/cases/:id/messages', fr: '/fr/personnel/dossiers/:id/messages' },
  staffRefer: { en: '/en/staff/cases/:id/referrals', fr: '/fr/personnel/dossiers/:id/aiguillages' },
  staffAnswer: { en: '/en/staff/cases/:id/referrals/:rid/answer', fr: '/fr/personnel/dossiers/:id/aiguillages/:rid/reponse' },
  staffAssign: { en: '/en/staff/cases/:id/assign', fr: '/fr/personnel/dossiers/:id/attribution' },
  staffDocument: { en: '/en/staff/cases/:id/documents', fr: '/fr/personnel/dossiers/:id/documents' },
  console: { en: '/en/staff/console', fr: '/fr/personnel/console' },
  consoleCode: { en: '/en/staff/console/code', fr: '/fr/personnel/console/code' },
  consoleOpen: { en: '/en/staff/console/cases', fr: '/fr/personnel/console/dossiers' },
};

const path = (lang: Lang, p: { en: string; fr: string }, params: Record<string, string> = {}) => fillPath(p[lang], params);

function paths(lang: Lang) {
  const o: Record<string, string> = {};
  for (const [k, v] of Object.entries(P)) o[k] = v[lang];
  return o;
}

/** Field errors of a failed command, for the error summary and the fields (or null when it is not a user error). */
export function userErrors(err: unknown, lang: Lang): { summary: string; fields: Record<string, string>; list: Array<{ text: string; href: string }>; status: number } | null {
  const d = describeError(err as Error, lang);
  if (d.status >= 500 || d.status === 404 || d.status === 401) return null;
  const fields: Record<string, string> = {};
  const list: Array<{ text: string; href: string }> = [];
  for (const x of d.details ?? []) {
    const text = t(lang, `cases.field.${x.field}`) + ' — ' + (x.message ?? '');
    fields[x.field] = x.message ?? '';
    list.push({ text, href: `#${x.field}` });
  }
  if (!list.length) list.push({ text: d.message, href: '#main-content' });
  return { summary: d.message, fields, list, status: d.status };
}

function requireClient(request: FastifyRequest): string {
  if (!request.client) throw new AppError(401, 'UNAUTHENTICATED');
  return request.client.id;
}

export async function routes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db, config } = deps;
  const own = caseOwners(db);
  const ctx: Ctx = { db, publicBaseUrl: config.publicBaseUrl };
  await apiRoutes(app, deps, ctx);
  await open311Routes(app, deps, ctx);
  await formRoutes(app, deps, ctx);
  await assistedFormRoutes(app, deps, ctx);
  await questionRoutes(app, deps, ctx);
  const flush = async (ids: number[]) => {
    if (ids.length) await sendNotifications(db, casesMailer(app.log), ids).catch((err) => app.log.error({ err }, 'case notification failed'));
  };

  const common = (lang: Lang) => ({ p: paths(lang), statuses: CASE_STATUSES, channels: CHANNELS, outcomes: OUTCOMES, today: localDate(new Date()) });

  // ---------- client pages ----------
  bilingualRoute(app, 'GET', P.myList, async (request, reply, lang) => {
    const clientId = requireClient(request);
    const items = await listCases(db, { kind: 'client', clientId }, { limit: 200 });
    const drafts = await db
      .selectFrom('case_form_drafts')
      .innerJoin('services', 'services.id', 'case_form_drafts.service_id')
      .select(['case_form_drafts.service_id', 'case_form_drafts.updated_at', 'services.title_en', 'services.title_fr'])
      .where('case_form_drafts.client_id', '=', clientId)
      .where('case_form_drafts.submitted_case_id', 'is', null)
      .orderBy('case_form_drafts.updated_at', 'desc')
      .execute();
    const q = request.query as { draft?: string; brouillon?: string };
    const questions = await questionsOfClient(db, clientId);
    return reply.page('cases/views/my-requests.njk', {
      ...common(lang),
      title: t(lang, 'cases.my.title'),
      items,
      drafts,
      questions,
      questionBase: lang === 'fr' ? '/fr/mon-dossier/questions/' : '/en/my-file/questions/',
      formBase: lang === 'fr' ? '/fr/mon-dossier/formulaires/' : '/en/my-file/forms/',
      draftSaved: q.draft === 'saved' || q.brouillon === 'enregistre',
    });
  }, { config: own.client });

  async function newRequestPage(request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: Record<string, unknown> = {}, status = 200) {
    const services = await db
      .selectFrom('services')
      .select(['id', 'title_en', 'title_fr'])
      .where('status', '=', 'published')
      .where('is_demo', '=', true)
      .orderBy(lang === 'fr' ? 'title_fr' : 'title_en')
      .execute();
    const withForms = await db
      .selectFrom('case_forms')
      .innerJoin('services', 'services.id', 'case_forms.service_id')
      .select(['services.id', 'services.title_en', 'services.title_fr'])
      .where('services.status', '=', 'published')
      .distinct()
      .execute();
    const q = request.query as { service?: string };
    return reply.page('cases/views/new-request.njk', { ...common(lang), title: t(lang, 'cases.new.title'), services, withForms, formBase: lang === 'fr' ? '/fr/mon-dossier/formulaires/' : '/en/my-file/forms/', selected: q?.service ?? '', ...extra }, status);
  }

  bilingualRoute(app, 'GET', P.myNew, async (request, reply, lang) => {
    requireClient(request);
    return newRequestPage(request, reply, lang);
  }, { config: own.client });

  bilingualRoute(app, 'POST', P.myNew, async (request, reply, lang) => {
    const clientId = requireClient(request);
    const b = (request.body ?? {}) as Record<string, string>;
    try {
      const r = await createCase(ctx, { kind: 'client', clientId }, { serviceId: b.serviceId ?? '', summary: b.summary ?? '' });
      await flush(r.notificationIds);
      return reply.redirect(path(lang, P.myCase, { id: r.id }), 303);
    } catch (err) {
      const e = userErrors(err, lang);
      if (!e) throw err;
      return newRequestPage(request, reply, lang, { errors: e, values: b, selected: b.serviceId }, e.status);
    }
  }, { config: own.client });

  bilingualRoute(app, 'POST', P.myCode, async (request, reply, lang) => {
    const clientId = requireClient(request);
    const r = await createAccessCode(db, clientId);
    return reply.page('cases/views/agent-code.njk', { ...common(lang), title: t(lang, 'cases.code.title'), code: `${r.code.slice(0, 4)} ${r.code.slice(4)}`, expiresAt: r.expiresAt });
  }, { config: { ...own.client, rateLimitPolicy: 'accessCode' }});

  async function myCasePage(request: FastifyRequest, reply: FastifyReply, lang: Lang, id: string, extra: Record<string, unknown> = {}, status = 200) {
    const clientId = requireClient(request);
    const d = await caseDetail(db, { kind: 'client', clientId }, id);
    const pending = d.referrals.find((r) => r.status === 'pending');
    return reply.page('cases/views/my-request.njk', { ...common(lang), title: `${t(lang, 'cases.case')} ${d.case.reference}`, d, pending, ...extra }, status);
  }

  bilingualRoute(app, 'GET', P.myCase, async (request, reply, lang) => myCasePage(request, reply, lang, (request.params as { id: string }).id), { config: own.client });

  bilingualRoute(app, 'POST', P.myMessage, async (request, reply, lang) => {
    const clientId = requireClient(request);
    const id = (request.params as { id: string }).id;
    const b = (request.body ?? {}) as Record<string, string>;
    try {
      const r = await postMessage(ctx, { kind: 'client', clientId }, id, b.body ?? '');
      await flush(r.notificationIds);
      return reply.redirect(`${path(lang, P.myCase, { id })}#messages`, 303);
    } catch (err) {
      const e = userErrors(err, lang);
      if (!e) throw err;
      return myCasePage(request, reply, lang, id, { errors: e, values: b }, e.status);
    }
  }, { config: own.client });

  bilingualRoute(app, 'POST', P.myWithdraw, async (request, reply, lang) => {
    const clientId = requireClient(request);
    const id = (request.params as { id: string }).id;
    try {
      const r = await changeStatus(ctx, { kind: 'client', clientId }, id, { status: 'withdrawn', channel: 'web' });
      await flush(r.notificationIds);
      return reply.redirect(path(lang, P.myCase, { id }), 303);
    } catch (err) {
      const e = userErrors(err, lang);
      if (!e) throw err;
      return myCasePage(request, reply, lang, id, { errors: e }, e.status);
    }
  }, { config: own.client });

  // ---------- staff pages ----------
  bilingualRoute(app, 'GET', P.queue, async (request, reply, lang) => {
    const staff = staffOrRedirect(request, reply, lang);
    if (!staff) return reply;
    const q = request.query as { queue?: string; status?: string };
    const queue = (['all', 'referred', 'mine', 'overdue'] as const).find((x) => x === q.queue) ?? 'all';
    const status = CASE_STATUSES.find((s) => s === q.status);
    const items = await listCases(db, { kind: 'staff', staff }, { queue, status: status ? [status] : undefined, limit: 200 });
    const stats = await allReferralStats(db, staff);
    const questions = queue === 'all' || queue === 'referred' ? await questionsForRecipient(db, staff) : [];
    const refunds = await db
      .selectFrom('guarantee_refunds')
      .select([sql<number>`count(*)::int`.as('n'), sql<number>`coalesce(sum(amount_cents), 0)::bigint`.as('cents')])
      .where('org_id', '=', staff.orgId)
      .where('status', '=', 'owed')
      .executeTakeFirstOrThrow();
    return reply.page('cases/views/staff-queue.njk', {
      ...common(lang),
      title: t(lang, 'cases.queue.title'),
      items,
      queue,
      status: status ?? '',
      stats,
      refunds,
      questions,
      questionBase: lang === 'fr' ? '/fr/personnel/questions/' : '/en/staff/questions/',
    });
  }, { config: own.caller('the case queue of the caller’s organisation') });

  async function staffCasePage(request: FastifyRequest, reply: FastifyReply, lang: Lang, id: string, extra: Record<string, unknown> = {}, status = 200) {
    const staff = requireStaff(request, CASE_ROLES);
    const d = await caseDetail(db, { kind: 'staff', staff }, id);
    const orgs = await db
      .selectFrom('organisations')
      .select(['id', 'name_en', 'name_fr'])
      .where((eb) => eb.or([eb('is_demo', '=', true), eb('id', 'in', ['esdc-edsc', 'cra-arc'])]))
      .where('id', '<>', d.case.responsible_org_id)
      .orderBy(lang === 'fr' ? 'name_fr' : 'name_en')
      .execute();
    const client = await db.selectFrom('clients').select(['given_name', 'family_name', 'business_name', 'preferred_lang']).where('id', '=', d.case.client_id).executeTakeFirst();
    const pendingForMe = d.referrals.find((r) => r.status === 'pending' && r.to_org_id === staff.orgId);
    const pending = d.referrals.find((r) => r.status === 'pending');
    // Assignment is the responsible organisation's: its active staff who work on cases.
    const assignees =
      d.access.via === 'org'
        ? (await db.selectFrom('staff_users').select(['id', 'name', 'roles']).where('org_id', '=', staff.orgId).where('active', '=', true).orderBy('name').limit(500).execute()).filter((s) =>
            CASE_ROLES.some((r) => s.roles.includes(r)),
          )
        : [];
    const assignedName = d.case.assigned_staff_id
      ? ((await db.selectFrom('staff_users').select('name').where('id', '=', d.case.assigned_staff_id).executeTakeFirst())?.name ?? null)
      : null;
    return reply.page('cases/views/staff-case.njk', { ...common(lang), title: `${t(lang, 'cases.case')} ${d.case.reference}`, d, orgs, client, pendingForMe, pending, assignees, assignedName, ...extra }, status);
  }

  bilingualRoute(app, 'GET', P.staffCase, async (request, reply, lang) => {
    const staff = staffOrRedirect(request, reply, lang);
    if (!staff) return reply;
    return staffCasePage(request, reply, lang, (request.params as { id: string }).id);
  }, { config: own.theCase });

  /** A staff form post: run the command, redirect to the case, or show the case again with the errors. */
  function staffPost(p: { en: string; fr: string }, run: (request: FastifyRequest, b: Record<string, string>, id: string) => Promise<number[] | void>, anchor = '') {
    bilingualRoute(app, 'POST', p, async (request, reply, lang) => {
      requireStaff(request, CASE_ROLES);
      const id = (request.params as { id: string }).id;
      const b = (request.body ?? {}) as Record<string, string>;
      try {
        const ids = await run(request, b, id);
        if (ids) await flush(ids);
        return reply.redirect(`${path(lang, P.staffCase, { id })}${anchor}`, 303);
      } catch (err) {
        const e = userErrors(err, lang);
        if (!e) throw err;
        return staffCasePage(request, reply, lang, id, { errors: e, values: b }, e.status);
      }
    }, { config: own.theCase });
  }

  staffPost(P.staffStatus, async (request, b, id) => {
    const r = await changeStatus(ctx, actorOf(request), id, {
      status: b.status as CaseStatus,
      note: b.note || undefined,
      decision: b.decision || undefined,
      channel: (CHANNELS as readonly string[]).includes(b.channel) ? (b.channel as CaseChannel) : undefined,
      version: b.version ? Number(b.version) : undefined,
    });
    return r.notificationIds;
  });
  staffPost(P.staffInteraction, async (request, b, id) => {
    await logInteraction(ctx, actorOf(request), id, { channel: b.channel as CaseChannel, outcome: b.outcome as any, note: b.note || undefined });
  }, '#interactions');
  staffPost(P.staffMessage, async (request, b, id) => {
    await postMessage(ctx, actorOf(request), id, b.body ?? '');
  }, '#messages');
  staffPost(P.staffRefer, async (request, b, id) => {
    await referCase(ctx, actorOf(request), id, { toOrgId: b.toOrgId ?? '', summary: b.summary ?? '', clientConsent: b.clientConsent === 'yes', channel: (CHANNELS as readonly string[]).includes(b.channel) ? (b.channel as CaseChannel) : undefined });
  });
  staffPost(P.staffAnswer, async (request, b, id) => {
    const rid = (request.params as { rid: string }).rid;
    const accept = b.answer === 'accept';
    if (b.answer !== 'accept' && b.answer !== 'decline') throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'answer', code: 'required' }]);
    const r = await answerReferral(ctx, actorOf(request), id, rid, {
      accept,
      noRepeat: accept ? (b.noRepeat === 'yes' ? true : b.noRepeat === 'no' ? false : undefined) : undefined,
      note: b.note || undefined,
    });
    return r.notificationIds;
  });

  staffPost(P.staffAssign, async (request, b, id) => {
    await assignCase(ctx, actorOf(request), id, { team: (b.team ?? '').trim() || null, staffId: b.staffId || null });
  }, '#case-summary');

  // Attach a document from the case page: a multipart form (no JavaScript), in its own encapsulated plugin with the
  // same limits as the API. The CSRF token travels as the form's first field (`_csrf`, before the file), so it is
  // checked by storeDocument's `verify` once the caller may see the case and before anything is stored.
  await app.register(async (child) => {
    await child.register(multipart, { limits: { fileSize: MAX_DOCUMENT_BYTES, files: 1, fields: 5, parts: 6 } });
    bilingualRoute(
      child,
      'POST',
      P.staffDocument,
      async (request, reply, lang) => {
        requireStaff(request, CASE_ROLES);
        const id = (request.params as { id: string }).id;
        const expected = expectedCsrf(request) ?? '';
        const verify = (fields: Record<string, unknown>) => {
          const f = fields?._csrf as { value?: unknown } | undefined;
          const sent = f && typeof f.value === 'string' ? f.value : String(request.headers['x-csrf-token'] ?? '');
          if (!sent || !expected || sent.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(sent), Buffer.from(expected))) throw new AppError(403, 'CSRF_INVALID');
        };
        try {
          if (!request.isMultipart()) throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE');
          await storeDocument(ctx, actorOf(request), id, request, { verify });
          return reply.redirect(`${path(lang, P.staffCase, { id })}#documents`, 303);
        } catch (err) {
          if (err instanceof AppError && err.code === 'CSRF_INVALID') throw err;
          const e = userErrors(err, lang);
          if (!e) throw err;
          if (!e.fields.file) {
            // Wrong type, too large: the message belongs to the file field.
            e.fields.file = e.summary;
            e.list = [{ text: `${t(lang, 'cases.field.file')} — ${e.summary}`, href: '#file' }];
          }
          return staffCasePage(request, reply, lang, id, { errors: e }, e.status);
        }
      },
      { config: { ...own.theCase, csrf: false } },
    );
  });

  // ---------- agent console ----------
  /** The services an agent may open a case for (the demo partners' published services), re-read every 10 s. */
  const servicesCache = new Map<Lang, { at: number; rows: Promise<Array<{ id: string; title_en: string; title_fr: string }>> }>();
  function caseServices(lang: Lang) {
    const hit = servicesCache.get(lang);
    if (hit && Date.now() - hit.at < 10_000) return hit.rows;
    const rows = db.selectFrom('services').select(['id', 'title_en', 'title_fr']).where('status', '=', 'published').where('is_demo', '=', true).orderBy(lang === 'fr' ? 'title_fr' : 'title_en').execute();
    servicesCache.set(lang, { at: Date.now(), rows });
    rows.catch(() => servicesCache.delete(lang));
    return rows;
  }

  async function consolePage(request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: Record<string, unknown> = {}, status = 200) {
    const staff = requireStaff(request, CASE_ROLES);
    const q = request.query as { q?: string; client?: string; draft?: string };
    const text = (q.q ?? '').trim().slice(0, 200);
    let results: Array<{ id: string; title: string; org: string; agent_notes: string | null }> = [];
    // The information bank: the portal's search plus the agent notes, from the in-memory index (no round trip).
    if (text) results = await searchInformationBank(db, { q: text, lang, limit: 20 });
    let client = null;
    let clientCases: Awaited<ReturnType<typeof listCases>> = [];
    const clientId = (extra.clientId as string | undefined) ?? q.client;
    if (clientId) {
      client = await servedClient(db, staff, clientId);
      clientCases = await listCases(db, { kind: 'staff', staff }, { clientId });
    }
    const services = await caseServices(lang);
    return reply.page(
      'cases/views/console.njk',
      { ...common(lang), title: t(lang, 'cases.console.title'), q: text, results, client, clientCases, services, draftSaved: q.draft === 'saved', ...extra },
      status,
    );
  }

  bilingualRoute(app, 'GET', P.console, async (request, reply, lang) => {
    const staff = staffOrRedirect(request, reply, lang);
    if (!staff) return reply;
    return consolePage(request, reply, lang);
  }, { config: own.caller('the console: clients who gave the caller’s organisation access') });

  bilingualRoute(app, 'POST', P.consoleCode, async (request, reply, lang) => {
    const staff = requireStaff(request, CASE_ROLES);
    const b = (request.body ?? {}) as Record<string, string>;
    try {
      const r = await redeemAccessCode(db, staff, b.code ?? '');
      return reply.redirect(`${path(lang, P.console)}?client=${encodeURIComponent(r.client.id)}`, 303);
    } catch (err) {
      const e = userErrors(err, lang);
      if (!e) throw err;
      if (!e.fields.code) {
        // AGENT_CODE_INVALID / TOO_MANY_ATTEMPTS: show the message on the code field.
        e.fields.code = e.summary;
        e.list = [{ text: e.summary, href: '#code' }];
      }
      return consolePage(request, reply, lang, { errors: e, values: b }, e.status);
    }
  }, { config: { ...own.caller('a client’s file opened to the caller’s organisation by the client’s one-time code'), rateLimitPolicy: 'accessCode' }});

  bilingualRoute(app, 'POST', P.consoleOpen, async (request, reply, lang) => {
    const staff = requireStaff(request, CASE_ROLES);
    const b = (request.body ?? {}) as Record<string, string>;
    try {
      const r = await createCase(ctx, { kind: 'staff', staff }, { serviceId: b.serviceId ?? '', summary: b.summary ?? '', channel: b.channel as CaseChannel, clientId: b.clientId ?? '' });
      await flush(r.notificationIds);
      return reply.redirect(path(lang, P.staffCase, { id: r.id }), 303);
    } catch (err) {
      const e = userErrors(err, lang);
      if (!e) throw err;
      return consolePage(request, reply, lang, { errors: e, values: b, clientId: b.clientId }, e.status);
    }
  }, { config: own.caller('a case opened for a client the caller’s organisation serves') });
}
