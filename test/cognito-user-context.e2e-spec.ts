import {
  ConfirmForgotPasswordCommand,
  ForgotPasswordCommand,
  InitiateAuthCommand,
  ResendConfirmationCodeCommand,
  RespondToAuthChallengeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { interceptCommands } from './support/cognito-sdk';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Cognito's threat protection judges a sign-in by the end user's address: every Cognito call made
 * for a user who is signing in carries it as UserContextData.IpAddress, the address the service
 * sees under the TRUST_PROXY rules (the ALB's X-Forwarded-For entry behind it, the socket without).
 */
describe('Cognito calls carry the signing-in user’s IP as UserContextData', () => {
  const PUBLIC_CALLS = [
    SignUpCommand,
    InitiateAuthCommand,
    RespondToAuthChallengeCommand,
    ForgotPasswordCommand,
    ConfirmForgotPasswordCommand,
    ResendConfirmationCodeCommand,
  ] as const;

  /** Each public route that asks Cognito something for a signing-in user, with the headers given. */
  async function callEveryRoute(t: TestApp, headers: Record<string, string>): Promise<Map<string, unknown[]>> {
    const user = await t.given.user();
    // cognito-local lacks ResendConfirmationCode (HTTP 500): answered here; the rest reach the emulator.
    const sdk = interceptCommands(t, (command) => (command instanceof ResendConfirmationCodeCommand ? Promise.resolve({}) : undefined));
    try {
      const email = `ctx-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
      const send = (path: string, body: object) => t.http.post(path).set(headers).send(body);
      expect((await send('/v1/auth/signup', { email, password: user.password, nickname: 'ctx' })).status).toBe(201);
      expect((await send('/v1/auth/resend-code', { email })).status).toBe(202);
      expect((await send('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(200);
      // A session Cognito does not know: 401, but the call was made.
      const challenge = await send('/v1/auth/challenge', { email, name: 'SOFTWARE_TOKEN_MFA', session: 'unknown', code: '123456' });
      expect(challenge.status).toBeLessThan(500);
      expect((await send('/v1/auth/password/forgot', { email: user.email })).status).toBe(202);
      const reset = await send('/v1/auth/password/reset', { email: user.email, code: '123456', newPassword: user.password });
      expect(reset.status).toBe(400);
      return new Map(PUBLIC_CALLS.map((command) => [command.name, sdk.inputs(command)]));
    } finally {
      sdk.restore();
    }
  }

  function addressesSent(inputs: Map<string, unknown[]>): Record<string, unknown[]> {
    return Object.fromEntries(
      [...inputs].map(([name, list]) => [name, list.map((input) => (input as { UserContextData?: { IpAddress?: string } }).UserContextData)]),
    );
  }

  it('sends the X-Forwarded-For client under TRUST_PROXY=true', async () => {
    const t = await startTestApp({ env: { TRUST_PROXY: 'true' } });
    try {
      const sent = addressesSent(await callEveryRoute(t, { 'X-Forwarded-For': '198.51.100.9, 203.0.113.7' }));
      // Only the entry the trusted hop (the ALB) wrote counts: the left one is the client's claim.
      expect(sent).toEqual(Object.fromEntries(PUBLIC_CALLS.map((c) => [c.name, [{ IpAddress: '203.0.113.7' }]])));
    } finally {
      await t.close();
    }
  });

  it('sends the socket address without TRUST_PROXY, whatever X-Forwarded-For says', async () => {
    const t = await startTestApp();
    try {
      const sent = addressesSent(await callEveryRoute(t, { 'X-Forwarded-For': '203.0.113.7' }));
      for (const command of PUBLIC_CALLS) {
        expect({ command: command.name, sent: sent[command.name] }).toEqual({
          command: command.name,
          sent: [{ IpAddress: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$|^::1$/) }],
        });
      }
    } finally {
      await t.close();
    }
  });
});
