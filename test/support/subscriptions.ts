/** Tell Us Once test fixtures: a webhook subscription to changes of address, and a declaration's data for one. */
import type { SubscriptionInput } from '../../src/notices/service';

export const webhookSubscription = (over: Partial<SubscriptionInput>): SubscriptionInput => ({
  orgId: 'on-moh',
  programEn: 'Program',
  programFr: 'Programme',
  purposeEn: 'Why',
  purposeFr: 'Pourquoi',
  eventTypes: ['change-of-address'],
  fields: ['newAddress'],
  legalBasis: 'consent',
  delivery: 'webhook',
  ...over,
});

export const addressChange = { newAddress: { line1: '50 Rideau Street', city: 'Ottawa', province: 'ON', postalCode: 'K1N 9J7' }, effectiveDate: new Date().toISOString().slice(0, 10) };
