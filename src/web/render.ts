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
import { allMessages, formatDate, formatMoney, formatNumber, numberFormat, pick, t, tn, type Lang } from '../i18n/index';
import { AppError, describeError, wantsHtml, type FieldError } from '../http/errors';

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
  v === null || v === undefined ? '' : numberFormat(lang, 'percent').format(v));
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
    /** Field errors a page's form comes back with (schema validation or a handler's VALIDATION_ERROR): the layout
     * shows them in a GOV.UK error summary with readable labels. */
    pageErrors?: Array<FieldError & { label: string; href: string; text: string }>;
    /** What the person had typed, when their form comes back with errors. */
    pageValues?: Record<string, unknown>;
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
    tn: (key: string, n: number, params?: Record<string, string | number>) => tn(lang, key, n, params),
    alternateUrl: request.alternateUrl ?? `/${other}`,
    currentUrl: request.url,
    cspNonce: request.cspNonce,
    csrfToken: request.csrfToken,
    staff: request.staff ?? null,
    client: request.client ?? null,
    pageErrors: request.pageErrors ?? null,
    pageValues: request.pageValues ?? {},
    messages: allMessages[lang],
  };
}

export function installPages(app: FastifyInstance) {
  app.decorateRequest('alternateUrl', undefined);
  app.decorateRequest('pageErrors', undefined);
  app.decorateRequest('pageValues', undefined);
  // The nonce is drawn when a page first asks for it: an API answer has no script to allow, and drawing 12 random
  // bytes for every request was 1.5 % of the agents' benchmark CPU (docs/cases.md).
  app.decorateRequest('cspNonceValue', '');
  app.decorateRequest('cspNonce', {
    getter(this: FastifyRequest) {
      return (this.cspNonceValue ||= crypto.randomBytes(12).toString('base64'));
    },
  });
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'same-origin');
    done();
  });
  app.decorateReply('page', function (this: FastifyReply, template: string, context: PageContext = {}, status = 200) {
    const request = this.request;
    const html = env.render(template, { ...baseContext(request), ...context });
    this.header(
      'Content-Security-Policy',
      `default-src 'self'; script-src 'self' 'nonce-${request.cspNonce}'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'`,
    );
    this.header('X-Frame-Options', 'DENY');
    // a form that comes back with errors is a 400, whatever status the page would have had
    if (request.pageErrors?.length && status < 400) status = 400;
    return this.status(status).type('text/html; charset=utf-8').send(html);
  });
}

type PageHandler = (request: FastifyRequest<any>, reply: FastifyReply, lang: Lang) => unknown;

/** The GET page handler of every bilingual path, per app (keyed by its server): a form posted with errors comes back
 * on the page of the same path. */
const getPages = new WeakMap<object, Map<string, PageHandler>>();

const CONTEXTS = /^(querystring|body|params|headers)\./;

/** The name a person reads for a field: `field.label.<name>` of the last segment (`querystring.q` → "Search terms"),
 * or a plain "One of your answers" when the form has no label for it. Never a schema path. */
export function fieldLabel(lang: Lang, field: string): string {
  const name = field.replace(CONTEXTS, '').split('.').filter((x) => x && !/^\d+$/.test(x)).pop() ?? '';
  const key = `field.label.${name}`;
  const label = name ? t(lang, key) : key;
  return label === key ? t(lang, 'field.label.other') : label;
}

/** Field errors with readable labels and the id of the input they point at. */
export function readableErrors(lang: Lang, details: FieldError[]): Array<FieldError & { label: string; href: string; text: string }> {
  return details.map((d) => {
    const name = d.field.replace(CONTEXTS, '');
    const message = d.message ?? t(lang, `field.${d.code}`);
    const label = fieldLabel(lang, name);
    return { ...d, field: name, message, label, text: t(lang, 'error.fieldText', { label, message }), href: `#${name.split('.')[0] || 'main-content'}` };
  });
}

/** A same-origin path to go back to (the Referer), or none. */
function backPath(request: FastifyRequest): string | undefined {
  const ref = request.headers.referer;
  if (!ref) return undefined;
  try {
    const u = new URL(ref, 'http://x');
    const host = request.headers.host;
    if (u.host !== 'x' && u.host !== host) return undefined;
    const p = u.pathname + u.search;
    return p.startsWith('/') && !p.startsWith('//') ? p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Register the English and French paths of one page.
 *
 * Validation errors on pages come back on the form (issue 16: "staffId: Enter this information." on a bare page).
 * A page whose schema rejects the request, or whose handler throws a 400 with field details (`validationError`), is
 * answered, for a browser (Accept: text/html), with:
 * - GET: the same page without the rejected query parameters (`q` too long, `page=-1`), with the error summary;
 * - POST: the GET page of the same path (the form), status 400, with the error summary and `pageValues` (what was
 *   typed); without such a page, the error page with readable labels and a link back to the form (Referer).
 * A malformed path parameter stays a 404. Non-browser callers keep the JSON 400 with `details`.
 */
export function bilingualRoute(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  paths: BilingualPaths,
  handler: PageHandler,
  options: RouteShorthandOptions = {},
) {
  let pages = getPages.get(app.server);
  if (!pages) getPages.set(app.server, (pages = new Map()));
  const schema = (options.schema ?? {}) as Record<string, unknown>;
  const validates = Boolean(schema.body || schema.querystring || schema.params);
  for (const lang of ['en', 'fr'] as const) {
    const other = lang === 'en' ? 'fr' : 'en';
    if (method === 'GET') pages.set(paths[lang], handler);
    const registry = pages;
    app.route({
      method,
      url: paths[lang],
      ...options,
      ...(validates ? { attachValidation: true } : {}),
      schema: { hide: true, ...(options.schema ?? {}) },
      handler: async (request, reply) => {
        request.lang = lang;
        const qs = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        request.alternateUrl = fillPath(paths[other], (request.params ?? {}) as Record<string, string>) + (method === 'GET' ? qs : '');
        let details: FieldError[] | undefined;
        const invalid = request.validationError;
        if (invalid) {
          if ((invalid as { validationContext?: string }).validationContext === 'params') throw new AppError(404, 'NOT_FOUND');
          if (!wantsHtml(request)) throw invalid;
          details = describeError(invalid, lang).details ?? [];
        } else {
          try {
            return await handler(request, reply, lang);
          } catch (err) {
            if (!(err instanceof AppError && err.status === 400 && err.details?.length) || reply.sent || !wantsHtml(request)) throw err;
            details = err.details;
          }
        }
        const errors = readableErrors(lang, details);
        request.pageErrors = errors;
        if (method === 'GET') {
          // the page again, without what was rejected
          const query = { ...((request.query ?? {}) as Record<string, unknown>) };
          for (const d of details) if (d.field.startsWith('querystring.')) delete query[d.field.slice('querystring.'.length).split('.')[0]];
          (request as { query: unknown }).query = query;
          try {
            return await handler(request, reply, lang);
          } catch (err) {
            if (reply.sent) throw err;
            // (the page needs what was rejected: the error page below)
          }
        } else {
          const form = registry.get(paths[lang]);
          const body = request.body;
          if (body && typeof body === 'object') request.pageValues = Object.fromEntries(Object.entries(body).filter(([k]) => k !== '_csrf'));
          if (form) {
            reply.status(400);
            return form(request, reply, lang);
          }
        }
        return reply.page('error.njk', { titleKey: 'error.title', body: t(lang, 'errors.VALIDATION_ERROR'), backUrl: backPath(request), status: 400 }, 400);
      },
    });
  }
}

export function renderErrorPage(request: FastifyRequest, reply: FastifyReply, status: number, titleKey: string, body: string, details?: FieldError[]) {
  // field errors read with labels a person understands, never a schema path (`querystring.q`)
  if (details?.length && !request.pageErrors) request.pageErrors = readableErrors(request.lang, details);
  return reply.page('error.njk', { titleKey, body, status, backUrl: details?.length ? backPath(request) : undefined }, status);
}
