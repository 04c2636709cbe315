/** Test support: an app on a fresh database with the demo agreements (real fee schedules) and a real development payment provider over HTTP. */
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createTestApp, staffCookie, csrfFrom, type TestApp } from '../../../test/support/app';
import { seedDemoAgreements } from '../../agreements/demo';
import { startDevPaymentServer, type DevPaymentServer } from '../providers/dev-server';
import { devProvider } from '../providers/dev';
import { setPaymentProvider } from '../providers/select';

export interface PaymentsTestApp extends TestApp {
  dev: DevPaymentServer;
  baseUrl: string;
  managerCookie: string;
  api(method: string, url: string, body?: unknown, opts?: { key?: string | null; cookie?: string }): Promise<{ status: number; json: any; headers: Record<string, any> }>;
}

export const DRIVER = 'demo-driver-licence'; // on-mto $88 + guichet $2 online
export const DOG = 'demo-dog-licence'; // ottawa $18 + guichet $1 online

export async function startPaymentsApp(opts: { chaos?: boolean; background?: boolean } = {}): Promise<PaymentsTestApp> {
  const t = await createTestApp({ catalogue: true, background: opts.background });
  await seedDemoAgreements(t.db);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  const dev = await startDevPaymentServer({ apiKey: 'test-key', webhookSecret: 'whsec_test', retryScale: 0.0002, chaos: opts.chaos, webhookUrl: `${baseUrl}/api/v1/payments/webhooks/dev` });
  setPaymentProvider(devProvider({ url: dev.url, apiKey: dev.apiKey, webhookSecret: dev.webhookSecret }));
  const managerCookie = await staffCookie(t.app, 'staff-admin');
  const api: PaymentsTestApp['api'] = async (method, url, body, o = {}) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (o.key !== null) headers['idempotency-key'] = o.key ?? crypto.randomUUID();
    if (o.cookie) {
      headers.cookie = o.cookie;
      headers['x-csrf-token'] = csrfFrom(o.cookie);
    }
    const res = await t.app.inject({ method: method as any, url, headers, payload: body === undefined ? undefined : JSON.stringify(body) });
    let json: any = null;
    try { json = res.json(); } catch { json = res.body; }
    return { status: res.statusCode, json, headers: res.headers };
  };
  return {
    ...t, dev, baseUrl, managerCookie, api,
    close: async () => {
      await dev.close();
      setPaymentProvider(null);
      await t.close();
    },
  };
}

/** Pay on the development provider's hosted page with a test card (real HTTP), as a browser would without JavaScript. */
export async function payOnHostedPage(nextUrl: string, card: string): Promise<string | null> {
  const page = await fetch(nextUrl);
  const html = await page.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)![1].replace(/&amp;/g, '&');
  const res = await fetch(new URL(action, nextUrl), { method: 'POST', body: new URLSearchParams({ card }), redirect: 'manual' });
  return res.headers.get('location');
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
