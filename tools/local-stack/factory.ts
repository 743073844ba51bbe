import {
  AdminAddUserToGroupCommand,
  AdminConfirmSignUpCommand,
  AdminGetUserCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { emulatorClient, UserPool } from './cognito-local';
import { withClient } from './postgres';

/** A password that passes the app's policy; users made without one get it. */
export const PASSWORD = 'Str0ng!Passw0rd';

export interface UserOptions {
  email?: string;
  password?: string;
  nickname?: string;
  groups?: string[];
  /** Marks the row as having asked to withdraw that long ago (the withdrawal sweep's input). */
  withdrawalRequestedSecondsAgo?: number;
}

export interface GivenUser {
  id: string;
  sub: string;
  username: string;
  email: string;
  password: string;
  groups: string[];
}

export interface PostOptions {
  title?: string;
  body?: string;
}

export interface Tokens {
  accessToken: string;
  idToken: string;
  refreshToken: string;
}

/**
 * The one way users and posts are made outside the API under test: e2e specs, service tests,
 * `npm run dev` and `npm run bench` all call it (the shape of immich's `medium.factory.ts`).
 */
export interface Given {
  /**
   * A confirmed Cognito user in `groups`, email verified, with its `user_mapping` row: what
   * sign-up and POST /v1/auth/confirm leave behind.
   */
  user(options?: UserOptions): Promise<GivenUser>;
  /**
   * A confirmed Cognito user in `groups`, email verified, with no `user_mapping` row yet: what the
   * Hosted UI or the AWS console leave behind.
   */
  cognitoUser(options?: Omit<UserOptions, 'withdrawalRequestedSecondsAgo'>): Promise<Omit<GivenUser, 'id'>>;
  /** A post by `authorId`. */
  post(authorId: string, options?: PostOptions): Promise<{ id: string }>;
  /** Signs the user in at the pool's app client (USER_PASSWORD_AUTH), as a client would. */
  tokens(user: Pick<GivenUser, 'email' | 'password'>): Promise<Tokens>;
  close(): Promise<void>;
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}.${Date.now().toString(36)}.${counter}@example.com`;
}

export function createGiven(options: { cognitoEndpoint: string; pool: UserPool; databaseUrl: string }): Given {
  const { pool } = options;
  const cognito = emulatorClient(options.cognitoEndpoint);
  // A connection per statement, closed before the call returns (not a pool, whose end() does not
  // wait for the server): harnesses drop the database WITH (FORCE) right after close().
  const query = <R extends object>(sql: string, params: unknown[]): Promise<R[]> =>
    withClient(options.databaseUrl, async (c) => (await c.query<R>(sql, params)).rows);
  let posts = 0;
  const given: Given = {
    async cognitoUser(opts = {}) {
      const email = opts.email ?? uniqueEmail();
      const password = opts.password ?? PASSWORD;
      const groups = opts.groups ?? [];
      const { sub, username } = await confirmedCognitoUser(cognito, pool, { email, password, nickname: opts.nickname ?? 'tester' });
      for (const group of groups) {
        await cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: pool.userPoolId, Username: username, GroupName: group }));
      }
      return { sub, username, email, password, groups };
    },
    async user(opts = {}) {
      const { sub, username, email, password, groups } = await given.cognitoUser(opts);
      const rows = await query<{ id: string }>(
        `INSERT INTO user_mapping (cognito_sub, cognito_username, email, nickname, withdrawal_requested_at)
         VALUES ($1, $2, $3, $4, now() - make_interval(secs => $5::double precision))
         ON CONFLICT (cognito_sub) DO UPDATE SET email = EXCLUDED.email RETURNING id`,
        [sub, username, email, opts.nickname ?? 'tester', opts.withdrawalRequestedSecondsAgo ?? null],
      );
      return { id: rows[0].id, sub, username, email, password, groups };
    },
    async post(authorId, opts = {}) {
      posts += 1;
      const rows = await query<{ id: string }>(`INSERT INTO posts (author_id, title, body) VALUES ($1, $2, $3) RETURNING id`, [
        authorId,
        opts.title ?? `post ${posts}`,
        opts.body ?? 'body',
      ]);
      return rows[0];
    },
    async tokens(user) {
      const { AuthenticationResult: result } = await cognito.send(
        new InitiateAuthCommand({
          ClientId: pool.clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: user.email, PASSWORD: user.password },
        }),
      );
      if (result?.AccessToken === undefined || result.IdToken === undefined || result.RefreshToken === undefined) {
        throw new Error(`no tokens for ${user.email}`);
      }
      return { accessToken: result.AccessToken, idToken: result.IdToken, refreshToken: result.RefreshToken };
    },
    // Idempotent: harnesses may close twice (a spec's close and its afterAll).
    close() {
      cognito.destroy();
      return Promise.resolve();
    },
  };
  return given;
}

async function confirmedCognitoUser(
  cognito: CognitoIdentityProviderClient,
  pool: UserPool,
  user: { email: string; password: string; nickname: string },
): Promise<{ sub: string; username: string }> {
  await cognito.send(
    new SignUpCommand({
      ClientId: pool.clientId,
      Username: user.email,
      Password: user.password,
      UserAttributes: [
        { Name: 'email', Value: user.email },
        { Name: 'nickname', Value: user.nickname },
      ],
    }),
  );
  await cognito.send(new AdminConfirmSignUpCommand({ UserPoolId: pool.userPoolId, Username: user.email }));
  // Confirming with the emailed code marks the email verified in Cognito; cognito-local does not.
  await cognito.send(
    new AdminUpdateUserAttributesCommand({
      UserPoolId: pool.userPoolId,
      Username: user.email,
      UserAttributes: [
        { Name: 'email', Value: user.email },
        { Name: 'email_verified', Value: 'true' },
      ],
    }),
  );
  const created = await cognito.send(new AdminGetUserCommand({ UserPoolId: pool.userPoolId, Username: user.email }));
  const username = created.Username ?? '';
  return { sub: created.UserAttributes?.find((a) => a.Name === 'sub')?.Value ?? username, username };
}
