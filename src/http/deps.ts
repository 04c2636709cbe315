import type { FastifyInstance } from 'fastify';
import type { Config } from '../config';
import type { Database, OpenedDatabase } from '../db/database';

/** What every capability's routes receive. */
export interface AppDeps {
  config: Config;
  database: OpenedDatabase;
  db: Database;
  ready: () => boolean;
}

export type RoutesFn = (app: FastifyInstance, deps: AppDeps) => Promise<void>;
