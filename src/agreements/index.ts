/** The agreements capability's manifest (listed in src/capabilities.ts). */
import type { Capability } from '../http/capability';
import { migrations } from './migrations';
import { messages } from './messages';
import { registerJobs } from './jobs';
import { routes } from './routes';
import { setServiceFeeSource } from '../catalogue/portal/fee-source';
import { feesForServicePage } from './fees';

// The service page shows the fee in force by channel from the schedules (the catalogue imports no capability).
setServiceFeeSource(feesForServicePage);

export const capability: Capability = {
  name: 'agreements',
  migrationGroup: '600_agreements',
  migrations,
  messages: [messages],
  routes,
  staffLinks: [
    { href: { en: '/en/staff/agreements', fr: '/fr/personnel/ententes' }, text: 'agreements.title' },
    { href: { en: '/en/staff/proposals', fr: '/fr/personnel/propositions' }, text: 'intake.title' },
  ],
  jobs: registerJobs,
};
