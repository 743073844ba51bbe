import { join } from 'node:path';
import type { Socket } from 'node:net';
import { Client, ClientConfig } from 'pg';
import { DataSourceOptions } from 'typeorm';
import { DatabaseConfig } from '../config/app-config';
import { ENTITIES } from './entities';

/** How long a request may wait for a pooled connection before it gets 503 (docs/resilience.md). */
export const POOL_WAIT_MS = 2_000;
/** No statement may run longer than this; a stuck lock becomes a 503, not a hung request. */
export const STATEMENT_TIMEOUT_MS = 5_000;

/**
 * Client-side bound on a query's answer: the server's statement_timeout fires first for a slow
 * statement (a clean 57014); this one only fires when the server does not answer at all.
 */
export const QUERY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 500;

/** The error of a query whose connection went silent (a 503, like every "database unavailable"). */
const QUERY_READ_TIMEOUT = 'Query read timeout';

/**
 * A pooled connection that receives nothing for QUERY_TIMEOUT_MS while a query waits for its
 * answer is dead (a failover that left it silently stranded) or stuck behind that query, which pg
 * would keep waiting for. It is destroyed then: the query fails with QUERY_READ_TIMEOUT and the
 * pool drops the connection instead of handing it to the next request.
 *
 * The bound is the socket's own idle timer, one per connection, refreshed by its traffic, not
 * pg's `query_timeout`, which starts and clears a timer for every query: that timer, together
 * with poolQuery awaiting its checkout, made the list's rows outlive scavenges (about 1 MB
 * promoted per scavenge, 0.1 MB without both; docs/performance-results.md). A statement waits no
 * longer either way: the bytes of the query restart the idle timer, as pg's timer starts when the
 * query is sent.
 */
export class FailFastClient extends Client {
  private readonly silentAfterMillis: number;

  /** `silentAfterMillis` (QUERY_TIMEOUT_MS unless given) is for tests; the pool passes its own options. */
  constructor(config?: ClientConfig & { silentAfterMillis?: number }) {
    super(config);
    this.silentAfterMillis = config?.silentAfterMillis ?? QUERY_TIMEOUT_MS;
    this.once('connect', () => this.destroyWhenSilent());
  }

  private destroyWhenSilent(): void {
    const stream = (this as unknown as { connection: { stream: Socket } }).connection.stream;
    stream.setTimeout(this.silentAfterMillis);
    stream.on('timeout', () => {
      // Idle in the pool, or between a transaction's statements: nothing is owed, nothing to do.
      if ((this as unknown as { readyForQuery: boolean }).readyForQuery === false) {
        stream.destroy(new Error(QUERY_READ_TIMEOUT));
      }
    });
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
      Client: FailFastClient,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    },
  };
}
