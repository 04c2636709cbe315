/** The counters capability's manifest (listed in src/capabilities.ts). */
import type { Capability } from '../http/capability';
import { migrations } from './migrations';
import { messages } from './messages';
import { routes } from './routes';
import { registerJobs } from './jobs';

export const capability: Capability = {
  name: 'counters',
  migrationGroup: '500_counters',
  migrations,
  messages: [messages],
  routes,
  staffLinks: [
    { href: { en: '/en/staff/counters', fr: '/fr/personnel/comptoirs' }, text: 'staff.link.offices' },
  ],
  jobs: registerJobs,
};
