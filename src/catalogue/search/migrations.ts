import type { Migration } from 'kysely';

/** Migrations of catalogue/search (names must start with 'search'). */
export const migrations: Record<string, Migration> = {};
