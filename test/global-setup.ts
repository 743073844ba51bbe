import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMULATOR_AWS_ENV, startCognitoLocal } from '../tools/local-stack/cognito-local';
import { applyMigrations } from '../tools/local-stack/migrations';
import { databaseUrl, startPostgres, withClient } from '../tools/local-stack/postgres';
import { startS3rver } from '../tools/local-stack/s3rver';

/**
 * Once per `npm test`: PostgreSQL (embedded, or TEST_DATABASE_URL's server) with a migrated
 * template database, cognito-local, and s3rver with one bucket. Each spec file then gets its own
 * database (a copy of the template) and its own user pool, so files are independent of each
 * other and of order; upload keys carry the user id, so they never collide in the bucket.
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
  const s3 = await startS3rver({ directory: join(root, 's3'), bucket: 'test-uploads' });

  Object.assign(process.env, EMULATOR_AWS_ENV, {
    TEST_RUN_ID: runId,
    TEST_PG_ADMIN_URL: pg.adminUrl,
    TEST_TEMPLATE_DB: template,
    TEST_COGNITO_ENDPOINT: cognito.endpoint,
    TEST_COGNITO_STATE_DIR: cognito.stateDir,
    TEST_S3_ENDPOINT: s3.endpoint,
    TEST_S3_BUCKET: s3.bucket,
  });
  (globalThis as Record<string, unknown>).__TEST_STACK__ = { pg, cognito, s3, runId };
}
