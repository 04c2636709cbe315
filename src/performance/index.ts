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
  jobs: registerJobs,
};
