/**
 * One interface for every payment provider (the development provider, Stripe). Guichet never sees a card number:
 * the client pays on the provider's hosted page and comes back; the provider tells us the outcome by a signed
 * webhook, and the reconciling job asks it about payments still pending.
 */
export type ProviderPaymentStatus = 'pending' | 'succeeded' | 'failed';

export interface CheckoutRequest {
  paymentId: string;
  reference: string;
  amountCents: number;
  description: string;
  returnUrl: string;
  lang: 'en' | 'fr';
}

export interface ProviderEvent {
  /** The provider's own event id (dedupe key). */
  eventId: string;
  kind: 'payment_succeeded' | 'payment_failed' | 'refund_succeeded' | 'refund_failed' | 'other';
  providerRef: string | null;
  failureCode?: string;
  providerRefundRef?: string;
}

export interface SettlementLine {
  providerRef: string;
  amountCents: number;
  feeCents: number;
  capturedOn: string;
}

export class WebhookSignatureError extends Error {}

export interface PaymentProvider {
  /** 'dev' or 'stripe': the clearing account is clearing:<name>. */
  readonly name: string;
  createCheckout(req: CheckoutRequest): Promise<{ providerRef: string; nextUrl: string }>;
  status(providerRef: string): Promise<{ status: ProviderPaymentStatus; failureCode?: string }>;
  refund(providerRef: string, amountCents: number, idempotencyKey: string): Promise<{ providerRefundRef: string; status: 'succeeded' | 'pending' | 'failed' }>;
  /** Verify the signature (throws WebhookSignatureError) and read the event. */
  parseWebhook(rawBody: string, headers: Record<string, string | string[] | undefined>): ProviderEvent;
  /** The provider's settlement report for one day (what it captured, and its fees). */
  settlementReport(day: string): Promise<SettlementLine[]>;
}
