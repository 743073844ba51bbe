import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { databaseUrl, withClient } from '../tools/local-stack/postgres';
import { distStamp } from './support/dist';

/**
 * `npm run migration:run` / `migration:revert` / `migration:generate` work from the TypeScript
 * sources: they neither build the project nor need a build (the image keeps running
 * `node dist/database/migrate.js`, covered by production-process.e2e-spec.ts).
 */

const ROOT = resolve(__dirname, '..');
const run = promisify(execFile);

describe('migration scripts', () => {
  const adminUrl = process.env.TEST_PG_ADMIN_URL as string;
  const database = `${process.env.TEST_RUN_ID}_cli_${randomUUID().slice(0, 8)}`;
  const url = databaseUrl(adminUrl, database);
  const shipped = readdirSync(join(ROOT, 'migrations')).filter((file) => file.endsWith('.ts')).length;

  beforeAll(() => withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${database}`)));
  afterAll(() => withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)));

  function npmRun(script: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
    // Only the database variables: the scripts need nothing else.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: url };
    return run('npm', ['run', '--silent', script, ...(args.length > 0 ? ['--', ...args] : [])], { cwd: ROOT, env, timeout: 60_000 });
  }

  async function applied(): Promise<string[]> {
    const { rows } = await withClient(url, (c) => c.query<{ name: string }>('SELECT name FROM typeorm_migrations ORDER BY id'));
    return rows.map((row) => row.name);
  }

  it('runs, reverts and runs again from the sources, without building anything', async () => {
    const before = distStamp();

    const first = await npmRun('migration:run');
    expect(JSON.parse(first.stdout.trim()).applied).toHaveLength(shipped);
    const all = await applied();
    expect(all).toHaveLength(shipped);

    await npmRun('migration:revert');
    expect(await applied()).toEqual(all.slice(0, -1));

    const again = await npmRun('migration:run');
    expect(JSON.parse(again.stdout.trim()).applied).toEqual([all[all.length - 1]]);
    expect(await applied()).toEqual(all);

    expect(distStamp()).toEqual(before);
  }, 120_000);

  // The entities do not declare the CHECK constraints, partial indexes and foreign keys the
  // migrations create, so a generated migration is a draft to review (docs/architecture.md).
  it('generates a migration draft from the sources, without building anything (migration:generate --dryrun)', async () => {
    const before = distStamp();
    const { stdout } = await npmRun('migration:generate', '--dryrun', 'migrations/Draft');
    expect(stdout).toMatch(/Migration .*migrations\/Draft\.ts.* has content/);
    expect(existsSync(join(ROOT, 'migrations', 'Draft.ts'))).toBe(false);
    expect(distStamp()).toEqual(before);
  }, 120_000);
});
