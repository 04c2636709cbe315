import type { Migration } from 'kysely';

/** Migrations of the notices capability, by name (ordered alphabetically within the capability). */
export const migrations: Record<string, Migration> = {};
