/** The staff capability's manifest (listed in src/capabilities.ts). */
import type { Capability } from '../http/capability';
import { migrations } from './migrations';
import { messages } from './messages';
import { routes } from './routes';


export const capability: Capability = {
  name: 'staff',
  migrationGroup: '150_staff',
  migrations,
  messages: [messages],
  routes,
};
