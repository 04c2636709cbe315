/**
 * Errors: every 4xx is JSON { error: { code, message, details? } } in the request's language (HTML pages get an
 * HTML error page). Nothing but a generic message leaves the server for a 5xx.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { t, type Lang } from '../i18n/index';

export interface FieldError {
  field: string;
  code: string; // machine-readable: required, invalid, tooLong, ...
  message?: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly messageKey: string = `errors.${code}`,
    readonly params?: Record<string, string | number>,
    readonly details?: FieldError[],
  ) {
    super(code);
  }
}

export const notFound = (code = 'NOT_FOUND', key?: string) => new AppError(404, code, key);
export const forbidden = () => new AppError(403, 'FORBIDDEN');
export const unauthenticated = () => new AppError(401, 'UNAUTHENTICATED');
export const badRequest = (code = 'BAD_REQUEST', details?: FieldError[], key?: string) =>
  new AppError(400, code, key, undefined, details);
export const validationError = (details: FieldError[]) => new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);
export const conflict = (code = 'CONFLICT', key?: string) => new AppError(409, code, key);

function ajvToFieldErrors(validation: any[], context: string | undefined): FieldError[] {
  return validation.map((v) => {
    let field = (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.');
    if (v.keyword === 'required' && v.params?.missingProperty) field = field ? `${field}.${v.params.missingProperty}` : v.params.missingProperty;
    if (v.keyword === 'additionalProperties' && v.params?.additionalProperty) field = v.params.additionalProperty;
    const code =
      v.keyword === 'required' ? 'required'
      : v.keyword === 'maxLength' || v.keyword === 'maxItems' ? 'tooLong'
      : v.keyword === 'minLength' || v.keyword === 'minItems' ? 'tooShort'
      : v.keyword === 'minimum' || v.keyword === 'exclusiveMinimum' ? 'tooSmall'
      : v.keyword === 'maximum' || v.keyword === 'exclusiveMaximum' ? 'tooLarge'
      : v.keyword === 'enum' || v.keyword === 'const' || v.keyword === 'anyOf' ? 'notAllowed'
      : v.keyword === 'additionalProperties' ? 'unknown'
      : 'invalid';
    return { field: context && context !== 'body' ? `${context}.${field}`.replace(/\.$/, '') : field || context || '', code };
  });
}

export function wantsHtml(request: FastifyRequest): boolean {
  if (request.url.startsWith('/api/') || request.url.startsWith('/open311/')) return false;
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html');
}

export interface ErrorPageRenderer {
  (request: FastifyRequest, reply: FastifyReply, status: number, titleKey: string, bodyText: string, details?: FieldError[]): FastifyReply;
}

/** What busboy and its dicer say about a multipart body they cannot read. */
const MALFORMED_MULTIPART = /^(Unexpected end of (form|multipart data)|\w+ terminated early due to unexpected end of multipart data|Multipart: Boundary not found|Boundary required|Malformed (part header|content type))/;

/** Normalise any thrown error into { status, code, message, details }. */
export function describeError(error: FastifyError | AppError | Error, lang: Lang) {
  if (error instanceof AppError) {
    const details = error.details?.map((d) => ({ ...d, message: d.message ?? t(lang, `field.${d.code}`) }));
    return { status: error.status, code: error.code, message: t(lang, error.messageKey, error.params), details };
  }
  const fe = error as FastifyError;
  if (fe.validation) {
    const details = ajvToFieldErrors(fe.validation, fe.validationContext).map((d) => ({ ...d, message: t(lang, `field.${d.code}`) }));
    return { status: 400, code: 'VALIDATION_ERROR', message: t(lang, 'errors.VALIDATION_ERROR'), details };
  }
  const byCode: Record<string, [number, string]> = {
    FST_ERR_CTP_BODY_TOO_LARGE: [413, 'PAYLOAD_TOO_LARGE'],
    FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE'],
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'BAD_REQUEST'],
    FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'INVALID_JSON'],
    FST_ERR_CTP_INVALID_JSON_BODY: [400, 'INVALID_JSON'],
    FST_ERR_BAD_URL: [400, 'BAD_REQUEST'],
    FST_CSRF_INVALID_TOKEN: [403, 'CSRF_INVALID'],
    FST_CSRF_MISSING_SECRET: [403, 'CSRF_INVALID'],
    FST_REQ_FILE_TOO_LARGE: [413, 'PAYLOAD_TOO_LARGE'],
    FST_PARTS_LIMIT: [413, 'PAYLOAD_TOO_LARGE'],
    FST_FILES_LIMIT: [413, 'PAYLOAD_TOO_LARGE'],
    FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE'],
    FST_FIELDS_LIMIT: [413, 'PAYLOAD_TOO_LARGE'],
    FST_MP_PREMATURE_CLOSE: [400, 'MALFORMED_MULTIPART'],
    FST_PROTO_VIOLATION: [400, 'MALFORMED_MULTIPART'],
    FST_INVALID_JSON_FIELD_ERROR: [400, 'MALFORMED_MULTIPART'],
    FST_ERR_CTP_INVALID_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE'],
  };
  const mapped = fe.code ? byCode[fe.code] : undefined;
  if (mapped) return { status: mapped[0], code: mapped[1], message: t(lang, `errors.${mapped[1]}`) };
  // A malformed multipart body: the parser (busboy/dicer) fails with plain errors that carry no status.
  if (!fe.statusCode && MALFORMED_MULTIPART.test(error.message ?? '')) return { status: 400, code: 'MALFORMED_MULTIPART', message: t(lang, 'errors.MALFORMED_MULTIPART') };
  if (error instanceof SyntaxError && (fe.statusCode ?? 0) === 400) return { status: 400, code: 'INVALID_JSON', message: t(lang, 'errors.INVALID_JSON') };
  if (fe.statusCode === 429) return { status: 429, code: 'RATE_LIMITED', message: t(lang, 'errors.RATE_LIMITED') };
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, code: 'BAD_REQUEST', message: t(lang, 'errors.BAD_REQUEST') };
  }
  return { status: 500, code: 'INTERNAL_ERROR', message: t(lang, 'errors.INTERNAL_ERROR') };
}

/**
 * Where a browser that needs to sign in is sent (issue 16: a signed-out visit to a request page answered a bare 401).
 * The capabilities that own sign-in register their pages (`registerSignInPage`); the plumbing imports none. A GET page
 * that answers 401 becomes a 303 to the sign-in page for that area (staff pages: the staff sign-in) with
 * `returnTo=<the page>` (a same-site path, only printable ASCII; sign-in checks it again). API answers stay 401 JSON.
 */
export interface SignInPages {
  client: { en: string; fr: string };
  staff: { en: string; fr: string };
}
const signInPages: Partial<SignInPages> = {};
export function registerSignInPage(kind: keyof SignInPages, paths: { en: string; fr: string }): void {
  signInPages[kind] = paths;
}
const STAFF_AREA = /^\/(en\/staff|fr\/personnel)(\/|$|\?)/;

export function signInRedirect(request: FastifyRequest): string | undefined {
  if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
  const url = request.url;
  if (!url.startsWith('/') || url.startsWith('//') || url.length > 500 || !/^[\x21-\x7e]+$/.test(url)) return undefined;
  const lang = request.lang;
  const page = (STAFF_AREA.test(url) ? signInPages.staff : signInPages.client)?.[lang];
  if (!page || url.split('?')[0] === page) return undefined;
  return `${page}?returnTo=${encodeURIComponent(url)}`;
}

export function installErrorHandlers(app: FastifyInstance, renderErrorPage: ErrorPageRenderer) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const lang = request.lang;
    const d = describeError(error, lang);
    if (d.status === 401 && wantsHtml(request)) {
      const to = signInRedirect(request);
      if (to) return reply.redirect(to, 303);
    }
    if (d.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: d.code, status: d.status }, 'request rejected');
    if (wantsHtml(request)) {
      const titleKey = d.status === 404 ? 'error.notFound.title' : d.status >= 500 ? 'error.server.title' : 'error.title';
      return renderErrorPage(request, reply, d.status, titleKey, d.message, d.details);
    }
    return reply.status(d.status).type('application/json; charset=utf-8').send({ error: { code: d.code, message: d.message, ...(d.details ? { details: d.details } : {}) } });
  });

  app.setNotFoundHandler((request, reply) => {
    const lang = request.lang;
    if (wantsHtml(request)) return renderErrorPage(request, reply, 404, 'error.notFound.title', t(lang, 'error.notFound.body'));
    return reply.status(404).send({
      error: { code: 'ROUTE_NOT_FOUND', message: t(lang, 'errors.ROUTE_NOT_FOUND', { method: request.method, url: request.url.split('?')[0] }) },
    });
  });
}
