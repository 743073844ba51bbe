/**
 * `npm run dev`: the whole service locally with nothing configured. Embedded PostgreSQL,
 * cognito-local and s3rver keep their state in .local/, so a second run reuses the same data. Dev-only:
 * this file and tools/local-stack use devDependencies and are not part of the production image.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { join, resolve } from 'node:path';
import {
  allowSecondStepsAndHostedUi,
  cognitoEnv,
  createUserPool,
  EMULATOR_AWS_ENV,
  emulatorClient,
  startCognitoLocal,
  UserPool,
} from '../tools/local-stack/cognito-local';
import { startCognitoGapProxy } from '../tools/local-stack/cognito-local-gaps';
import { applyMigrations } from '../tools/local-stack/migrations';
import { databaseUrl, startPostgres, withClient } from '../tools/local-stack/postgres';
import { startS3rver } from '../tools/local-stack/s3rver';
import { createGiven } from '../tools/local-stack/factory';
import { watchConsole } from './build-console';

const ROOT = resolve(__dirname, '..');
const LOCAL = join(ROOT, '.local');
const STATE_FILE = join(LOCAL, 'dev-state.json');
const PG_PORT = 54329;
const COGNITO_PORT = 9229;
/** In front of cognito-local for the API's SDK calls: answers the sign-outs the emulator lacks. */
const COGNITO_API_PORT = 9230;
const API_PORT = 3000;
/** The stand-in for a web app's callback page: it shows the code and the curl that exchanges it. */
const CALLBACK_PORT = 3001;
const CALLBACK_URL = `http://localhost:${CALLBACK_PORT}/callback`;
const S3_PORT = 4568;
const S3_BUCKET = 'dev-uploads';

interface DevState {
  pool: UserPool;
  admin: { email: string; password: string };
}

function log(message: string): void {
  process.stdout.write(`[dev] ${message}\n`);
}

function html(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A page at CALLBACK_URL, where the Hosted UI redirects after login: it prints the curl that
 * turns the code into tokens through the API, with the PKCE verifier of the printed login URL.
 */
function startCallbackPage(verifier: string): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', CALLBACK_URL);
    const code = url.searchParams.get('code');
    if (url.pathname !== '/callback' || code === null) {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.stringify({ code, codeVerifier: verifier, redirectUri: CALLBACK_URL });
    const curl = `curl -s localhost:${API_PORT}/v1/auth/oauth/token -H 'content-type: application/json' -d '${body}'`;
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(`<!doctype html><title>Signed in</title><p>Exchange the code (once, within 5 minutes):</p><pre>${html(curl)}</pre>`);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(CALLBACK_PORT, '127.0.0.1', () => resolvePromise(server));
  });
}

/** Waits for nest's first compile (dist/main.js), then builds the admin console there in watch mode. */
async function buildConsoleAfterNest(): Promise<() => Promise<void>> {
  for (let i = 0; i < 600 && !existsSync(join(ROOT, 'dist', 'main.js')); i += 1) {
    await new Promise((r) => setTimeout(r, 200));
  }
  return watchConsole();
}

async function main(): Promise<void> {
  mkdirSync(LOCAL, { recursive: true });
  log('starting embedded PostgreSQL (.local/postgres)');
  const pg = await startPostgres({ dataDir: join(LOCAL, 'postgres'), port: PG_PORT });
  log('starting cognito-local (.local/cognito)');
  const cognito = await startCognitoLocal({ stateDir: join(LOCAL, 'cognito'), port: COGNITO_PORT });
  const cognitoApi = await startCognitoGapProxy(cognito.endpoint, COGNITO_API_PORT);
  log('starting s3rver (.local/s3)');
  const s3 = await startS3rver({ directory: join(LOCAL, 's3'), bucket: S3_BUCKET, port: S3_PORT });

  let child: ReturnType<typeof spawn> | null = null;
  let callbackPage: Server | null = null;
  let stopConsoleBuild: (() => Promise<void>) | null = null;
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
    callbackPage?.close();
    await stopConsoleBuild?.();
    await cognitoApi.stop();
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
      const pool = await createUserPool(cognito.endpoint, 'dev', { callbackUrls: [CALLBACK_URL] });
      const admin = { email: 'admin@example.com', password: `Adm1n!${randomBytes(6).toString('base64url')}` };
      const given = createGiven({ cognitoEndpoint: cognito.endpoint, pool, databaseUrl: url });
      await given.user({ ...admin, nickname: 'admin', groups: ['admin'] }).finally(() => given.close());
      state = { pool, admin };
      writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
      log(`created user pool ${pool.userPoolId} with groups admin and moderator`);
    }

    // Also for a pool from an earlier run: TOTP allowed, the Hosted UI redirecting to the callback page.
    const admin = emulatorClient(cognito.endpoint);
    await allowSecondStepsAndHostedUi(admin, state.pool.userPoolId, state.pool.clientId, [CALLBACK_URL]);
    admin.destroy();
    const verifier = randomBytes(32).toString('base64url');
    callbackPage = await startCallbackPage(verifier);
    const authorize = new URL(`${cognito.endpoint}/oauth2/authorize`);
    authorize.search = new URLSearchParams({
      client_id: state.pool.clientId,
      redirect_uri: CALLBACK_URL,
      response_type: 'code',
      scope: 'openid email profile',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();

    const env = {
      ...process.env,
      ...EMULATOR_AWS_ENV,
      NODE_ENV: 'development',
      PORT: String(API_PORT),
      DATABASE_URL: url,
      ...cognitoEnv(state.pool, cognitoApi.endpoint),
      // cognito-local serves the Hosted UI (/oauth2/authorize, /oauth2/token) at its API endpoint.
      COGNITO_DOMAIN: cognito.endpoint,
      OAUTH_REDIRECT_URIS: CALLBACK_URL,
      SWAGGER_ENABLED: 'true',
      // Readable lines in the terminal (pino-pretty); LOG_FORMAT=json in the shell keeps JSON.
      LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
      S3_BUCKET,
      S3_ENDPOINT: s3.endpoint,
    };
    log('starting the API (nest start --watch)');
    // nest empties dist/ before its first compile: the console is built into dist/console after it.
    rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
    child = spawn(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'start', '--watch', '--preserveWatchOutput'], {
      cwd: ROOT,
      env,
      stdio: 'inherit',
      detached: true,
    });
    child.once('exit', (code) => void stop(code ?? 0));
    stopConsoleBuild = await buildConsoleAfterNest();
    log(`API:     http://localhost:${API_PORT}  (Swagger: http://localhost:${API_PORT}/docs)`);
    log(`Cognito: ${cognito.endpoint}  pool ${state.pool.userPoolId}  client ${state.pool.clientId}`);
    log(`         the API calls it through ${cognitoApi.endpoint}, which answers AdminUserGlobalSignOut (cognito-local`);
    log('         lacks it): logout-all and password change/reset work, but old refresh tokens still refresh locally');
    log(`Console: http://localhost:${API_PORT}/admin/  (sign in as the seeded admin; rebuilt on every change to console/)`);
    log(`S3:      ${s3.endpoint}  bucket ${S3_BUCKET}`);
    log(`Seeded admin: ${state.admin.email} / ${state.admin.password}`);
    log(`Hosted UI login (open in a browser; the page it lands on prints the curl for the code exchange):`);
    log(`  ${authorize.toString()}`);
    log('Ctrl-C stops everything.');
  } catch (error) {
    process.stderr.write(`[dev] failed: ${String(error)}\n`);
    await stop(1);
  }
}

void main();
