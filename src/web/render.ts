/**
 * Server-rendered pages: nunjucks with GOV.UK Frontend macros, themed as Guichet (see assets/guichet.scss).
 *
 * Bilingual routes: `pages.route({ en: '/en/search', fr: '/fr/recherche' }, handler)` registers both paths; the
 * language toggle of each page points at the other path with the same parameters and query string.
 * Templates live beside their capability: 'catalogue/views/search.njk'; the layout is 'layout.njk'.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import nunjucks from 'nunjucks';
import { allMessages, formatDate, formatMoney, formatNumber, pick, t, type Lang } from '../i18n/index';
import type { FieldError } from '../http/errors';

const here = path.dirname(fileURLToPath(import.meta.url));
const srcDir = path.resolve(here, '..');
const govukDir = path.resolve(srcDir, '../node_modules/govuk-frontend/dist');

export const env = new nunjucks.Environment(
  [new nunjucks.FileSystemLoader([path.join(here, 'views'), srcDir, govukDir], { noCache: process.env.NODE_ENV === 'development-watch' })],
  { autoescape: true, throwOnUndefined: false, trimBlocks: true, lstripBlocks: true },
);

env.addFilter('money', (cents: number, lang: Lang) => formatMoney(cents, lang));
env.addFilter('number', (n: number, lang: Lang) => formatNumber(n, lang));
env.addFilter('date', (d: Date | string, lang: Lang, style?: 'short' | 'medium' | 'long') => formatDate(d, lang, { dateStyle: style ?? 'long' }));
env.addFilter('datetime', (d: Date | string, lang: Lang) => formatDate(d, lang, { dateStyle: 'medium', timeStyle: 'short' }));
env.addFilter('pick', (row: Record<string, any>, field: string, lang: Lang) => pick(row, field, lang));
env.addFilter('percent', (v: number | null, lang: Lang) =>
  v === null || v === undefined ? '' : new Intl.NumberFormat(lang === 'fr' ? 'fr-CA' : 'en-CA', { style: 'percent', maximumFractionDigits: 1 }).format(v));
env.addFilter('json', (v: unknown) => new nunjucks.runtime.SafeString(JSON.stringify(v).replace(/</g, '\\u003c')));

export interface BilingualPaths {
  en: string;
  fr: string;
}

/** Fill ':param' placeholders of a path from an object. */
export function fillPath(pattern: string, params: Record<string, string>): string {
  return pattern.replace(/:(\w+)/g, (_m, k: string) => encodeURIComponent(params[k] ?? ''));
}

export interface PageContext {
  [key: string]: unknown;
  title?: string;
  errors?: FieldError[];
}

declare module 'fastify' {
  interface FastifyRequest {
    lang: Lang;
    /** The same page in the other language (set by bilingual routes). */
    alternateUrl?: string;
    /** This request's Content-Security-Policy nonce, drawn on first use. */
    readonly cspNonce: string;
    cspNonceValue: string;
  }
  interface FastifyReply {
    page(template: string, context?: PageContext, status?: number): FastifyReply;
  }
}

export function baseContext(request: FastifyRequest) {
  const lang = request.lang;
  const other: Lang = lang === 'en' ? 'fr' : 'en';
  return {
    lang,
    otherLang: other,
    t: (key: string, params?: Record<string, string | number>) => t(lang, key, params),
    alternateUrl: request.alternateUrl ?? `/${other}`,
    currentUrl: request.url,
    cspNonce: request.cspNonce,
    csrfToken: request.csrfToken,
    staff: request.staff ?? null,
    client: request.client ?? null,
    messages: allMessages[lang],
  };
}

export function installPages(app: FastifyInstance) {
  app.decorateRequest('alternateUrl', undefined);
  // The nonce is drawn when a page first asks for it: an API answer has no script to allow, and drawing 12 random
  // bytes for every request was 1.5 % of the agents' benchmark CPU (docs/cases.md).
  app.decorateRequest('cspNonceValue', '');
  app.decorateRequest('cspNonce', {
    getter(this: FastifyRequest) {
      return (this.cspNonceValue ||= crypto.randomBytes(12).toString('base64'));
    },
  });
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'same-origin');
  });
  app.decorateReply('page', function (this: FastifyReply, template: string, context: PageContext = {}, status = 200) {
    const request = this.request;
    const html = env.render(template, { ...baseContext(request), ...context });
    this.header(
      'Content-Security-Policy',
      `default-src 'self'; script-src 'self' 'nonce-${request.cspNonce}'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'`,
    );
    this.header('X-Frame-Options', 'DENY');
    return this.status(status).type('text/html; charset=utf-8').send(html);
  });
}

type PageHandler = (request: FastifyRequest<any>, reply: FastifyReply, lang: Lang) => unknown;

/** Register the English and French paths of one page. */
export function bilingualRoute(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  paths: BilingualPaths,
  handler: PageHandler,
  options: RouteShorthandOptions = {},
) {
  for (const lang of ['en', 'fr'] as const) {
    const other = lang === 'en' ? 'fr' : 'en';
    app.route({
      method,
      url: paths[lang],
      ...options,
      schema: { hide: true, ...(options.schema ?? {}) },
      handler: async (request, reply) => {
        request.lang = lang;
        const qs = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        request.alternateUrl = fillPath(paths[other], (request.params ?? {}) as Record<string, string>) + (method === 'GET' ? qs : '');
        return handler(request, reply, lang);
      },
    });
  }
}

export function renderErrorPage(request: FastifyRequest, reply: FastifyReply, status: number, titleKey: string, body: string, details?: FieldError[]) {
  return reply.page('error.njk', { titleKey, body, details, status }, status);
}
