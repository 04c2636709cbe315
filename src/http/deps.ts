import type { FastifyInstance } from 'fastify';
import type { Config } from '../config';
import type { Database, OpenedDatabase } from '../db/database';
import type { StaffLinks } from './staff-links';

/** What every capability's routes receive. */
export interface AppDeps {
  config: Config;
  database: OpenedDatabase;
  db: Database;
  ready: () => boolean;
  /** The staff home's links from every capability's manifest, each shown to whom its page lets in. */
  staffLinks: StaffLinks;
}

export type RoutesFn = (app: FastifyInstance, deps: AppDeps) => Promise<void>;
