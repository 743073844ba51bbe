import { AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import request from 'supertest';
import { createUserPool, emulatorClient, UserPool } from '../tools/local-stack/cognito-local';
import { databaseUrl, withClient } from '../tools/local-stack/postgres';
import { freePort } from '../tools/local-stack/ports';
import { createGiven, Given } from '../tools/local-stack/factory';
import { ensureBuilt, productionEnv, ROOT, startNode, StartedProcess, waitForStatus } from '../tools/local-stack/processes';
import { Api } from './support/api';
import type { TokensBody } from './support/api/auth';
import { expectStatus, PASSWORD } from './support/test-app';

const REDIS_URL = 'redis://127.0.0.1:6379';

function redisAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(6379, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

interface Instance {
  proc: StartedProcess;
  url: string;
  /** The typed client against this instance. */
  api: Api;
}

/**
 * Several ECS tasks: two production processes on different ports, one database, one user pool.
 * Nothing that must be shared may live in one process's memory.
 */
describe('scale-out: two instances behind one load balancer', () => {
  let dbUrl: string;
  let pool: UserPool;
  let given: Given;
  let env: Record<string, string>;
  let a: Instance;
  let b: Instance;
  let redisUp: boolean;
  const leavers: Array<{ id: string; sub: string }> = [];
  const database = `${process.env.TEST_RUN_ID}_scale`;

  async function startInstance(extra: Record<string, string> = {}): Promise<Instance> {
    const port = await freePort();
    const proc = startNode(ROOT, ['dist/main.js'], { ...env, PORT: String(port), ...extra });
    const url = `http://127.0.0.1:${port}`;
    await waitForStatus(`${url}/health/ready`, 200, 20_000);
    return { proc, url, api: new Api(request(url)) };
  }

  async function stopInstance(instance: Instance | undefined): Promise<void> {
    if (instance !== undefined && instance.proc.child.exitCode === null) {
      instance.proc.child.kill('SIGTERM');
      await instance.proc.exited;
    }
  }

  beforeAll(async () => {
    await ensureBuilt();
    redisUp = await redisAnswers();
    const adminUrl = process.env.TEST_PG_ADMIN_URL!;
    await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${database} TEMPLATE ${process.env.TEST_TEMPLATE_DB}`));
    dbUrl = databaseUrl(adminUrl, database);
    const endpoint = process.env.TEST_COGNITO_ENDPOINT!;
    pool = await createUserPool(endpoint, 'scale-out');
    given = createGiven({ cognitoEndpoint: endpoint, pool, databaseUrl: dbUrl });
    env = {
      ...productionEnv(dbUrl, pool, endpoint),
      LOG_LEVEL: 'info',
      TRUST_PROXY: 'true',
      RATE_LIMIT_AUTH_PER_MINUTE: '4',
      ...(redisUp ? { REDIS_URL } : {}),
    };
    // 20 withdrawals whose process died after recording the intent: both instances sweep at start.
    for (let i = 0; i < 20; i += 1) {
      leavers.push(
        await given.user({
          email: `leaver${i}.${randomUUID()}@example.com`,
          password: PASSWORD,
          nickname: `leaver${i}`,
        }),
      );
    }
    await withClient(dbUrl, (c) =>
      c.query(`UPDATE user_mapping SET withdrawal_requested_at = now() - interval '1 minute' WHERE id = ANY($1::uuid[])`, [
        leavers.map((l) => l.id),
      ]),
    );
    [a, b] = await Promise.all([startInstance(), startInstance()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([stopInstance(a), stopInstance(b)]);
    await given.close();
    await withClient(process.env.TEST_PG_ADMIN_URL!, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });

  /** A sign-in on `instance`, from an address of its own so that the auth rate limit stays out of the way. */
  const login = (instance: Instance, email: string): Promise<TokensBody> =>
    instance.api.auth.loggedIn({ email, password: PASSWORD }, { 'X-Forwarded-For': `203.0.113.${Math.floor(Math.random() * 250)}` });

  async function seeded(groups: string[] = []): Promise<{ id: string; email: string }> {
    const email = `scale.${randomUUID()}@example.com`;
    const { id } = await given.user({
      email,
      password: PASSWORD,
      nickname: 'scale',
      groups,
    });
    return { id, email };
  }

  it('completes 20 pending withdrawals swept by both instances, each exactly once', async () => {
    const deadline = Date.now() + 20_000;
    let withdrawn = 0;
    while (Date.now() < deadline) {
      const rows = await withClient(dbUrl, (c) =>
        c.query<{ count: number }>(`SELECT count(*)::int AS count FROM user_mapping WHERE id = ANY($1::uuid[]) AND status = 'withdrawn'`, [
          leavers.map((l) => l.id),
        ]),
      );
      withdrawn = rows.rows[0].count;
      if (withdrawn === 20) {
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(withdrawn).toBe(20);
    const completions = (output: string): number =>
      output
        .split('\n')
        .filter((line) => line.includes('pending withdrawals completed'))
        .reduce((sum, line) => sum + (JSON.parse(line) as { completed: number }).completed, 0);
    const [byA, byB] = [completions(a.proc.output()), completions(b.proc.output())];
    process.stdout.write(`scale-out: withdrawals completed by A=${byA} B=${byB}\n`);
    expect(byA + byB).toBe(20);
    const cognito = emulatorClient(process.env.TEST_COGNITO_ENDPOINT!);
    try {
      for (const leaver of leavers) {
        await expect(cognito.send(new AdminGetUserCommand({ UserPoolId: pool.userPoolId, Username: leaver.sub }))).rejects.toMatchObject({
          name: 'UserNotFoundException',
        });
      }
    } finally {
      cognito.destroy();
    }
  });

  it('refuses on B a token logged out on A', async () => {
    const user = await seeded();
    const tokens = await login(a, user.email);
    expectStatus(await b.api.as(tokens).users.me(), 200);
    expectStatus(await a.api.as(tokens).auth.logout({ refreshToken: tokens.refreshToken }), 204);
    const res = await b.api.as(tokens).users.me();
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
  });

  it('refuses on B the old token of a user whose group an admin removed on A, and a user disabled on A', async () => {
    const admin = await seeded(['admin']);
    const moderator = await seeded(['moderator']);
    const adminTokens = await login(a, admin.email);
    const modTokens = await login(b, moderator.email);
    expectStatus(await b.api.as(modTokens).users.me(), 200);
    expectStatus(await a.api.as(adminTokens).admin.users.removeFromGroup(moderator.id, 'moderator'), 204);
    const stale = await b.api.as(modTokens).users.me();
    expect({ status: stale.status, code: stale.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });

    const plain = await seeded();
    const plainTokens = await login(b, plain.email);
    expectStatus(await a.api.as(adminTokens).admin.users.disable(plain.id), 204);
    const disabled = await b.api.as(plainTokens).users.me();
    expect({ status: disabled.status, code: disabled.body.code }).toEqual({ status: 403, code: 'ACCOUNT_DISABLED' });
  });

  it('counts the auth rate limit across both instances through Redis', async () => {
    if (!redisUp) {
      process.stdout.write('skipped: no Redis answers on 127.0.0.1:6379, so the shared rate limit cannot be shown\n');
      return;
    }
    const ip = `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const instance = i % 2 === 0 ? a : b;
      const res = await instance.api.auth.password.forgot({ email: `nobody${i}@example.com` }).set('X-Forwarded-For', ip);
      statuses.push(res.status);
    }
    // The limit is 4 per minute per IP: per-process counting would have allowed all 6 (3 each).
    expect(statuses).toEqual([202, 202, 202, 202, 429, 429]);
  });

  it('degrades to per-process limits when Redis is unreachable, never to 5xx', async () => {
    const c = await startInstance({ REDIS_URL: 'redis://127.0.0.1:9' });
    try {
      const ip = `198.19.${Math.floor(Math.random() * 250)}.1`;
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        statuses.push((await c.api.auth.password.forgot({ email: `n${i}@example.com` }).set('X-Forwarded-For', ip)).status);
      }
      expect(statuses).toEqual([202, 202, 202, 202, 429]);
      expect(c.proc.output()).toContain('rate limits are per process');
    } finally {
      await stopInstance(c);
    }
  });
});
