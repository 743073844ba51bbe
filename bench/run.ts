/**
 * `npm run bench`: the app against a bare node:http baseline doing exactly the same work
 * (bench/baseline.mts), on the same Node, database and pool size. Before measuring, every scenario
 * is sent once to each server and the answers must be the same bytes (status, headers but Date,
 * body; ids and times masked where a write creates them). The baseline runs twice: with the
 * verified-token cache the app has (the reference of every ratio and target) and without it.
 * Every server runs as several processes (BENCH_PROCESSES); each process first serves each request
 * it will be measured on (a warm-up), then measurements alternate between the servers round by
 * round, each round on the next process of each server. A ratio is the median of the rounds' ratios: app
 * and cached baseline, or variant and reference, are measured back to back in each round, so a slow
 * patch of the machine lowers both sides of a pair rather than one side of the medians; req/s,
 * latencies and the CPU time each server spent per request (from /proc) are medians over the
 * rounds, and a p99 ratio is that of the two medians. Prints the tables and writes
 * bench/results.json.
 *
 * Variants compare the app with itself (their own table rows, `variants` in results.json): a
 * scenario against the same scenario sent differently, or served by a second app server started
 * with other env. Add one to variantsFor() below: `request` changes what is sent (`setupRequest` is
 * autocannon's per-request hook, for a value that must differ on every request, e.g. an
 * Idempotency-Key), `env` starts a second app (BENCH_PROCESSES processes per distinct env, e.g. S3 or an OTLP
 * endpoint), `reference` measures the reference differently too (e.g. the same filtered page),
 * `target` is the least ratio to the reference the variant should reach. Before measuring, the
 * variant must answer the scenario's status and pass its `check` (proof it does what it says).
 *
 * Env: BENCH_DATABASE_URL (a server to use instead of embedded PostgreSQL), BENCH_DURATION
 * (seconds per measurement, default 3), BENCH_ROUNDS (default 6), BENCH_PROCESSES (per server,
 * default 3), BENCH_SKIP_BUILD=1,
 * BENCH_GROWTH_POSTS (default 1000000), BENCH_ONLY (a substring: run only the matching scenarios
 * and variants, and skip the growth part and results.json; `=name` for one by its exact name), BENCH_SKIP_GROWTH=1 (everything but
 * the growth part, results.json still written), BENCH_APP_ARGS / BENCH_BASELINE_ARGS (extra node flags, e.g.
 * --cpu-prof --cpu-prof-dir=/tmp/prof), BENCH_APP_LOG=1 (count what the servers write to stdout).
 */
import autocannon from 'autocannon';
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CognitoLocalHandle, createUserPool, startCognitoLocal, UserPool } from '../tools/local-stack/cognito-local';
import { applyMigrations } from '../tools/local-stack/migrations';
import { freePort } from '../tools/local-stack/ports';
import { databaseUrl, PostgresHandle, startPostgres, withClient } from '../tools/local-stack/postgres';
import { S3rverHandle, startS3rver } from '../tools/local-stack/s3rver';
import { createGiven } from '../tools/local-stack/factory';
import { OtlpReceiver, startOtlpReceiver } from '../tools/local-stack/otlp-receiver';
import { productionEnv } from '../tools/local-stack/processes';
import type { Measurement, Results, ScenarioResult } from './results';

const ROOT = resolve(__dirname, '..');
const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 6));
/**
 * Processes per server: the app, each baseline and each variant's app run as this many processes,
 * started alike, and round r is measured on process r % PROCESSES of each. A run's ratios can drift
 * together for its whole length: in five runs of one process each (2026-12-07), the list's ratio
 * varied from run to run about three times as much as the spread of its rounds within a run
 * explains. Several processes average out what is particular to one (its code and heap layout),
 * not a machine that is slower for a whole run.
 */
const PROCESSES = Math.max(1, Number(process.env.BENCH_PROCESSES ?? 3));
/** Seconds each server serves each of its requests before any is measured. */
const WARM_UP = 3;
const CONNECTIONS = 32;
const GROWTH_POSTS = Number(process.env.BENCH_GROWTH_POSTS ?? 1_000_000);
const SKIP_GROWTH = process.env.BENCH_SKIP_GROWTH === '1';
const PASSWORD = 'Bench!Passw0rd';
/** Linux reports process CPU time in clock ticks of 10 ms (`getconf CLK_TCK` = 100). */
const TICK_US = 10_000;

/** One server process. */
interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  readyMs: number;
}

/** One kind of request, as autocannon sends it. */
interface Request {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** autocannon's per-request hook (a value that must differ on every request). */
  setupRequest?: (request: autocannon.Request, context: object) => autocannon.Request;
}

interface Scenario extends Request {
  name: string;
  expect: number;
  /** A write: the ids and times it creates differ between servers and are masked when comparing. */
  creates?: boolean;
}

/** The app compared with itself: the same scenario sent differently, or served with other env. */
interface Variant {
  name: string;
  scenario: string;
  request?: Partial<Request>;
  env?: Record<string, string>;
  /** The reference when it is not the scenario itself: the scenario with these changes, served by the main app. */
  reference?: { name: string; request: Partial<Request> };
  /** The least ratio to the reference this variant should reach. */
  target?: number;
  /** Proves the variant does what it says (e.g. the images are there): the reason it does not, or null. */
  check?: (body: unknown, headers: Headers, sent: autocannon.Request) => string | null | Promise<string | null>;
}


const log = (message: string): void => void process.stdout.write(`[bench] ${message}\n`);
/** The middle value, or the mean of the two middle values of an even count. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
const round2 = (n: number): number => Math.round(n * 100) / 100;

/** The app's and the cached baseline's RSS, read at the same moment (no target: reported side by side). */
interface RssPair {
  app: number;
  baseline: number;
}
interface Rss {
  idle: RssPair;
  loaded: RssPair;
}
/** The median over a server's processes. */
const rssOf = (servers: Servers): RssPair => ({
  app: median(servers.app.map((p) => rssMb(p.child.pid ?? 0))),
  baseline: median(servers.baseline.map((p) => rssMb(p.child.pid ?? 0))),
});

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** bench/allocation-sampler.ts's switch, passed to every server (they get no other env of the bench's). */
function samplerEnv(): Record<string, string> {
  const survivors = process.env.ALLOCATION_SAMPLER_SURVIVORS;
  return survivors === undefined ? {} : { ALLOCATION_SAMPLER_SURVIVORS: survivors };
}

async function startServer(name: string, args: string[], env: Record<string, string>, stdout: 'inherit' | 'drain'): Promise<Server> {
  const port = await freePort();
  const started = Date.now();
  const counted = process.env.BENCH_APP_LOG !== undefined;
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...samplerEnv(), ...env, PORT: String(port) },
    stdio: ['ignore', counted || stdout === 'drain' ? 'pipe' : 'inherit', 'inherit'],
  });
  let bytes = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (counted && bytes < 2000) {
      process.stdout.write(`[${name} stdout] ${chunk.toString().slice(0, 500)}\n`);
    }
    bytes += chunk.length;
  });
  if (counted) {
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

async function load(server: Server, request: Request, duration = DURATION): Promise<Measurement> {
  const pid = server.child.pid ?? 0;
  const before = cpuTicks(pid);
  const result = await autocannon({
    url: `${server.url}${request.path}`,
    method: request.method ?? 'GET',
    headers: request.headers,
    body: request.body,
    requests: request.setupRequest === undefined ? undefined : [{ setupRequest: request.setupRequest }],
    connections: CONNECTIONS,
    duration,
  });
  const cpuUs = ((cpuTicks(pid) - before) * TICK_US) / Math.max(1, result.requests.total);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUs,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/**
 * Runs `ROUNDS` rounds over the servers, each server in turn within a round (so a burst of load
 * from another process on the machine hits them alike), round r on each server's process
 * r % PROCESSES, and returns the median of each with the req/s of every round.
 */
async function interleaved(targets: Array<{ server: Server[]; request: Request }>): Promise<Measurement[]> {
  const runs: Measurement[][] = targets.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, t] of targets.entries()) {
      runs[i].push(await load(t.server[round % t.server.length], t.request));
    }
  }
  return runs.map((ms) => ({
    rps: Math.round(median(ms.map((m) => m.rps))),
    p50: round2(median(ms.map((m) => m.p50))),
    p99: round2(median(ms.map((m) => m.p99))),
    cpuUs: Math.round(median(ms.map((m) => m.cpuUs))),
    non2xx: ms.reduce((n, m) => n + m.non2xx, 0),
    errors: ms.reduce((n, m) => n + m.errors, 0),
    roundRps: ms.map((m) => Math.round(m.rps)),
  }));
}

/** Each round's ratio of two servers measured in turn in that round. */
function roundRatios(measured: Measurement, reference: Measurement): number[] {
  const mine = measured.roundRps ?? [];
  return mine.map((rps, round) => round2(rps / (reference.roundRps ?? [])[round]));
}

interface Answer {
  status: number;
  headers: string[];
  body: string;
}

/** One answer as bytes to compare: the status, the headers but Date (sorted), the body. */
async function answer(server: Server, s: Scenario): Promise<Answer> {
  const res = await fetch(`${server.url}${s.path}`, {
    method: s.method ?? 'GET',
    headers: { ...s.headers, 'x-request-id': 'bench-check' },
    body: s.body,
  });
  let body = await res.text();
  const headers = [...res.headers.entries()].filter(([name]) => name !== 'date').map(([name, value]) => `${name}: ${value}`);
  if (s.creates === true) {
    const mask = (text: string): string =>
      text
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
        .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>');
    body = mask(body);
    return { status: res.status, headers: headers.map(mask).sort(), body };
  }
  return { status: res.status, headers: headers.sort(), body };
}

/** Refuses to measure servers that do not answer every scenario with the same bytes. */
async function checkSameAnswers(scenarios: Scenario[], reference: Server, others: Server[]): Promise<void> {
  for (const s of scenarios) {
    const expected = await answer(reference, s);
    if (expected.status !== s.expect) {
      throw new Error(`${reference.name} answered ${expected.status} to ${s.name}: ${expected.body}`);
    }
    for (const other of others) {
      const got = await answer(other, s);
      const missing = expected.headers.filter((h) => !got.headers.includes(h));
      const extra = got.headers.filter((h) => !expected.headers.includes(h));
      if (got.status !== expected.status || got.body !== expected.body || missing.length > 0 || extra.length > 0) {
        throw new Error(
          `${other.name} does not answer ${s.name} as ${reference.name} does:\n` +
            `  status ${got.status} vs ${expected.status}\n  missing headers: ${missing.join(' | ')}\n  extra headers: ${extra.join(' | ')}\n` +
            `  body:     ${got.body}\n  expected: ${expected.body}`,
        );
      }
    }
  }
}

type VariantResult = Results['variants'][number];

/** A load whose every answer must be 2xx: a refused cursor or token would otherwise be measured as if it were the page. */
async function loadOk(server: Server, request: Request): Promise<Measurement> {
  const m = await load(server, request);
  if (m.non2xx > 0 || m.errors > 0) {
    throw new Error(`${request.method ?? 'GET'} ${request.path}: ${m.non2xx} non-2xx answers and ${m.errors} errors under load`);
  }
  return m;
}

interface Stack {
  work: string;
  pg: PostgresHandle;
  cognito: CognitoLocalHandle;
  /** For variants only: the app of the main table runs without S3 and telemetry, as the baseline does. */
  s3: S3rverHandle;
  otlpSink: OtlpReceiver;
}

async function startStack(): Promise<Stack> {
  const work = mkdtempSync(join(tmpdir(), 'api-bench-'));
  chmodSync(work, 0o755);
  log('starting PostgreSQL and cognito-local');
  // Every process of every server may hold a pool of 10 at once.
  const pg = await startPostgres({ dataDir: join(work, 'pg'), externalUrl: process.env.BENCH_DATABASE_URL, fresh: true, maxConnections: 400 });
  const cognito = await startCognitoLocal({ stateDir: join(work, 'cognito') });
  const s3 = await startS3rver({ directory: join(work, 's3'), bucket: 'bench-media' });
  const otlpSink = await startOtlpReceiver({ keep: false });
  return { work, pg, cognito, s3, otlpSink };
}

async function stopStack(stack: Stack, servers: Server[]): Promise<void> {
  for (const server of servers) {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }
  await stack.otlpSink.close();
  await stack.s3.stop();
  await stack.cognito.stop();
  await stack.pg.stop();
  rmSync(stack.work, { recursive: true, force: true });
}

interface Seeded {
  url: string;
  pool: UserPool;
  /** The caller's access token. */
  token: string;
  /** The post with 50 comments. */
  post: string;
  withImages: string;
  withoutImages: string;
}

/** A migrated database, the caller (made by the factory every test uses), and the data the scenarios read. */
async function seed(stack: Stack): Promise<Seeded> {
  const database = `bench_${Date.now().toString(36)}`;
  await withClient(stack.pg.adminUrl, (c) => c.query(`CREATE DATABASE ${database}`));
  const url = databaseUrl(stack.pg.adminUrl, database);
  await applyMigrations(url);
  const pool = await createUserPool(stack.cognito.endpoint, 'bench');
  const given = createGiven({ cognitoEndpoint: stack.cognito.endpoint, pool, databaseUrl: url });
  const { caller, token } = await (async () => {
    const user = await given.user({ email: 'bench@example.com', password: PASSWORD, nickname: 'bench' });
    return { caller: user, token: (await given.tokens(user)).accessToken };
  })().finally(() => given.close());

  log('seeding 10,000 posts by 100 authors, 50 comments on one post, 4 images on each post of one author');
  const seeded = await withClient(url, async (c) => {
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
    // Four images on each post of author 1 (read by an app with S3 configured): a page of that
    // author's posts stays the same while the POST scenarios add posts to the main list.
    await c.query(
      `INSERT INTO uploads (id, owner_id, object_key, attachment_key, content_type, size, state, post_id, position, attached_at)
       SELECT x.id, x.author_id, 'uploads/' || x.author_id || '/' || x.id, 'attachments/' || x.author_id || '/' || x.id,
              'image/jpeg', 204800, 'attached', x.post_id, x.pos, now()
         FROM (SELECT gen_random_uuid() AS id, p.author_id, p.id AS post_id, g.pos
                 FROM posts p CROSS JOIN generate_series(0, 3) AS g(pos)
                WHERE p.author_id = (SELECT id FROM user_mapping WHERE cognito_sub = 'author-1')) x`,
    );
    // The caller's token belongs to a session, as one from POST /v1/auth/login does: the guard's
    // statement finds it (docs/sessions.md).
    const { jti } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { jti: string };
    await c.query(
      `WITH s AS (INSERT INTO session (user_id, expires_at) VALUES ($1, now() + interval '30 days') RETURNING id)
       INSERT INTO session_key (key, session_id) SELECT $2, id FROM s`,
      [caller.id, `j:${jti}`],
    );
    await c.query('ANALYZE');
    const authors = await c.query<{ id: string }>(`SELECT id FROM user_mapping WHERE cognito_sub IN ('author-1', 'author-2') ORDER BY cognito_sub`);
    return { post: rows[0].id, withImages: authors.rows[0].id, withoutImages: authors.rows[1].id };
  });
  return { url, pool, token, ...seeded };
}

function scenariosFor(seeded: Seeded): Scenario[] {
  const auth = { authorization: `Bearer ${seeded.token}` };
  return [
    { name: 'GET /v1/users/me', path: '/v1/users/me', headers: auth, expect: 200 },
    { name: 'GET /v1/posts?limit=20', path: '/v1/posts?limit=20', headers: auth, expect: 200 },
    { name: 'GET /v1/posts/:id', path: `/v1/posts/${seeded.post}`, headers: auth, expect: 200 },
    { name: 'GET /v1/posts/:id/comments?limit=20', path: `/v1/posts/${seeded.post}/comments?limit=20`, headers: auth, expect: 200 },
    {
      name: 'POST /v1/posts',
      path: '/v1/posts',
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Benchmark post', body: 'A body of a reasonable size for a post. '.repeat(5) }),
      expect: 201,
      creates: true,
    },
    { name: 'unauthenticated 401', path: '/v1/users/me', expect: 401 },
  ];
}

function variantsFor(stack: Stack, seeded: Seeded): Variant[] {
  const s3Env = { S3_BUCKET: stack.s3.bucket, S3_ENDPOINT: stack.s3.endpoint };
  return [
    { name: 'GET /v1/posts?limit=100', scenario: 'GET /v1/posts?limit=20', request: { path: '/v1/posts?limit=100' } },
    // The image logs at info: one access-log line per request, here written to a pipe we drain.
    { name: 'GET /v1/users/me, LOG_LEVEL=info', scenario: 'GET /v1/users/me', env: { LOG_LEVEL: 'info' } },
    // One author's page, read by an app with S3 configured against the same page without: with
    // images, one more SQL statement and 80 presigned GET URLs; without, the statement alone.
    ...[
      { images: 4, author: seeded.withImages },
      { images: 0, author: seeded.withoutImages },
    ].map(({ images, author }) => ({
      name: `GET /v1/posts?authorId=…&limit=20, S3 on, ${images} images per post`,
      scenario: 'GET /v1/posts?limit=20',
      reference: { name: 'the same page, S3 off', request: { path: `/v1/posts?limit=20&authorId=${author}` } },
      request: { path: `/v1/posts?limit=20&authorId=${author}` },
      env: s3Env,
      check: (body: unknown) => {
        const counts = (body as { items: Array<{ attachments: unknown[] }> }).items.map((p) => p.attachments.length);
        return counts.length === 20 && counts.every((n) => n === images) ? null : `carries [${counts.join(',')}] images, not ${images} on each of 20 posts`;
      },
    })),
    {
      name: 'POST /v1/posts, Idempotency-Key',
      scenario: 'POST /v1/posts',
      target: 0.85,
      request: { setupRequest: (r) => ({ ...r, headers: { ...r.headers, 'idempotency-key': randomUUID() } }) },
      check: async (_body, headers, sent) => {
        const key = (sent.headers as Record<string, string>)['idempotency-key'];
        const { rows } = await withClient(seeded.url, (c) =>
          c.query<{ n: number }>(`SELECT count(*)::int AS n FROM idempotency_keys WHERE key = $1`, [key]),
        );
        return headers.has('idempotent-replayed') || rows[0].n !== 1 ? 'the key was not stored once, as a first request' : null;
      },
    },
    // Traces and metrics exported over OTLP/HTTP (the SDK's default protobuf) to a sink on 127.0.0.1.
    {
      name: 'GET /v1/posts?limit=20, telemetry on',
      scenario: 'GET /v1/posts?limit=20',
      target: 0.85,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: stack.otlpSink.url, OTEL_SERVICE_NAME: 'api-bench' },
    },
    // The same, as the ECS task runs it (infra/lib/service.ts): a tenth of the traces kept, every
    // request still counted in the metrics.
    {
      name: 'GET /v1/posts?limit=20, telemetry on, 10 % of traces',
      scenario: 'GET /v1/posts?limit=20',
      target: 0.85,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: stack.otlpSink.url,
        OTEL_SERVICE_NAME: 'api-bench',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
      },
    },
  ];
}

/** Each server as its PROCESSES processes. */
interface Servers {
  app: Server[];
  baseline: Server[];
  uncached: Server[];
  /** One app per distinct variant env, by JSON of that env. */
  variantServers: Map<string, Server[]>;
}

/** The app, both baselines and the variants' apps, all with the image's environment, PROCESSES times. */
async function startServers(stack: Stack, seeded: Seeded, variants: Variant[], started: Server[]): Promise<Servers> {
  if (process.env.BENCH_SKIP_BUILD !== '1') {
    log('building (npm run build)');
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  }
  // The image's environment, NODE_OPTIONS included, for every server (same Node, same heap bounds).
  const env: Record<string, string> = { ...productionEnv(seeded.url, seeded.pool, stack.cognito.endpoint), DB_POOL_MAX: '10' };
  const appArgs = (process.env.BENCH_APP_ARGS ?? '').split(' ').filter((a) => a !== '');
  const baseArgs = (process.env.BENCH_BASELINE_ARGS ?? '').split(' ').filter((a) => a !== '');
  log(`app runs as in the image: NODE_OPTIONS="${env.NODE_OPTIONS}" node dist/main.js`);
  const start = async (...args: Parameters<typeof startServer>): Promise<Server> => {
    const server = await startServer(...args);
    started.push(server);
    return server;
  };
  // Each distinct variant env once, by its JSON (as serverOf looks it up).
  const variantEnvs = new Map(variants.flatMap((v) => (v.env === undefined ? [] : [[JSON.stringify(v.env), v.env] as const])));
  const servers: Servers = { app: [], baseline: [], uncached: [], variantServers: new Map([...variantEnvs.keys()].map((key) => [key, []])) };
  for (let n = 1; n <= PROCESSES; n += 1) {
    servers.app.push(await start(`app #${n}`, [...appArgs, 'dist/main.js'], env, 'inherit'));
    servers.baseline.push(await start(`baseline #${n}`, [...baseArgs, 'bench/baseline.mts'], env, 'inherit'));
    servers.uncached.push(await start(`baseline-uncached #${n}`, [...baseArgs, 'bench/baseline.mts'], { ...env, BASELINE_VERIFY_CACHE: 'off' }, 'inherit'));
    for (const [key, variantEnv] of variantEnvs) {
      servers.variantServers.get(key)?.push(await start(`app ${key} #${n}`, [...appArgs, 'dist/main.js'], { ...env, ...variantEnv }, 'drain'));
    }
  }
  return servers;
}

const serverOf = (servers: Servers, v: Variant): Server[] =>
  v.env === undefined ? servers.app : (servers.variantServers.get(JSON.stringify(v.env)) as Server[]);

function scenarioNamed(scenarios: Scenario[], name: string): Scenario {
  const s = scenarios.find((x) => x.name === name);
  if (s === undefined) {
    throw new Error(`variant of an unknown scenario: ${name}`);
  }
  return s;
}

/** Each variant, on each of its processes, answers its scenario's status and passes its own check before it is measured. */
async function checkVariants(scenarios: Scenario[], variants: Variant[], servers: Servers): Promise<void> {
  for (const v of variants) {
    const s = scenarioNamed(scenarios, v.scenario);
    for (const server of serverOf(servers, v)) {
      // What autocannon sends: the scenario, the variant's changes, then its per-request hook.
      const sent = { ...s, ...v.request };
      const r: autocannon.Request = sent.setupRequest?.({ ...sent, headers: { ...sent.headers } }, {}) ?? sent;
      const res = await fetch(`${server.url}${r.path ?? s.path}`, {
        method: r.method ?? 'GET',
        headers: r.headers as Record<string, string>,
        body: r.body,
      });
      const text = await res.text();
      const failed = res.status !== s.expect ? `answered ${res.status}: ${text}` : await v.check?.(JSON.parse(text), res.headers, r);
      if (typeof failed === 'string') {
        throw new Error(`variant ${v.name} (${server.name}) ${failed}`);
      }
    }
  }
}

/**
 * Each server serves each request it will be measured on for WARM_UP seconds. The JIT optimises a
 * route over its first thousands of requests, and the app has far more code on that path than the
 * baseline: measured right after a warm-up on another route, `GET /v1/users/me` rose from 0.60× to
 * 0.85× of the baseline round by round within one run (2026-12-07).
 */
async function warmUp(measured: Scenario[], scenarios: Scenario[], variants: Variant[], servers: Servers): Promise<void> {
  const warm = async (processes: Server[], request: Request): Promise<void> => {
    for (const server of processes) {
      await load(server, request, WARM_UP);
    }
  };
  for (const server of [servers.app, servers.baseline, servers.uncached]) {
    for (const s of measured) {
      await warm(server, s);
    }
  }
  for (const v of variants) {
    const s = scenarioNamed(scenarios, v.scenario);
    // The app's reference is the scenario itself unless the variant names another: warmed above when measured.
    if (v.reference !== undefined || !measured.includes(s)) {
      await warm(servers.app, { ...s, ...v.reference?.request });
    }
    await warm(serverOf(servers, v), { ...s, ...v.request });
  }
}

async function measureScenarios(scenarios: Scenario[], servers: Servers): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const s of scenarios) {
    const [a, b, u] = await interleaved([servers.app, servers.baseline, servers.uncached].map((server) => ({ server, request: s })));
    const rounds = roundRatios(a, b);
    const ratio = round2(median(rounds));
    results.push({
      scenario: s.name,
      app: a,
      baseline: b,
      baselineUncached: u,
      ratio,
      ratioUncached: round2(median(roundRatios(a, u))),
      p99Ratio: round2(a.p99 / Math.max(b.p99, 1)),
      roundRatios: rounds,
    });
    log(
      `${s.name}: app ${a.rps} req/s (p99 ${a.p99} ms, ${a.cpuUs} µs CPU), baseline ${b.rps} (p99 ${b.p99} ms, ${b.cpuUs} µs), ratio ${ratio} (rounds ${rounds.join(', ')})`,
    );
  }
  return results;
}

async function measureVariants(scenarios: Scenario[], variants: Variant[], servers: Servers): Promise<VariantResult[]> {
  const results: VariantResult[] = [];
  for (const v of variants) {
    const s = scenarioNamed(scenarios, v.scenario);
    const [r, m] = await interleaved([
      { server: servers.app, request: { ...s, ...v.reference?.request } },
      { server: serverOf(servers, v), request: { ...s, ...v.request } },
    ]);
    const against = v.reference?.name ?? s.name;
    const rounds = roundRatios(m, r);
    const ratio = round2(median(rounds));
    results.push({ variant: v.name, scenario: against, reference: r, measured: m, ratio, target: v.target ?? null, roundRatios: rounds });
    log(`${v.name}: ${m.rps} req/s (${m.cpuUs} µs CPU) vs ${against} ${r.rps} req/s (${r.cpuUs} µs), ratio ${ratio} (rounds ${rounds.join(', ')})`);
  }
  return results;
}

function printTables(results: ScenarioResult[], variantResults: VariantResult[]): void {
  console.table(
    results.map((r) => ({
      scenario: r.scenario,
      'app req/s': r.app.rps,
      'base req/s': r.baseline.rps,
      'app/base': r.ratio,
      'app/uncached': r.ratioUncached,
      'app p99 ms': r.app.p99,
      'base p99 ms': r.baseline.p99,
      'CPU µs app/base': `${r.app.cpuUs} / ${r.baseline.cpuUs}`,
      'app non2xx': r.app.non2xx,
    })),
  );
  if (variantResults.length > 0) {
    console.table(
      variantResults.map((r) => ({
        variant: r.variant,
        against: r.scenario,
        'req/s': r.measured.rps,
        'ref req/s': r.reference.rps,
        ratio: r.ratio,
        target: r.target ?? '',
        'p99 ms': r.measured.p99,
        'ref p99 ms': r.reference.p99,
        'CPU µs / ref': `${r.measured.cpuUs} / ${r.reference.cpuUs}`,
      })),
    );
  }
}

/**
 * List latency at 10k posts and at GROWTH_POSTS, and page 1 against a cursor 500k rows deep. Every
 * answer must be 2xx: a cursor the app no longer reads would otherwise be measured as a fast 400.
 */
async function measureGrowth(app: Server, seeded: Seeded): Promise<NonNullable<Results['growth']>> {
  log('growth: GET /v1/posts with 10k posts, then with 1M; page 1 vs a cursor 500k rows deep');
  const headers = { authorization: `Bearer ${seeded.token}` };
  const listP = async (path: string): Promise<Measurement> => loadOk(app, { path, headers });
  const atSmall = await listP('/v1/posts?limit=20');
  await withClient(seeded.url, async (c) => {
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
  const deep = await withClient(seeded.url, async (c) => {
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
  return {
    posts10k: { p50: atSmall.p50, p99: atSmall.p99 },
    posts1M: { p50: atLarge.p50, p99: atLarge.p99 },
    p50Ratio1Mvs10k: round2(atLarge.p50 / Math.max(atSmall.p50, 0.01)),
    page1: { p50: firstPage.p50, p99: firstPage.p99, rps: Math.round(firstPage.rps) },
    cursor500k: { p50: deepPage.p50, p99: deepPage.p99, rps: Math.round(deepPage.rps) },
  } as NonNullable<Results['growth']>;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    return 'unknown';
  }
}

function writeReport(
  app: Server,
  measured: { results: ScenarioResult[]; variantResults: VariantResult[]; growth: Results['growth']; rss: Rss },
): Results {
  const { results, variantResults, growth, rss } = measured;
  const report: Results = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    settings: { connections: CONNECTIONS, durationSeconds: DURATION, rounds: ROUNDS, processes: PROCESSES, dbPoolMax: 10, growthPosts: GROWTH_POSTS },
    scenarios: results,
    variants: variantResults,
    growth,
    footprint: {
      startToReadyMs: app.readyMs,
      rssIdleMb: rss.idle.app,
      rssAfterLoadMb: rss.loaded.app,
      rssGrowth: round2(rss.loaded.app / rss.idle.app),
      baselineRssIdleMb: rss.idle.baseline,
      baselineRssAfterLoadMb: rss.loaded.baseline,
    },
    // The targets, each against the cached baseline of this same run.
    targets: {
      authenticatedRoutesAtLeast08: results.filter((r) => r.scenario !== 'unauthenticated 401').every((r) => r.ratio >= 0.8),
      unauthenticatedAtLeast06: results.filter((r) => r.scenario === 'unauthenticated 401').every((r) => r.ratio >= 0.6),
      p99AtMost2xBaseline: results.every((r) => r.p99Ratio <= 2),
      startToReadyUnder1s: app.readyMs < 1_000,
      listFlat1Mvs10kAtMost115: growth === null ? null : growth.p50Ratio1Mvs10k <= 1.15,
      // Against the app itself: each variant that names a target (Idempotency-Key, telemetry).
      variantsAtTarget: variantResults.every((r) => r.target === null || r.ratio >= r.target),
    },
  };
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

async function main(): Promise<void> {
  const stack = await startStack();
  const started: Server[] = [];
  try {
    const seeded = await seed(stack);
    const scenarios = scenariosFor(seeded);
    const only = process.env.BENCH_ONLY;
    // `BENCH_ONLY==GET /v1/posts?limit=20` (a leading '=') is that scenario alone, without the variants named after it.
    const matches = (name: string): boolean => only === undefined || (only.startsWith('=') ? name === only.slice(1) : name.includes(only));
    const picked = <T extends { name: string }>(items: T[]): T[] => items.filter((x) => matches(x.name));
    const variants = picked(variantsFor(stack, seeded));
    const servers = await startServers(stack, seeded, variants, started);
    await new Promise((r) => setTimeout(r, 2_000));
    const idle = rssOf(servers);
    log(
      `app ready in ${servers.app[0].readyMs} ms, idle RSS ${idle.app} MB; baseline ready in ${servers.baseline[0].readyMs} ms, idle RSS ${idle.baseline} MB (medians of ${PROCESSES} processes)`,
    );

    await checkSameAnswers(scenarios, servers.app[0], [...servers.app.slice(1), ...servers.baseline, ...servers.uncached]);
    log(`every scenario: the same status, headers and body from the app and both baselines, ${PROCESSES} processes each`);
    await checkVariants(scenarios, variants, servers);

    log(
      `warm-up, then ${ROUNDS} alternating rounds of ${DURATION} s per server and scenario at ${CONNECTIONS} connections, round r on each server's process r % ${PROCESSES}`,
    );
    await warmUp(picked(scenarios), scenarios, variants, servers);
    const results = await measureScenarios(picked(scenarios), servers);
    const variantResults = await measureVariants(scenarios, variants, servers);
    const loaded = rssOf(servers);
    printTables(results, variantResults);
    if (only !== undefined) {
      log(`RSS idle / after load: app ${idle.app} / ${loaded.app} MB, baseline ${idle.baseline} / ${loaded.baseline} MB (BENCH_ONLY: growth and results.json skipped)`);
      return;
    }

    const growth = SKIP_GROWTH ? null : await measureGrowth(servers.app[0], seeded);
    if (growth === null) {
      log('growth part skipped (BENCH_SKIP_GROWTH=1)');
    }
    const report = writeReport(servers.app[0], { results, variantResults, growth, rss: { idle, loaded } });
    if (growth !== null) {
      console.table({
        'GET /v1/posts, 10k posts': growth.posts10k,
        'GET /v1/posts, 1M posts': growth.posts1M,
        'page 1 (1M posts)': growth.page1,
        'cursor 500k deep': growth.cursor500k,
      });
    }
    console.table({ app: report.footprint });
    console.table(report.targets);
    log('wrote bench/results.json');
  } finally {
    await stopStack(stack, started);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
