/**
 * What a capability hands the plumbing: one manifest, exported as `capability` from src/<capability>/index.ts and
 * listed once in src/capabilities.ts. The plumbing (buildApp, the translation table, the migrator, the job starter)
 * receives that list and never imports a capability folder (test/architecture.test.ts checks it).
 */
import type { Migration } from 'kysely';
import type { Messages } from '../i18n/index';
import type { Background, BackgroundDeps } from '../jobs/index';
import type { RoutesFn } from './deps';
import type { StaffLink } from './staff-links';

export interface Capability {
  /** Folder name, e.g. 'cases'. */
  name: string;
  /**
   * Prefix of this capability's migration names, e.g. '400_cases': a migration `001_tables` is recorded as
   * `400_cases_001_tables`. The prefix orders capabilities (tables after those they reference); never change it once
   * a migration has shipped, or an existing database would run the migrations again.
   */
  migrationGroup: string;
  migrations: Record<string, Migration>;
  /** EN/FR messages (same keys in both languages); several bundles when sub-folders keep their own. */
  messages: Messages[];
  /** Routes (pages and API), registered as one encapsulated Fastify plugin. */
  routes?: RoutesFn;
  /** Links on the staff home to this capability's pages; each is shown only to staff its page's owner declaration
   * lets in (src/http/staff-links.ts). */
  staffLinks?: StaffLink[];
  /** Queues and schedules of durable background work. */
  jobs?: (bg: Background, deps: BackgroundDeps) => Promise<void>;
}
