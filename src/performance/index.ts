/** The performance capability's manifest (listed in src/capabilities.ts). */
import type { Capability } from '../http/capability';
import { migrations } from './migrations';
import { messages } from './messages';
import { routes } from './routes';
import { registerJobs } from './jobs';

export const capability: Capability = {
  name: 'performance',
  migrationGroup: '800_performance',
  migrations,
  messages: [messages],
  routes,
  staffLinks: [
    { href: { en: '/en/staff/performance', fr: '/fr/personnel/rendement' }, text: 'performance.dashboard.title' },
    { href: { en: '/en/staff/performance/report', fr: '/fr/personnel/rendement/rapport' }, text: 'performance.report.title' },
  ],
  jobs: registerJobs,
};
