/**
 * Tell Us Once: client pages (declare, choose recipients, follow each notice), the public list of who can be told,
 * staff management (subscriptions, partner API keys, alerts), the client and partner JSON APIs, and (outside
 * production) a demo partner inbox that verifies signatures, so `npm start` shows notices reaching "delivered".
 */
import crypto from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError, type FieldError, signInRedirect } from '../http/errors';
import { requireStaff } from '../http/session';
import { bilingualRoute, fillPath } from '../web/render';
import { formatDate, t, type Lang } from '../i18n/index';
import { isUuid } from '../db/ids';
import {
  EVENT_TYPES,
  eventBySlug,
  eventTypes,
  flattenData,
  inputName,
  itemKeys,
  PROVINCES,
  validateEventData,
  ALL_ITEM_KEYS,
  type EventData,
  type EventTypeDef,
} from './events';
import {
  addRecipients,
  clientDeclarations,
  createApiKey,
  declare,
  listSubscriptions,
  MAX_RECIPIENTS,
  openAlerts,
  relationshipOrgs,
  saveSubscription,
  type SubscriptionInput,
  type SubscriptionRow,
} from './service';
import { CLIENT_PATHS, actingForBanner } from '../clients/routes';
import { businessesFor, representedBusiness, REPRESENTATIVE_PURPOSE, representativeBasis, type Representation } from '../clients/accounts';
import { recordAccess } from '../clients/access-log';
import { serialId } from '../db/ids';
import { noticeOwners } from './owners';
import { ONE_STOP_ORG } from '../http/ownership';

const P = {
  start: { en: '/en/tell-us-once', fr: '/fr/dites-le-nous-une-fois' },
  who: { en: '/en/tell-us-once/who-can-be-told', fr: '/fr/dites-le-nous-une-fois/qui-peut-etre-informe' },
  form: { en: '/en/tell-us-once/:slug', fr: '/fr/dites-le-nous-une-fois/:slug' },
  check: { en: '/en/tell-us-once/:slug/check', fr: '/fr/dites-le-nous-une-fois/:slug/verifier' },
  send: { en: '/en/tell-us-once/:slug/send', fr: '/fr/dites-le-nous-une-fois/:slug/envoyer' },
  mine: { en: '/en/my-file/notices', fr: '/fr/mon-dossier/avis' },
  declaration: { en: '/en/my-file/notices/:id', fr: '/fr/mon-dossier/avis/:id' },
  add: { en: '/en/my-file/notices/:id/recipients', fr: '/fr/mon-dossier/avis/:id/destinataires' },
  staff: { en: '/en/staff/tell-us-once', fr: '/fr/personnel/dites-le-nous-une-fois' },
  staffNew: { en: '/en/staff/tell-us-once/subscriptions/new', fr: '/fr/personnel/dites-le-nous-une-fois/abonnements/nouveau' },
  staffEdit: { en: '/en/staff/tell-us-once/subscriptions/:id', fr: '/fr/personnel/dites-le-nous-une-fois/abonnements/:id' },
  staffKey: { en: '/en/staff/tell-us-once/api-keys', fr: '/fr/personnel/dites-le-nous-une-fois/cles-api' },
  staffResolve: { en: '/en/staff/tell-us-once/alerts/:id/resolve', fr: '/fr/personnel/dites-le-nous-une-fois/alertes/:id/traiter' },
  // a representative acting for a business (its notices, and its declarations through Tell Us Once)
  bNotices: CLIENT_PATHS.businessNotices,
  bForm: { en: '/en/my-file/businesses/:businessId/tell-us-once/:slug', fr: '/fr/mon-dossier/entreprises/:businessId/dites-le-nous-une-fois/:slug' },
  bCheck: { en: '/en/my-file/businesses/:businessId/tell-us-once/:slug/check', fr: '/fr/mon-dossier/entreprises/:businessId/dites-le-nous-une-fois/:slug/verifier' },
  bSend: { en: '/en/my-file/businesses/:businessId/tell-us-once/:slug/send', fr: '/fr/mon-dossier/entreprises/:businessId/dites-le-nous-une-fois/:slug/envoyer' },
};
export const SIGN_IN = { en: '/en/my-file', fr: '/fr/mon-dossier' };
export const STAFF_ROLES = ['admin', 'manager'];

const path = (p: { en: string; fr: string }, lang: Lang, params: Record<string, string> = {}) => fillPath(p[lang], params);

/** Field errors with their translated messages and field labels (for the error summary). */
function describeFields(lang: Lang, errors: FieldError[], label: (field: string) => string = () => '') {
  return errors.map((e) => ({ ...e, message: e.message ?? t(lang, `field.${e.code}`), label: label(e.field) }));
}

function inputLabel(lang: Lang, event: EventTypeDef, field: string): string {
  const [item, input] = field.split('.');
  const def = event.items.find((i) => i.key === item);
  if (!def) return '';
  if (!input || (def.inputs.length === 1 && def.inputs[0].name === item)) return t(lang, `notices.item.${item}`);
  return `${t(lang, `notices.item.${item}`)} – ${t(lang, `notices.input.${input}`)}`;
}

function formSections(lang: Lang, event: EventTypeDef, values: Record<string, string>, errors: FieldError[]) {
  const errorFor = (name: string) => {
    const e = errors.find((x) => x.field === name);
    return e ? (e.message ?? t(lang, `field.${e.code}`)) : undefined;
  };
  return event.items.map((item) => {
    const single = item.inputs.length === 1 && item.inputs[0].name === item.key;
    return {
      key: item.key,
      label: t(lang, `notices.item.${item.key}`),
      single,
      inputs: item.inputs.map((input) => {
        const name = inputName(item, input);
        const value = values[name] ?? '';
        let options: Array<{ value: string; text: string; selected?: boolean }> | undefined;
        if (input.kind === 'province')
          options = [{ value: '', text: t(lang, 'notices.selectPrompt') }, ...PROVINCES.map((p) => ({ value: p, text: t(lang, `province.${p}`), selected: value === p }))];
        if (input.kind === 'select')
          options = [{ value: '', text: t(lang, 'notices.selectPrompt') }, ...input.options!.map((o) => ({ value: o, text: t(lang, `notices.option.${o}`), selected: value === o }))];
        const autocomplete: Record<string, string> = { line1: 'address-line1', line2: 'address-line2', city: 'address-level2', province: 'address-level1', postalCode: 'postal-code', newEmail: 'email', newPhone: 'tel' };
        return {
          name,
          id: `f-${name.replace(/\./g, '-')}`,
          label: single ? t(lang, `notices.item.${item.key}`) : t(lang, `notices.input.${input.name}`),
          kind: input.kind,
          value,
          options,
          hint: input.kind === 'date' ? t(lang, 'notices.dateHint') : input.kind === 'postalCode' ? t(lang, 'notices.postalHint') : undefined,
          autocomplete: item.key === 'newAddress' || input.kind === 'email' || input.kind === 'phone' ? autocomplete[input.name] : undefined,
          error: errorFor(name),
        };
      }),
    };
  });
}

function fieldLabel(lang: Lang, key: string): string {
  return t(lang, `notices.item.${key}`);
}

function displayValue(lang: Lang, v: unknown): string {
  if (v && typeof v === 'object') {
    const o = v as Record<string, string>;
    if ('line1' in o) return [o.line1, o.line2, `${o.city ?? ''} ${o.province ?? ''}  ${o.postalCode ?? ''}`.trim()].filter(Boolean).join(', ');
    if ('givenName' in o || 'familyName' in o) return `${o.givenName ?? ''} ${o.familyName ?? ''}`.trim();
    return Object.values(o).join(', ');
  }
  const s = String(v ?? '');
  // dates in the reader's language ("15 December 2026", "15 décembre 2026"), not 2026-12-15
  if (/^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s))) return formatDate(s, lang);
  const opt = `notices.option.${s}`;
  const tr = t(lang, opt);
  return tr !== opt ? tr : s;
}

/** "Program (Organisation)", or the program alone when its name already says the organisation (a program named
 * "Canada Revenue Agency: benefits and credits" read "… (demo subscription) (Canada Revenue Agency)"). */
function programLabel(lang: Lang, program: string, org: string | null | undefined): string {
  if (!org) return program;
  const bare = org.replace(/\s*\((demo|démo)\)\s*$/i, '');
  return program.toLowerCase().includes(bare.toLowerCase()) ? program : t(lang, 'notices.programOf', { program, org });
}

function recipientItems(lang: Lang, subs: SubscriptionRow[], event: EventTypeDef, preselect: (s: SubscriptionRow) => boolean) {
  const offered = new Set(itemKeys(event));
  return subs.map((s) => {
    const fields = s.fields.filter((f) => offered.has(f)).map((f) => fieldLabel(lang, f));
    const basis = s.legal_basis === 'law' ? t(lang, 'notices.basis.law', { law: s.law_reference ?? '' }) : t(lang, 'notices.basis.consent');
    return {
      value: s.id,
      text: programLabel(lang, lang === 'fr' ? s.program_fr : s.program_en, lang === 'fr' ? s.org_name_fr : s.org_name_en),
      hint: { text: `${lang === 'fr' ? s.purpose_fr : s.purpose_en} ${t(lang, 'notices.receives', { fields: fields.join(', ') })}. ${basis}` },
      checked: preselect(s),
    };
  });
}

function splitBody(body: Record<string, unknown> | undefined) {
  const data: Record<string, string> = {};
  let recipients: unknown;
  let formToken: string | undefined;
  for (const [k, v] of Object.entries(body ?? {})) {
    if (k === '_csrf') continue;
    if (k === 'formToken') {
      if (typeof v === 'string') formToken = v;
      continue;
    }
    if (k === 'recipients') recipients = v;
    else if (typeof v === 'string') data[k] = v;
    else data[k] = Array.isArray(v) ? (v as unknown[]).join(',') : String(v);
  }
  return { data, recipients, formToken };
}

/** Only string form values reach the validator (multiple values for one name are invalid). */
const FormBody = Type.Record(Type.String({ maxLength: 200 }), Type.Union([Type.String({ maxLength: 2000 }), Type.Array(Type.String({ maxLength: 200 }), { maxItems: MAX_RECIPIENTS * 2 })]));


/** The pages (server-rendered, bilingual, no JavaScript needed); the JSON API is in api.ts. */
export async function pageRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db, config } = deps;
  const own = noticeOwners(db);
  const issuer = config.publicBaseUrl;
  const allowLoopback = config.env !== 'production';

  const signInPage = (reply: FastifyReply, lang: Lang) => reply.page('notices/views/signin.njk', { title: t(lang, 'notices.title'), signInUrl: SIGN_IN[lang] }, 401);

  // ------------------------------------------------------------------ public pages
  bilingualRoute(app, 'GET', P.start, async (request, reply, lang) => {
    const audience = request.client ? (await db.selectFrom('clients').select('kind').where('id', '=', request.client.id).executeTakeFirst())?.kind : undefined;
    const events = Object.values(eventTypes)
      .filter((e) => !audience || e.audience === audience)
      .map((e) => ({ id: e.id, href: path(P.form, lang, { slug: e.slug[lang] }) }));
    // a person who may act for businesses declares for them from the business's notices page
    const businesses = request.client && audience === 'person' ? (await businessesFor(db, request.client.id)).map((b) => ({ name: b.business_name, href: path(P.bNotices, lang, { businessId: b.id }) })) : [];
    return reply.page('notices/views/start.njk', { title: t(lang, 'notices.title'), events, businesses, whoUrl: P.who[lang], myUrl: P.mine[lang], signInUrl: SIGN_IN[lang] });
  }, { config: own.none });

  bilingualRoute(app, 'GET', P.who, async (_request, reply, lang) => {
    const subs = await listSubscriptions(db, { activeOnly: true });
    return reply.page('notices/views/who.njk', {
      title: t(lang, 'notices.whoTitle'),
      subscriptions: subs.map((s) => ({
        ...s,
        rows: [
          { key: { text: t(lang, 'notices.whoWhy') }, value: { text: lang === 'fr' ? s.purpose_fr : s.purpose_en } },
          { key: { text: t(lang, 'notices.whoEvents') }, value: { text: s.event_types.map((e) => t(lang, `notices.event.${e}`)).join(', ') } },
          { key: { text: t(lang, 'notices.whoFields') }, value: { text: s.fields.map((f) => fieldLabel(lang, f)).join(', ') } },
          {
            key: { text: t(lang, 'notices.whoBasis') },
            value: { text: `${s.legal_basis === 'law' ? t(lang, 'notices.basis.law', { law: s.law_reference ?? '' }) : t(lang, 'notices.basis.consent')} ${t(lang, `notices.whoDelivery.${s.delivery}`)}` },
          },
        ],
      })),
    });
  }, { config: own.none });

  // ------------------------------------------------------------------ declaring (client)
  const eventFor = (slug: string, lang: Lang) => {
    const e = eventBySlug(slug);
    if (!e || e.slug[lang] !== slug) throw new AppError(404, 'NOT_FOUND');
    return e;
  };

  /** A representative acting for a business: the business's id and the "Acting for" banner. */
  type Acting = { rep: Representation; businessId: string };
  const renderForm = (reply: FastifyReply, lang: Lang, event: EventTypeDef, values: Record<string, string>, errors: FieldError[], status = 200, acting?: Acting) =>
    reply.page(
      'notices/views/form.njk',
      {
        title: t(lang, `notices.event.${event.id}`),
        eventId: event.id,
        actingFor: acting ? actingForBanner(lang, acting.rep) : undefined,
        startUrl: acting ? path(P.bNotices, lang, { businessId: acting.businessId }) : P.start[lang],
        action: acting ? path(P.bCheck, lang, { businessId: acting.businessId, slug: event.slug[lang] }) : path(P.check, lang, { slug: event.slug[lang] }),
        formSections: formSections(lang, event, values, errors),
        errors: describeFields(lang, errors, (f) => inputLabel(lang, event, f)),
      },
      status,
    );

  async function renderCheck(request: FastifyRequest, reply: FastifyReply, lang: Lang, event: EventTypeDef, data: EventData, chosen: string[] | null, errors: FieldError[] = [], acting?: Acting) {
    const subs = await listSubscriptions(db, { activeOnly: true, eventType: event.id });
    const related = await relationshipOrgs(db, acting?.businessId ?? request.client!.id);
    const slug = event.slug[lang];
    const answers = event.items
      .filter((i) => data[i.key] !== undefined)
      .map((i) => ({ key: { text: t(lang, `notices.item.${i.key}`) }, value: { text: displayValue(lang, data[i.key]) } }));
    const recipientsError = errors.find((e) => e.field === 'recipients');
    // one-time token of this form: sending it twice (Back, then Send again) gives the first declaration
    const posted = splitBody(request.body as Record<string, unknown>).formToken;
    const formToken = posted && isUuid(posted) ? posted : crypto.randomUUID();
    const items = recipientItems(lang, subs, event, (s) => (chosen ? chosen.includes(s.id) : related.has(s.org_id)));
    return reply.page(
      'notices/views/check.njk',
      {
        title: t(lang, 'notices.checkTitle'),
        eventId: event.id,
        answers,
        hidden: flattenData(data),
        actingFor: acting ? actingForBanner(lang, acting.rep) : undefined,
        editAction: acting ? `${path(P.bForm, lang, { businessId: acting.businessId, slug })}?edit=1` : `${path(P.form, lang, { slug })}?edit=1`,
        sendAction: acting ? path(P.bSend, lang, { businessId: acting.businessId, slug }) : path(P.send, lang, { slug }),
        recipientItems: items,
        formToken,
        // say that programs are pre-selected only when some are
        recipientsHint: t(lang, !chosen && items.some((i) => i.checked) ? 'notices.recipientsHint' : 'notices.recipientsHintNone'),
        recipientsError: recipientsError ? t(lang, `field.${recipientsError.code}`) : undefined,
        errors: describeFields(lang, errors, () => t(lang, 'notices.recipientsLegend')),
      },
      errors.length ? 400 : 200,
    );
  }

  bilingualRoute(app, 'GET', P.form, async (request, reply, lang) => {
    const event = eventFor((request.params as { slug: string }).slug, lang);
    if (!request.client) return signInPage(reply, lang);
    return renderForm(reply, lang, event, {}, []);
  }, { config: own.client });

  // "Change" from the check page: the form again, filled in.
  bilingualRoute(
    app,
    'POST',
    P.form,
    async (request, reply, lang) => {
      const event = eventFor((request.params as { slug: string }).slug, lang);
      if (!request.client) return signInPage(reply, lang);
      return renderForm(reply, lang, event, splitBody(request.body as Record<string, unknown>).data, []);
    },
    { config: own.client, schema: { body: FormBody } },
  );

  bilingualRoute(
    app,
    'POST',
    P.check,
    async (request, reply, lang) => {
      const event = eventFor((request.params as { slug: string }).slug, lang);
      if (!request.client) return signInPage(reply, lang);
      const { data: raw } = splitBody(request.body as Record<string, unknown>);
      const v = validateEventData(event, raw);
      if (v.errors.length) return renderForm(reply, lang, event, raw, v.errors, 400);
      return renderCheck(request, reply, lang, event, v.data, null);
    },
    { config: own.client, schema: { body: FormBody } },
  );

  bilingualRoute(
    app,
    'POST',
    P.send,
    async (request, reply, lang) => {
      const event = eventFor((request.params as { slug: string }).slug, lang);
      if (!request.client) return signInPage(reply, lang);
      const { data: raw, recipients, formToken } = splitBody(request.body as Record<string, unknown>);
      const v = validateEventData(event, raw);
      if (v.errors.length) return renderForm(reply, lang, event, raw, v.errors, 400);
      try {
        const r = await declare(db, { clientId: request.client.id, eventType: event.id, data: v.data, recipients: recipients ?? [], formToken }, { issuer });
        return reply.redirect(`${path(P.declaration, lang, { id: r.declarationId })}?sent=1`, 303);
      } catch (err) {
        if (err instanceof AppError && err.status === 400 && err.details) {
          const chosen = typeof recipients === 'string' ? [recipients] : Array.isArray(recipients) ? (recipients as string[]) : [];
          return renderCheck(request, reply, lang, event, v.data, chosen, err.details.map((d) => ({ ...d, field: d.field.startsWith('data.') ? d.field.slice(5) : d.field })));
        }
        throw err;
      }
    },
    { config: own.client, schema: { body: FormBody } },
  );

  // ------------------------------------------------------------------ acting for a business (its representatives)
  // Each page checks that the signed-in person represents the business: 404 CLIENT_NOT_FOUND otherwise, exactly as
  // for a business that does not exist. Views and declarations are written to the business's access log.
  const BusinessParams = Type.Object({ businessId: Type.String({ maxLength: 64 }), slug: Type.Optional(Type.String({ maxLength: 100 })) });
  const acting = async (request: FastifyRequest): Promise<Acting> => {
    const { businessId } = request.params as { businessId: string };
    const rep = await representedBusiness(db, request.client!.id, businessId);
    return { rep, businessId: rep.business.id };
  };
  const businessEventFor = (slug: string, lang: Lang) => {
    const e = eventFor(slug, lang);
    if (e.audience !== 'business') throw new AppError(404, 'NOT_FOUND');
    return e;
  };

  bilingualRoute(
    app,
    'GET',
    P.bNotices,
    async (request, reply, lang) => {
      if (!request.client) return signInPage(reply, lang);
      const a = await acting(request);
      await recordAccess(db, {
        clientId: a.businessId,
        actorKind: 'client',
        actorId: request.client.id,
        action: 'read',
        fields: ['notices'],
        purpose: REPRESENTATIVE_PURPOSE,
        legalBasis: representativeBasis(a.rep.role),
      });
      const decls = await clientDeclarations(db, a.businessId);
      const byIds = [...new Set(decls.map((d) => d.declared_by).filter((x): x is string => Boolean(x)))];
      const people = byIds.length ? await db.selectFrom('clients').select(['id', 'given_name', 'family_name']).where('id', 'in', byIds).execute() : [];
      const nameOf = (id: string | null) => {
        const p = people.find((x) => x.id === id);
        return p ? [p.given_name, p.family_name].filter(Boolean).join(' ') : null;
      };
      const q = request.query as Record<string, string>;
      reply.header('Cache-Control', 'no-store');
      return reply.page('notices/views/business.njk', {
        title: t(lang, 'notices.businessTitle', { name: a.rep.business.business_name ?? '' }),
        actingFor: actingForBanner(lang, a.rep),
        banner: q.sent ? t(lang, 'notices.sent') : undefined,
        events: Object.values(eventTypes)
          .filter((e) => e.audience === 'business')
          .map((e) => ({ id: e.id, href: path(P.bForm, lang, { businessId: a.businessId, slug: e.slug[lang] }) })),
        declarations: decls.map((d) => ({ ...d, declaredBy: nameOf(d.declared_by) })),
      });
    },
    { config: own.client, schema: { params: BusinessParams } },
  );

  bilingualRoute(
    app,
    'GET',
    P.bForm,
    async (request, reply, lang) => {
      if (!request.client) return signInPage(reply, lang);
      const a = await acting(request);
      const event = businessEventFor((request.params as { slug: string }).slug, lang);
      return renderForm(reply, lang, event, {}, [], 200, a);
    },
    { config: own.client, schema: { params: BusinessParams } },
  );

  bilingualRoute(
    app,
    'POST',
    P.bForm,
    async (request, reply, lang) => {
      if (!request.client) return signInPage(reply, lang);
      const a = await acting(request);
      const event = businessEventFor((request.params as { slug: string }).slug, lang);
      return renderForm(reply, lang, event, splitBody(request.body as Record<string, unknown>).data, [], 200, a);
    },
    { config: own.client, schema: { params: BusinessParams, body: FormBody } },
  );

  bilingualRoute(
    app,
    'POST',
    P.bCheck,
    async (request, reply, lang) => {
      if (!request.client) return signInPage(reply, lang);
      const a = await acting(request);
      const event = businessEventFor((request.params as { slug: string }).slug, lang);
      const { data: raw } = splitBody(request.body as Record<string, unknown>);
      const v = validateEventData(event, raw);
      if (v.errors.length) return renderForm(reply, lang, event, raw, v.errors, 400, a);
      return renderCheck(request, reply, lang, event, v.data, null, [], a);
    },
    { config: own.client, schema: { params: BusinessParams, body: FormBody } },
  );

  bilingualRoute(
    app,
    'POST',
    P.bSend,
    async (request, reply, lang) => {
      if (!request.client) return signInPage(reply, lang);
      const a = await acting(request);
      const event = businessEventFor((request.params as { slug: string }).slug, lang);
      const { data: raw, recipients, formToken } = splitBody(request.body as Record<string, unknown>);
      const v = validateEventData(event, raw);
      if (v.errors.length) return renderForm(reply, lang, event, raw, v.errors, 400, a);
      try {
        await declare(
          db,
          { clientId: a.businessId, eventType: event.id, data: v.data, recipients: recipients ?? [], formToken },
          { issuer, representative: { personId: request.client.id, role: a.rep.role } },
        );
        return reply.redirect(`${path(P.bNotices, lang, { businessId: a.businessId })}?sent=1`, 303);
      } catch (err) {
        if (err instanceof AppError && err.status === 400 && err.details) {
          const chosen = typeof recipients === 'string' ? [recipients] : Array.isArray(recipients) ? (recipients as string[]) : [];
          return renderCheck(request, reply, lang, event, v.data, chosen, err.details.map((d) => ({ ...d, field: d.field.startsWith('data.') ? d.field.slice(5) : d.field })), a);
        }
        throw err;
      }
    },
    { config: own.client, schema: { params: BusinessParams, body: FormBody } },
  );

  // ------------------------------------------------------------------ the client's notices
  bilingualRoute(app, 'GET', P.mine, async (request, reply, lang) => {
    if (!request.client) return signInPage(reply, lang);
    const decls = await clientDeclarations(db, request.client.id);
    return reply.page('notices/views/mine.njk', {
      title: t(lang, 'notices.myTitle'),
      declarations: decls.map((d) => ({ ...d, href: path(P.declaration, lang, { id: d.id }) })),
      startUrl: P.start[lang],
    });
  }, { config: own.client });

  async function renderDeclaration(request: FastifyRequest, reply: FastifyReply, lang: Lang, id: string, banner?: string, errors: FieldError[] = []) {
    const [d] = await clientDeclarations(db, request.client!.id, id);
    if (!d) throw new AppError(404, 'DECLARATION_NOT_FOUND');
    const event = eventTypes[d.event_type as keyof typeof eventTypes];
    const told = new Set(d.notices.map((n) => n.subscription_id));
    const subs = (await listSubscriptions(db, { activeOnly: true, eventType: d.event_type })).filter((s) => !told.has(s.id));
    const recipientsError = errors.find((e) => e.field === 'recipients');
    return reply.page(
      'notices/views/declaration.njk',
      {
        title: t(lang, `notices.event.${d.event_type}`),
        declaration: d,
        banner,
        myUrl: P.mine[lang],
        addAction: path(P.add, lang, { id }),
        recipientItems: event ? recipientItems(lang, subs, event, () => false) : [],
        recipientsError: recipientsError ? t(lang, `field.${recipientsError.code}`) : undefined,
        errors: describeFields(lang, errors, () => t(lang, 'notices.recipientsLegend')),
      },
      errors.length ? 400 : 200,
    );
  }

  bilingualRoute(app, 'GET', P.declaration, async (request, reply, lang) => {
    if (!request.client) return signInPage(reply, lang);
    const { id } = request.params as { id: string };
    const q = request.query as Record<string, string>;
    const banner = q.sent ? t(lang, 'notices.sent') : q.added ? t(lang, 'notices.added') : undefined;
    return renderDeclaration(request, reply, lang, id, banner);
  }, { config: own.client });

  bilingualRoute(
    app,
    'POST',
    P.add,
    async (request, reply, lang) => {
      if (!request.client) return signInPage(reply, lang);
      const { id } = request.params as { id: string };
      const { recipients } = splitBody(request.body as Record<string, unknown>);
      try {
        await addRecipients(db, request.client.id, id, recipients ?? [], { issuer });
      } catch (err) {
        if (err instanceof AppError && err.status === 400 && err.details) return renderDeclaration(request, reply, lang, id, undefined, err.details);
        throw err;
      }
      return reply.redirect(`${path(P.declaration, lang, { id })}?added=1`, 303);
    },
    { config: own.client, schema: { body: FormBody } },
  );

  // ------------------------------------------------------------------ staff pages
  const staffPage = async (request: FastifyRequest, reply: FastifyReply, lang: Lang, extra: Record<string, unknown> = {}) => {
    // each organisation sees its own subscriptions and alerts; the one-stop's admins and managers run delivery and see all
    const staff = request.staff!;
    const onlyOrg = staff.orgId === ONE_STOP_ORG ? undefined : staff.orgId;
    const subs = (await listSubscriptions(db)).filter((s) => !onlyOrg || s.org_id === onlyOrg);
    const alerts = (await openAlerts(db)).filter((a) => !onlyOrg || a.org_id === onlyOrg);
    // a key is created for the caller's own organisation only (src/notices/owners.ts)
    const all = await db.selectFrom('organisations').select(['id', 'name_en', 'name_fr']).where('id', '=', staff.orgId).execute();
    return reply.page('notices/views/staff.njk', {
      title: t(lang, 'notices.staffTitle'),
      subscriptions: subs,
      alerts,
      orgItems: all.map((o) => ({ value: o.id, text: lang === 'fr' ? o.name_fr : o.name_en })),
      newUrl: P.staffNew[lang],
      editUrl: P.staffEdit[lang],
      keyAction: P.staffKey[lang],
      resolveAction: P.staffResolve[lang],
      ...extra,
    });
  };

  const requireManager = (request: FastifyRequest, reply: FastifyReply, lang: Lang) => {
    if (!request.staff) {
      reply.redirect(signInRedirect(request) ?? (lang === 'fr' ? '/fr/personnel/connexion' : '/en/staff/login'), 303);
      return null;
    }
    return requireStaff(request, STAFF_ROLES);
  };

  bilingualRoute(app, 'GET', P.staff, async (request, reply, lang) => {
    if (!requireManager(request, reply, lang)) return reply;
    return staffPage(request, reply, lang);
  }, { config: own.staffPage });

  bilingualRoute(
    app,
    'POST',
    P.staffKey,
    async (request, reply, lang) => {
      const staff = requireManager(request, reply, lang);
      if (!staff) return reply;
      const b = request.body as { orgId?: string; label?: string };
      const { key } = await createApiKey(db, b.orgId ?? '', b.label ?? '', staff.id);
      return staffPage(request, reply, lang, { newKey: key });
    },
    { config: own.apiKey, schema: { body: Type.Object({ orgId: Type.Optional(Type.String({ maxLength: 100 })), label: Type.Optional(Type.String({ maxLength: 200 })), _csrf: Type.Optional(Type.String()) }) } },
  );

  bilingualRoute(app, 'POST', P.staffResolve, async (request, reply, lang) => {
    const staff = requireManager(request, reply, lang);
    if (!staff) return reply;
    const id = serialId((request.params as { id: string }).id);
    if (id === null) throw new AppError(404, 'NOT_FOUND');
    // the ownership hook let through only the alert's organisation or the one-stop's admins and managers
    await db.updateTable('notice_alerts').set({ resolved_at: new Date(), resolved_by: staff.id }).where('id', '=', id).where('resolved_at', 'is', null)
      .where((eb) => (staff.orgId === ONE_STOP_ORG ? eb.val(true) : eb('org_id', '=', staff.orgId))).execute();
    return reply.redirect(P.staff[lang], 303);
  }, { config: own.alert });

  const subscriptionForm = async (reply: FastifyReply, lang: Lang, opts: { isNew: boolean; id?: string; v: Record<string, any>; errors?: FieldError[]; secret?: string | null; status?: number }) => {
    const orgs = await db.selectFrom('organisations').select(['id', 'name_en', 'name_fr']).orderBy('name_en').execute();
    const errs = describeFields(lang, opts.errors ?? [], (f) => t(lang, `notices.form.${f}`));
    const err = Object.fromEntries(errs.map((e) => [e.field, e.message]));
    const v = opts.v;
    return reply.page(
      'notices/views/subscription.njk',
      {
        title: opts.isNew ? t(lang, 'notices.staffNew') : `${t(lang, 'notices.staffEdit')}: ${v.programEn ?? ''}`,
        isNew: opts.isNew,
        action: opts.isNew ? P.staffNew[lang] : path(P.staffEdit, lang, { id: opts.id! }),
        listUrl: P.staff[lang],
        v,
        err,
        errors: errs,
        secret: opts.secret,
        orgItems: [{ value: '', text: t(lang, 'notices.selectPrompt') }, ...orgs.map((o) => ({ value: o.id, text: lang === 'fr' ? o.name_fr : o.name_en, selected: o.id === v.orgId }))],
        eventItems: EVENT_TYPES.map((e) => ({ value: e, text: t(lang, `notices.event.${e}`), checked: (v.eventTypes ?? []).includes(e) })),
        fieldItems: ALL_ITEM_KEYS.map((f) => ({ value: f, text: `${fieldLabel(lang, f)} (${f})`, checked: (v.fields ?? []).includes(f) })),
        basisItems: ['consent', 'law'].map((b) => ({ value: b, text: t(lang, `notices.form.legalBasis.${b}`), checked: v.legalBasis === b })),
        deliveryItems: ['webhook', 'pull'].map((d) => ({ value: d, text: t(lang, `notices.form.delivery.${d}`), checked: v.delivery === d })),
      },
      opts.status ?? 200,
    );
  };

  const asList = (x: unknown) => (Array.isArray(x) ? x.map(String) : typeof x === 'string' && x ? [x] : []);
  const formToInput = (b: Record<string, unknown>): SubscriptionInput & { active: boolean } => ({
    id: typeof b.id === 'string' && b.id ? b.id : undefined,
    orgId: String(b.orgId ?? ''),
    programEn: String(b.programEn ?? ''),
    programFr: String(b.programFr ?? ''),
    purposeEn: String(b.purposeEn ?? ''),
    purposeFr: String(b.purposeFr ?? ''),
    eventTypes: asList(b.eventTypes),
    fields: asList(b.fields),
    legalBasis: b.legalBasis as 'consent' | 'law',
    lawReference: typeof b.lawReference === 'string' ? b.lawReference : null,
    delivery: b.delivery as 'webhook' | 'pull',
    webhookUrl: typeof b.webhookUrl === 'string' ? b.webhookUrl : null,
    active: b.active === 'yes',
  });

  bilingualRoute(app, 'GET', P.staffNew, async (request, reply, lang) => {
    if (!requireManager(request, reply, lang)) return reply;
    return subscriptionForm(reply, lang, { isNew: true, v: { active: true, delivery: 'webhook', legalBasis: 'consent' } });
  }, { config: own.staffPage });

  bilingualRoute(
    app,
    'POST',
    P.staffNew,
    async (request, reply, lang) => {
      const staff = requireManager(request, reply, lang);
      if (!staff) return reply;
      const input = formToInput(request.body as Record<string, unknown>);
      try {
        const r = await saveSubscription(db, input, { staffId: staff.id, allowLoopback });
        return subscriptionForm(reply, lang, { isNew: false, id: r.id, v: input, secret: r.signingSecret, status: 201 });
      } catch (err) {
        if (err instanceof AppError && err.details) return subscriptionForm(reply, lang, { isNew: true, v: input, errors: err.details, status: 400 });
        throw err;
      }
    },
    { config: own.newSubscription, schema: { body: FormBody } },
  );

  bilingualRoute(app, 'GET', P.staffEdit, async (request, reply, lang) => {
    if (!requireManager(request, reply, lang)) return reply;
    const { id } = request.params as { id: string };
    const s = await db.selectFrom('notice_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!s) throw new AppError(404, 'SUBSCRIPTION_NOT_FOUND');
    return subscriptionForm(reply, lang, {
      isNew: false,
      id,
      v: {
        orgId: s.org_id, programEn: s.program_en, programFr: s.program_fr, purposeEn: s.purpose_en, purposeFr: s.purpose_fr, eventTypes: s.event_types,
        fields: s.fields, legalBasis: s.legal_basis, lawReference: s.law_reference, delivery: s.delivery, webhookUrl: s.webhook_url, active: s.active,
      },
    });
  }, { config: own.subscription });

  bilingualRoute(
    app,
    'POST',
    P.staffEdit,
    async (request, reply, lang) => {
      const staff = requireManager(request, reply, lang);
      if (!staff) return reply;
      const { id } = request.params as { id: string };
      const input = { ...formToInput(request.body as Record<string, unknown>), id: undefined };
      try {
        const r = await saveSubscription(db, input, { staffId: staff.id, allowLoopback, existingId: id });
        return subscriptionForm(reply, lang, { isNew: false, id, v: input, secret: r.signingSecret });
      } catch (err) {
        if (err instanceof AppError && err.details) return subscriptionForm(reply, lang, { isNew: false, id, v: input, errors: err.details, status: 400 });
        throw err;
      }
    },
    { config: own.subscription, schema: { body: FormBody } },
  );
}
