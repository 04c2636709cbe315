/** The payments capability's manifest (listed in src/capabilities.ts). */
import type { Capability } from '../http/capability';
import { migrations } from './migrations';
import { messages } from './messages';
import { routes } from './routes';
import { registerJobs } from './jobs';

export const capability: Capability = {
  name: 'payments',
  migrationGroup: '700_payments',
  migrations,
  messages: [messages],
  routes,
  staffLinks: [
    { href: { en: '/en/staff/payments', fr: '/fr/personnel/paiements' }, text: 'payments.manager.title' },
    { href: { en: '/en/partner/payments', fr: '/fr/partenaire/paiements' }, text: 'payments.partner.title' },
  ],
  jobs: registerJobs,
};
