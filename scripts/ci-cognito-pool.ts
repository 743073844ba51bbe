/**
 * CI helper for scripts/container-check-ci.sh (dev-only, uses devDependencies): starts
 * cognito-local on a free port with a throw-away state dir, creates a production-like user pool
 * (app client, groups admin and moderator) and prints the API's Cognito environment as KEY=VALUE
 * lines on stdout, then `READY=1`. It keeps the emulator running until SIGTERM/SIGINT, then stops
 * it and removes the state dir. Logs go to stderr so stdout stays machine-readable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUserPool, EMULATOR_AWS_ENV, startCognitoLocal } from '../tools/local-stack/cognito-local';

function log(message: string): void {
  process.stderr.write(`[ci-cognito-pool] ${message}\n`);
}

async function main(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'ci-cognito-'));
  const cognito = await startCognitoLocal({ stateDir });
  const pool = await createUserPool(cognito.endpoint, `ci-${Date.now()}`);
  log(`cognito-local on ${cognito.endpoint} (state ${stateDir}), pool ${pool.userPoolId}`);

  const env: Record<string, string> = {
    COGNITO_ENDPOINT: cognito.endpoint,
    COGNITO_USER_POOL_ID: pool.userPoolId,
    COGNITO_CLIENT_ID: pool.clientId,
    COGNITO_ISSUER: pool.issuer,
    COGNITO_JWKS_URI: pool.jwksUri,
    ...EMULATOR_AWS_ENV,
  };
  const lines = Object.entries(env).map(([key, value]) => `${key}=${value}`);
  process.stdout.write(`${lines.join('\n')}\nREADY=1\n`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    cognito.stop().then(
      () => {
        rmSync(stateDir, { recursive: true, force: true });
        process.exit(0);
      },
      (error: unknown) => {
        log(`stop failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', stop);
  // Keep the event loop alive until a signal arrives (the emulator child alone does not).
  setInterval(() => undefined, 1 << 30);
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
