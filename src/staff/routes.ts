/**
 * Staff sign-in and the staff home page.
 * Development login (not in production): pick a seeded staff member. The clients/accounts work moves staff onto
 * OpenID Connect; authorisation is always decided on the server from the staff member's organisation and roles.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError, registerSignInPage, signInRedirect } from '../http/errors';
import { safeReturnTo } from '../clients/oidc';
import { endSession, requireStaff, startSession } from '../http/session';
import { bilingualRoute } from '../web/render';
import { own } from '../http/ownership';
import { t, type Lang } from '../i18n/index';

/** Role names in the reader's language ("agent, gestionnaire"). */
export function roleNames(lang: Lang, roles: string[]): string {
  return roles.map((r) => t(lang, `staff.role.${r}`)).join(', ');
}

export async function routes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db, config } = deps;
  const devLogin = config.env !== 'production';
  const LOGIN = { en: '/en/staff/login', fr: '/fr/personnel/connexion' };
  // a staff page visited signed out comes here, then back (src/http/errors.ts)
  registerSignInPage('staff', LOGIN);

  bilingualRoute(app, 'GET', LOGIN, async (request, reply, lang) => {
    const returnTo = safeReturnTo((request.query as Record<string, unknown>)?.returnTo);
    const back = returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : '';
    // production: staff sign in with OpenID Connect only (src/clients/routes.ts)
    if (!devLogin) return reply.redirect((lang === 'fr' ? '/fr/personnel/se-connecter' : '/en/staff/sign-in') + back, 303);
    const staff = await db
      .selectFrom('staff_users')
      .innerJoin('organisations', 'organisations.id', 'staff_users.org_id')
      .select(['staff_users.id', 'staff_users.name', 'staff_users.roles', 'organisations.name_en', 'organisations.name_fr'])
      .where('staff_users.active', '=', true)
      .orderBy('staff_users.name')
      .execute();
    return reply.page('staff/views/login.njk', {
      title: lang === 'fr' ? 'Connexion du personnel' : 'Staff sign-in',
      items: staff.map((s) => ({
        value: s.id,
        text: `${s.name} — ${lang === 'fr' ? s.name_fr : s.name_en} (${roleNames(lang, s.roles)})`,
      })),
      returnTo,
    });
  }, { config: own.none });

  bilingualRoute(
    app,
    'POST',
    { en: '/en/staff/login', fr: '/fr/personnel/connexion' },
    async (request, reply, lang) => {
      if (!devLogin) throw new AppError(404, 'NOT_FOUND');
      const { staffId, returnTo } = request.body as { staffId?: string; returnTo?: string };
      const s = staffId ? await db.selectFrom('staff_users').select(['id', 'active']).where('id', '=', staffId).executeTakeFirst() : undefined;
      if (!s || !s.active) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'staffId', code: 'required' }]);
      await startSession(db, request, reply, 'staff', s.id, {}, config.publicBaseUrl.startsWith('https://'));
      return reply.redirect(safeReturnTo(returnTo) ?? (lang === 'fr' ? '/fr/personnel' : '/en/staff'), 303);
    },
    { config: own.none, schema: { body: Type.Object({ staffId: Type.Optional(Type.String({ maxLength: 100 })), returnTo: Type.Optional(Type.String({ maxLength: 500 })), _csrf: Type.Optional(Type.String()) }) } },
  );

  bilingualRoute(app, 'POST', { en: '/en/staff/logout', fr: '/fr/personnel/deconnexion' }, async (request, reply, lang) => {
    const everywhere = (request.body as Record<string, string> | undefined)?.everywhere === 'yes';
    await endSession(db, request, reply, everywhere);
    return reply.redirect(`/${lang}`, 303);
  }, { config: own.none });

  bilingualRoute(app, 'GET', { en: '/en/staff', fr: '/fr/personnel' }, async (request, reply, lang) => {
    if (!request.staff) return reply.redirect(signInRedirect(request) ?? (lang === 'fr' ? '/fr/personnel/connexion' : '/en/staff/login'), 303);
    const staff = requireStaff(request);
    const org = await db.selectFrom('organisations').selectAll().where('id', '=', staff.orgId).executeTakeFirstOrThrow();
    // each capability's links (its manifest), shown to whom the linked page lets in (src/http/staff-links.ts)
    const links = await deps.staffLinks.for(request, lang);
    return reply.page('staff/views/home.njk', { title: lang === 'fr' ? 'Espace du personnel' : 'Staff area', org, links, roles: roleNames(lang, staff.roles) });
  }, { config: own.staffSelf });
}
