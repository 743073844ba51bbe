import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cognitoEnv, EMULATOR_AWS_ENV, UserPool } from './cognito-local';

export const ROOT = join(__dirname, '..', '..');
export const run = promisify(execFile);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** `npm run build` unless dist/ is there and newer than every source (CI builds before testing). */
export async function ensureBuilt(): Promise<void> {
  const main = join(ROOT, 'dist', 'main.js');
  const fresh =
    existsSync(main) &&
    existsSync(join(ROOT, 'dist', 'database', 'migrate.js')) &&
    statSync(main).mtimeMs >= Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'migrations')));
  if (!fresh) {
    await run('npm', ['run', 'build'], { cwd: ROOT, env: process.env });
  }
}

export interface StartedProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node dist/main.js` (or another script) as its own process, the way the container runs it. */
export function startNode(cwd: string, args: string[], env: Record<string, string>): StartedProcess {
  const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

export async function waitForStatus(url: string, status: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const got = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    if (got === status) {
      return Date.now() - started;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms`);
}

/** The V8 options the production image runs with (ENV NODE_OPTIONS in the Dockerfile). */
export function productionNodeOptions(): string {
  return /NODE_OPTIONS="([^"]*)"/.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1] ?? '';
}

/** The environment an ECS task gives `node dist/main.js`, pointed at a test database and pool. */
export function productionEnv(databaseUrl: string, pool: UserPool, cognitoEndpoint: string): Record<string, string> {
  return {
    ...EMULATOR_AWS_ENV,
    NODE_ENV: 'production',
    NODE_OPTIONS: productionNodeOptions(),
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    ...cognitoEnv(pool, cognitoEndpoint),
  };
}
