/**
 * Webhook signatures: HMAC-SHA256 with the partner's own secret over `<timestamp>.<raw body>`, sent as
 *   Guichet-Signature: t=<unix seconds>,v1=<hex digest>
 * Partners verify with verifySignature() (or the few lines in docs/tell-us-once.md) and refuse timestamps older
 * than 5 minutes (replay protection); the Idempotency-Key header (the notice id) makes retries safe to apply once.
 */
import crypto from 'node:crypto';

export const SIGNATURE_HEADER = 'guichet-signature';
export const TOLERANCE_SECONDS = 300;

export function sign(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const mac = crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

export function verifySignature(secret: string, body: string, header: string | undefined, now = Math.floor(Date.now() / 1000)): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(now - t) > TOLERANCE_SECONDS) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const got = Buffer.from(parts.v1, 'hex');
  return got.length === expected.length && crypto.timingSafeEqual(got, expected);
}

/** A new signing secret or API key: 32 random bytes, base64url, with a recognisable prefix. */
export function newSecret(prefix: 'whsec' | 'gpk'): string {
  return `${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
}

export const sha256hex = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
