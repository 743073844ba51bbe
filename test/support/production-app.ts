import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createUserPool, UserPool } from '../../tools/local-stack/cognito-local';
import { databaseUrl, withClient } from '../../tools/local-stack/postgres';
import { freePort } from '../../tools/local-stack/ports';
import { createGiven } from '../../tools/local-stack/factory';
import { call } from './load';
import { ensureBuilt, productionEnv, ROOT, startNode, StartedProcess, waitForStatus } from '../../tools/local-stack/processes';
import { PASSWORD } from './test-app';
import { forgeToken } from './tokens';

export interface ProductionUser {
  id: string;
  sub: string;
  email: string;
  accessToken: string;
  refreshToken: string;
}

/**
 * `node dist/main.js` as its own process (what the container runs), on its own database copy and
 * user pool. Unlike `startTestApp`, a crash, a leak or a signal is the real process's.
 */
export interface ProductionApp {
  url: string;
  pid: number;
  proc: StartedProcess;
  dbUrl: string;
  pool: UserPool;
  env: Record<string, string>;
  /** A confirmed Cognito user with a `user_mapping` row, logged in through the API. */
  user(groups?: string[]): Promise<ProductionUser>;
  /** A token signed with cognito-local's key, carrying the claims of `base` (or a new sub) plus `claims`. */
  forge(claims?: Record<string, unknown>, header?: Record<string, unknown>): string;
  /** The process's resident set size in KiB, from /proc/<pid>/status. */
  rssKiB(): number;
  /** SIGTERM, wait for the exit; then drop the database. */
  close(): Promise<void>;
}

/**
 * `RESILIENCE_APP_ROOT` runs the process from another checkout's `dist/` (built beforehand), e.g.
 * to try a proposed patch against these scenarios without touching this tree.
 */
const APP_ROOT = process.env.RESILIENCE_APP_ROOT ?? ROOT;

export async function startProductionApp(options: { env?: Record<string, string>; name?: string } = {}): Promise<ProductionApp> {
  if (APP_ROOT === ROOT) {
    await ensureBuilt();
  }
  const adminUrl = process.env.TEST_PG_ADMIN_URL!;
  const database = `${process.env.TEST_RUN_ID}_${options.name ?? 'prod'}_${randomUUID().slice(0, 6)}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${database} TEMPLATE ${process.env.TEST_TEMPLATE_DB}`));
  const dbUrl = databaseUrl(adminUrl, database);
  const endpoint = process.env.TEST_COGNITO_ENDPOINT!;
  const pool = await createUserPool(endpoint, database);
  const given = createGiven({ cognitoEndpoint: endpoint, pool, databaseUrl: dbUrl });
  const port = await freePort();
  const env: Record<string, string> = {
    ...productionEnv(dbUrl, pool, endpoint),
    PORT: String(port),
    RATE_LIMIT_AUTH_PER_MINUTE: '100000',
    ...options.env,
  };
  const proc = startNode(APP_ROOT, ['dist/main.js'], env);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForStatus(`${url}/health/ready`, 200, 20_000);
  } catch (error) {
    proc.child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${proc.output()}`);
  }

  return {
    url,
    pid: proc.child.pid ?? 0,
    proc,
    dbUrl,
    pool,
    env,
    async user(groups: string[] = []): Promise<ProductionUser> {
      const email = `prod.${randomUUID()}@example.com`;
      const { id, sub } = await given.user({ email, password: PASSWORD, nickname: 'prod', groups });
      const login = await call(url, '/v1/auth/login', { method: 'POST', body: { email, password: PASSWORD } });
      if (login.status !== 200) {
        throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
      }
      return { id, sub, email, accessToken: login.body.accessToken, refreshToken: login.body.refreshToken };
    },
    forge(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
      return forgeToken(pool, claims, { header });
    },
    rssKiB(): number {
      const status = readFileSync(`/proc/${proc.child.pid}/status`, 'utf8');
      const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
      return match === null ? 0 : Number(match[1]);
    },
    async close(): Promise<void> {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGTERM');
        const timer = setTimeout(() => proc.child.kill('SIGKILL'), 12_000);
        await proc.exited;
        clearTimeout(timer);
      }
      await given.close();
      await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).catch(() => undefined);
    },
  };
}
