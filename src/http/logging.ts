/**
 * What the logs may hold: no personal data, no secrets (docs/identity-and-privacy.md, "Logs").
 *
 * - Errors are serialised with their type, code, message and stack only, the message and stack scrubbed: a database
 *   error's parameters (`params`, `parameters`), statement (`query`), `detail` ("Failing row contains (…)"), `where`,
 *   `hint` and `internalQuery` are dropped, values PostgreSQL quotes in its message ('invalid input syntax for type
 *   date: "…"') are replaced, and e-mail addresses are masked wherever they appear.
 * - Request lines keep method, path, host and address; the query string's values are removed for every parameter
 *   that may carry a secret or personal data (the OpenID callback's `code` and `state`, `token`, `api_key`, `key`,
 *   `email`…).
 * - A redaction list removes headers (authorization, cookies, x-csrf-token, set-cookie), bodies and SQL parameters
 *   wherever a log call passes them, and e-mail fields (`to`, `email`) one level down.
 */
import type { LoggerOptions } from 'pino';
import pino from 'pino';

/** Query parameters whose values never reach the logs. */
export const SECRET_QUERY_PARAMS = [
  'code', 'state', 'token', 'access_token', 'id_token', 'refresh_token', 'api_key', 'apikey', 'key', 'password', 'secret',
  'client_secret', 'nonce', 'session_state', 'signature', 'sig', 'email', 'returnto', 'iss',
];
const SECRET_QUERY = new Set(SECRET_QUERY_PARAMS);

/** The URL with the values of secret query parameters replaced by `[redacted]`. */
export function scrubUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  const q = url.indexOf('?');
  if (q < 0) return maskEmails(url);
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        /* keep it raw */
      }
      return eq >= 0 && SECRET_QUERY.has(name.toLowerCase().replace(/\[\]$/, '')) ? `${rawName}=[redacted]` : pair;
    })
    .join('&');
  return maskEmails(`${url.slice(0, q)}?${query}`);
}

const EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@|%40)([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;

/** 'camille@example.com' → 'c***@example.com' (the domain is kept: it tells a mail problem apart). */
export function maskEmails(s: string): string {
  return s.replace(EMAIL, (_m, first: string, at: string, domain: string) => `${first}***${at}${domain}`);
}

/** An address for a log line: 'c***@example.com', or '' for something that is not one. */
export function maskEmail(address: string | undefined | null): string {
  if (!address) return '';
  return maskEmails(String(address));
}

/** PostgreSQL's messages quote the offending value ('invalid input syntax for type uuid: "…"'). */
function scrubMessage(message: string, fromDatabase: boolean): string {
  const m = fromDatabase ? message.replace(/"(?:[^"\\]|\\.)*"/g, (q, offset: number) => (message.slice(Math.max(0, offset - 2), offset).includes(':') ? '"[redacted]"' : q)) : message;
  return maskEmails(m);
}

const DROPPED_ERROR_FIELDS = new Set(['params', 'parameters', 'query', 'queryOptions', 'detail', 'where', 'hint', 'internalQuery', 'body', 'data', 'config', 'request', 'response']);

/** An error for the log: type, code, message and stack (scrubbed), and harmless database fields. */
export function errSerializer(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error) && (typeof err !== 'object' || err === null)) return { message: maskEmails(String(err)) };
  const e = err as Error & Record<string, unknown>;
  const fromDatabase = typeof e.severity === 'string' || typeof e.routine === 'string' || (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code));
  const message = scrubMessage(String(e.message ?? ''), fromDatabase);
  const out: Record<string, unknown> = { type: e.constructor?.name ?? 'Error', message };
  for (const k of ['code', 'statusCode', 'severity', 'table', 'column', 'constraint', 'routine', 'schema', 'dataType'] as const) {
    if (e[k] !== undefined && (typeof e[k] === 'string' || typeof e[k] === 'number')) out[k] = e[k];
  }
  for (const k of Object.keys(e)) {
    if (k in out || DROPPED_ERROR_FIELDS.has(k) || k === 'message' || k === 'stack') continue;
    const v = e[k];
    if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  if (typeof e.stack === 'string') {
    const original = String(e.message ?? '');
    out.stack = maskEmails(original ? e.stack.split(original).join(message) : e.stack);
  }
  if (e.cause !== undefined && e.cause !== err) out.cause = errSerializer(e.cause);
  return out;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: Record<string, unknown>;
  socket?: { remotePort?: number };
}

/** A request for the log: no headers, no body, the query string scrubbed. */
export function reqSerializer(req: LoggedRequest) {
  return { method: req.method, url: scrubUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/** Paths pino removes from every log object (they are replaced by "[redacted]"). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'req.body',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-csrf-token"]',
  'authorization',
  'cookie',
  'body',
  'payload',
  'params',
  'parameters',
  'query',
  'sql',
  'password',
  'token',
  'apiKey',
  'api_key',
  'email',
  'to',
  'text',
  'html',
  '*.authorization',
  '*.cookie',
  '*.body',
  '*.params',
  '*.parameters',
  '*.password',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.email',
  '*.to',
  '*.text',
  '*.html',
];

/** The pino options of every Guichet logger (the server's and the worker's). */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: errSerializer, error: errSerializer, req: reqSerializer as (r: unknown) => unknown },
  };
}

/** A pino logger with Guichet's redaction (for processes without Fastify: the worker, tools). */
export function createLogger(level: string, base?: Record<string, unknown>, stream?: pino.DestinationStream) {
  const opts = { ...loggerOptions(level), ...(base ? { base } : {}) };
  return stream ? pino(opts, stream) : pino(opts);
}
