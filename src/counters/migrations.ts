import type { Migration } from 'kysely';

/** Migrations of the counters capability, by name (ordered alphabetically within the capability). */
export const migrations: Record<string, Migration> = {};
