/**
 * Which payment provider a process uses (README, "Payments"):
 *   PAYMENT_PROVIDER=stripe   STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET (required)
 *   PAYMENT_PROVIDER=dev      (default outside production) the development provider: DEV_PAYMENTS_URL,
 *                             DEV_PAYMENTS_API_KEY, DEV_PAYMENTS_WEBHOOK_SECRET; `npm start` starts one itself.
 * In production, only stripe is accepted.
 */
import { devProvider } from './dev';
import { stripeProvider } from './stripe';
import type { PaymentProvider } from './types';

let current: PaymentProvider | null = null;

export function providerFromEnv(env: NodeJS.ProcessEnv = process.env): PaymentProvider | null {
  const kind = env.PAYMENT_PROVIDER ?? (env.NODE_ENV === 'production' ? 'stripe' : 'dev');
  if (kind === 'stripe') {
    if (!env.STRIPE_SECRET_KEY || !env.STRIPE_WEBHOOK_SECRET) throw new Error('PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET');
    return stripeProvider({ secretKey: env.STRIPE_SECRET_KEY, webhookSecret: env.STRIPE_WEBHOOK_SECRET });
  }
  if (kind === 'dev') {
    if (env.NODE_ENV === 'production') throw new Error('the development payment provider is not available in production');
    if (!env.DEV_PAYMENTS_URL || !env.DEV_PAYMENTS_API_KEY || !env.DEV_PAYMENTS_WEBHOOK_SECRET) return null;
    return devProvider({ url: env.DEV_PAYMENTS_URL, apiKey: env.DEV_PAYMENTS_API_KEY, webhookSecret: env.DEV_PAYMENTS_WEBHOOK_SECRET });
  }
  throw new Error(`PAYMENT_PROVIDER=${kind}: expected stripe or dev`);
}

/** The provider of this process: set by the server at start (or by a test), else read from the environment. */
export function paymentProvider(): PaymentProvider | null {
  if (!current) current = providerFromEnv();
  return current;
}

export function setPaymentProvider(p: PaymentProvider | null): void {
  current = p;
}

/**
 * `npm start` outside production with no provider configured: start the development payment provider on loopback
 * (DEV_PAYMENTS_PORT, default 3002) with fresh secrets and use it. Returns its close function, or null.
 */
export async function startDevPaymentsIfNeeded(publicBaseUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<(() => Promise<void>) | null> {
  if (env.NODE_ENV === 'production' || (env.PAYMENT_PROVIDER && env.PAYMENT_PROVIDER !== 'dev') || env.DEV_PAYMENTS_URL) return null;
  const crypto = await import('node:crypto');
  const { startDevPaymentServer } = await import('./dev-server');
  const { devProvider: dev } = await import('./dev');
  const server = await startDevPaymentServer({
    port: Number(env.DEV_PAYMENTS_PORT ?? 3002), apiKey: crypto.randomBytes(16).toString('hex'), webhookSecret: `whsec_${crypto.randomBytes(24).toString('hex')}`,
    webhookUrl: `${publicBaseUrl}/api/v1/payments/webhooks/dev`,
  });
  setPaymentProvider(dev({ url: server.url, apiKey: server.apiKey, webhookSecret: server.webhookSecret }));
  return server.close;
}
