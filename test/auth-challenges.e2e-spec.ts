import {
  AssociateSoftwareTokenCommand,
  RespondToAuthChallengeCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { storedUser } from '../tools/local-stack/cognito-local';
import { sdkClientOf } from './support/cognito-sdk';
import { bearer, expectStatus, PASSWORD, startTestApp, TestApp, TestUser, uniqueEmail } from './support/test-app';
import { totp, wrongTotp } from './support/totp';

describe('Login second steps: TOTP, invitations and token scopes', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ captureLogs: true });
    admin = await t.given.user({ groups: ['admin'] });
  });

  afterAll(async () => {
    await t.close();
  });

  describe('TOTP', () => {
    /** A user who enrolled an authenticator app; returns its secret. */
    async function enrolled(user: TestUser): Promise<string> {
      const start = await t.api.as(user).users.mfa.startTotp();
      expectStatus(start, 200);
      const secret = start.body.secretCode as string;
      expectStatus(await t.api.as(user).users.mfa.verifyTotp({ code: totp(secret) }), 204);
      return secret;
    }

    it('enrols an authenticator app: a secret, its otpauth URI, then a verified code makes TOTP the second step', async () => {
      const user = await t.given.user();
      expect((await t.api.as(user).users.mfa.status()).body).toEqual({ totp: false, preferred: null });

      const start = await t.api.as(user).users.mfa.startTotp();
      expectStatus(start, 200);
      const secret = start.body.secretCode as string;
      expect(secret).toMatch(/^[A-Z2-7]+=*$/);
      const uri = new URL(start.body.otpauthUri as string);
      expect(uri.protocol).toBe('otpauth:');
      expect(uri.host).toBe('totp');
      expect(decodeURIComponent(uri.pathname)).toBe(`/cognito-nest-api:${user.email}`);
      expect(Object.fromEntries(uri.searchParams)).toEqual({ secret, issuer: 'cognito-nest-api' });

      const wrong = await t.api.as(user).users.mfa.verifyTotp({ code: wrongTotp(secret) });
      expect({ status: wrong.status, code: wrong.body.code }).toEqual({ status: 400, code: 'CODE_MISMATCH' });
      expect((await t.api.as(user).users.mfa.status()).body).toEqual({ totp: false, preferred: null });

      expectStatus(await t.api.as(user).users.mfa.verifyTotp({ code: totp(secret) }), 204);
      expect((await t.api.as(user).users.mfa.status()).body).toEqual({
        totp: true,
        preferred: 'SOFTWARE_TOKEN_MFA',
      });
    });

    it('asks for the TOTP code at login and answers tokens for the right one', async () => {
      const user = await t.given.user();
      const secret = await enrolled(user);

      const login = await t.api.auth.login({ email: user.email, password: PASSWORD });
      expectStatus(login, 200);
      // The emulator's app client has no session duration: Cognito's default is 3 minutes.
      expect(login.body).toEqual({ challenge: { name: 'SOFTWARE_TOKEN_MFA', session: expect.any(String), expiresIn: 180 } });

      const { session } = login.body.challenge as { session: string };
      const wrong = await t.api.auth.challenge({ email: user.email, name: 'SOFTWARE_TOKEN_MFA', session, code: wrongTotp(secret) });
      expect({ status: wrong.status, code: wrong.body.code }).toEqual({ status: 400, code: 'CODE_MISMATCH' });

      const answered = await t.api.auth.challenge({ email: user.email, name: 'SOFTWARE_TOKEN_MFA', session, code: totp(secret) });
      expectStatus(answered, 200);
      expect(answered.body).toEqual({
        accessToken: expect.any(String),
        idToken: expect.any(String),
        refreshToken: expect.any(String),
        expiresIn: expect.any(Number),
        tokenType: 'Bearer',
      });
      const me = await t.api.as(answered.body.accessToken as string).users.me();
      expectStatus(me, 200);
      expect(me.body.id).toBe(user.id);

      // Nothing the user typed or Cognito handed over reaches a log line.
      const logs = t.logs.join('');
      for (const secretText of [secret, session, answered.body.accessToken as string, answered.body.refreshToken as string]) {
        expect(logs).not.toContain(secretText);
      }
    });

    it('stops asking for TOTP once the caller removes it', async () => {
      const user = await t.given.user();
      await enrolled(user);
      expectStatus(await t.api.as(user).users.mfa.disableTotp(), 204);
      expect((await t.api.as(user).users.mfa.status()).body).toEqual({ totp: false, preferred: null });
      const login = await t.api.auth.login({ email: user.email, password: PASSWORD });
      expectStatus(login, 200);
      expect(login.body.accessToken).toEqual(expect.any(String));
    });

    it('refuses a verification before enrolment with 409 and changes nothing', async () => {
      const user = await t.given.user();
      const res = await t.api.as(user).users.mfa.verifyTotp({ code: '123456' });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 409, code: 'CONFLICT' });
      expect((await t.api.as(user).users.mfa.status()).body).toEqual({ totp: false, preferred: null });
    });

    it.each([
      ['a code that is not 6 digits', { code: '12345' }],
      ['a number for the code', { code: 123456 }],
      ['an unknown property', { code: '123456', secret: 'x' }],
    ])('refuses %s at verification with 400 VALIDATION_FAILED', async (_what, body) => {
      const user = await t.given.user();
      const res = await t.api.as(user).users.mfa.verifyTotp(body);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    });
  });

  describe('POST /v1/auth/challenge, bad input', () => {
    it.each([
      ['no code for SOFTWARE_TOKEN_MFA', { name: 'SOFTWARE_TOKEN_MFA', session: 's' }],
      ['no newPassword for NEW_PASSWORD_REQUIRED', { name: 'NEW_PASSWORD_REQUIRED', session: 's' }],
      ['a challenge name the API does not answer', { name: 'CUSTOM_CHALLENGE', session: 's', code: '123456' }],
      ['an empty session', { name: 'SOFTWARE_TOKEN_MFA', session: '', code: '123456' }],
      ['an unknown property', { name: 'SOFTWARE_TOKEN_MFA', session: 's', code: '123456', username: 'x' }],
    ])('refuses %s with 400 VALIDATION_FAILED', async (_what, body) => {
      const res = await t.api.auth.challenge({ email: admin.email, ...body });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    });

    it('answers 401 SESSION_EXPIRED when the session is not for this email (an unknown user in cognito-local, which checks no session)', async () => {
      const res = await t.api.auth.challenge({
        email: 'nobody@example.com',
        name: 'SOFTWARE_TOKEN_MFA',
        session: 'AYABeC0ffee',
        code: '123456',
      });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'SESSION_EXPIRED' });
    });

    it('answers 401 SESSION_EXPIRED for a session Cognito calls expired (mocked: cognito-local accepts any session)', async () => {
      const sdk = mockClient(sdkClientOf(t));
      sdk
        .on(RespondToAuthChallengeCommand)
        .rejects(Object.assign(new Error('Invalid session for the user, session is expired.'), { name: 'NotAuthorizedException' }));
      try {
        const res = await t.api.auth.challenge({
          email: admin.email,
          name: 'SOFTWARE_TOKEN_MFA',
          session: 'expired-session',
          code: '654321',
        });
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'SESSION_EXPIRED' });
        expect(sdk.commandCalls(RespondToAuthChallengeCommand).map((c) => c.args[0].input)).toEqual([
          {
            ClientId: t.pool.clientId,
            ChallengeName: 'SOFTWARE_TOKEN_MFA',
            Session: 'expired-session',
            ChallengeResponses: { USERNAME: admin.email, SOFTWARE_TOKEN_MFA_CODE: '654321' },
            UserContextData: { IpAddress: expect.any(String) },
          },
        ]);
      } finally {
        sdk.restore();
      }
    });

    it('enrols TOTP inside the login for MFA_SETUP (mocked: cognito-local has no session-based enrolment)', async () => {
      const sdk = mockClient(sdkClientOf(t));
      sdk.onAnyCommand().resolves({});
      sdk
        .on(RespondToAuthChallengeCommand)
        .resolves({ AuthenticationResult: { AccessToken: 'a', IdToken: 'i', RefreshToken: 'r', ExpiresIn: 3600 } });
      sdk.on(AssociateSoftwareTokenCommand).resolves({ SecretCode: 'JBSWY3DPEHPK3PXP', Session: 'session-2' });
      sdk.on(VerifySoftwareTokenCommand).resolves({ Status: 'SUCCESS', Session: 'session-3' });
      try {
        const first = await t.api.auth.challenge({ email: admin.email, name: 'MFA_SETUP', session: 'session-1' });
        expectStatus(first, 200);
        expect(first.body).toEqual({
          challenge: { name: 'MFA_SETUP', session: 'session-2', expiresIn: 180 },
          totp: {
            secretCode: 'JBSWY3DPEHPK3PXP',
            otpauthUri: `otpauth://totp/cognito-nest-api:${encodeURIComponent(admin.email)}?secret=JBSWY3DPEHPK3PXP&issuer=cognito-nest-api`,
          },
        });
        const second = await t.api.auth.challenge({ email: admin.email, name: 'MFA_SETUP', session: 'session-2', code: '123456' });
        expectStatus(second, 200);
        expect(second.body).toMatchObject({ accessToken: 'a', idToken: 'i', refreshToken: 'r', tokenType: 'Bearer' });
        expect(sdk.commandCalls(AssociateSoftwareTokenCommand).map((c) => c.args[0].input)).toEqual([{ Session: 'session-1' }]);
        expect(sdk.commandCalls(VerifySoftwareTokenCommand).map((c) => c.args[0].input)).toEqual([
          { Session: 'session-2', UserCode: '123456' },
        ]);
        expect(sdk.commandCalls(RespondToAuthChallengeCommand).map((c) => c.args[0].input)).toEqual([
          {
            ClientId: t.pool.clientId,
            ChallengeName: 'MFA_SETUP',
            Session: 'session-3',
            ChallengeResponses: { USERNAME: admin.email },
            UserContextData: { IpAddress: expect.any(String) },
          },
        ]);
      } finally {
        sdk.restore();
      }
    });
  });

  describe('invitations', () => {
    it('invites a user: the row at once, groups, the audit entry, and a first login that asks for a new password', async () => {
      const email = uniqueEmail('invited');
      const res = await t.api.as(admin).admin.users.invite({ email, nickname: 'newbie', groups: ['moderator'] });
      expectStatus(res, 201);
      expect(res.body).toEqual({
        id: expect.any(String),
        email,
        phoneNumber: null,
        nickname: 'newbie',
        status: 'active',
        groups: ['moderator'],
        enabled: true,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(res.headers.location).toBe(`/v1/admin/users/${res.body.id}`);
      const id = res.body.id as string;

      const detail = await t.api.as(admin).admin.users.get(id);
      expectStatus(detail, 200);
      expect(detail.body).toMatchObject({ id, email, groups: ['moderator'], enabled: true });
      const audit = await t.api.as(admin).admin.auditLog();
      expect(audit.body.items[0]).toMatchObject({
        actorId: admin.id,
        action: 'user.invite',
        targetUserId: id,
        details: { groups: ['moderator'] },
      });

      // cognito-local keeps the temporary password it "emailed" in its JSON database.
      const temporary = storedUser(process.env.TEST_COGNITO_STATE_DIR ?? '', t.pool.userPoolId, email)?.Password as string;
      const login = await t.api.auth.login({ email, password: temporary });
      expectStatus(login, 200);
      expect(login.body.challenge).toMatchObject({ name: 'NEW_PASSWORD_REQUIRED', expiresIn: 180 });
      const session = login.body.challenge.session as string;

      const weak = await t.api.auth.challenge({ email, name: 'NEW_PASSWORD_REQUIRED', session, newPassword: 'weak' });
      expect({ status: weak.status, code: weak.body.code }).toEqual({ status: 400, code: 'INVALID_PASSWORD' });
      // Nothing changed: the temporary password still leads to the same challenge.
      const again = await t.api.auth.login({ email, password: temporary });
      expect(again.body.challenge?.name).toBe('NEW_PASSWORD_REQUIRED');

      const answered = await t.api.auth.challenge({ email, name: 'NEW_PASSWORD_REQUIRED', session, newPassword: PASSWORD });
      expectStatus(answered, 200);
      const me = await t.api.as(answered.body.accessToken as string).users.me();
      expectStatus(me, 200);
      expect(me.body).toMatchObject({ id, email, nickname: 'newbie', groups: ['moderator'] });
      expectStatus(await t.api.auth.login({ email, password: PASSWORD }), 200);
    });

    it('answers 409 USER_EXISTS for an email that has an account, creates no row and audits the refusal', async () => {
      const rows = async (): Promise<number> =>
        (await t.db.query<Array<{ n: number }>>('SELECT count(*)::int AS n FROM user_mapping'))[0].n;
      const before = await rows();
      const res = await t.api.as(admin).admin.users.invite({ email: admin.email, nickname: 'dup' });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 409, code: 'USER_EXISTS' });
      expect(await rows()).toBe(before);
      const audit = await t.api.as(admin).admin.auditLog();
      expect(audit.body.items[0]).toMatchObject({
        actorId: admin.id,
        action: 'user.invite',
        targetUserId: null,
        details: { error: 'USER_EXISTS' },
      });
    });

    it.each([
      ['an unknown group', { groups: ['no-such-group'] }],
      ['a malformed group name', { groups: ['a b'] }],
      ['a nickname of the wrong type', { nickname: 7 }],
      ['an unknown property', { temporaryPassword: 'Aa1!aaaa' }],
    ])('refuses %s with 400 VALIDATION_FAILED and creates nobody', async (_what, override) => {
      const email = uniqueEmail('invalid');
      const res = await t.api.as(admin).admin.users.invite({ email, nickname: 'x', ...override });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      expect(storedUser(process.env.TEST_COGNITO_STATE_DIR ?? '', t.pool.userPoolId, email)).toBeUndefined();
    });

    it('is for admins only', async () => {
      const user = await t.given.user();
      const res = await t.api.as(user).admin.users.invite({ email: uniqueEmail(), nickname: 'x' });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    });
  });

  describe('tokens without the aws.cognito.signin.user.admin scope (cognito-local always grants it, so these are forged)', () => {
    /** A confirmed Cognito user with no row yet, as the Hosted UI or the console would leave it. */
    async function cognitoOnlyUser(): Promise<{ sub: string; email: string }> {
      const user = await t.given.cognitoUser({ email: uniqueEmail('hosted'), nickname: 'hosted-ui' });
      return { sub: user.username, email: user.email };
    }

    it('fills the just-in-time row with the task role, email and nickname included', async () => {
      const { sub, email } = await cognitoOnlyUser();
      const token = t.forge({ sub, username: sub, scope: 'openid email profile' });
      const me = await t.api.as(token).users.me();
      expectStatus(me, 200);
      expect(me.body).toMatchObject({ email, nickname: 'hosted-ui', status: 'active' });
    });

    it.each([
      ['PATCH', '/v1/users/me', { nickname: 'changed' }],
      ['POST', '/v1/users/me/email', { email: 'new@example.com' }],
      ['POST', '/v1/users/me/email/verify', { code: '123456' }],
      ['POST', '/v1/auth/password/change', { currentPassword: PASSWORD, newPassword: 'N3w!Passw0rd' }],
      ['POST', '/v1/users/me/mfa/totp', undefined],
      ['POST', '/v1/users/me/mfa/totp/verify', { code: '123456' }],
      ['DELETE', '/v1/users/me/mfa/totp', undefined],
    ])('answers %s %s with 403 INSUFFICIENT_SCOPE, naming the scope', async (method, path, body) => {
      const { sub } = await cognitoOnlyUser();
      // A recent sign-in, so that the routes that need one (docs/sessions.md) come to the scope.
      const token = t.forge({ sub, username: sub, scope: 'openid email', auth_time: Math.floor(Date.now() / 1000) });
      const call = method === 'PATCH' ? t.http.patch(path) : method === 'DELETE' ? t.http.delete(path) : t.http.post(path);
      const res = await call.set(bearer(token)).send(body);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'INSUFFICIENT_SCOPE' });
      expect(res.body.detail).toContain('aws.cognito.signin.user.admin');
      const me = await t.api.as(token).users.me();
      expect(me.body.nickname).toBe('hosted-ui');
    });

    it('serves every other route to such a token: the MFA status and posts', async () => {
      const { sub } = await cognitoOnlyUser();
      const token = t.forge({ sub, username: sub, scope: 'openid' });
      expect((await t.api.as(token).users.mfa.status()).body).toEqual({ totp: false, preferred: null });
      expectStatus(await t.api.as(token).posts.create({ title: 'hello', body: 'from the Hosted UI' }), 201);
    });
  });
});
