import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { DatabaseConfig } from '../config/app-config';
import { ENTITIES } from './entities';

/** How long a request may wait for a pooled connection before it gets 503 (contract section 2). */
export const POOL_WAIT_MS = 2_000;
/** No statement may run longer than this; a stuck lock becomes a 503, not a hung request. */
export const STATEMENT_TIMEOUT_MS = 5_000;

/** Compiled migrations (`dist/migrations`), next to the compiled `dist/database`. */
export const COMPILED_MIGRATIONS = join(__dirname, '..', 'migrations', '*.js');

/**
 * The one TypeORM configuration, shared by the app, the migration runner and the TypeORM CLI.
 * `synchronize` is never on: the schema only changes through reviewed migrations.
 */
export function databaseOptions(db: DatabaseConfig, migrations: string[] = [COMPILED_MIGRATIONS]): DataSourceOptions {
  return {
    type: 'postgres',
    host: db.host,
    port: db.port,
    username: db.username,
    password: db.password,
    database: db.database,
    ssl: db.ssl === false ? false : { ca: db.ssl.ca, rejectUnauthorized: true },
    entities: ENTITIES,
    migrations,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName: 'api',
    poolSize: db.poolMax,
    extra: {
      // Bounded wait for a pooled connection: a dead database or an exhausted pool answers fast.
      connectionTimeoutMillis: POOL_WAIT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      lock_timeout: STATEMENT_TIMEOUT_MS - 1_000,
      idle_in_transaction_session_timeout: 30_000,
      // Client-side bound too, in case the server stops answering mid-query (failover).
      query_timeout: STATEMENT_TIMEOUT_MS + 1_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    },
  };
}
