/** Adapter for the development payment provider (dev-server.ts), over real HTTP. */
import { verifySignature, SIGNATURE_HEADER } from '../../notices/signing';
import { WebhookSignatureError, type PaymentProvider, type ProviderEvent } from './types';

export function devProvider(opts: { url: string; apiKey: string; webhookSecret: string }): PaymentProvider {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${opts.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${opts.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(Number(process.env.DEV_PAYMENTS_TIMEOUT_MS ?? 30_000)),
    });
    const json = (await res.json().catch(() => ({}))) as any;
    if (!res.ok) throw Object.assign(new Error(`dev provider ${method} ${path}: ${res.status} ${json.code ?? ''}`), { status: res.status, code: json.code });
    return json;
  };
  return {
    name: 'dev',
    async createCheckout(req) {
      const r = await call('POST', '/v1/payments', { amount: req.amountCents, reference: req.reference, description: req.description, return_url: req.returnUrl, language: req.lang, metadata: { payment_id: req.paymentId } });
      return { providerRef: r.payment_id, nextUrl: r.next_url };
    },
    async status(ref) {
      const r = await call('GET', `/v1/payments/${encodeURIComponent(ref)}`);
      return { status: r.status === 'succeeded' ? 'succeeded' : r.status === 'failed' ? 'failed' : 'pending', failureCode: r.failure_code ?? undefined };
    },
    async refund(ref, amountCents, key) {
      const r = await call('POST', `/v1/payments/${encodeURIComponent(ref)}/refunds`, { amount: amountCents }, { 'idempotency-key': key });
      return { providerRefundRef: r.refund_id, status: r.status === 'success' ? 'succeeded' : 'pending' };
    },
    parseWebhook(raw, headers): ProviderEvent {
      const sig = headers[SIGNATURE_HEADER];
      if (!verifySignature(opts.webhookSecret, raw, Array.isArray(sig) ? sig[0] : sig)) throw new WebhookSignatureError('bad signature');
      let e: any;
      try {
        e = JSON.parse(raw);
      } catch {
        throw new WebhookSignatureError('unreadable body');
      }
      const d = e?.data ?? {};
      const kind: ProviderEvent['kind'] =
        e.type === 'payment.succeeded' ? 'payment_succeeded'
        : e.type === 'payment.failed' ? 'payment_failed'
        : e.type === 'refund.succeeded' ? 'refund_succeeded'
        : e.type === 'refund.failed' ? 'refund_failed'
        : 'other';
      return { eventId: String(e.id ?? ''), kind, providerRef: typeof d.payment_id === 'string' ? d.payment_id : null, failureCode: d.failure_code ?? undefined, providerRefundRef: d.refund_id ?? undefined };
    },
    async settlementReport(day) {
      const r = await call('GET', `/v1/settlements?date=${encodeURIComponent(day)}`);
      return (r.items as any[]).map((i) => ({ providerRef: i.payment_id, amountCents: i.amount, feeCents: i.fee, capturedOn: i.captured_date }));
    },
  };
}
