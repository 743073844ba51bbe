import { DataSource } from 'typeorm';
import { ConfigError, loadDatabaseConfigFromProcess } from '../config/app-config';
import { databaseOptions, RUNNABLE_MIGRATIONS } from './database-options';

/** Arbitrary but fixed: every migration runner of this service takes the same advisory lock. */
const MIGRATION_LOCK_KEY = 727_001;

/**
 * Applies (or reverts the last of) the pending migrations while holding a PostgreSQL advisory
 * lock, so several ECS tasks running migrations at once apply each migration exactly once.
 */
export async function migrate(dataSource: DataSource, direction: 'run' | 'revert'): Promise<string[]> {
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    await lockRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    if (direction === 'revert') {
      await dataSource.undoLastMigration({ transaction: 'each' });
      return [];
    }
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await lockRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lockRunner.release();
  }
}

async function main(): Promise<void> {
  const direction = process.argv[2] === 'revert' ? 'revert' : 'run';
  const dataSource = new DataSource(databaseOptions(loadDatabaseConfigFromProcess(), [RUNNABLE_MIGRATIONS]));
  await dataSource.initialize();
  try {
    const applied = await migrate(dataSource, direction);
    const summary = direction === 'revert' ? 'reverted the last migration' : `applied ${applied.length} migration(s)`;
    console.log(JSON.stringify({ level: 'info', msg: `migrations: ${summary}`, applied }));
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    const message = error instanceof ConfigError ? error.message : `migrations failed: ${String(error)}`;
    console.error(message);
    process.exit(1);
  });
}
