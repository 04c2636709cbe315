/**
 * Production adapter: Stripe Checkout through Stripe's official SDK (`stripe`).
 * - createCheckout: a Checkout Session in mode 'payment' (one line: the basket's total in CAD), with our payment id in
 *   client_reference_id and metadata; the client is sent to session.url and comes back to success_url/cancel_url.
 * - webhooks: `stripe.webhooks.constructEvent(raw, Stripe-Signature, STRIPE_WEBHOOK_SECRET)` checks the signature;
 *   checkout.session.completed (payment_status 'paid') and checkout.session.async_payment_succeeded confirm,
 *   checkout.session.expired / async_payment_failed fail, charge.refunded confirms a refund.
 * - status: sessions.retrieve (the reconciling job); refund: refunds.create on the session's payment intent with our
 *   refund id as Stripe's idempotency key; settlementReport: balance transactions of the day (amount and fee).
 */
import Stripe from 'stripe';
import { WebhookSignatureError, type PaymentProvider, type ProviderEvent } from './types';

export function stripeProvider(opts: { secretKey: string; webhookSecret: string; client?: Stripe }): PaymentProvider {
  const stripe = opts.client ?? new Stripe(opts.secretKey);
  return {
    name: 'stripe',
    async createCheckout(req) {
      const sep = req.returnUrl.includes('?') ? '&' : '?';
      const session = await stripe.checkout.sessions.create(
        {
          mode: 'payment',
          client_reference_id: req.paymentId,
          metadata: { payment_id: req.paymentId, reference: req.reference },
          locale: req.lang,
          line_items: [{ quantity: 1, price_data: { currency: 'cad', unit_amount: req.amountCents, product_data: { name: `${req.reference} — ${req.description}`.slice(0, 250) } } }],
          success_url: `${req.returnUrl}${sep}outcome=success`,
          cancel_url: `${req.returnUrl}${sep}outcome=cancel`,
        },
        { idempotencyKey: `checkout-${req.paymentId}` },
      );
      return { providerRef: session.id, nextUrl: session.url ?? '' };
    },
    async status(ref) {
      const s = await stripe.checkout.sessions.retrieve(ref);
      if (s.payment_status === 'paid' || s.payment_status === 'no_payment_required') return { status: 'succeeded' };
      if (s.status === 'expired') return { status: 'failed', failureCode: 'expired' };
      return { status: 'pending' };
    },
    async refund(ref, amountCents, key) {
      const s = await stripe.checkout.sessions.retrieve(ref);
      const pi = typeof s.payment_intent === 'string' ? s.payment_intent : s.payment_intent?.id;
      if (!pi) throw new Error('stripe: session has no payment intent');
      const r = await stripe.refunds.create({ payment_intent: pi, amount: amountCents, metadata: { guichet_refund: key } }, { idempotencyKey: `refund-${key}` });
      return { providerRefundRef: r.id, status: r.status === 'succeeded' ? 'succeeded' : r.status === 'failed' || r.status === 'canceled' ? 'failed' : 'pending' };
    },
    parseWebhook(raw, headers): ProviderEvent {
      const sig = headers['stripe-signature'];
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(raw, Array.isArray(sig) ? sig[0] : (sig ?? ''), opts.webhookSecret);
      } catch {
        throw new WebhookSignatureError('bad signature');
      }
      const obj = event.data.object as any;
      switch (event.type) {
        case 'checkout.session.completed':
          return { eventId: event.id, kind: obj.payment_status === 'paid' ? 'payment_succeeded' : 'other', providerRef: obj.id };
        case 'checkout.session.async_payment_succeeded':
          return { eventId: event.id, kind: 'payment_succeeded', providerRef: obj.id };
        case 'checkout.session.async_payment_failed':
        case 'checkout.session.expired':
          return { eventId: event.id, kind: 'payment_failed', providerRef: obj.id, failureCode: event.type.split('.').pop() };
        default:
          return { eventId: event.id, kind: 'other', providerRef: null };
      }
    },
    async settlementReport(day) {
      const from = Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000);
      const lines = [];
      for await (const bt of stripe.balanceTransactions.list({ created: { gte: from, lt: from + 86_400 }, type: 'charge', limit: 100, expand: ['data.source'] })) {
        const charge = bt.source as any;
        lines.push({ providerRef: charge?.metadata?.checkout_session ?? charge?.payment_intent ?? bt.id, amountCents: bt.amount, feeCents: bt.fee, capturedOn: day });
      }
      return lines;
    },
  };
}
