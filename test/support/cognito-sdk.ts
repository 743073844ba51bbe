import {
  AdminListGroupsForUserCommand,
  AdminUpdateUserAttributesCommand,
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { CognitoApi } from '../../src/cognito/cognito-api';
import { emulatorClient } from '../../tools/local-stack/cognito-local';
import type { TestApp } from './test-app';

/** The SDK client inside the running app, for command-boundary mocks. */
export function sdkClientOf(t: TestApp): CognitoIdentityProviderClient {
  return t.app.get<CognitoApi, { client: CognitoIdentityProviderClient }>(CognitoApi).client;
}

interface Intercepted {
  /** The inputs of the intercepted commands of this class the app sent, for the test to assert. */
  inputs(command: abstract new (...args: never[]) => unknown): unknown[];
  restore(): void;
}

/**
 * Answers chosen commands at the SDK command boundary (`answer` returns a promise for those,
 * undefined for the rest) while every other command still goes to cognito-local.
 */
export function interceptCommands(t: TestApp, answer: (command: unknown) => Promise<unknown> | undefined): Intercepted {
  const client = sdkClientOf(t);
  const original = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  const sdk = mockClient(client);
  const fake = (command: unknown, options?: unknown): Promise<unknown> => answer(command) ?? original(command, options);
  (sdk.send as unknown as { callsFake(f: typeof fake): void }).callsFake(fake);
  return {
    inputs: (command) =>
      sdk.send
        .getCalls()
        .map((c) => c.args[0] as unknown)
        .filter((c): c is { input: unknown } => c instanceof command)
        .map((c) => c.input),
    restore: () => sdk.restore(),
  };
}

/** cognito-local lacks AdminUserGlobalSignOut (HTTP 500): answered here, the rest reaches the emulator. */
export function mockGlobalSignOut(t: TestApp): { inputs(): unknown[]; restore(): void } {
  const intercepted = interceptCommands(t, (command) =>
    command instanceof AdminUserGlobalSignOutCommand ? Promise.resolve({}) : undefined,
  );
  return { inputs: () => intercepted.inputs(AdminUserGlobalSignOutCommand), restore: () => intercepted.restore() };
}

/**
 * The groups cognito-local holds for a user, sorted, asked of the emulator itself (not through a
 * fault proxy the app may be behind).
 */
export async function cognitoGroupsOf(t: TestApp, user: { sub: string }): Promise<string[]> {
  const client = emulatorClient(process.env.TEST_COGNITO_ENDPOINT!);
  try {
    const out = await client.send(new AdminListGroupsForUserCommand({ UserPoolId: t.pool.userPoolId, Username: user.sub }));
    return (out.Groups ?? []).map((g) => g.GroupName ?? '').sort();
  } finally {
    client.destroy();
  }
}

/** The Cognito username the app recorded for one of its users (`user_mapping.cognito_username`). */
export async function cognitoUsernameOf(t: TestApp, userId: string): Promise<string> {
  const [row] = await t.db.query(`SELECT cognito_username FROM user_mapping WHERE id = $1`, [userId]);
  return row.cognito_username as string;
}

/**
 * Sets another email on a Cognito user, not verified, as a requested and never confirmed change
 * leaves it (cognito-local marks a changed email unverified, as Cognito does).
 */
export async function setUnverifiedEmail(t: TestApp, username: string, email: string): Promise<void> {
  const client = emulatorClient(t.cognitoEndpoint);
  try {
    await client.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: t.pool.userPoolId,
        Username: username,
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: 'false' },
        ],
      }),
    );
  } finally {
    client.destroy();
  }
}
