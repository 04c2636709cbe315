/**
 * Text that cannot be stored is refused at the door. PostgreSQL rejects a NUL character in `text` and `jsonb`
 * ("invalid byte sequence", "unsupported Unicode escape sequence"), and a lone UTF-16 surrogate cannot be encoded as
 * UTF-8; either reached the database from any text field and answered 500. One hook, before each route's schema
 * validation, walks every string (and object key) of the parsed body, the query string and the path parameters of
 * every route, pages and API, JSON and form posts alike, and answers 400 `INVALID_CHARACTERS` with the fields named.
 * A multipart body is read by its route (cases' documents), which checks the names it stores itself.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, type FieldError } from './errors';

/** A NUL, or a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when the text has no character PostgreSQL or UTF-8 cannot take. */
export function isStorableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/** The dotted paths of the strings (values or keys) in `value` that cannot be stored, at most `max` of them. */
export function unstorableFields(value: unknown, prefix = '', max = 10): string[] {
  const found: string[] = [];
  // iterative (a deeply nested JSON body must not overflow the stack)
  const stack: Array<[unknown, string]> = [[value, prefix]];
  let visited = 0;
  while (stack.length && found.length < max) {
    const [v, path] = stack.pop()!;
    if (++visited > 200_000) break; // the body limit bounds this; a guard all the same
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) found.push(path);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], path ? `${path}.${i}` : String(i)]);
    } else if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        const p = path ? `${path}.${k}` : k;
        if (UNSTORABLE.test(k)) found.push(p.replace(/[\ud800-\udfff\u0000]/g, '?'));
        else stack.push([child, p]);
      }
    }
  }
  return found;
}

/**
 * Whether any string (value or key) in `value` cannot be stored: the same walk as unstorableFields without the paths,
 * so that the usual request (nothing wrong) allocates nothing more than a small stack.
 */
function anyUnstorable(value: unknown): boolean {
  if (typeof value === 'string') return UNSTORABLE.test(value);
  if (!value || typeof value !== 'object') return false;
  const stack: unknown[] = [value];
  let visited = 0;
  while (stack.length) {
    const v = stack.pop();
    // past the guard: unstorableFields decides (with the same guard)
    if (++visited > 200_000) return true;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) return true;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
    } else if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
      for (const k of Object.keys(v)) {
        if (UNSTORABLE.test(k)) return true;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return false;
}

function check(request: FastifyRequest) {
  if (!anyUnstorable(request.params) && !anyUnstorable(request.query) && !anyUnstorable(request.body)) return;
  const fields = [
    ...unstorableFields(request.params, 'params'),
    ...unstorableFields(request.query, 'querystring'),
    ...unstorableFields(request.body, ''),
  ];
  if (fields.length) {
    const details: FieldError[] = fields.map((field) => ({ field, code: 'invalidCharacters' }));
    throw new AppError(400, 'INVALID_CHARACTERS', undefined, undefined, details);
  }
}

export function installInputChecks(app: FastifyInstance) {
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      check(request);
    } catch (err) {
      return done(err as Error);
    }
    done();
  });
  // A redirect target built from input (a path with non-ASCII text in it) must not break the answer: Node refuses a
  // header with characters above U+00FF. Such a Location is percent-encoded here, whatever route built it.
  app.addHook('onSend', (_request, reply, payload, done) => {
    const location = reply.getHeader('location');
    if (typeof location === 'string' && /[^\x21-\x7e]/.test(location)) {
      reply.header('location', location.replace(/[^\x21-\x7e]+/g, (s) => (isStorableText(s) ? encodeURIComponent(s) : '')));
    }
    done(null, payload);
  });
}
