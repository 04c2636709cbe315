import type { Migration } from 'kysely';

/** Migrations of catalogue/cpsv (names must start with 'cpsv'). */
export const migrations: Record<string, Migration> = {};
