/**
 * Durable background work (pg-boss on the same database). Capabilities register their queues and schedules here.
 * Until a capability needs it, startBackground only returns a stopper.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config';
import type { OpenedDatabase } from '../db/database';

export interface BackgroundDeps {
  config: Config;
  database: OpenedDatabase;
  log: FastifyBaseLogger;
}

export interface Background {
  stop(): Promise<void>;
}

export async function startBackground(_deps: BackgroundDeps): Promise<Background> {
  return { stop: async () => {} };
}
