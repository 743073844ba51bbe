import { join } from 'node:path';
import { Client } from 'pg';
import { DataSourceOptions } from 'typeorm';
import { DatabaseConfig } from '../config/app-config';
import { ENTITIES } from './entities';

/** How long a request may wait for a pooled connection before it gets 503 (docs/resilience.md). */
export const POOL_WAIT_MS = 2_000;
/** No statement may run longer than this; a stuck lock becomes a 503, not a hung request. */
export const STATEMENT_TIMEOUT_MS = 5_000;

/**
 * Client-side bound on one query: the server's statement_timeout fires first for a slow
 * statement (a clean 57014); this one only fires when the server does not answer at all.
 */
export const QUERY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 500;

/**
 * A pooled connection whose query got no answer within QUERY_TIMEOUT_MS is dead (a failover that
 * left it silently stranded) or stuck behind that query, which pg keeps waiting for. It is
 * destroyed then, so the pool drops it instead of handing it to the next request.
 */
export class FailFastClient extends Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- whatever the pg query() overload returns, returned unchanged
  override query(...args: unknown[]): any {
    const result: unknown = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) {
      // Observed, not handled: the caller still gets the rejection.
      result.catch((error: unknown) => {
        if ((error as Error | null)?.message === 'Query read timeout') {
          (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
        }
      });
    }
    return result;
  }
}

/** Compiled migrations (`dist/migrations`), next to the compiled `dist/database`. */
export const COMPILED_MIGRATIONS = join(__dirname, '..', 'migrations', '*.js');

/**
 * The migrations that match how this code runs: compiled, the compiled ones (the image); from
 * its TypeScript source through tsx (`npm run migration:run`), the sources in `migrations/`, so
 * nothing has to be built first.
 */
export const RUNNABLE_MIGRATIONS = __filename.endsWith('.ts') ? join(__dirname, '..', '..', 'migrations', '*.ts') : COMPILED_MIGRATIONS;

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
      // Client-side bound too, in case the server stops answering mid-query (failover); under the
      // contract's 6 s, and the connection is dropped when it fires.
      query_timeout: QUERY_TIMEOUT_MS,
      Client: FailFastClient,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    },
  };
}
