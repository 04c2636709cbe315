/** The billing capability's manifest (listed in src/capabilities.ts). */
import type { Capability } from '../http/capability';
import { migrations } from './migrations';
import { messages } from './messages';
import { routes } from './routes';
import { registerJobs } from './jobs';

export const capability: Capability = {
  name: 'billing',
  migrationGroup: '650_billing',
  migrations,
  messages: [messages],
  routes,
  staffLinks: [
    { href: { en: '/en/staff/billing/invoices', fr: '/fr/personnel/facturation/factures' }, text: 'billing.title' },
  ],
  jobs: registerJobs,
};
