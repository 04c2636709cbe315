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
  jobs: registerJobs,
};
