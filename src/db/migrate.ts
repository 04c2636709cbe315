/**
 * One set of migrations for the whole platform. Each capability owns its migrations in
 * src/<capability>/migrations.ts and names its group (numeric prefix) in its manifest; the migrator receives the list
 * of capabilities and orders them by that prefix, so that tables are created after those they reference.
 */
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './database';
import { migrations as platform } from './platform-migrations';

/** What the migrator needs of a capability (src/http/capability.ts). */
export interface MigrationSource {
  migrationGroup: string;
  migrations: Record<string, Migration>;
}

/**
 * Every migration by its recorded name: `<group>_<name>`, the platform's first, then each capability's. The names
 * are the ones recorded before the capability list existed, so an existing database runs nothing again.
 */
export function allMigrations(capabilities: readonly MigrationSource[]): Record<string, Migration> {
  const groups: Array<[string, Record<string, Migration>]> = [['050_platform', platform], ...capabilities.map((c): [string, Record<string, Migration>] => [c.migrationGroup, c.migrations])];
  const out: Record<string, Migration> = {};
  for (const [prefix, ms] of groups)
    for (const [name, m] of Object.entries(ms)) {
      const key = `${prefix}_${name}`;
      if (out[key]) throw new Error(`two migrations are named ${key}`);
      out[key] = m;
    }
  return out;
}

class StaticProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations() {
    return this.migrations;
  }
}

export async function migrateToLatest(db: Database, capabilities: readonly MigrationSource[]): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticProvider(allMigrations(capabilities)), allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
