/** The notices capability's manifest (listed in src/capabilities.ts). */
import type { Capability } from '../http/capability';
import { migrations } from './migrations';
import { messages } from './messages';
import { routes } from './routes';
import { registerJobs } from './jobs';

export const capability: Capability = {
  name: 'notices',
  migrationGroup: '300_notices',
  migrations,
  messages: [messages],
  routes,
  staffLinks: [
    { href: { en: '/en/staff/tell-us-once', fr: '/fr/personnel/dites-le-nous-une-fois' }, text: 'staff.link.tellUsOnce' },
  ],
  jobs: registerJobs,
};
