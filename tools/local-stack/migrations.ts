import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadDatabaseConfig } from '../../src/config/app-config';
import { databaseOptions } from '../../src/database/database-options';
import { migrate } from '../../src/database/migrate';

/** The real migrations, from their TypeScript sources, through the app's own runner. */
export const SOURCE_MIGRATIONS = join(__dirname, '..', '..', 'migrations', '*.ts');

export async function applyMigrations(databaseUrl: string): Promise<string[]> {
  const dataSource = new DataSource(databaseOptions(loadDatabaseConfig({ DATABASE_URL: databaseUrl }), [SOURCE_MIGRATIONS]));
  await dataSource.initialize();
  try {
    return await migrate(dataSource, 'run');
  } finally {
    await dataSource.destroy();
  }
}
