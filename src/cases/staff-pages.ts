/** What the cases capability's staff pages share (routes.ts, assisted.ts, questions-routes.ts). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { signInRedirect } from '../http/errors';
import { requireStaff } from '../http/session';
import type { Lang } from '../i18n/index';
import { CASE_ROLES } from './service';

const CONSOLE = { en: '/en/staff/console', fr: '/fr/personnel/console' };

/** The staff member (with a case role) for a page; without a staff session, redirects to the staff sign-in and gives null. */
export function staffOrRedirect(request: FastifyRequest, reply: FastifyReply, lang: Lang) {
  if (!request.staff) {
    reply.redirect(signInRedirect(request) ?? (lang === 'fr' ? '/fr/personnel/connexion' : '/en/staff/login'), 303);
    return null;
  }
  return requireStaff(request, CASE_ROLES);
}

/** The agent console, serving this client. */
export const consoleClientUrl = (lang: Lang, clientId: string) => `${CONSOLE[lang]}?client=${encodeURIComponent(clientId)}`;
