import { DataSource, QueryRunner } from 'typeorm';
import { ConfigError, loadDatabaseConfigFromProcess } from '../config/app-config';
import { AdvisoryLock } from './advisory-locks';
import { databaseOptions, RUNNABLE_MIGRATIONS } from './database-options';

/** Every migration runner of this service takes the same advisory lock. */
const MIGRATION_LOCK_KEY = AdvisoryLock.MIGRATIONS;

/** How often a runner that finds the lock taken asks again. */
const LOCK_POLL_MS = 250;

/**
 * Applies (or reverts the last of) the pending migrations while holding a PostgreSQL advisory
 * lock, so several ECS tasks running migrations at once apply each migration exactly once.
 *
 * The lock is polled (`pg_try_advisory_lock`), not waited for: a runner blocked inside
 * `pg_advisory_lock` holds a snapshot for as long as it waits, and `CREATE INDEX CONCURRENTLY` in
 * the lock holder's migration waits for every such snapshot to end, a deadlock PostgreSQL
 * resolves by failing one of the two.
 */
export async function migrate(dataSource: DataSource, direction: 'run' | 'revert'): Promise<string[]> {
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    while (!(await tryLock(lockRunner))) {
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
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

async function tryLock(runner: QueryRunner): Promise<boolean> {
  const rows = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK_KEY])) as Array<{ locked: boolean }>;
  return rows[0]?.locked === true;
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
