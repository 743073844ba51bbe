/**
 * `npm run bench`: the app against a bare node:http baseline doing the same work,
 * on the same Node, database and pool size. Prints one table and writes bench/results.json.
 *
 * Env: BENCH_DATABASE_URL (a server to use instead of embedded PostgreSQL), BENCH_DURATION
 * (seconds per measurement, default 5), BENCH_ROUNDS (default 3), BENCH_SKIP_BUILD=1,
 * BENCH_GROWTH_POSTS (default 1000000), BENCH_ONLY (a substring: run only the matching scenarios
 * and skip the growth part), BENCH_APP_ARGS / BENCH_BASELINE_ARGS (extra node flags, e.g.
 * --cpu-prof --cpu-prof-dir=/tmp/prof), BENCH_APP_LOG=1 (count what the servers write to stdout).
 */
import { InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import autocannon from 'autocannon';
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createUserPool, emulatorClient, startCognitoLocal } from '../test/stack/cognito-local';
import { applyMigrations } from '../test/stack/migrations';
import { freePort } from '../test/stack/ports';
import { databaseUrl, startPostgres, withClient } from '../test/stack/postgres';
import { seedUser } from '../test/stack/seed';
import { productionEnv } from '../test/support/processes';

const ROOT = resolve(__dirname, '..');
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
const CONNECTIONS = 32;
const GROWTH_POSTS = Number(process.env.BENCH_GROWTH_POSTS ?? 1_000_000);
const PASSWORD = 'Bench!Passw0rd';

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  readyMs: number;
}

interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

const log = (message: string): void => void process.stdout.write(`[bench] ${message}\n`);
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function startServer(name: string, args: string[], env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', process.env.BENCH_APP_LOG === undefined ? 'inherit' : 'pipe', 'inherit'],
  });
  if (process.env.BENCH_APP_LOG !== undefined) {
    let bytes = 0;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (bytes < 2000) {
        process.stdout.write(`[${name} stdout] ${chunk.toString().slice(0, 500)}\n`);
      }
      bytes += chunk.length;
    });
    child.once('exit', () => log(`${name} wrote ${bytes} bytes to stdout`));
  }
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const status = await fetch(`${url}/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) {
      break;
    }
    if (child.exitCode !== null || Date.now() - started > 30_000) {
      throw new Error(`${name} did not become ready`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { name, url, child, readyMs: Date.now() - started };
}

async function load(
  url: string,
  options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; duration?: number },
): Promise<Measurement> {
  const result = await autocannon({
    url,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    connections: CONNECTIONS,
    duration: options.duration ?? DURATION,
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'api-bench-'));
  chmodSync(work, 0o755);
  log('starting PostgreSQL and cognito-local');
  const pg = await startPostgres({ dataDir: join(work, 'pg'), externalUrl: process.env.BENCH_DATABASE_URL, fresh: true });
  const cognito = await startCognitoLocal({ stateDir: join(work, 'cognito') });
  const servers: Server[] = [];
  try {
    const database = `bench_${Date.now().toString(36)}`;
    await withClient(pg.adminUrl, (c) => c.query(`CREATE DATABASE ${database}`));
    const url = databaseUrl(pg.adminUrl, database);
    await applyMigrations(url);
    const pool = await createUserPool(cognito.endpoint, 'bench');
    const email = 'bench@example.com';
    const caller = await seedUser(cognito.endpoint, pool, url, { email, password: PASSWORD, nickname: 'bench' });
    const client = emulatorClient(cognito.endpoint);
    const login = await client.send(
      new InitiateAuthCommand({ ClientId: pool.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD } }),
    );
    client.destroy();
    const token = login.AuthenticationResult?.AccessToken ?? '';

    log('seeding 10,000 posts by 100 authors and 50 comments on one post');
    const targetPost = await withClient(url, async (c) => {
      await c.query(`INSERT INTO user_mapping (cognito_sub, cognito_username, email, nickname)
                     SELECT 'author-' || i, 'author-' || i, 'author' || i || '@example.com', 'author ' || i FROM generate_series(1, 100) i`);
      await c.query(`INSERT INTO posts (author_id, title, body, created_at)
                     SELECT (SELECT id FROM user_mapping WHERE cognito_sub = 'author-' || (1 + i % 100)), 'Post ' || i, repeat('lorem ipsum ', 20),
                            now() - (i || ' seconds')::interval
                       FROM generate_series(1, 10000) i`);
      const { rows } = await c.query<{ id: string }>(`SELECT id FROM posts ORDER BY created_at DESC LIMIT 1`);
      await c.query(
        `INSERT INTO comments (post_id, author_id, body, created_at)
         SELECT $1, $2, 'comment ' || i, now() - ((100 - i) || ' seconds')::interval FROM generate_series(1, 50) i`,
        [rows[0].id, caller.id],
      );
      await c.query(`UPDATE posts SET comment_count = 50 WHERE id = $1`, [rows[0].id]);
      await c.query('ANALYZE');
      return rows[0].id;
    });

    if (process.env.BENCH_SKIP_BUILD !== '1') {
      log('building (npm run build)');
      execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
    }
    // The image's environment, NODE_OPTIONS included, for both servers (same Node, same heap bounds).
    const env: Record<string, string> = { ...productionEnv(url, pool, cognito.endpoint), DB_POOL_MAX: '10' };
    const appArgs = (process.env.BENCH_APP_ARGS ?? '').split(' ').filter((a) => a !== '');
    log(`app runs as in the image: NODE_OPTIONS="${env.NODE_OPTIONS}" node dist/main.js`);
    const app = await startServer('app', [...appArgs, 'dist/main.js'], env);
    const baseArgs = (process.env.BENCH_BASELINE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const baseline = await startServer('baseline', [...baseArgs, 'bench/baseline.mts'], env);
    servers.push(app, baseline);
    await new Promise((r) => setTimeout(r, 2_000));
    const idleRss = rssMb(app.child.pid ?? 0);
    log(`app ready in ${app.readyMs} ms, idle RSS ${idleRss} MB; baseline ready in ${baseline.readyMs} ms`);

    const auth = { authorization: `Bearer ${token}` };
    const scenarios: Array<{
      name: string;
      path: string;
      method?: 'GET' | 'POST';
      headers?: Record<string, string>;
      body?: string;
      expect: number;
    }> = [
      { name: 'GET /v1/posts?limit=20', path: '/v1/posts?limit=20', headers: auth, expect: 200 },
      { name: 'GET /v1/users/me', path: '/v1/users/me', headers: auth, expect: 200 },
      { name: 'GET /v1/posts/:id/comments?limit=20', path: `/v1/posts/${targetPost}/comments?limit=20`, headers: auth, expect: 200 },
      { name: 'unauthenticated 401', path: '/v1/users/me', expect: 401 },
      {
        name: 'POST /v1/posts',
        path: '/v1/posts',
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Benchmark post', body: 'A body of a reasonable size for a post. '.repeat(5) }),
        expect: 201,
      },
    ];

    // Check that both servers answer every scenario the same way before measuring.
    for (const s of scenarios) {
      for (const server of [app, baseline]) {
        const res = await fetch(`${server.url}${s.path}`, { method: s.method ?? 'GET', headers: s.headers, body: s.body });
        if (res.status !== s.expect) {
          throw new Error(`${server.name} answered ${res.status} to ${s.name}: ${await res.text()}`);
        }
      }
    }

    log(`warm-up, then ${ROUNDS} alternating rounds of ${DURATION} s per server and scenario at ${CONNECTIONS} connections`);
    for (const server of [app, baseline]) {
      await load(`${server.url}/v1/posts?limit=20`, { headers: auth, duration: 3 });
    }
    const results: Array<{ scenario: string; app: Measurement; baseline: Measurement; ratio: number }> = [];
    const only = process.env.BENCH_ONLY;
    for (const s of scenarios.filter((x) => only === undefined || x.name.includes(only))) {
      const runs: Record<string, Measurement[]> = { app: [], baseline: [] };
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const server of [app, baseline]) {
          runs[server.name].push(await load(`${server.url}${s.path}`, { method: s.method, headers: s.headers, body: s.body }));
        }
      }
      const summarize = (ms: Measurement[]): Measurement => ({
        rps: Math.round(median(ms.map((m) => m.rps))),
        p50: median(ms.map((m) => m.p50)),
        p99: median(ms.map((m) => m.p99)),
        non2xx: ms.reduce((n, m) => n + m.non2xx, 0),
        errors: ms.reduce((n, m) => n + m.errors, 0),
      });
      const a = summarize(runs.app);
      const b = summarize(runs.baseline);
      results.push({ scenario: s.name, app: a, baseline: b, ratio: Math.round((a.rps / b.rps) * 100) / 100 });
      log(`${s.name}: app ${a.rps} req/s (p99 ${a.p99} ms), baseline ${b.rps} req/s, ratio ${(a.rps / b.rps).toFixed(2)}`);
    }
    const loadedRss = rssMb(app.child.pid ?? 0);
    if (only !== undefined) {
      console.table(
        results.map((r) => ({ scenario: r.scenario, app: r.app.rps, baseline: r.baseline.rps, ratio: r.ratio, 'app p99': r.app.p99 })),
      );
      log(`idle RSS ${idleRss} MB, after load ${loadedRss} MB (BENCH_ONLY: growth and results.json skipped)`);
      return;
    }

    log('growth: GET /v1/posts with 10k posts, then with 1M; page 1 vs a cursor 500k rows deep');
    const listP = async (path: string): Promise<Measurement> => load(`${app.url}${path}`, { headers: auth });
    const atSmall = await listP('/v1/posts?limit=20');
    await withClient(url, async (c) => {
      const { rows } = await c.query<{ count: number }>(`SELECT count(*)::int AS count FROM posts`);
      const missing = Math.max(0, GROWTH_POSTS - rows[0].count);
      log(`inserting ${missing} posts`);
      await c.query(`INSERT INTO posts (author_id, title, body, created_at)
                     SELECT (SELECT id FROM user_mapping WHERE cognito_sub = 'author-' || (1 + i % 100)), 'Old post ' || i, repeat('lorem ipsum ', 20),
                            now() - interval '1 day' - (i || ' seconds')::interval
                       FROM generate_series(1, ${missing}) i`);
      await c.query('VACUUM ANALYZE posts');
    });
    const atLarge = await listP('/v1/posts?limit=20');
    const deep = await withClient(url, async (c) => {
      // 500k rows deep (or half-way, when a smaller growth size was asked for).
      const { rows } = await c.query<{ ts: string; id: string }>(
        `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, id FROM posts
          WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC
         OFFSET LEAST(500000, (SELECT count(*) / 2 FROM posts)) LIMIT 1`,
      );
      return Buffer.from(JSON.stringify(['posts', rows[0].ts, rows[0].id])).toString('base64url');
    });
    const firstPage = await listP('/v1/posts?limit=20');
    const deepPage = await listP(`/v1/posts?limit=20&cursor=${deep}`);

    const commit = (() => {
      try {
        return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).toString().trim();
      } catch {
        return 'unknown';
      }
    })();
    const report = {
      date: new Date().toISOString(),
      commit,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
      settings: { connections: CONNECTIONS, durationSeconds: DURATION, rounds: ROUNDS, dbPoolMax: 10 },
      scenarios: results,
      growth: {
        posts10k: { p50: atSmall.p50, p99: atSmall.p99 },
        posts1M: { p50: atLarge.p50, p99: atLarge.p99 },
        p50Ratio1Mvs10k: Math.round((atLarge.p50 / Math.max(atSmall.p50, 0.01)) * 100) / 100,
        page1: { p50: firstPage.p50, p99: firstPage.p99, rps: Math.round(firstPage.rps) },
        cursor500k: { p50: deepPage.p50, p99: deepPage.p99, rps: Math.round(deepPage.rps) },
      },
      footprint: {
        startToReadyMs: app.readyMs,
        rssIdleMb: idleRss,
        rssAfterLoadMb: loadedRss,
        rssGrowth: Math.round((loadedRss / idleRss) * 100) / 100,
      },
    };
    writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(report, null, 2)}\n`);

    const rows = results.map((r) => ({
      scenario: r.scenario,
      'app req/s': r.app.rps,
      'base req/s': r.baseline.rps,
      'app/base': r.ratio,
      'app p50 ms': r.app.p50,
      'app p99 ms': r.app.p99,
      'base p99 ms': r.baseline.p99,
      'app non2xx': r.app.non2xx,
    }));
    console.table(rows);
    console.table({
      'GET /v1/posts, 10k posts': { p50: atSmall.p50, p99: atSmall.p99 },
      'GET /v1/posts, 1M posts': { p50: atLarge.p50, p99: atLarge.p99 },
      'page 1 (1M posts)': { p50: firstPage.p50, p99: firstPage.p99 },
      'cursor 500k deep': { p50: deepPage.p50, p99: deepPage.p99 },
    });
    console.table({ app: report.footprint });
    log('wrote bench/results.json');
  } finally {
    for (const server of servers) {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
    }
    await cognito.stop();
    await pg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
