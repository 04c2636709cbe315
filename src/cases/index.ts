/** The cases capability's manifest (listed in src/capabilities.ts). */
import type { Capability } from '../http/capability';
import { migrations } from './migrations';
import { messages } from './messages';
import { routes } from './routes';
import { registerJobs } from './jobs';

export const capability: Capability = {
  name: 'cases',
  migrationGroup: '400_cases',
  migrations,
  messages: [messages],
  routes,
  staffLinks: [
    { href: { en: '/en/staff/cases', fr: '/fr/personnel/dossiers' }, text: 'staff.link.cases' },
    { href: { en: '/en/staff/console', fr: '/fr/personnel/console' }, text: 'staff.link.console' },
  ],
  jobs: registerJobs,
};
