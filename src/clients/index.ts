/** The clients capability's manifest (listed in src/capabilities.ts). */
import type { Capability } from '../http/capability';
import { migrations } from './migrations';
import { messages } from './messages';
import { routes } from './routes';


export const capability: Capability = {
  name: 'clients',
  migrationGroup: '200_clients',
  migrations,
  messages: [messages],
  routes,
  staffLinks: [
    { href: { en: '/en/staff/clients/lookup', fr: '/fr/personnel/clients/recherche' }, text: 'clients.staff.link' },
  ],
};
