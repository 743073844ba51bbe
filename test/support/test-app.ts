import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.setup';
import { createRootLogger } from '../../src/common/logger';
import { loadConfig, LogLevel } from '../../src/config/app-config';
import { cognitoEnv, createUserPool, storedUser, UserPool } from '../../tools/local-stack/cognito-local';
import { createGiven, PASSWORD, PostOptions, uniqueEmail } from '../../tools/local-stack/factory';
import { Api } from './api';
import { copyTemplateDatabase } from './database-copy';
import { proxyDatabase, TcpProxy } from './tcp-proxy';
import { ForgeOptions, forgeToken } from './tokens';

export interface TestUser {
  id: string;
  sub: string;
  email: string;
  password: string;
  groups: string[];
  accessToken: string;
  idToken: string;
  refreshToken: string;
}

export interface TestApp {
  app: NestFastifyApplication;
  http: ReturnType<typeof request>;
  /** The typed client of the routes specs call: `t.api.as(user).posts.create(...)`. */
  api: Api;
  baseUrl: string;
  db: DataSource;
  databaseUrl: string;
  pool: UserPool;
  cognitoEndpoint: string;
  /** Every log line, when the app was started with `{ captureLogs: true }` (level debug). */
  logs: string[];
  /** Present when the app was started with `{ proxyDatabase: true }`. */
  dbProxy?: TcpProxy;
  /** Users and posts made the way tools/local-stack/factory.ts makes them everywhere. */
  given: {
    /** A confirmed user in `groups` with its row, signed in through the API's own login. */
    user(options?: { groups?: string[]; email?: string; nickname?: string }): Promise<TestUser>;
    /** A confirmed Cognito user (email verified) with no row yet, as the Hosted UI leaves one. */
    cognitoUser(options?: {
      groups?: string[];
      email?: string;
      nickname?: string;
    }): Promise<{ sub: string; username: string; email: string }>;
    post(authorId: string, options?: PostOptions): Promise<{ id: string }>;
  };
  /** The confirmation code cognito-local stored for an email (signup or attribute change). */
  code(email: string, kind?: 'signup' | 'attribute'): string;
  /** A token signed with cognito-local's own key: valid signature, claims as given. */
  forge(claims: Record<string, unknown>, options?: ForgeOptions): string;
  close(): Promise<void>;
}

export { PASSWORD, uniqueEmail };

/** The real application, on real HTTP, against its own database copy and its own user pool. */
export async function startTestApp(
  options: {
    env?: Record<string, string>;
    proxyDatabase?: boolean;
    waitForReady?: boolean;
    captureLogs?: boolean;
    /** The app client's Hosted UI callback URLs. */
    callbackUrls?: string[];
    /** Listen on this port (one known in advance, e.g. for a redirect URI) instead of any free one. */
    port?: number;
  } = {},
): Promise<TestApp> {
  const db = await copyTemplateDatabase('app');
  const name = db.name;
  const dbUrl = db.url;
  let appDbUrl = dbUrl;
  let dbProxy: TcpProxy | undefined;
  if (options.proxyDatabase === true) {
    ({ proxy: dbProxy, url: appDbUrl } = await proxyDatabase(dbUrl));
  }
  const endpoint = required('TEST_COGNITO_ENDPOINT');
  const stateDir = required('TEST_COGNITO_STATE_DIR');
  const pool = await createUserPool(endpoint, name, { callbackUrls: options.callbackUrls });
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: appDbUrl,
    ...cognitoEnv(pool, endpoint),
    RATE_LIMIT_AUTH_PER_MINUTE: '10000',
    ...options.env,
  });
  // Every test doubles as a check that nothing answers an unexpected 500: the filter logs each
  // one as "unhandled error", and close() fails the suite if any was logged.
  const unexpected: string[] = [];
  const logs: string[] = [];
  // The production logger (same redaction), writing to a stream the test can read.
  const logger = createRootLogger(
    options.captureLogs === true ? 'debug' : ((process.env.TEST_LOG_LEVEL as LogLevel | undefined) ?? 'error'),
    {
      write(line: string) {
        if (line.includes('"unhandled error"')) {
          unexpected.push(line);
        }
        if (options.captureLogs === true) {
          logs.push(line);
        }
        if (process.env.TEST_LOG_LEVEL !== undefined) {
          process.stdout.write(line);
        }
      },
    },
  );
  const app = await createApp(config, logger);
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  const http = request(baseUrl);
  // Ready means the JWKS is loaded too.
  for (let i = 0; options.waitForReady !== false && i < 200; i += 1) {
    if ((await fetch(`${baseUrl}/health/ready`)).status === 200) {
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const code = (email: string, kind: 'signup' | 'attribute' = 'signup'): string => {
    const user = storedUser(stateDir, pool.userPoolId, email);
    const value = kind === 'signup' ? user?.ConfirmationCode : user?.AttributeVerificationCode;
    if (typeof value !== 'string') {
      throw new Error(`no ${kind} code stored for ${email}`);
    }
    return value;
  };

  const api = new Api(http);
  const factory = createGiven({ cognitoEndpoint: endpoint, pool, databaseUrl: dbUrl });
  const given: TestApp['given'] = {
    async user(opts = {}) {
      const user = await factory.user(opts);
      // Tokens from the API's own login, as a client gets them (it records the session).
      const tokens = await api.auth.loggedIn({ email: user.email, password: user.password });
      return {
        id: user.id,
        sub: user.sub,
        email: user.email,
        password: user.password,
        groups: user.groups,
        accessToken: tokens.accessToken,
        idToken: tokens.idToken,
        refreshToken: tokens.refreshToken,
      };
    },
    cognitoUser: (opts) => factory.cognitoUser(opts),
    post: (authorId, opts) => factory.post(authorId, opts),
  };

  const forge: TestApp['forge'] = (claims, opts = {}) => forgeToken(pool, claims, opts);

  return {
    app,
    http,
    api,
    baseUrl,
    db: app.get(DataSource),
    databaseUrl: dbUrl,
    pool,
    cognitoEndpoint: endpoint,
    dbProxy,
    logs,
    given,
    code,
    forge,
    async close() {
      await app.close();
      await factory.close();
      await dbProxy?.stop();
      await db.drop().catch(() => undefined);
      if (unexpected.length > 0) {
        throw new Error(`the app answered ${unexpected.length} unexpected 500(s):\n${unexpected.join('')}`);
      }
    },
  };
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined) {
    throw new Error(`${name} is not set: run the e2e tests through npm test (jest globalSetup)`);
  }
  return value;
}

/** Fails with the response body in the message, which says more than a bare status mismatch. */
export function expectStatus(response: request.Response, status: number): void {
  if (response.status !== status) {
    throw new Error(`expected HTTP ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  }
}

export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}
