import type { Migration } from 'kysely';

/** Migrations of catalogue/editor (names must start with 'editor'). */
export const migrations: Record<string, Migration> = {};
