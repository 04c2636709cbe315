/**
 * OpenID Connect sign-in (relying party) with openid-client v6: discovery, authorization code flow with PKCE (S256),
 * state and nonce. One callback, `/auth/callback`, serves clients and staff; the pending sign-in (state → PKCE
 * verifier, nonce, kind, language, return address) is kept server-side in `oidc_logins` (single use, 10 minutes),
 * and the state is also bound to the browser by a short-lived HttpOnly cookie.
 *
 * Clients are matched by the provider's subject (created on first sign-in from the userinfo claims). Staff are
 * matched by subject, or on first sign-in by their verified e-mail in staff_users (the subject is then recorded).
 */
import crypto from 'node:crypto';
import * as oidc from 'openid-client';
import type { Config } from '../config';
import type { Database } from '../db/database';
import { AppError } from '../http/errors';
import { localDate, type Lang } from '../i18n/index';
import { isIsoDate, validateAddress } from './accounts';

export const OIDC_STATE_COOKIE = 'guichet_oidc';
export const PENDING_TTL_MS = 10 * 60 * 1000;
export const CALLBACK_PATH = '/auth/callback';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

const cache = new Map<string, Promise<oidc.Configuration>>();

export function redirectUri(config: Config): string {
  return `${config.publicBaseUrl}${CALLBACK_PATH}`;
}

/** Discovered configuration of the identity provider (cached; retried after a failure). */
export async function oidcConfiguration(config: Config): Promise<oidc.Configuration> {
  const { issuer, clientId, clientSecret } = config.oidc;
  if (!issuer) throw new AppError(503, 'SIGNIN_UNAVAILABLE');
  const key = `${issuer}|${clientId}|${crypto.createHash('sha256').update(clientSecret).digest('hex')}`;
  let p = cache.get(key);
  if (!p) {
    const url = new URL(issuer);
    const insecureOk = url.protocol === 'http:' && LOOPBACK.has(url.hostname) && config.env !== 'production';
    if (url.protocol !== 'https:' && !insecureOk) throw new AppError(503, 'SIGNIN_UNAVAILABLE');
    p = oidc.discovery(url, clientId, clientSecret, oidc.ClientSecretBasic(clientSecret), {
      execute: insecureOk ? [oidc.allowInsecureRequests] : [],
      timeout: 10,
    });
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  try {
    return await p;
  } catch {
    throw new AppError(503, 'SIGNIN_UNAVAILABLE');
  }
}

/** A safe local return address ('/en/my-file'), or undefined. */
export function safeReturnTo(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length > 500) return undefined;
  // a local path of printable ASCII only: a character above U+00FF cannot go in the Location header (Node refuses the
  // answer), which broke the sign-in callback after the session was written; a real path percent-encodes them
  if (!v.startsWith('/') || v.startsWith('//') || v.includes('\\') || !/^[\x21-\x7e]+$/.test(v)) return undefined;
  return v;
}

/** Start a sign-in: remember the pending login and return the provider's authorization URL. */
export async function beginSignIn(
  db: Database,
  config: Config,
  opts: { kind: 'client' | 'staff'; lang: Lang; returnTo?: string },
): Promise<{ url: URL; state: string }> {
  const cfg = await oidcConfiguration(config);
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const verifier = oidc.randomPKCECodeVerifier();
  const challenge = await oidc.calculatePKCECodeChallenge(verifier);
  await db.deleteFrom('oidc_logins').where('created_at', '<', new Date(Date.now() - PENDING_TTL_MS)).execute();
  await db
    .insertInto('oidc_logins')
    .values({ state, kind: opts.kind, code_verifier: verifier, nonce, return_to: safeReturnTo(opts.returnTo) ?? null, lang: opts.lang })
    .execute();
  // the standard 'address' scope only when the provider says it supports it
  const scopes = cfg.serverMetadata().scopes_supported?.includes('address') ? 'openid email profile address' : 'openid email profile';
  const url = oidc.buildAuthorizationUrl(cfg, {
    redirect_uri: redirectUri(config),
    scope: scopes,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
    ui_locales: opts.lang === 'fr' ? 'fr-CA fr en' : 'en-CA en fr',
  });
  return { url, state };
}

export interface SignInResult {
  kind: 'client' | 'staff';
  subjectId: string;
  lang: Lang;
  returnTo: string | undefined;
  issuer: string;
  sub: string;
}

/**
 * Finish a sign-in from the callback URL. `browserState` is the state cookie set by beginSignIn.
 * 400 SIGNIN_EXPIRED (unknown/used/stale state or cookie mismatch), 400 SIGNIN_FAILED (the provider refused or the
 * response did not verify), 403 STAFF_UNKNOWN (no active staff account for this identity).
 */
export async function completeSignIn(
  db: Database,
  config: Config,
  callbackUrl: URL,
  browserState: string | undefined,
  log?: { warn(obj: object, msg: string): void },
): Promise<SignInResult> {
  const state = callbackUrl.searchParams.get('state');
  if (!state || state.length > 200 || !browserState || browserState !== state) throw new AppError(400, 'SIGNIN_EXPIRED');
  // single use: the pending row is deleted whatever happens next
  const pending = await db.deleteFrom('oidc_logins').where('state', '=', state).returningAll().executeTakeFirst();
  if (!pending || pending.created_at.getTime() + PENDING_TTL_MS < Date.now()) throw new AppError(400, 'SIGNIN_EXPIRED');
  if (callbackUrl.searchParams.get('error')) {
    log?.warn({ error: callbackUrl.searchParams.get('error') }, 'identity provider returned an error');
    throw new AppError(400, 'SIGNIN_FAILED');
  }
  const cfg = await oidcConfiguration(config);
  let sub: string;
  let info: oidc.UserInfoResponse;
  try {
    const tokens = await oidc.authorizationCodeGrant(cfg, callbackUrl, {
      pkceCodeVerifier: pending.code_verifier,
      expectedState: state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims?.sub) throw new Error('no subject');
    sub = claims.sub;
    info = await oidc.fetchUserInfo(cfg, tokens.access_token, sub);
  } catch (err) {
    log?.warn({ err: (err as Error).message }, 'OpenID Connect code exchange failed');
    throw new AppError(400, 'SIGNIN_FAILED');
  }
  const issuer = cfg.serverMetadata().issuer;
  const subjectId = pending.kind === 'staff' ? await matchStaff(db, sub, info) : await matchOrProvisionClient(db, sub, info, pending.lang);
  return { kind: pending.kind, subjectId, lang: pending.lang, returnTo: pending.return_to ?? undefined, issuer, sub };
}

async function matchStaff(db: Database, sub: string, info: oidc.UserInfoResponse): Promise<string> {
  const bySub = await db.selectFrom('staff_users').select(['id', 'active']).where('oidc_subject', '=', sub).executeTakeFirst();
  if (bySub) {
    if (!bySub.active) throw new AppError(403, 'STAFF_UNKNOWN');
    return bySub.id;
  }
  const email = typeof info.email === 'string' && info.email_verified === true ? info.email.toLowerCase() : undefined;
  if (!email) throw new AppError(403, 'STAFF_UNKNOWN');
  const row = await db
    .updateTable('staff_users')
    .set({ oidc_subject: sub })
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email))
    .where('oidc_subject', 'is', null)
    .where('active', '=', true)
    .returning('id')
    .executeTakeFirst();
  if (!row) throw new AppError(403, 'STAFF_UNKNOWN');
  return row.id;
}

const cleanName = (v: unknown) => (typeof v === 'string' && v.trim() && v.length <= 100 ? v.trim() : null);

/** Find the client of this subject, or create one from the provider's claims (invalid claims are ignored). */
async function matchOrProvisionClient(db: Database, sub: string, info: oidc.UserInfoResponse, lang: Lang): Promise<string> {
  const found = await db.selectFrom('clients').select('id').where('oidc_subject', '=', sub).executeTakeFirst();
  if (found) return found.id;
  const locale = typeof info.locale === 'string' ? info.locale.slice(0, 2).toLowerCase() : '';
  const birth = typeof info.birthdate === 'string' && isIsoDate(info.birthdate) && info.birthdate <= localDate() ? info.birthdate : null;
  const email = typeof info.email === 'string' && info.email_verified === true && info.email.length <= 254 ? info.email : null;
  const id = crypto.randomUUID();
  await db
    .insertInto('clients')
    .values({
      id,
      kind: 'person',
      oidc_subject: sub,
      given_name: cleanName(info.given_name),
      family_name: cleanName(info.family_name),
      business_name: null,
      business_number: null,
      birth_date: birth,
      email,
      phone: null,
      preferred_lang: locale === 'fr' || locale === 'en' ? locale : lang,
      contact_preferences: JSON.stringify(email ? { email: true } : {}),
      accessibility_needs: null,
    })
    .onConflict((oc) => oc.column('oidc_subject').doNothing())
    .execute();
  const row = await db.selectFrom('clients').select('id').where('oidc_subject', '=', sub).executeTakeFirstOrThrow();
  // a first address from the standard 'address' claim, when the provider gives a valid Canadian one
  const a = info.address as Record<string, unknown> | undefined;
  if (row.id === id && a && typeof a === 'object' && (a.country === undefined || a.country === 'CA')) {
    const lines = typeof a.street_address === 'string' ? a.street_address.split(/\r?\n/) : [];
    const { value } = validateAddress({ line1: lines[0], line2: lines.slice(1).join(', ') || undefined, city: a.locality, province: a.region, postalCode: a.postal_code });
    if (value) await db.insertInto('client_addresses').values({ client_id: id, ...value, valid_to: null }).execute();
  }
  return row.id;
}
