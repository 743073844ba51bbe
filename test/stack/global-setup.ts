import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMULATOR_AWS_ENV, startCognitoLocal } from './cognito-local';
import { applyMigrations } from './migrations';
import { databaseUrl, startPostgres, withClient } from './postgres';

/**
 * Once per `npm test`: PostgreSQL (embedded, or TEST_DATABASE_URL's server) with a migrated
 * template database, and cognito-local. Each spec file then gets its own database (a copy of the
 * template) and its own user pool, so files are independent of each other and of order.
 */
export default async function globalSetup(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'api-test-'));
  // Embedded PostgreSQL runs as the `postgres` OS user when we are root: it must reach its folder.
  chmodSync(root, 0o755);
  const runId = `t${Date.now().toString(36)}${process.pid}`;
  const pg = await startPostgres({ dataDir: join(root, 'pg'), externalUrl: process.env.TEST_DATABASE_URL, fresh: true });
  const template = `${runId}_template`;
  await withClient(pg.adminUrl, (client) => client.query(`CREATE DATABASE ${template}`));
  await applyMigrations(databaseUrl(pg.adminUrl, template));
  const cognito = await startCognitoLocal({ stateDir: join(root, 'cognito') });

  Object.assign(process.env, EMULATOR_AWS_ENV, {
    TEST_RUN_ID: runId,
    TEST_PG_ADMIN_URL: pg.adminUrl,
    TEST_TEMPLATE_DB: template,
    TEST_COGNITO_ENDPOINT: cognito.endpoint,
    TEST_COGNITO_STATE_DIR: cognito.stateDir,
  });
  (globalThis as Record<string, unknown>).__TEST_STACK__ = { pg, cognito, runId };
}
