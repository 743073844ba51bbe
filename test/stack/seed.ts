import {
  AdminAddUserToGroupCommand,
  AdminConfirmSignUpCommand,
  AdminGetUserCommand,
  AdminUpdateUserAttributesCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { Client } from 'pg';
import { emulatorClient, UserPool } from './cognito-local';

/**
 * Creates a confirmed Cognito user in the emulator, puts it in `groups`, and writes its
 * `user_mapping` row (what POST /v1/auth/confirm would have done).
 */
export async function seedUser(
  endpoint: string,
  pool: UserPool,
  databaseUrl: string,
  user: { email: string; password: string; nickname: string; groups?: string[] },
): Promise<{ sub: string; id: string }> {
  const cognito = emulatorClient(endpoint);
  try {
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
    const sub = created.UserAttributes?.find((a) => a.Name === 'sub')?.Value ?? username;
    for (const group of user.groups ?? []) {
      await cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: pool.userPoolId, Username: username, GroupName: group }));
    }
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const result = await db.query<{ id: string }>(
        `INSERT INTO user_mapping (cognito_sub, cognito_username, email, nickname) VALUES ($1, $2, $3, $4)
         ON CONFLICT (cognito_sub) DO UPDATE SET email = EXCLUDED.email RETURNING id`,
        [sub, username, user.email, user.nickname],
      );
      return { sub, id: result.rows[0].id };
    } finally {
      await db.end();
    }
  } finally {
    cognito.destroy();
  }
}
