/**
 * Built-in DEVELOPMENT payment provider, for `npm start` and tests only: its own HTTP server on loopback that speaks
 * a small card-payment protocol (in the spirit of GOV.UK Pay), never started in production.
 *
 *   POST /v1/payments                 {amount, reference, description, return_url, metadata}  (Bearer API key)
 *   GET  /v1/payments/{id}            status: created | succeeded | failed
 *   POST /v1/payments/{id}/refunds    {amount} (Idempotency-Key header): refund at most what is left
 *   GET  /v1/settlements?date=YYYY-MM-DD   captured payments of the day with the provider's fee (1.5% + 10¢)
 *   GET  /pay/{id}                    the hosted card page (test cards below); POST it to pay, then 303 back
 *
 * Test cards: 4242 4242 4242 4242 approved; 4000 0000 0000 0002 declined; 4000 0000 0000 0119 processing error.
 *
 * Webhooks: each outcome is POSTed to the merchant's webhook URL, HMAC-SHA256 signed (Guichet-Signature:
 * t=<unix>,v1=<hex> over "<t>.<body>", re-signed on each attempt) and retried on failure after 1 min, 5 min, 1 h,
 * 1 day and 2 days (GOV.UK Pay's schedule; `retryScale` shrinks it in tests). With `chaos`, every event is sent twice
 * and a stale 'payment.created' event follows the outcome, so the merchant must cope with duplicates and disorder.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign, SIGNATURE_HEADER } from '../../notices/signing';

export const TEST_CARDS = {
  approved: '4242424242424242',
  declined: '4000000000000002',
  error: '4000000000000119',
} as const;

export const RETRY_DELAYS_MS = [60_000, 300_000, 3_600_000, 86_400_000, 172_800_000];

interface DevPayment {
  id: string;
  amount: number;
  reference: string;
  description: string;
  returnUrl: string;
  status: 'created' | 'succeeded' | 'failed';
  failureCode?: string;
  createdAt: Date;
  capturedAt?: Date;
  refunded: number;
  refunds: Map<string, { id: string; amount: number }>;
}

export interface DevPaymentServerOptions {
  port?: number;
  host?: string;
  apiKey: string;
  webhookSecret: string;
  /** Where outcomes are POSTed (may be set later with setWebhookUrl). */
  webhookUrl?: string;
  /** Multiply the retry delays (tests: 0.0001). */
  retryScale?: number;
  /** Send each event twice and a stale event after each outcome. */
  chaos?: boolean;
}

export interface DevPaymentServer {
  url: string;
  port: number;
  apiKey: string;
  webhookSecret: string;
  setWebhookUrl(url: string): void;
  /** Webhook deliveries attempted so far (for tests). */
  deliveries(): Array<{ eventId: string; type: string; attempt: number; status: number | 'error' }>;
  /** Wait until no webhook delivery is pending. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, body: string, lang: string): string {
  return `<!DOCTYPE html><html lang="${lang}"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#0b0c0c}
label{display:block;margin:.8rem 0 .2rem;font-weight:bold}input{font-size:1.1rem;padding:.3rem;border:2px solid #0b0c0c}
button{font-size:1.1rem;padding:.4rem 1.2rem;margin-top:1rem;background:#00703c;color:#fff;border:0}
.warn{background:#fff3cd;border-left:6px solid #b58105;padding:.5rem 1rem}code{font-size:1rem}</style></head>
<body><main>${body}</main></body></html>`;
}

async function readBody(req: http.IncomingMessage, limit = 64 * 1024): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const fmt = (cents: number) => `$${(cents / 100).toFixed(2)}`;
export const devFee = (amount: number) => Math.round(amount * 0.015) + 10;

export async function startDevPaymentServer(opts: DevPaymentServerOptions): Promise<DevPaymentServer> {
  if (process.env.NODE_ENV === 'production') throw new Error('the development payment provider is not available in production');
  const host = opts.host ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) throw new Error('the development payment provider listens on loopback only');
  const payments = new Map<string, DevPayment>();
  let webhookUrl = opts.webhookUrl;
  const scale = opts.retryScale ?? 1;
  const log: Array<{ eventId: string; type: string; attempt: number; status: number | 'error' }> = [];
  let pending = 0;
  const idleWaiters: Array<() => void> = [];
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const settle = () => {
    if (pending === 0) while (idleWaiters.length) idleWaiters.shift()!();
  };

  function deliver(event: object & { id: string; type: string }, attempt = 0): void {
    if (closed || !webhookUrl) return;
    pending++;
    const body = JSON.stringify(event);
    const done = (status: number | 'error') => {
      log.push({ eventId: event.id, type: event.type, attempt, status });
      if ((status === 'error' || status >= 300) && attempt < RETRY_DELAYS_MS.length && !closed) {
        const t = setTimeout(() => {
          timers.delete(t);
          deliver(event, attempt + 1);
          pending--;
          settle();
        }, RETRY_DELAYS_MS[attempt] * scale);
        timers.add(t);
        return;
      }
      pending--;
      settle();
    };
    fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(opts.webhookSecret, body) }, body })
      .then(async (r) => {
        await r.arrayBuffer().catch(() => undefined);
        done(r.status);
      })
      .catch(() => done('error'));
  }

  function emit(type: string, p: DevPayment, extra: Record<string, unknown> = {}) {
    const event = { id: `evt_${crypto.randomUUID()}`, type, created: new Date().toISOString(), data: { payment_id: p.id, amount: p.amount, reference: p.reference, status: p.status, failure_code: p.failureCode ?? null, ...extra } };
    deliver(event);
    if (opts.chaos) {
      deliver(event); // duplicate
      if (type !== 'payment.created') {
        const stale = { id: `evt_${crypto.randomUUID()}`, type: 'payment.created', created: p.createdAt.toISOString(), data: { payment_id: p.id, amount: p.amount, reference: p.reference, status: 'created', failure_code: null } };
        deliver(stale); // late and out of order
      }
    }
  }

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const view = (p: DevPayment) => ({ payment_id: p.id, amount: p.amount, reference: p.reference, status: p.status, failure_code: p.failureCode ?? null, refunded: p.refunded, created_date: p.createdAt.toISOString() });

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      const parts = url.pathname.split('/').filter(Boolean);
      if (parts[0] === 'v1') {
        if (req.headers.authorization !== `Bearer ${opts.apiKey}`) return json(res, 401, { code: 'unauthorised' });
        if (req.method === 'POST' && parts[1] === 'payments' && parts.length === 2) {
          const b = JSON.parse(await readBody(req));
          if (!Number.isSafeInteger(b.amount) || b.amount <= 0 || b.amount > 10_000_000 || typeof b.return_url !== 'string') return json(res, 422, { code: 'invalid_request' });
          const p: DevPayment = { id: `dp_${crypto.randomBytes(12).toString('hex')}`, amount: b.amount, reference: String(b.reference ?? ''), description: String(b.description ?? ''), returnUrl: b.return_url, status: 'created', createdAt: new Date(), refunded: 0, refunds: new Map() };
          payments.set(p.id, p);
          const self = `http://${req.headers.host}`;
          return json(res, 201, { ...view(p), next_url: `${self}/pay/${p.id}?lang=${b.language === 'fr' ? 'fr' : 'en'}` });
        }
        const p = parts[1] === 'payments' ? payments.get(parts[2] ?? '') : undefined;
        if (req.method === 'GET' && parts[1] === 'payments' && parts.length === 3) return p ? json(res, 200, view(p)) : json(res, 404, { code: 'not_found' });
        if (req.method === 'POST' && parts[1] === 'payments' && parts[3] === 'refunds') {
          if (!p) return json(res, 404, { code: 'not_found' });
          const key = String(req.headers['idempotency-key'] ?? '');
          const b = JSON.parse(await readBody(req));
          const existing = key ? p.refunds.get(key) : undefined;
          if (existing) return json(res, 200, { refund_id: existing.id, amount: existing.amount, status: 'success' });
          if (p.status !== 'succeeded') return json(res, 409, { code: 'not_captured' });
          if (!Number.isSafeInteger(b.amount) || b.amount <= 0 || b.amount > p.amount - p.refunded) return json(res, 422, { code: 'refund_amount_unavailable' });
          const r = { id: `dr_${crypto.randomBytes(8).toString('hex')}`, amount: b.amount };
          p.refunded += b.amount;
          if (key) p.refunds.set(key, r);
          emit('refund.succeeded', p, { refund_id: r.id, refund_amount: r.amount });
          return json(res, 201, { refund_id: r.id, amount: r.amount, status: 'success' });
        }
        if (req.method === 'GET' && parts[1] === 'settlements') {
          const day = url.searchParams.get('date') ?? '';
          const items = [...payments.values()]
            .filter((x) => x.status === 'succeeded' && x.capturedAt && x.capturedAt.toISOString().slice(0, 10) === day)
            .map((x) => ({ payment_id: x.id, amount: x.amount - x.refunded, fee: devFee(x.amount), captured_date: day }));
          return json(res, 200, { date: day, items });
        }
        return json(res, 404, { code: 'not_found' });
      }
      if (parts[0] === 'pay' && parts.length === 2) {
        const p = payments.get(parts[1]);
        const lang = url.searchParams.get('lang') === 'fr' ? 'fr' : 'en';
        const fr = lang === 'fr';
        if (!p) {
          res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
          return res.end(page('Not found', '<h1>Payment not found</h1>', 'en'));
        }
        if (req.method === 'POST') {
          const form = new URLSearchParams(await readBody(req));
          const card = (form.get('card') ?? '').replace(/\s+/g, '');
          if (p.status === 'created') {
            if (card === TEST_CARDS.approved) {
              p.status = 'succeeded';
              p.capturedAt = new Date();
            } else {
              p.status = 'failed';
              p.failureCode = card === TEST_CARDS.declined ? 'card_declined' : card === TEST_CARDS.error ? 'processing_error' : 'invalid_card';
            }
            emit(p.status === 'succeeded' ? 'payment.succeeded' : 'payment.failed', p);
          }
          res.writeHead(303, { location: p.returnUrl });
          return res.end();
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(page(fr ? 'Payer par carte' : 'Pay by card', `
<h1>${fr ? 'Payer par carte' : 'Pay by card'}</h1>
<p class="warn">${fr ? 'Fournisseur de paiement de DÉVELOPPEMENT : aucune vraie carte.' : 'DEVELOPMENT payment provider: no real card.'}</p>
<p>${esc(p.description)}<br>${fr ? 'Référence' : 'Reference'} : <strong>${esc(p.reference)}</strong><br>
${fr ? 'Montant' : 'Amount'} : <strong>${fmt(p.amount)}</strong></p>
<form method="post" action="/pay/${esc(p.id)}?lang=${lang}">
<label for="card">${fr ? 'Numéro de carte' : 'Card number'}</label>
<input id="card" name="card" inputmode="numeric" autocomplete="off" value="" size="22">
<p>${fr ? 'Cartes de test' : 'Test cards'}: <code>${TEST_CARDS.approved}</code> (${fr ? 'acceptée' : 'approved'}),
<code>${TEST_CARDS.declined}</code> (${fr ? 'refusée' : 'declined'}), <code>${TEST_CARDS.error}</code> (${fr ? 'erreur' : 'error'})</p>
<button type="submit">${fr ? 'Payer' : 'Pay'} ${fmt(p.amount)}</button>
</form>`, lang));
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    } catch {
      if (!res.headersSent) json(res, 400, { code: 'bad_request' });
      else res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, host, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    apiKey: opts.apiKey,
    webhookSecret: opts.webhookSecret,
    setWebhookUrl: (u) => { webhookUrl = u; },
    deliveries: () => [...log],
    idle: () => new Promise<void>((resolve) => { if (pending === 0) resolve(); else idleWaiters.push(resolve); }),
    close: async () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      pending = 0;
      settle();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
