/**
 * A business's subscriber account in its file, for its representatives (Maine's premium services): status, renewal
 * date, monthly statements, what is carried over, charges on account; an owner or a director takes or cancels the
 * subscription from there. Plain forms (no JavaScript), both languages. Every page checks that the signed-in person
 * represents the business (404 CLIENT_NOT_FOUND otherwise, as for a business that does not exist) and is written to
 * the business's access log (actor: the person; basis: their role), as the business file's other pages are.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../http/deps';
import { AppError, type FieldError } from '../http/errors';
import { formatDate, t, type Lang } from '../i18n/index';
import { bilingualRoute, fillPath } from '../web/render';
import { CLIENT_PATHS, actingForBanner, formErrors } from '../clients/routes';
import { representedBusiness, REPRESENTATIVE_PURPOSE, representativeBasis, type Representation } from '../clients/accounts';
import { recordAccess } from '../clients/access-log';
import { cancelSubscription, chargesOf, DEFAULT_MINIMUM_CENTS, DEFAULT_YEARLY_CENTS, statementsOf, subscribe, subscriptionOf } from './subscriptions';

const P = {
  page: CLIENT_PATHS.businessSubscription,
  take: { en: '/en/my-file/businesses/:businessId/subscription/take', fr: '/fr/mon-dossier/entreprises/:businessId/abonnement/prendre' },
  cancel: { en: '/en/my-file/businesses/:businessId/subscription/cancel', fr: '/fr/mon-dossier/entreprises/:businessId/abonnement/annuler' },
};

/** Representatives who may commit the business to a subscription, or end it: its owners and directors. */
export const SIGNING_ROLES = ['owner', 'director'];

/** The charges shown on the page (the most recent); statements are all shown. */
const CHARGES_SHOWN = 100;

export async function clientSubscriptionRoutes(app: FastifyInstance, deps: AppDeps) {
  const { db } = deps;
  const config = { owner: 'client' as const };
  const params = { params: Type.Object({ businessId: Type.String({ maxLength: 64 }) }) };

  /** The representation, or null after answering (no session: to the sign-in page, then back). */
  async function acting(request: FastifyRequest, reply: FastifyReply, lang: Lang, action: 'read' | 'write', fields: string[]): Promise<Representation | null> {
    if (!request.client) {
      const back = request.method === 'GET' ? request.url : fillPath(P.page[lang], { businessId: (request.params as { businessId: string }).businessId });
      reply.redirect(`${CLIENT_PATHS.signIn[lang]}?returnTo=${encodeURIComponent(back)}`, 303);
      return null;
    }
    const rep = await representedBusiness(db, request.client.id, (request.params as { businessId: string }).businessId);
    if (action === 'write' && !SIGNING_ROLES.includes(rep.role)) throw new AppError(403, 'NOT_A_SIGNING_REPRESENTATIVE');
    await recordAccess(db, {
      clientId: rep.business.id, actorKind: 'client', actorId: request.client.id, action, fields,
      purpose: REPRESENTATIVE_PURPOSE, legalBasis: representativeBasis(rep.role),
    });
    reply.header('Cache-Control', 'no-store');
    return rep;
  }

  async function render(reply: FastifyReply, lang: Lang, rep: Representation, extra: { done?: string; values?: Record<string, string>; details?: FieldError[] } = {}, status = 200) {
    const businessId = rep.business.id;
    const [sub, statements, charges] = await Promise.all([subscriptionOf(db, businessId), statementsOf(db, businessId), chargesOf(db, businessId)]);
    // What is carried over: the latest statement's total when it was under the minimum (it moves to the next one).
    const carriedCents = statements[0]?.status === 'carried' ? statements[0].total_cents : 0;
    const month = (d: string) => {
      const s = formatDate(d, lang, { month: 'long', year: 'numeric' });
      return s.charAt(0).toUpperCase() + s.slice(1);
    };
    return reply.page('billing/views/subscription.njk', {
      title: t(lang, 'billing.sub.title'),
      businessName: rep.business.business_name ?? '',
      actingFor: actingForBanner(lang, rep),
      fileUrl: fillPath(CLIENT_PATHS.businessFile[lang], { businessId }),
      takeUrl: fillPath(P.take[lang], { businessId }),
      cancelUrl: fillPath(P.cancel[lang], { businessId }),
      canAct: SIGNING_ROLES.includes(rep.role),
      defaults: { yearly: sub?.yearly_cents ?? DEFAULT_YEARLY_CENTS, minimum: sub?.minimum_cents ?? DEFAULT_MINIMUM_CENTS },
      sub, carriedCents,
      statements: statements.map((s) => ({ ...s, monthLabel: month(String(s.month)) })),
      charges: charges.slice(-CHARGES_SHOWN).reverse(),
      done: extra.done,
      values: extra.values ?? {},
      ...formErrors(lang, extra.details),
    }, status);
  }

  bilingualRoute(app, 'GET', P.page, async (request, reply, lang) => {
    const rep = await acting(request, reply, lang, 'read', ['subscription']);
    if (!rep) return reply;
    const done = (request.query as { done?: string } | undefined)?.done;
    return render(reply, lang, rep, { done: done === 'taken' || done === 'cancelled' ? done : undefined });
  }, { config, schema: params });

  bilingualRoute(app, 'POST', P.take, async (request, reply, lang) => {
    const rep = await acting(request, reply, lang, 'write', ['subscription']);
    if (!rep) return reply;
    const body = (request.body ?? {}) as { autoRenew?: string };
    if (body.autoRenew !== 'yes' && body.autoRenew !== 'no') {
      return render(reply, lang, rep, { values: {}, details: [{ field: 'autoRenew', code: 'required', message: t(lang, 'billing.sub.autoRenewRequired') }] }, 400);
    }
    try {
      await subscribe(db, { businessId: rep.business.id, autoRenew: body.autoRenew === 'yes' });
    } catch (err) {
      // Already subscribed (a second tab, a double submit): say so on the page, nothing written.
      if (err instanceof AppError && err.code === 'SUBSCRIPTION_EXISTS') {
        return render(reply, lang, rep, { values: body, details: [{ field: 'autoRenew', code: 'exists', message: t(lang, 'errors.SUBSCRIPTION_EXISTS') }] }, 409);
      }
      throw err;
    }
    return reply.redirect(`${fillPath(P.page[lang], { businessId: rep.business.id })}?done=taken`, 303);
  }, { config, schema: params });

  bilingualRoute(app, 'POST', P.cancel, async (request, reply, lang) => {
    const rep = await acting(request, reply, lang, 'write', ['subscription']);
    if (!rep) return reply;
    const confirm = (request.body as { confirm?: string | string[] } | undefined)?.confirm;
    if (!(confirm === 'yes' || (Array.isArray(confirm) && confirm.includes('yes')))) {
      return render(reply, lang, rep, { details: [{ field: 'confirm', code: 'required', message: t(lang, 'billing.sub.confirmRequired') }] }, 400);
    }
    try {
      await cancelSubscription(db, rep.business.id);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NO_ACTIVE_SUBSCRIPTION') {
        return render(reply, lang, rep, { details: [{ field: 'confirm', code: 'none', message: t(lang, 'errors.NO_ACTIVE_SUBSCRIPTION') }] }, 409);
      }
      throw err;
    }
    return reply.redirect(`${fillPath(P.page[lang], { businessId: rep.business.id })}?done=cancelled`, 303);
  }, { config, schema: params });
}
