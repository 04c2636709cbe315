/**
 * The one list of capabilities, in order (a capability's tables come after those they reference). buildApp, the
 * translation table, the migrator and the job starter receive this list; none of them imports a capability.
 *
 * To add a capability: create src/<name>/index.ts exporting `capability` (src/http/capability.ts), add one line
 * below, and add its tables to the DB interface in src/schema.ts.
 */
import type { Capability } from './http/capability';
import { installMessages } from './i18n/index';
import { capability as catalogue } from './catalogue/index';
import { capability as staff } from './staff/index';
import { capability as clients } from './clients/index';
import { capability as notices } from './notices/index';
import { capability as cases } from './cases/index';
import { capability as counters } from './counters/index';
import { capability as agreements } from './agreements/index';
import { capability as billing } from './billing/index';
import { capability as payments } from './payments/index';
import { capability as performance } from './performance/index';

export const capabilities: readonly Capability[] = [
  catalogue,
  staff,
  clients,
  notices,
  cases,
  counters,
  agreements,
  billing,
  payments,
  performance,
];

// Any program that loads the list (server, worker, tools, tests) can translate every capability's messages.
installMessages(capabilities.flatMap((c) => c.messages));
