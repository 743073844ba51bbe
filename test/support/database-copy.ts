import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { databaseUrl, withClient } from '../../tools/local-stack/postgres';

/** A database of its own for one test file: a copy of the migrated template, dropped after. */
export interface DatabaseCopy {
  name: string;
  url: string;
  /** A small pool on the copy, for the test's own reads and set-up writes. */
  pool: Pool;
  /** Closes the pool and drops the database (also when connections are still open). */
  drop(): Promise<void>;
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set: run the tests through npm test (test/global-setup.ts)`);
  }
  return value;
}

/**
 * Copies the template database that global set-up migrated once (CREATE DATABASE ... TEMPLATE,
 * far faster than migrating again), so each file starts from the same empty schema.
 */
export async function copyTemplateDatabase(label = 'db'): Promise<DatabaseCopy> {
  const adminUrl = required('TEST_PG_ADMIN_URL');
  const name = `${required('TEST_RUN_ID')}_${label}_${randomUUID().slice(0, 8)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${required('TEST_TEMPLATE_DB')}`));
  const url = databaseUrl(adminUrl, name);
  const pool = new Pool({ connectionString: url, max: 4 });
  return {
    name,
    url,
    pool,
    async drop() {
      // pool.end() returns before its clients' sockets are closed, and DROP ... WITH (FORCE)
      // terminates whatever is still open: a client still closing may then be told 57P01, which
      // the pool would re-emit as an unhandled 'error'. That is this drop, not a failure.
      pool.on('error', () => undefined);
      await pool.end();
      await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
