/**
 * `npm run dev`: the whole service locally with nothing configured. Embedded PostgreSQL,
 * cognito-local and s3rver keep their state in .local/, so a second run reuses the same data. Dev-only:
 * this file and test/stack use devDependencies and are not part of the production image.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createUserPool, EMULATOR_AWS_ENV, startCognitoLocal, UserPool } from '../test/stack/cognito-local';
import { applyMigrations } from '../test/stack/migrations';
import { databaseUrl, startPostgres, withClient } from '../test/stack/postgres';
import { startS3rver } from '../test/stack/s3rver';
import { seedUser } from '../test/stack/seed';

const ROOT = resolve(__dirname, '..');
const LOCAL = join(ROOT, '.local');
const STATE_FILE = join(LOCAL, 'dev-state.json');
const PG_PORT = 54329;
const COGNITO_PORT = 9229;
const API_PORT = 3000;
const S3_PORT = 4568;
const S3_BUCKET = 'dev-uploads';

interface DevState {
  pool: UserPool;
  admin: { email: string; password: string };
}

function log(message: string): void {
  process.stdout.write(`[dev] ${message}\n`);
}

async function main(): Promise<void> {
  mkdirSync(LOCAL, { recursive: true });
  log('starting embedded PostgreSQL (.local/postgres)');
  const pg = await startPostgres({ dataDir: join(LOCAL, 'postgres'), port: PG_PORT });
  log('starting cognito-local (.local/cognito)');
  const cognito = await startCognitoLocal({ stateDir: join(LOCAL, 'cognito'), port: COGNITO_PORT });
  log('starting s3rver (.local/s3)');
  const s3 = await startS3rver({ directory: join(LOCAL, 's3'), bucket: S3_BUCKET, port: S3_PORT });

  let child: ReturnType<typeof spawn> | null = null;
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) {
      return;
    }
    stopping = true;
    log('stopping');
    if (child !== null && child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise((r) => child?.once('exit', r));
    }
    await cognito.stop();
    await s3.stop();
    await pg.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    const database = 'api';
    await withClient(pg.adminUrl, async (client) => {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (exists.rowCount === 0) {
        await client.query(`CREATE DATABASE ${database}`);
      }
    });
    const url = databaseUrl(pg.adminUrl, database);
    const applied = await applyMigrations(url);
    log(`migrations: ${applied.length === 0 ? 'up to date' : `applied ${applied.join(', ')}`}`);

    let state: DevState;
    if (existsSync(STATE_FILE)) {
      state = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as DevState;
      log(`reusing user pool ${state.pool.userPoolId}`);
    } else {
      const pool = await createUserPool(cognito.endpoint, 'dev');
      const admin = { email: 'admin@example.com', password: `Adm1n!${randomBytes(6).toString('base64url')}` };
      await seedUser(cognito.endpoint, pool, url, { ...admin, nickname: 'admin', groups: ['admin'] });
      state = { pool, admin };
      writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
      log(`created user pool ${pool.userPoolId} with groups admin and moderator`);
    }

    const env = {
      ...process.env,
      ...EMULATOR_AWS_ENV,
      NODE_ENV: 'development',
      PORT: String(API_PORT),
      DATABASE_URL: url,
      COGNITO_REGION: 'ap-northeast-2',
      COGNITO_USER_POOL_ID: state.pool.userPoolId,
      COGNITO_CLIENT_ID: state.pool.clientId,
      COGNITO_ENDPOINT: cognito.endpoint,
      COGNITO_ISSUER: state.pool.issuer,
      COGNITO_JWKS_URI: state.pool.jwksUri,
      SWAGGER_ENABLED: 'true',
      S3_BUCKET,
      S3_ENDPOINT: s3.endpoint,
    };
    log('starting the API (nest start --watch)');
    child = spawn(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'start', '--watch', '--preserveWatchOutput'], {
      cwd: ROOT,
      env,
      stdio: 'inherit',
      detached: true,
    });
    child.once('exit', (code) => void stop(code ?? 0));
    log(`API:     http://localhost:${API_PORT}  (Swagger: http://localhost:${API_PORT}/docs)`);
    log(`Cognito: ${cognito.endpoint}  pool ${state.pool.userPoolId}  client ${state.pool.clientId}`);
    log(`S3:      ${s3.endpoint}  bucket ${S3_BUCKET}`);
    log(`Seeded admin: ${state.admin.email} / ${state.admin.password}`);
    log('Ctrl-C stops everything.');
  } catch (error) {
    process.stderr.write(`[dev] failed: ${String(error)}\n`);
    await stop(1);
  }
}

void main();
