import type { Migration } from 'kysely';

/** Migrations of catalogue/portal (names must start with 'portal'). */
export const migrations: Record<string, Migration> = {};
