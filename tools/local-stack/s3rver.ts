import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { freePort, waitFor } from './ports';

export interface S3rverHandle {
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

/** The access key the emulators are signed with (EMULATOR_AWS_ENV): s3rver only knows its own. */
const ACCESS_KEY = 'local';

/**
 * s3rver (npm, an S3-compatible server) in a child process, objects under `directory`, the bucket
 * created if missing. It checks neither SigV4 signatures nor POST policies: tests decode the
 * policy themselves, and the API checks every object it attaches.
 */
export async function startS3rver(options: { directory: string; bucket: string; port?: number }): Promise<S3rverHandle> {
  const port = options.port ?? (await freePort());
  mkdirSync(options.directory, { recursive: true });
  const endpoint = `http://127.0.0.1:${port}`;
  const script = `
    const S3rver = require('s3rver');
    // s3rver accepts requests signed by the keys of its one dummy account: add ours.
    require('s3rver/lib/models/account').DUMMY_ACCOUNT.createKeyPair(process.env.S3_KEY, process.env.S3_KEY);
    new S3rver({
      address: '127.0.0.1',
      port: Number(process.env.S3_PORT),
      directory: process.env.S3_DIR,
      silent: true,
      configureBuckets: [{ name: process.env.S3_BUCKET_NAME }],
    }).run().catch((error) => { console.error(String(error)); process.exit(1); });
    for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
  `;
  const child: ChildProcess = spawn(process.execPath, ['-e', script], {
    env: {
      ...process.env,
      S3_KEY: ACCESS_KEY,
      S3_PORT: String(port),
      S3_DIR: options.directory,
      S3_BUCKET_NAME: options.bucket,
      NODE_NO_WARNINGS: '1',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`))));
  exited.catch(() => undefined);
  await Promise.race([
    waitFor('s3rver', async () => (await fetch(`${endpoint}/${options.bucket}`).catch(() => null)) !== null, 20_000),
    exited,
  ]);
  return {
    endpoint,
    bucket: options.bucket,
    async stop() {
      if (child.exitCode !== null) {
        return;
      }
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
