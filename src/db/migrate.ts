/**
 * One set of migrations for the whole platform. Each capability owns its migrations in
 * src/<capability>/migrations.ts; they are combined here, ordered by a numeric prefix per capability
 * so that tables are created after those they reference.
 */
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './database';
import { migrations as platform } from './platform-migrations';
import { migrations as catalogue } from '../catalogue/migrations';
import { migrations as staff } from '../staff/migrations';
import { migrations as clients } from '../clients/migrations';
import { migrations as notices } from '../notices/migrations';
import { migrations as cases } from '../cases/migrations';
import { migrations as counters } from '../counters/migrations';
import { migrations as agreements } from '../agreements/migrations';
import { migrations as performance } from '../performance/migrations';

const groups: Array<[string, Record<string, Migration>]> = [
  ['050_platform', platform],
  ['100_catalogue', catalogue],
  ['150_staff', staff],
  ['200_clients', clients],
  ['300_notices', notices],
  ['400_cases', cases],
  ['500_counters', counters],
  ['600_agreements', agreements],
  ['700_performance', performance],
];

export const allMigrations: Record<string, Migration> = Object.fromEntries(
  groups.flatMap(([prefix, ms]) => Object.entries(ms).map(([name, m]) => [`${prefix}_${name}`, m])),
);

class StaticProvider implements MigrationProvider {
  async getMigrations() {
    return allMigrations;
  }
}

export async function migrateToLatest(db: Database): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticProvider(), allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
