/**
 * Editorial workflow pages (partners own their content) and the agents' information bank; the JSON API for partner
 * systems is in api.ts. Authorisation is decided here on the server: see workflow.ts (canEdit / canView / isOneStopReviewer).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../http/deps';
import { AppError, type FieldError } from '../../http/errors';
import { requireStaff, type StaffPrincipal } from '../../http/session';
import { t, type Lang } from '../../i18n/index';
import { bilingualRoute, fillPath } from '../../web/render';
import { diffSnapshots } from './diff';
import { formValues, parseServiceForm, rowsFor } from './form';
import { AUDIENCES, CHANNEL_TYPES, THEMES, edb, emptySnapshot, liveSnapshot, normaliseSnapshot, type Snapshot } from './model';
import {
  addContact, canEdit, createService, editToken, discardDraft, isEditor, isOneStopReviewer, markReviewed, openRevision, publish, recall,
  removeContact, requireOneStopReviewer, saveDraft, sendBack, serviceFor, submitForReview, withdraw,
} from './workflow';
import { IdParams, apiRoutes, requireEditorial } from './api';
import { own } from '../../http/ownership';
import { serviceOwner } from './owners';

const PATHS = {
  list: { en: '/en/staff/catalogue', fr: '/fr/personnel/catalogue' },
  create: { en: '/en/staff/catalogue/new', fr: '/fr/personnel/catalogue/nouveau' },
  queue: { en: '/en/staff/catalogue/review', fr: '/fr/personnel/catalogue/examen' },
  stale: { en: '/en/staff/catalogue/stale', fr: '/fr/personnel/catalogue/contenu-perime' },
  service: { en: '/en/staff/catalogue/:id', fr: '/fr/personnel/catalogue/:id' },
  edit: { en: '/en/staff/catalogue/:id/edit', fr: '/fr/personnel/catalogue/:id/modifier' },
  submit: { en: '/en/staff/catalogue/:id/submit', fr: '/fr/personnel/catalogue/:id/soumettre' },
  recall: { en: '/en/staff/catalogue/:id/recall', fr: '/fr/personnel/catalogue/:id/rappeler' },
  discard: { en: '/en/staff/catalogue/:id/discard', fr: '/fr/personnel/catalogue/:id/abandonner' },
  publish: { en: '/en/staff/catalogue/:id/publish', fr: '/fr/personnel/catalogue/:id/publier' },
  sendBack: { en: '/en/staff/catalogue/:id/send-back', fr: '/fr/personnel/catalogue/:id/renvoyer' },
  withdraw: { en: '/en/staff/catalogue/:id/withdraw', fr: '/fr/personnel/catalogue/:id/retirer' },
  reviewed: { en: '/en/staff/catalogue/:id/reviewed', fr: '/fr/personnel/catalogue/:id/verifie' },
  history: { en: '/en/staff/catalogue/:id/history', fr: '/fr/personnel/catalogue/:id/historique' },
  contacts: { en: '/en/staff/catalogue/:id/contacts', fr: '/fr/personnel/catalogue/:id/personnes-ressources' },
  contactDelete: { en: '/en/staff/catalogue/:id/contacts/:contactId/delete', fr: '/fr/personnel/catalogue/:id/personnes-ressources/:contactId/supprimer' },
  bank: { en: '/en/staff/services/:id', fr: '/fr/personnel/services/:id' },
  login: { en: '/en/staff/login', fr: '/fr/personnel/connexion' },
  publicService: { en: '/en/services/:id', fr: '/fr/services/:id' },
} as const;
type PathKey = keyof typeof PATHS;

export const editorPath = (key: PathKey, lang: Lang, params: Record<string, string | number> = {}) =>
  fillPath(PATHS[key][lang], Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])));

/** All the links of one service's pages, for templates. */
const serviceUrls = (lang: Lang, id: string) =>
  Object.fromEntries(
    (['service', 'edit', 'submit', 'recall', 'discard', 'publish', 'sendBack', 'withdraw', 'reviewed', 'history', 'contacts', 'bank', 'publicService'] as const).map((k) => [
      k,
      editorPath(k, lang, { id }),
    ]),
  ) as Record<string, string>;

const DONE = new Set(['created', 'saved', 'unchanged', 'submitted', 'recalled', 'discarded', 'published', 'sentBack', 'withdrawn', 'reviewed', 'contactAdded', 'contactRemoved']);

const PAGE_SIZE = 50;
const PageQuery = Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })), done: Type.Optional(Type.String({ maxLength: 40 })) });

/** Signed-in staff for a page, or a redirect to the staff sign-in page (null returned). */
function staffOrLogin(request: FastifyRequest, reply: FastifyReply, lang: Lang): StaffPrincipal | null {
  if (!request.staff) {
    void reply.redirect(editorPath('login', lang), 303);
    return null;
  }
  return request.staff;
}


const errorsByField = (errors: FieldError[]) => Object.fromEntries(errors.map((e) => [e.field, { text: e.message }]));
const errorList = (errors: FieldError[]) => errors.map((e) => ({ text: e.message, href: `#${e.field}` }));

function pagination(lang: Lang, base: string, page: number, total: number, extra: Record<string, string> = {}) {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (pages <= 1) return null;
  const href = (p: number) => `${base}?${new URLSearchParams({ ...extra, page: String(p) }).toString()}`;
  return {
    previous: page > 1 ? { href: href(page - 1), text: t(lang, 'editor.page.previous') } : undefined,
    next: page < pages ? { href: href(page + 1), text: t(lang, 'editor.page.next') } : undefined,
    items: Array.from({ length: pages }, (_, i) => i + 1)
      .filter((p) => p === 1 || p === pages || Math.abs(p - page) <= 2)
      .map((p) => ({ number: p, href: href(p), current: p === page })),
    landmarkLabel: t(lang, 'editor.page.label'),
  };
}

/** Form choices (audiences, thematic areas, channels) for the edit page. */
function choices(lang: Lang, values: Record<string, string | string[]>, current: Snapshot) {
  const checked = (field: string) => new Set(Array.isArray(values[field]) ? (values[field] as string[]) : values[field] ? [values[field] as string] : []);
  const aud = checked('audiences');
  const th = checked('thematic_areas');
  const themes = [...new Set<string>([...THEMES, ...current.thematic_areas])];
  return {
    audiences: AUDIENCES.map((a) => ({ value: a, text: t(lang, `editor.audience.${a}`), checked: aud.has(a) })),
    themes: themes.map((a) => ({ value: a, text: t(lang, `editor.theme.${a}`) === `editor.theme.${a}` ? a : t(lang, `editor.theme.${a}`), checked: th.has(a) })),
    channels: CHANNEL_TYPES.map((c) => ({ value: c, text: t(lang, `editor.channel.${c}`), checked: values[`ch_${c}`] === 'yes' })),
  };
}

export async function editorRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db } = deps;
  const xdb = edb(db);
  const ownService = serviceOwner(db);
  const ownReview = serviceOwner(db, ['reviewer']);

  async function renderEdit(
    reply: FastifyReply,
    lang: Lang,
    opts: { id?: string; current: Snapshot; values: Record<string, string | string[]>; errors?: FieldError[]; title?: string; token?: string },
  ) {
    const errors = opts.errors ?? [];
    return reply.page(
      'catalogue/editor/views/edit.njk',
      {
        title: opts.id ? t(lang, 'editor.edit.title', { title: opts.title ?? '' }) : t(lang, 'editor.new.title'),
        action: opts.id ? editorPath('edit', lang, { id: opts.id }) : editorPath('create', lang),
        back: opts.id ? editorPath('service', lang, { id: opts.id }) : editorPath('list', lang),
        values: opts.values,
        token: opts.token ?? '',
        rows: rowsFor(opts.values),
        choices: choices(lang, opts.values, opts.current),
        fieldErrors: errorsByField(errors),
        errorList: errorList(errors),
      },
      errors.length ? 400 : 200,
    );
  }

  // ---- My organisation's services -------------------------------------------------------------------------------
  bilingualRoute(
    app,
    'GET',
    PATHS.list,
    async (request: FastifyRequest<{ Querystring: Static<typeof PageQuery> }>, reply, lang) => {
      if (!staffOrLogin(request, reply, lang)) return reply;
      const staff = requireEditorial(request);
      const page = request.query.page ?? 1;
      const base = xdb.selectFrom('services').where('owner_org_id', '=', isEditor(staff) ? staff.orgId : '(no organisation)');
      const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await base
        .leftJoin('service_versions as v', (j) => j.onRef('v.service_id', '=', 'services.id').on('v.status', 'in', ['draft', 'in_review']))
        .select(['services.id', 'services.title_en', 'services.title_fr', 'services.status', 'services.version', 'services.reviewed_at', 'v.status as revision_status'])
        .orderBy(lang === 'fr' ? 'services.title_fr' : 'services.title_en')
        .orderBy('services.id')
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
        .execute();
      const org = await db.selectFrom('organisations').select(['name_en', 'name_fr']).where('id', '=', staff.orgId).executeTakeFirst();
      let inReview = 0;
      if (isOneStopReviewer(staff)) {
        inReview = Number(
          (await xdb.selectFrom('service_versions').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'in_review').executeTakeFirstOrThrow()).n,
        );
      }
      return reply.page('catalogue/editor/views/list.njk', {
        title: t(lang, 'editor.list.title'),
        orgName: org ? (lang === 'fr' ? org.name_fr : org.name_en) : staff.orgId,
        isEditor: isEditor(staff),
        isReviewer: isOneStopReviewer(staff),
        inReview,
        total: Number(n),
        services: rows.map((r) => ({ ...r, url: editorPath('service', lang, { id: r.id }) })),
        pagination: pagination(lang, PATHS.list[lang], page, Number(n)),
        newUrl: editorPath('create', lang),
        queueUrl: editorPath('queue', lang),
        staleUrl: editorPath('stale', lang),
      });
    },
    { config: own.caller('the services of the caller’s organisation', ['editor', 'reviewer']), schema: { querystring: PageQuery } },
  );

  // ---- New service ---------------------------------------------------------------------------------------------
  bilingualRoute(app, 'GET', PATHS.create, async (request, reply, lang) => {
    if (!staffOrLogin(request, reply, lang)) return reply;
    requireStaff(request, ['editor']);
    const snap = emptySnapshot();
    return renderEdit(reply, lang, { current: snap, values: formValues(snap, lang) });
  }, { config: own.caller('a new service of the caller’s organisation', ['editor']) });

  bilingualRoute(app, 'POST', PATHS.create, async (request, reply, lang) => {
    const staff = requireStaff(request, ['editor']);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const current = emptySnapshot();
    const { snapshot, errors } = parseServiceForm(body, current, lang);
    if (errors.length) return renderEdit(reply, lang, { current, values: formValues(current, lang, body), errors });
    const id = await createService(db, staff, snapshot);
    return reply.redirect(`${editorPath('service', lang, { id })}?done=created`, 303);
  }, { config: own.caller('a new service of the caller’s organisation', ['editor']) });

  // ---- Review queue (one-stop reviewers) -------------------------------------------------------------------------
  bilingualRoute(app, 'GET', PATHS.queue, async (request, reply, lang) => {
    if (!staffOrLogin(request, reply, lang)) return reply;
    const staff = requireEditorial(request);
    requireOneStopReviewer(staff);
    const rows = await xdb
      .selectFrom('service_versions as v')
      .innerJoin('services as s', 's.id', 'v.service_id')
      .innerJoin('organisations as o', 'o.id', 's.owner_org_id')
      .leftJoin('staff_users as u', 'u.id', 'v.submitted_by')
      .select(['s.id', 's.title_en', 's.title_fr', 's.status', 'v.version', 'v.submitted_at', 'o.name_en as org_en', 'o.name_fr as org_fr', 'u.name as submitted_by'])
      .where('v.status', '=', 'in_review')
      .orderBy('v.submitted_at')
      .execute();
    return reply.page('catalogue/editor/views/queue.njk', {
      title: t(lang, 'editor.queue.title'),
      items: rows.map((r) => ({ ...r, url: editorPath('service', lang, { id: r.id }) })),
      back: editorPath('list', lang),
    });
  }, { config: own.caller('the review queue (the one-stop reviewers’; editors see their organisation’s)', ['editor', 'reviewer']) });

  // ---- Stale content report ------------------------------------------------------------------------------------
  const StaleQuery = Type.Object({
    months: Type.Optional(Type.Integer({ minimum: 1, maximum: 240 })),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    org: Type.Optional(Type.String({ maxLength: 100 })),
  });
  bilingualRoute(
    app,
    'GET',
    PATHS.stale,
    async (request: FastifyRequest<{ Querystring: Static<typeof StaleQuery> }>, reply, lang) => {
      if (!staffOrLogin(request, reply, lang)) return reply;
      const staff = requireEditorial(request);
      const months = request.query.months ?? 12;
      const page = request.query.page ?? 1;
      const cutoff = new Date();
      cutoff.setUTCMonth(cutoff.getUTCMonth() - months);
      const all = isOneStopReviewer(staff);
      let base = xdb
        .selectFrom('services as s')
        .innerJoin('organisations as o', 'o.id', 's.owner_org_id')
        .where('s.status', '=', 'published')
        .where((eb) => eb.or([eb('s.reviewed_at', 'is', null), eb('s.reviewed_at', '<', cutoff)]));
      const org = all ? request.query.org || undefined : staff.orgId;
      if (org) base = base.where('s.owner_org_id', '=', org);
      const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await base
        .select(['s.id', 's.title_en', 's.title_fr', 's.reviewed_at', 'o.name_en as org_en', 'o.name_fr as org_fr'])
        .orderBy('s.reviewed_at', (ob) => ob.asc().nullsFirst())
        .orderBy(lang === 'fr' ? 's.title_fr' : 's.title_en')
        .orderBy('s.id')
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
        .execute();
      return reply.page('catalogue/editor/views/stale.njk', {
        title: t(lang, 'editor.stale.title'),
        months,
        all,
        total: Number(n),
        items: rows.map((r) => ({ ...r, url: editorPath('service', lang, { id: r.id }) })),
        action: PATHS.stale[lang],
        org: all ? (request.query.org ?? '') : '',
        pagination: pagination(lang, PATHS.stale[lang], page, Number(n), { months: String(months), ...(all && org ? { org } : {}) }),
        back: editorPath('list', lang),
      });
    },
    { config: own.caller('the stale services of the caller’s organisation', ['editor', 'reviewer']), schema: { querystring: StaleQuery } },
  );

  // ---- One service: overview, open revision and its diff, actions -------------------------------------------------
  async function renderService(request: FastifyRequest, reply: FastifyReply, lang: Lang, id: string, opts: { errors?: FieldError[]; done?: string; comment?: string; contact?: Record<string, string> } = {}) {
    const staff = requireEditorial(request);
    const svc = await serviceFor(xdb, staff, id, 'view');
    const [org, rev, live, contacts] = await Promise.all([
      db.selectFrom('organisations').select(['name_en', 'name_fr']).where('id', '=', svc.owner_org_id).executeTakeFirstOrThrow(),
      openRevision(xdb, id),
      liveSnapshot(xdb, id),
      xdb.selectFrom('service_contacts').selectAll().where('service_id', '=', id).orderBy('id').execute(),
    ]);
    const neverPublished = svc.status === 'draft';
    const before = neverPublished ? emptySnapshot() : live!;
    const diff = rev ? diffSnapshots(before, normaliseSnapshot(rev.snapshot), lang) : [];
    const editable = canEdit(staff, svc.owner_org_id);
    const reviewer = isOneStopReviewer(staff);
    const errors = opts.errors ?? [];
    return reply.page(
      'catalogue/editor/views/service.njk',
      {
        title: lang === 'fr' ? svc.title_fr : svc.title_en,
        svc,
        orgName: lang === 'fr' ? org.name_fr : org.name_en,
        rev,
        diff,
        contacts,
        urls: serviceUrls(lang, id),
        can: {
          edit: editable && rev?.status !== 'in_review',
          submit: editable && rev?.status === 'draft',
          recall: editable && rev?.status === 'in_review',
          discard: editable && rev?.status === 'draft' && !neverPublished,
          review: reviewer && rev?.status === 'in_review',
          withdraw: reviewer && svc.status === 'published',
          markReviewed: (editable || reviewer) && svc.status === 'published',
          contacts: editable,
        },
        done: opts.done && DONE.has(opts.done) ? opts.done : null,
        comment: opts.comment ?? '',
        contact: opts.contact ?? {},
        fieldErrors: errorsByField(errors),
        errorList: errorList(errors),
        back: reviewer && !editable ? editorPath('queue', lang) : editorPath('list', lang),
      },
      errors.length ? 400 : 200,
    );
  }

  bilingualRoute(
    app,
    'GET',
    PATHS.service,
    async (request: FastifyRequest<{ Params: Static<typeof IdParams>; Querystring: Static<typeof PageQuery> }>, reply, lang) => {
      if (!staffOrLogin(request, reply, lang)) return reply;
      return renderService(request, reply, lang, request.params.id, { done: request.query.done });
    },
    { config: ownService, schema: { params: IdParams, querystring: PageQuery } },
  );

  // ---- Edit the draft --------------------------------------------------------------------------------------------
  bilingualRoute(
    app,
    'GET',
    PATHS.edit,
    async (request: FastifyRequest<{ Params: Static<typeof IdParams> }>, reply, lang) => {
      if (!staffOrLogin(request, reply, lang)) return reply;
      const staff = requireStaff(request, ['editor']);
      const svc = await serviceFor(xdb, staff, request.params.id, 'edit');
      const rev = await openRevision(xdb, svc.id);
      if (rev?.status === 'in_review') throw new AppError(409, 'REVISION_IN_REVIEW');
      const current = rev ? normaliseSnapshot(rev.snapshot) : (await liveSnapshot(xdb, svc.id))!;
      return renderEdit(reply, lang, { id: svc.id, title: lang === 'fr' ? svc.title_fr : svc.title_en, current, values: formValues(current, lang), token: editToken(svc, rev) });
    },
    { config: ownService, schema: { params: IdParams } },
  );

  bilingualRoute(
    app,
    'POST',
    PATHS.edit,
    async (request: FastifyRequest<{ Params: Static<typeof IdParams> }>, reply, lang) => {
      const staff = requireStaff(request, ['editor']);
      const svc = await serviceFor(xdb, staff, request.params.id, 'edit');
      const rev = await openRevision(xdb, svc.id);
      const current = rev ? normaliseSnapshot(rev.snapshot) : (await liveSnapshot(xdb, svc.id))!;
      const body = (request.body ?? {}) as Record<string, unknown>;
      const { snapshot, errors } = parseServiceForm(body, current, lang);
      const token = typeof body._rev === 'string' && body._rev ? body._rev : undefined;
      if (errors.length) {
        return renderEdit(reply, lang, { id: svc.id, title: lang === 'fr' ? svc.title_fr : svc.title_en, current, values: formValues(current, lang, body), errors, token });
      }
      const changed = await saveDraft(db, staff, svc.id, snapshot, token);
      return reply.redirect(`${editorPath('service', lang, { id: svc.id })}?done=${changed ? 'saved' : 'unchanged'}`, 303);
    },
    { config: ownService, schema: { params: IdParams } },
  );

  // ---- Workflow actions (POST, CSRF-checked by the session layer) ------------------------------------------------
  const CommentBody = Type.Object({ _csrf: Type.Optional(Type.String()), comment: Type.Optional(Type.String({ maxLength: 4000 })) });
  const action = (
    key: 'submit' | 'recall' | 'discard' | 'publish' | 'sendBack' | 'withdraw' | 'reviewed',
    done: string,
    run: (staff: StaffPrincipal, id: string, comment: string | undefined, lang: Lang) => Promise<unknown>,
  ) =>
    bilingualRoute(
      app,
      'POST',
      PATHS[key],
      async (request: FastifyRequest<{ Params: Static<typeof IdParams>; Body: Static<typeof CommentBody> }>, reply, lang) => {
        const staff = requireEditorial(request);
        const id = request.params.id;
        try {
          await run(staff, id, request.body?.comment, lang);
        } catch (e) {
          if (e instanceof AppError && e.code === 'VALIDATION_ERROR' && e.details?.length) {
            return renderService(request, reply, lang, id, { errors: e.details, comment: request.body?.comment });
          }
          throw e;
        }
        return reply.redirect(`${editorPath('service', lang, { id })}?done=${done}`, 303);
      },
      // publishing, sending back and withdrawing are the one-stop reviewers' (a role the owner's editors lack: 403)
      { config: ['publish', 'sendBack', 'withdraw'].includes(key) ? ownReview : ownService, schema: { params: IdParams, body: CommentBody } },
    );

  action('submit', 'submitted', (s, id) => submitForReview(db, s, id));
  action('recall', 'recalled', (s, id) => recall(db, s, id));
  action('discard', 'discarded', (s, id) => discardDraft(db, s, id));
  action('publish', 'published', (s, id, c, l) => publish(db, s, id, c, l));
  action('sendBack', 'sentBack', (s, id, c, l) => sendBack(db, s, id, c, l));
  action('withdraw', 'withdrawn', (s, id, c, l) => withdraw(db, s, id, c, l));
  action('reviewed', 'reviewed', (s, id) => markReviewed(db, s, id));

  // ---- Resource persons (internal) -------------------------------------------------------------------------------
  const ContactBody = Type.Object({
    _csrf: Type.Optional(Type.String()),
    name: Type.Optional(Type.String({ maxLength: 1000 })),
    role_en: Type.Optional(Type.String({ maxLength: 1000 })),
    role_fr: Type.Optional(Type.String({ maxLength: 1000 })),
    phone: Type.Optional(Type.String({ maxLength: 1000 })),
    email: Type.Optional(Type.String({ maxLength: 1000 })),
  });
  bilingualRoute(
    app,
    'POST',
    PATHS.contacts,
    async (request: FastifyRequest<{ Params: Static<typeof IdParams>; Body: Static<typeof ContactBody> }>, reply, lang) => {
      const staff = requireStaff(request, ['editor']);
      const id = request.params.id;
      await serviceFor(xdb, staff, id, 'edit');
      const b = request.body ?? {};
      const v = { name: (b.name ?? '').trim(), role_en: (b.role_en ?? '').trim(), role_fr: (b.role_fr ?? '').trim(), phone: (b.phone ?? '').trim(), email: (b.email ?? '').trim() };
      const errors: FieldError[] = [];
      const err = (field: string, code: string, params?: Record<string, string | number>) => errors.push({ field, code, message: t(lang, `editor.error.${code}`, params) });
      if (!v.name) err('contact_name', 'required');
      for (const [f, max] of [['name', 200], ['role_en', 200], ['role_fr', 200]] as const) if (v[f].length > max) err(`contact_${f}`, 'tooLong', { max });
      if (v.phone && !/^[0-9+().\-\s]{3,30}(\s*(x|ext\.?|poste)\s*\d{1,6})?$/i.test(v.phone)) err('contact_phone', 'phone');
      if (v.email && !/^[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]+$/.test(v.email)) err('contact_email', 'email');
      if (!v.phone && !v.email) err('contact_phone', 'contactMeans');
      if (errors.length) return renderService(request, reply, lang, id, { errors, contact: v });
      await addContact(db, staff, id, { name: v.name, role_en: v.role_en, role_fr: v.role_fr, phone: v.phone || null, email: v.email || null });
      return reply.redirect(`${editorPath('service', lang, { id })}?done=contactAdded`, 303);
    },
    { config: ownService, schema: { params: IdParams, body: ContactBody } },
  );

  const ContactParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }), contactId: Type.Integer({ minimum: 1, maximum: 2147483647 }) });
  bilingualRoute(
    app,
    'POST',
    PATHS.contactDelete,
    async (request: FastifyRequest<{ Params: Static<typeof ContactParams> }>, reply, lang) => {
      const staff = requireStaff(request, ['editor']);
      await removeContact(db, staff, request.params.id, request.params.contactId);
      return reply.redirect(`${editorPath('service', lang, { id: request.params.id })}?done=contactRemoved`, 303);
    },
    { config: ownService, schema: { params: ContactParams } },
  );

  // ---- History with readable diffs -------------------------------------------------------------------------------
  bilingualRoute(
    app,
    'GET',
    PATHS.history,
    async (request: FastifyRequest<{ Params: Static<typeof IdParams> }>, reply, lang) => {
      if (!staffOrLogin(request, reply, lang)) return reply;
      const staff = requireEditorial(request);
      const svc = await serviceFor(xdb, staff, request.params.id, 'view');
      const [events, revisions] = await Promise.all([
        xdb
          .selectFrom('editor_events as e')
          .leftJoin('staff_users as u', 'u.id', 'e.actor_id')
          .select(['e.id', 'e.action', 'e.version', 'e.comment', 'e.created_at', 'u.name as actor'])
          .where('e.service_id', '=', svc.id)
          .orderBy('e.id', 'desc')
          .execute(),
        xdb
          .selectFrom('service_versions as v')
          .leftJoin('staff_users as u', 'u.id', 'v.reviewed_by')
          .select(['v.id', 'v.version', 'v.status', 'v.snapshot', 'v.base', 'v.comment', 'v.changed_by', 'v.updated_at', 'v.created_at', 'u.name as reviewer'])
          .where('v.service_id', '=', svc.id)
          .orderBy('v.version', 'desc')
          .orderBy('v.id', 'desc')
          .execute(),
      ]);
      const live = (await liveSnapshot(xdb, svc.id))!;
      const items = revisions.map((r) => {
        const open = r.status === 'draft' || r.status === 'in_review';
        // What the revision changed: against the live content it started from (base); a new service's first
        // revision against nothing. Records written outside the workflow (e.g. the seed) are listed without a diff.
        let before: Snapshot | null = null;
        if (r.base) before = normaliseSnapshot(r.base);
        else if (open) before = svc.status === 'draft' ? emptySnapshot() : live;
        else if (r.changed_by !== 'seed' && isWorkflowSnapshot(r.snapshot)) before = emptySnapshot();
        return {
          version: r.version,
          status: r.status,
          comment: r.comment,
          reviewer: r.reviewer,
          at: r.updated_at ?? r.created_at,
          diff: before ? diffSnapshots(before, normaliseSnapshot(r.snapshot), lang) : null,
        };
      });
      return reply.page('catalogue/editor/views/history.njk', {
        title: t(lang, 'editor.history.title', { title: lang === 'fr' ? svc.title_fr : svc.title_en }),
        svc,
        events,
        revisions: items,
        back: editorPath('service', lang, { id: svc.id }),
      });
    },
    { config: ownService, schema: { params: IdParams } },
  );

  // ---- Information bank for agents -------------------------------------------------------------------------------
  bilingualRoute(
    app,
    'GET',
    PATHS.bank,
    async (request: FastifyRequest<{ Params: Static<typeof IdParams> }>, reply, lang) => {
      if (!staffOrLogin(request, reply, lang)) return reply;
      requireStaff(request, ['agent']);
      const svc = await db
        .selectFrom('services')
        .innerJoin('organisations as o', 'o.id', 'services.owner_org_id')
        .select([
          'services.id', 'services.status', 'services.title_en', 'services.title_fr', 'services.description_en', 'services.description_fr',
          'services.agent_notes_en', 'services.agent_notes_fr', 'services.guarantee_days', 'services.reviewed_at', 'services.published_at',
          'services.url_en', 'services.url_fr', 'o.name_en as org_en', 'o.name_fr as org_fr', 'o.phone as org_phone',
        ])
        .where('services.id', '=', request.params.id)
        .where('services.status', 'in', ['published', 'withdrawn'])
        .executeTakeFirst();
      if (!svc) throw new AppError(404, 'SERVICE_NOT_FOUND');
      const [snap, contacts] = await Promise.all([
        liveSnapshot(xdb, svc.id),
        xdb
          .selectFrom('service_contacts as c')
          .innerJoin('organisations as o', 'o.id', 'c.org_id')
          .select(['c.id', 'c.name', 'c.role_en', 'c.role_fr', 'c.phone', 'c.email', 'o.name_en as org_en', 'o.name_fr as org_fr'])
          .where('c.service_id', '=', svc.id)
          .orderBy('c.id')
          .execute(),
      ]);
      return reply.page('catalogue/editor/views/bank.njk', {
        title: lang === 'fr' ? svc.title_fr : svc.title_en,
        svc,
        snap,
        contacts,
        publicUrl: editorPath('publicService', lang, { id: svc.id }),
      });
    },
    { config: own.caller('the agents’ information bank: published service information and agent notes, shared with every agent', ['agent']), schema: { params: IdParams } },
  );

  // ---- JSON API for partner systems ------------------------------------------------------------------------------
  await apiRoutes(app, deps);
}

/** Seed records and other foreign shapes are not comparable snapshots. */
function isWorkflowSnapshot(raw: unknown): boolean {
  return Boolean(raw && typeof raw === 'object' && 'title_en' in (raw as object) && 'channels' in (raw as object) && 'agent_notes_en' in (raw as object) && 'requirements' in (raw as object));
}
