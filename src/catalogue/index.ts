/** The catalogue capability's manifest (listed in src/capabilities.ts). */
import type { Capability } from '../http/capability';
import { migrations } from './migrations';
import { messages } from './messages';
import { messages as search } from './search/messages';
import { messages as cpsv } from './cpsv/messages';
import { messages as portal } from './portal/messages';
import { messages as editor } from './editor/messages';
import { routes } from './routes';


export const capability: Capability = {
  name: 'catalogue',
  migrationGroup: '100_catalogue',
  migrations,
  messages: [messages, search, cpsv, portal, editor],
  routes,
  staffLinks: [
    { href: { en: '/en/staff/catalogue', fr: '/fr/personnel/catalogue' }, text: 'staff.link.catalogue' },
  ],
};
