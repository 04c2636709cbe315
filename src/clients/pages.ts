/**
 * Clients capability: OpenID Connect sign-in (clients and staff), "My file" / "Mon dossier" (profile, addresses,
 * consents, access log, one-time agent code, businesses), agents opening a client's file with that code, and the
 * JSON API of the signed-in client (/api/v1/me...).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError, describeError, registerSignInPage, type FieldError } from '../http/errors';
import { endSession, requireStaff, startSession } from '../http/session';
import { pick, t, type Lang } from '../i18n/index';
import { bilingualRoute, fillPath } from '../web/render';
import {
  addAddress,
  addressHistory,
  businessesFor,
  createClient,
  currentAddress,
  displayName,
  getClient,
  PROVINCES,
  REPRESENTATIVE_PURPOSE,
  representativeBasis,
  representedBusiness,
  representativesOf,
  type Representation,
  updateProfile,
  type ClientRow,
} from './accounts';
import { AGENT_ACCESS_PURPOSE, createAgentAccessCode, redeemAgentAccessCode, requireClientAccess } from './access';
import { accessLogFor, recordAccess } from './access-log';
import { allConsents, withdrawConsent } from './consent';
import { beginSignIn, CALLBACK_PATH, completeSignIn, OIDC_STATE_COOKIE, oidcConfiguration, safeReturnTo } from './oidc';
import { own } from '../http/ownership';

export const CLIENT_PATHS = {
  signIn: { en: '/en/sign-in', fr: '/fr/connexion' },
  signOut: { en: '/en/sign-out', fr: '/fr/deconnexion' },
  staffSignIn: { en: '/en/staff/sign-in', fr: '/fr/personnel/se-connecter' },
  myFile: { en: '/en/my-file', fr: '/fr/mon-dossier' },
  profile: { en: '/en/my-file/profile', fr: '/fr/mon-dossier/profil' },
  addresses: { en: '/en/my-file/addresses', fr: '/fr/mon-dossier/adresses' },
  consents: { en: '/en/my-file/consents', fr: '/fr/mon-dossier/consentements' },
  withdraw: { en: '/en/my-file/consents/:consentId/withdraw', fr: '/fr/mon-dossier/consentements/:consentId/retirer' },
  accessLog: { en: '/en/my-file/access-log', fr: '/fr/mon-dossier/journal-des-acces' },
  agentCode: { en: '/en/my-file/agent-code', fr: '/fr/mon-dossier/code-agent' },
  businesses: { en: '/en/my-file/businesses', fr: '/fr/mon-dossier/entreprises' },
  /** A business's own file, seen by one of its representatives ("Acting for: <business>"). */
  businessFile: { en: '/en/my-file/businesses/:businessId', fr: '/fr/mon-dossier/entreprises/:businessId' },
  businessConsents: { en: '/en/my-file/businesses/:businessId/consents', fr: '/fr/mon-dossier/entreprises/:businessId/consentements' },
  businessAccessLog: { en: '/en/my-file/businesses/:businessId/access-log', fr: '/fr/mon-dossier/entreprises/:businessId/journal-des-acces' },
  /** Written by the notices capability (the business's notices and its Tell Us Once declarations). */
  businessNotices: { en: '/en/my-file/businesses/:businessId/notices', fr: '/fr/mon-dossier/entreprises/:businessId/avis' },
  /** Written by the billing capability (the business's subscriber account: status, renewal, statements). */
  businessSubscription: { en: '/en/my-file/businesses/:businessId/subscription', fr: '/fr/mon-dossier/entreprises/:businessId/abonnement' },
  /** Written by other capabilities; linked from My file. */
  notices: { en: '/en/my-file/notices', fr: '/fr/mon-dossier/avis' },
  requests: { en: '/en/my-file/requests', fr: '/fr/mon-dossier/demandes' },
  appointments: { en: '/en/my-file/appointments', fr: '/fr/mon-dossier/rendez-vous' },
  /** Written by the payments capability: the client's receipts and refunds. */
  payments: { en: '/en/my-payments', fr: '/fr/mes-paiements' },
  staffLookup: { en: '/en/staff/clients/lookup', fr: '/fr/personnel/clients/recherche' },
  staffClient: { en: '/en/staff/clients/:clientId', fr: '/fr/personnel/clients/:clientId' },
} as const;
export const P = CLIENT_PATHS;

const STAFF_LOOKUP_ROLES = ['agent', 'partner', 'manager'];

/** The access log pages show 50 entries a page, newest first; "Older entries" follows the last one's seq. */
const LOG_PAGE = 50;
function logCursor(request: FastifyRequest): number | undefined {
  const v = (request.query as Record<string, unknown> | undefined)?.before;
  const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
  return n && n > 0 ? n : undefined;
}
function logPaging(lang: Lang, base: string, rows: Array<{ seq: number }>, before: number | undefined) {
  return {
    olderUrl: rows.length > LOG_PAGE ? `${base}?before=${rows[LOG_PAGE - 1].seq}` : null,
    newestUrl: before !== undefined ? base : null,
    olderText: t(lang, 'clients.log.older'),
    newestText: t(lang, 'clients.log.newest'),
  };
}

/** Field errors → what the templates need: a summary list and a message per input id. */
export function formErrors(lang: Lang, details: FieldError[] | undefined) {
  const list = (details ?? []).map((d) => ({
    id: d.field.replace(/\./g, '-'),
    text: d.message ?? t(lang, `field.${d.code}`),
    code: d.code,
    field: d.field,
  }));
  const byField: Record<string, string> = {};
  for (const e of list) if (!byField[e.id]) byField[e.id] = e.text;
  return { errorList: list.map((e) => ({ text: e.text, href: `#${e.id}`, attributes: { 'data-field': e.field, 'data-code': e.code } })), fieldErrors: byField };
}

function isValidation(e: unknown): e is AppError {
  return e instanceof AppError && e.status === 400 && Boolean(e.details?.length);
}

/** The pages (server-rendered, bilingual, no JavaScript needed); the JSON API is in api.ts. */
export async function pageRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db, config } = deps;
  const secure = config.publicBaseUrl.startsWith('https://');
  const devProvider = config.env !== 'production';

  const signInUrl = (lang: Lang, returnTo?: string) => `${P.signIn[lang]}${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`;

  /** The signed-in client, or a redirect to sign-in (returns null). */
  async function pageClient(request: FastifyRequest, reply: FastifyReply, lang: Lang): Promise<ClientRow | null> {
    if (request.client) {
      const c = await getClient(db, request.client.id);
      if (c) return c;
      await endSession(db, request, reply);
    }
    reply.redirect(signInUrl(lang, request.method === 'GET' ? request.url : P.myFile[lang]), 303);
    return null;
  }


  // ---------------------------------------------------------------------------------------------------------
  // Sign-in and sign-out (OpenID Connect)

  async function startLogin(request: FastifyRequest, reply: FastifyReply, lang: Lang, kind: 'client' | 'staff') {
    const body = (request.body ?? {}) as { returnTo?: string };
    // the provider sends the browser back to PUBLIC_BASE_URL: start from that origin, or the state cookie is lost
    const publicHost = new URL(config.publicBaseUrl).host;
    if (request.host && request.host !== publicHost) {
      const page = kind === 'staff' ? P.staffSignIn[lang] : signInUrl(lang, safeReturnTo(body.returnTo));
      return reply.redirect(`${config.publicBaseUrl}${page}`, 303);
    }
    const { url, state } = await beginSignIn(db, config, { kind, lang, returnTo: safeReturnTo(body.returnTo) });
    reply.setCookie(OIDC_STATE_COOKIE, state, { path: CALLBACK_PATH, httpOnly: true, sameSite: 'lax', secure, maxAge: 600 });
    return reply.redirect(url.toString(), 303);
  }

  /**
   * The sign-in form posts to Guichet, which redirects to the identity provider: browsers apply the page's CSP
   * form-action to that redirect, so the sign-in pages allow the provider's authorization endpoint origin.
   */
  const allowProviderFormAction = {
    onSend: async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      let csp = reply.getHeader('Content-Security-Policy');
      if (typeof csp !== 'string') return payload;
      // Opened on another host name than PUBLIC_BASE_URL's (localhost vs 127.0.0.1): the form's POST is redirected to
      // the public address first (startLogin), so that origin is allowed too, or the browser would stop silently.
      const publicOrigin = new URL(config.publicBaseUrl).origin;
      if (_request.host && _request.host !== new URL(config.publicBaseUrl).host) {
        csp = csp.replace("form-action 'self'", `form-action 'self' ${publicOrigin}`);
        reply.header('Content-Security-Policy', csp);
      }
      if (!config.oidc.issuer) return payload;
      try {
        const cfg = await oidcConfiguration(config);
        const origin = new URL(cfg.serverMetadata().authorization_endpoint ?? config.oidc.issuer).origin;
        reply.header('Content-Security-Policy', (csp as string).replace("form-action 'self'", `form-action 'self' ${origin}`));
      } catch {
        /* provider unreachable: the POST will answer SIGNIN_UNAVAILABLE */
      }
      return payload;
    },
  };

  // a page visited signed out comes to sign-in, then back (src/http/errors.ts)
  registerSignInPage('client', P.signIn);

  const signInBody = { body: Type.Object({ returnTo: Type.Optional(Type.String({ maxLength: 500 })), _csrf: Type.Optional(Type.String({ maxLength: 100 })) }) };

  bilingualRoute(app, 'GET', P.signIn, async (request, reply, lang) => {
    const returnTo = safeReturnTo((request.query as Record<string, unknown>).returnTo);
    if (request.client && (await getClient(db, request.client.id))) return reply.redirect(returnTo ?? P.myFile[lang], 303);
    return reply.page('clients/views/sign-in.njk', { title: t(lang, 'clients.signIn.title'), kind: 'client', returnTo, devProvider, action: P.signIn[lang] });
  }, { ...allowProviderFormAction, config: own.none });
  bilingualRoute(app, 'POST', P.signIn, (request, reply, lang) => startLogin(request, reply, lang, 'client'), { config: { ...own.none, rateLimitPolicy: 'signIn' }, schema: signInBody });

  bilingualRoute(app, 'GET', P.staffSignIn, async (request, reply, lang) => {
    const returnTo = safeReturnTo((request.query as Record<string, unknown>).returnTo);
    if (request.staff) return reply.redirect(returnTo ?? (lang === 'fr' ? '/fr/personnel' : '/en/staff'), 303);
    return reply.page('clients/views/sign-in.njk', { title: t(lang, 'clients.staffSignIn.title'), kind: 'staff', returnTo, devProvider, action: P.staffSignIn[lang] });
  }, { ...allowProviderFormAction, config: own.none });
  bilingualRoute(app, 'POST', P.staffSignIn, (request, reply, lang) => startLogin(request, reply, lang, 'staff'), { config: { ...own.none, rateLimitPolicy: 'signIn' }, schema: signInBody });

  app.get(CALLBACK_PATH, { config: { ...own.none, rateLimitPolicy: 'signIn' }, schema: { hide: true } }, async (request, reply) => {
    const url = new URL(request.url, `${config.publicBaseUrl}/`);
    const callbackUrl = new URL(`${config.publicBaseUrl}${CALLBACK_PATH}${url.search}`);
    const browserState = request.cookies?.[OIDC_STATE_COOKIE];
    reply.clearCookie(OIDC_STATE_COOKIE, { path: CALLBACK_PATH });
    try {
      const r = await completeSignIn(db, config, callbackUrl, browserState, request.log);
      request.lang = r.lang;
      await startSession(db, request, reply, r.kind, r.subjectId, { via: 'oidc', iss: r.issuer, sub: r.sub }, secure);
      const home = r.kind === 'staff' ? (r.lang === 'fr' ? '/fr/personnel' : '/en/staff') : P.myFile[r.lang];
      return reply.redirect(r.returnTo ?? home, 303);
    } catch (e) {
      const lang = request.lang;
      if (e instanceof AppError && e.status < 500) {
        const d = describeError(e, lang);
        return reply.page('clients/views/sign-in-error.njk', { title: t(lang, 'error.title'), message: d.message, retry: P.signIn[lang] }, e.status);
      }
      throw e;
    }
  });

  bilingualRoute(app, 'POST', P.signOut, async (request, reply, lang) => {
    const everywhere = (request.body as Record<string, string> | undefined)?.everywhere === 'yes';
    await endSession(db, request, reply, everywhere);
    return reply.redirect(`/${lang}`, 303);
  }, { config: own.none });

  // ---------------------------------------------------------------------------------------------------------
  // My file

  bilingualRoute(app, 'GET', P.myFile, async (request, reply, lang) => {
    const client = await pageClient(request, reply, lang);
    if (!client) return reply;
    const [address, businesses] = await Promise.all([currentAddress(db, client.id), businessesFor(db, client.id)]);
    return reply.page('clients/views/my-file.njk', {
      title: t(lang, 'clients.myFile.title'),
      me: client,
      name: displayName(client),
      address,
      businesses: businesses.map((b) => ({ ...b, fileUrl: fillPath(P.businessFile[lang], { businessId: b.id }) })),
      paths: pathsFor(lang),
      saved: (request.query as Record<string, string>).saved,
    });
  }, { config: own.client });

  // Profile ---------------------------------------------------------------------------------------------------
  const profileForm = (body: Record<string, string | undefined>) => ({
    givenName: body.givenName,
    familyName: body.familyName,
    businessName: body.businessName,
    businessNumber: body.businessNumber,
    birthDate: body.birthDate,
    email: body.email,
    phone: body.phone,
    preferredLang: body.preferredLang,
    contactPreferences: Object.fromEntries(['email', 'sms', 'mail'].map((k) => [k, ([] as string[]).concat(body.contact ?? []).includes(k)])),
    accessibilityNeeds: body.accessibilityNeeds,
  });
  const formBody = Type.Record(Type.String(), Type.Union([Type.String({ maxLength: 2000 }), Type.Array(Type.String({ maxLength: 20 }), { maxItems: 10 })]));

  bilingualRoute(app, 'GET', P.profile, async (request, reply, lang) => {
    const client = await pageClient(request, reply, lang);
    if (!client) return reply;
    return reply.page('clients/views/profile.njk', { title: t(lang, 'clients.profile.title'), me: client, values: profileValues(client), paths: pathsFor(lang) });
  }, { config: own.client });
  bilingualRoute(
    app,
    'POST',
    P.profile,
    async (request, reply, lang) => {
      const client = await pageClient(request, reply, lang);
      if (!client) return reply;
      const body = request.body as Record<string, string | undefined>;
      try {
        await updateProfile(db, client.id, profileForm(body));
      } catch (e) {
        if (!isValidation(e)) throw e;
        const contact = ([] as string[]).concat(body.contact ?? []);
        return reply.page(
          'clients/views/profile.njk',
          { title: t(lang, 'clients.profile.title'), me: client, values: { ...body, contact }, paths: pathsFor(lang), ...formErrors(lang, e.details) },
          400,
        );
      }
      return reply.redirect(`${P.myFile[lang]}?saved=profile`, 303);
    },
    { config: own.client, schema: { body: formBody } },
  );

  // Addresses -------------------------------------------------------------------------------------------------
  const addressPage = async (lang: Lang, client: ClientRow, extra: Record<string, unknown> = {}) => ({
    title: t(lang, 'clients.addresses.title'),
    me: client,
    history: await addressHistory(db, client.id),
    provinces: PROVINCES,
    paths: pathsFor(lang),
    values: {},
    ...extra,
  });
  bilingualRoute(app, 'GET', P.addresses, async (request, reply, lang) => {
    const client = await pageClient(request, reply, lang);
    if (!client) return reply;
    return reply.page('clients/views/addresses.njk', await addressPage(lang, client, { saved: (request.query as Record<string, string>).saved }));
  }, { config: own.client });
  bilingualRoute(
    app,
    'POST',
    P.addresses,
    async (request, reply, lang) => {
      const client = await pageClient(request, reply, lang);
      if (!client) return reply;
      const body = request.body as Record<string, string | undefined>;
      try {
        await addAddress(db, client.id, { line1: body.line1, line2: body.line2, city: body.city, province: body.province, postalCode: body.postalCode, validFrom: body.validFrom });
      } catch (e) {
        if (!isValidation(e)) throw e;
        return reply.page('clients/views/addresses.njk', await addressPage(lang, client, { values: body, ...formErrors(lang, e.details) }), 400);
      }
      return reply.redirect(`${P.addresses[lang]}?saved=1`, 303);
    },
    { config: own.client, schema: { body: formBody } },
  );

  // Consents --------------------------------------------------------------------------------------------------
  bilingualRoute(app, 'GET', P.consents, async (request, reply, lang) => {
    const client = await pageClient(request, reply, lang);
    if (!client) return reply;
    const rows = await allConsents(db, client.id);
    return reply.page('clients/views/consents.njk', {
      title: t(lang, 'clients.consents.title'),
      consents: consentRows(lang, rows).map((c) => ({ ...c, withdrawUrl: fillPath(P.withdraw[lang], { consentId: c.id }) })),
      paths: pathsFor(lang),
      saved: (request.query as Record<string, string>).saved,
    });
  }, { config: own.client });
  bilingualRoute(
    app,
    'POST',
    P.withdraw,
    async (request, reply, lang) => {
      const client = await pageClient(request, reply, lang);
      if (!client) return reply;
      await withdrawConsent(db, client.id, (request.params as { consentId: string }).consentId);
      return reply.redirect(`${P.consents[lang]}?saved=withdrawn`, 303);
    },
    { config: own.client, schema: { params: Type.Object({ consentId: Type.String({ maxLength: 64 }) }) } },
  );

  // Access log ------------------------------------------------------------------------------------------------
  bilingualRoute(app, 'GET', P.accessLog, async (request, reply, lang) => {
    const client = await pageClient(request, reply, lang);
    if (!client) return reply;
    const before = logCursor(request);
    const rows = await accessLogFor(db, client.id, { limit: LOG_PAGE + 1, before });
    return reply.page('clients/views/access-log.njk', {
      title: t(lang, 'clients.log.title'),
      entries: rows.slice(0, LOG_PAGE).map((r) => ({ ...r, ...describeEntry(lang, r) })),
      paths: pathsFor(lang),
      ...logPaging(lang, P.accessLog[lang], rows, before),
    });
  }, { config: own.client });

  // One-time code for an agent ----------------------------------------------------------------------------------
  bilingualRoute(app, 'POST', P.agentCode, async (request, reply, lang) => {
    const client = await pageClient(request, reply, lang);
    if (!client) return reply;
    const { code, expiresAt } = await createAgentAccessCode(db, client.id);
    reply.header('Cache-Control', 'no-store');
    return reply.page('clients/views/agent-code.njk', {
      title: t(lang, 'clients.agentCode.title'),
      code,
      spokenCode: `${code.slice(0, 4)} ${code.slice(4)}`,
      expiresAt,
      paths: pathsFor(lang),
    });
  }, { config: { ...own.client, rateLimitPolicy: 'accessCode' }});

  // Businesses I own --------------------------------------------------------------------------------------------
  bilingualRoute(app, 'GET', P.businesses, async (request, reply, lang) => {
    const client = await pageClient(request, reply, lang);
    if (!client) return reply;
    return reply.page('clients/views/business.njk', { title: t(lang, 'clients.business.title'), values: {}, paths: pathsFor(lang) });
  }, { config: own.client });
  bilingualRoute(
    app,
    'POST',
    P.businesses,
    async (request, reply, lang) => {
      const client = await pageClient(request, reply, lang);
      if (!client) return reply;
      const body = request.body as Record<string, string | undefined>;
      try {
        await db.transaction().execute(async (trx) => {
          const id = await createClient(trx, { kind: 'business', businessName: body.businessName, businessNumber: body.businessNumber, email: body.email, preferredLang: lang });
          await trx.insertInto('business_representatives').values({ business_id: id, person_id: client.id, role: 'owner' }).execute();
        });
      } catch (e) {
        if (!isValidation(e)) throw e;
        return reply.page('clients/views/business.njk', { title: t(lang, 'clients.business.title'), values: body, paths: pathsFor(lang), ...formErrors(lang, e.details) }, 400);
      }
      return reply.redirect(`${P.myFile[lang]}?saved=business`, 303);
    },
    { config: own.client, schema: { body: formBody } },
  );

  // A business's file, for its representatives ------------------------------------------------------------------
  // Every page checks that the signed-in person represents the business (404 otherwise, as for a business that does
  // not exist) and writes the visit to the BUSINESS's access log (actor: the person, basis: their role).
  const businessParams = { params: Type.Object({ businessId: Type.String({ maxLength: 64 }) }) };
  async function actingFor(request: FastifyRequest, reply: FastifyReply, lang: Lang, fields: string[]): Promise<Representation | null> {
    const me = await pageClient(request, reply, lang);
    if (!me) return null;
    const rep = await representedBusiness(db, me.id, (request.params as { businessId: string }).businessId);
    await recordAccess(db, {
      clientId: rep.business.id,
      actorKind: 'client',
      actorId: me.id,
      action: 'read',
      fields,
      purpose: REPRESENTATIVE_PURPOSE,
      legalBasis: representativeBasis(rep.role),
    });
    reply.header('Cache-Control', 'no-store');
    return rep;
  }
  const businessPaths = (lang: Lang, businessId: string) => ({
    file: fillPath(P.businessFile[lang], { businessId }),
    consents: fillPath(P.businessConsents[lang], { businessId }),
    accessLog: fillPath(P.businessAccessLog[lang], { businessId }),
    notices: fillPath(P.businessNotices[lang], { businessId }),
    subscription: fillPath(P.businessSubscription[lang], { businessId }),
  });
  /** A business file's sub-page (its consents, its access log): the way back to the file and the "Acting for" banner. */
  const businessSubPage = (lang: Lang, rep: Representation) => ({
    backUrl: businessPaths(lang, rep.business.id).file,
    backText: t(lang, 'clients.businessFile.title'),
    actingFor: actingForBanner(lang, rep),
  });

  bilingualRoute(
    app,
    'GET',
    P.businessFile,
    async (request, reply, lang) => {
      const rep = await actingFor(request, reply, lang, ['business_name', 'business_number', 'email', 'phone', 'address']);
      if (!rep) return reply;
      const b = rep.business;
      const [address, representatives] = await Promise.all([currentAddress(db, b.id), representativesOf(db, b.id)]);
      return reply.page('clients/views/business-file.njk', {
        title: t(lang, 'clients.businessFile.title'),
        b,
        address,
        representatives,
        actingFor: actingForBanner(lang, rep),
        bpaths: businessPaths(lang, b.id),
        paths: pathsFor(lang),
      });
    },
    { config: own.client, schema: businessParams },
  );

  bilingualRoute(
    app,
    'GET',
    P.businessConsents,
    async (request, reply, lang) => {
      const rep = await actingFor(request, reply, lang, ['consents']);
      if (!rep) return reply;
      const rows = await allConsents(db, rep.business.id);
      return reply.page('clients/views/consents.njk', {
        title: t(lang, 'clients.businessFile.consentsTitle'),
        readOnly: true,
        ...businessSubPage(lang, rep),
        consents: consentRows(lang, rows),
        paths: pathsFor(lang),
      });
    },
    { config: own.client, schema: businessParams },
  );

  bilingualRoute(
    app,
    'GET',
    P.businessAccessLog,
    async (request, reply, lang) => {
      const rep = await actingFor(request, reply, lang, ['access_log']);
      if (!rep) return reply;
      const before = logCursor(request);
      const rows = await accessLogFor(db, rep.business.id, { limit: LOG_PAGE + 1, before });
      return reply.page('clients/views/access-log.njk', {
        title: t(lang, 'clients.businessFile.logTitle'),
        lead: t(lang, 'clients.businessFile.logLead'),
        ...businessSubPage(lang, rep),
        entries: rows.slice(0, LOG_PAGE).map((r) => ({ ...r, ...describeEntry(lang, r, rep.business.id) })),
        paths: pathsFor(lang),
        ...logPaging(lang, fillPath(P.businessAccessLog[lang], { businessId: rep.business.id }), rows, before),
      });
    },
    { config: own.client, schema: businessParams },
  );

  // ---------------------------------------------------------------------------------------------------------
  // Staff: open a client's file with the client's one-time code

  const staffGate = (request: FastifyRequest, reply: FastifyReply, lang: Lang) => {
    if (!request.staff) {
      reply.redirect(P.staffSignIn[lang], 303);
      return null;
    }
    return requireStaff(request, STAFF_LOOKUP_ROLES);
  };

  bilingualRoute(app, 'GET', P.staffLookup, async (request, reply, lang) => {
    const staff = staffGate(request, reply, lang);
    if (!staff) return reply;
    return reply.page('clients/views/staff-lookup.njk', { title: t(lang, 'clients.staff.lookup.title'), values: {} });
  }, { config: own.caller('a client’s file opened to the caller’s organisation by the client’s consent (requireClientAccess)', STAFF_LOOKUP_ROLES) });
  bilingualRoute(
    app,
    'POST',
    P.staffLookup,
    async (request, reply, lang) => {
      const staff = staffGate(request, reply, lang);
      if (!staff) return reply;
      const body = request.body as { code?: string };
      try {
        const r = await redeemAgentAccessCode(db, staff, body.code);
        return reply.redirect(fillPath(P.staffClient[lang], { clientId: r.clientId }), 303);
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        const d = describeError(e, lang);
        const details = e.details?.length ? e.details : [{ field: 'code', code: 'custom', message: d.message }];
        return reply.page('clients/views/staff-lookup.njk', { title: t(lang, 'clients.staff.lookup.title'), values: {}, ...formErrors(lang, details) }, e.status);
      }
    },
    { config: { ...own.caller('a client’s file opened to the caller’s organisation by the client’s consent (requireClientAccess)', STAFF_LOOKUP_ROLES), rateLimitPolicy: 'accessCode' }, schema: { body: Type.Object({ code: Type.Optional(Type.String({ maxLength: 40 })), _csrf: Type.Optional(Type.String({ maxLength: 100 })) }) } },
  );

  bilingualRoute(
    app,
    'GET',
    P.staffClient,
    async (request, reply, lang) => {
      const staff = staffGate(request, reply, lang);
      if (!staff) return reply;
      const { clientId } = request.params as { clientId: string };
      const grant = await requireClientAccess(db, staff, clientId, AGENT_ACCESS_PURPOSE);
      const client = (await getClient(db, clientId))!;
      const consent = await db.selectFrom('consents').select(['valid_until', 'law_reference']).where('id', '=', grant.consentId).executeTakeFirstOrThrow();
      const allowed = new Set(grant.fields);
      const address = allowed.has('address') ? await currentAddress(db, clientId) : undefined;
      reply.header('Cache-Control', 'no-store');
      return reply.page('clients/views/staff-client.njk', {
        title: t(lang, 'clients.staff.client.title'),
        c: client,
        name: displayName(client),
        address,
        allowed: Object.fromEntries([...allowed].map((f) => [f, true])),
        basis:
          grant.legalBasis === 'law'
            ? t(lang, 'clients.staff.client.basis.law', { law: consent.law_reference ?? '' })
            : t(lang, 'clients.staff.client.basis.consent'),
        until: consent.valid_until,
      });
    },
    { config: own.caller('a client’s file opened to the caller’s organisation by the client’s consent (requireClientAccess)', STAFF_LOOKUP_ROLES), schema: { params: Type.Object({ clientId: Type.String({ maxLength: 64 }) }) } },
  );

  // ---------------------------------------------------------------------------------------------------------
}

/** The consents page's rows: organisation, status (active, expired or withdrawn) and texts in the page's language. */
function consentRows(lang: Lang, rows: Awaited<ReturnType<typeof allConsents>>) {
  const now = Date.now();
  return rows.map((r) => ({
    ...r,
    orgName: pick({ name_en: r.org_name_en, name_fr: r.org_name_fr }, 'name', lang),
    status: r.withdrawn_at ? 'withdrawn' : r.valid_until && r.valid_until.getTime() <= now ? 'expired' : 'active',
    purposeText: purposeText(lang, r.purpose),
    fieldsText: r.fields.map((f) => fieldText(lang, f)).join(', '),
  }));
}

/** What the "Acting for" banner shows (clients/views/_acting-for.njk; also used by the notices pages). */
export function actingForBanner(lang: Lang, rep: Representation) {
  return {
    name: rep.business.business_name ?? '',
    number: rep.business.business_number ?? '',
    role: t(lang, `clients.business.role.${rep.role}`),
    person: rep.person.name,
    fileUrl: fillPath(P.businessFile[lang], { businessId: rep.business.id }),
    myFileUrl: P.myFile[lang],
  };
}

function pathsFor(lang: Lang) {
  return Object.fromEntries(Object.entries(P).map(([k, v]) => [k, v[lang]])) as Record<keyof typeof P, string>;
}

function profileValues(c: ClientRow) {
  const prefs = c.contact_preferences ?? {};
  return {
    givenName: c.given_name ?? '',
    familyName: c.family_name ?? '',
    businessName: c.business_name ?? '',
    businessNumber: c.business_number ?? '',
    birthDate: c.birth_date ?? '',
    email: c.email ?? '',
    phone: c.phone ?? '',
    preferredLang: c.preferred_lang,
    contact: (['email', 'sms', 'mail'] as const).filter((k) => prefs[k]),
    accessibilityNeeds: c.accessibility_needs ?? '',
  };
}

function purposeText(lang: Lang, purpose: string): string {
  const key = `clients.purpose.${purpose}`;
  const v = t(lang, key);
  return v === key ? purpose : v;
}

function fieldText(lang: Lang, field: string): string {
  const key = `clients.field.${field}`;
  const v = t(lang, key);
  return v === key ? field : v;
}

function describeEntry(
  lang: Lang,
  r: {
    actor_kind: string;
    actor_id: string;
    staff_name: string | null;
    actor_given_name?: string | null;
    actor_family_name?: string | null;
    org_name_en: string | null;
    org_name_fr: string | null;
    action: string;
    fields: string[];
    purpose: string;
    legal_basis: string | null;
  },
  ownerId?: string,
) {
  const org = pick({ name_en: r.org_name_en ?? '', name_fr: r.org_name_fr ?? '' }, 'name', lang);
  const who =
    r.actor_kind === 'staff'
      ? t(lang, 'clients.log.actor.staff', { name: r.staff_name ?? r.actor_id, org })
      : r.actor_kind === 'partner'
        ? t(lang, 'clients.log.actor.partner', { org: org || r.actor_id })
        : r.actor_kind === 'client' && ownerId && r.actor_id !== ownerId
          ? t(lang, 'clients.log.actor.representative', { name: [r.actor_given_name, r.actor_family_name].filter(Boolean).join(' ') || r.actor_id })
          : t(lang, `clients.log.actor.${r.actor_kind}`);
  const actionKey = `clients.log.action.${r.action}`;
  const action = t(lang, actionKey) === actionKey ? r.action : t(lang, actionKey);
  const basis =
    r.legal_basis === 'consent'
      ? t(lang, 'clients.consents.basis.consent')
      : r.legal_basis?.startsWith('law')
        ? t(lang, 'clients.consents.basis.law', { law: r.legal_basis.replace(/^law:?\s*/, '') })
        : r.legal_basis?.startsWith('representative:')
          ? t(lang, 'clients.log.basis.representative', { role: t(lang, `clients.business.role.${r.legal_basis.slice('representative:'.length)}`) })
          : (r.legal_basis ?? '');
  return { who, what: `${action}: ${r.fields.map((f) => fieldText(lang, f)).join(', ')}`, why: purposeText(lang, r.purpose), basis };
}
