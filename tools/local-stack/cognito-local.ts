import {
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  SetUserPoolMfaConfigCommand,
  UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitFor } from './ports';

export interface CognitoLocalHandle {
  endpoint: string;
  port: number;
  stateDir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface UserPool {
  userPoolId: string;
  clientId: string;
  issuer: string;
  jwksUri: string;
}

/** The app's Cognito settings (src/config) for a pool of the emulator at `endpoint`. */
export function cognitoEnv(pool: UserPool, endpoint: string): Record<string, string> {
  return {
    COGNITO_REGION: 'ap-northeast-2',
    COGNITO_USER_POOL_ID: pool.userPoolId,
    COGNITO_CLIENT_ID: pool.clientId,
    COGNITO_ENDPOINT: endpoint,
    COGNITO_ISSUER: pool.issuer,
    COGNITO_JWKS_URI: pool.jwksUri,
  };
}

/** Credentials and region the AWS SDK needs to sign requests to the emulator (never checked by it). */
export const EMULATOR_AWS_ENV = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'local' };

/**
 * Runs cognito-local (npm) as a child process whose state lives in `stateDir/.cognito`.
 * Its issuer is http://127.0.0.1:PORT/<poolId>.
 */
export async function startCognitoLocal(options: { stateDir: string; port?: number }): Promise<CognitoLocalHandle> {
  const port = options.port ?? (await freePort());
  mkdirSync(join(options.stateDir, '.cognito'), { recursive: true });
  const entry = require.resolve('cognito-local/lib/bin/start.js');
  let child: ChildProcess | null = null;
  const endpoint = `http://127.0.0.1:${port}`;

  const start = async (): Promise<void> => {
    child = spawn(process.execPath, [entry], {
      cwd: options.stateDir,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const exited = new Promise<never>((_, reject) => child?.once('exit', (code) => reject(new Error(`cognito-local exited with ${code}`))));
    exited.catch(() => undefined);
    await Promise.race([
      waitFor('cognito-local', async () => (await fetch(`${endpoint}/health`).catch(() => null)) !== null, 20_000),
      exited,
    ]);
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null) {
      return;
    }
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  };
  await start();
  return { endpoint, port, stateDir: options.stateDir, stop, start };
}

export function emulatorClient(endpoint: string): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * A user pool like production's: email as username, email verified by code, groups admin and
 * moderator, TOTP allowed as an optional second step, and an app client that may use the Hosted
 * UI's authorization-code flow with the given callback URLs.
 */
export async function createUserPool(endpoint: string, name: string, options: { callbackUrls?: string[] } = {}): Promise<UserPool> {
  const client = emulatorClient(endpoint);
  try {
    const pool = await client.send(
      new CreateUserPoolCommand({
        PoolName: name,
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
      }),
    );
    const userPoolId = pool.UserPool?.Id ?? '';
    const app = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: `${name}-app`,
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      }),
    );
    await allowSecondStepsAndHostedUi(
      client,
      userPoolId,
      app.UserPoolClient?.ClientId ?? '',
      options.callbackUrls ?? ['http://127.0.0.1/callback'],
    );
    for (const group of ['admin', 'moderator']) {
      await client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: group, Description: `${group} group` }));
    }
    const issuer = `${endpoint}/${userPoolId}`;
    return { userPoolId, clientId: app.UserPoolClient?.ClientId ?? '', issuer, jwksUri: `${issuer}/.well-known/jwks.json` };
  } finally {
    client.destroy();
  }
}

/**
 * TOTP as an optional second step for the pool, and the authorization-code flow (PKCE) of the
 * Hosted UI for the app client, redirecting to `callbackUrls`. Idempotent: `npm run dev` applies
 * it to a pool it created on an earlier run too.
 */
export async function allowSecondStepsAndHostedUi(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  clientId: string,
  callbackUrls: string[],
): Promise<void> {
  await client.send(
    new UpdateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientId: clientId,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      SupportedIdentityProviders: ['COGNITO'],
      CallbackURLs: callbackUrls,
    }),
  );
  await client.send(
    new SetUserPoolMfaConfigCommand({
      UserPoolId: userPoolId,
      MfaConfiguration: 'OPTIONAL',
      SoftwareTokenMfaConfiguration: { Enabled: true },
    }),
  );
}

interface StoredUser {
  Username: string;
  Attributes?: Array<{ Name: string; Value: string }>;
  ConfirmationCode?: string;
  AttributeVerificationCode?: string;
  [key: string]: unknown;
}

/** Reads a user record from the emulator's JSON database (confirmation codes live there). */
export function storedUser(stateDir: string, userPoolId: string, email: string): StoredUser | undefined {
  const file = join(stateDir, '.cognito', 'db', `${userPoolId}.json`);
  // The emulator rewrites the file in place: a read during a concurrent write sees partial JSON.
  for (let attempt = 0; ; attempt += 1) {
    try {
      const db = JSON.parse(readFileSync(file, 'utf8')) as { Users?: Record<string, StoredUser> };
      return Object.values(db.Users ?? {}).find((u) => u.Attributes?.some((a) => a.Name === 'email' && a.Value === email));
    } catch (error) {
      if ((error as Error).name !== 'SyntaxError' || attempt >= 50) {
        throw error;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

export function listPoolFiles(stateDir: string): string[] {
  return readdirSync(join(stateDir, '.cognito', 'db'));
}

export function writeEmulatorConfig(stateDir: string, config: object): void {
  mkdirSync(join(stateDir, '.cognito'), { recursive: true });
  writeFileSync(join(stateDir, '.cognito', 'config.json'), JSON.stringify(config, null, 2));
}
