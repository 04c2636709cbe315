/** The agreements capability's manifest (listed in src/capabilities.ts). */
import type { Capability } from '../http/capability';
import { migrations } from './migrations';
import { messages } from './messages';
import { registerJobs } from './jobs';

export const capability: Capability = {
  name: 'agreements',
  migrationGroup: '600_agreements',
  migrations,
  messages: [messages],
  jobs: registerJobs,
};
