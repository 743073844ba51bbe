import { AdminDeleteUserCommand, InitiateAuthCommand, ResendConfirmationCodeCommand } from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { CognitoAdminService } from '../src/cognito/cognito-admin.service';
import { WithdrawalService } from '../src/users/withdrawal.service';
import { cognitoUsernameOf, interceptCommands, mockGlobalSignOut, sdkClientOf } from './support/cognito-sdk';
import { expectStatus, PASSWORD, startTestApp, TestApp, uniqueEmail } from './support/test-app';

describe('auth and the user_mapping lifecycle, end to end', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('walks signup -> confirm -> login -> me -> refresh -> profile -> logout -> withdrawal -> signup again', async () => {
    const email = uniqueEmail('journey');
    const signup = await t.api.auth.signup({ email, password: PASSWORD, nickname: 'Journey', phoneNumber: '+821012345678' });
    expectStatus(signup, 201);
    expect(signup.body).toMatchObject({ confirmed: false, codeDelivery: { medium: 'EMAIL' } });
    expect(typeof signup.body.userSub).toBe('string');

    const early = await t.api.auth.login({ email, password: PASSWORD });
    expect({ status: early.status, code: early.body.code }).toEqual({ status: 403, code: 'USER_NOT_CONFIRMED' });

    const confirm = await t.api.auth.confirm({ email, code: t.code(email) });
    expectStatus(confirm, 200);
    expect(confirm.body.user).toMatchObject({ email, nickname: 'Journey', phoneNumber: '+821012345678', status: 'active', groups: [] });
    const rows: Array<{ id: string; cognito_sub: string }> = await t.db.query(`SELECT id, cognito_sub FROM user_mapping WHERE email = $1`, [
      email,
    ]);
    expect(rows).toEqual([{ id: confirm.body.user.id, cognito_sub: signup.body.userSub }]);

    const login = await t.api.auth.login({ email, password: PASSWORD });
    expectStatus(login, 200);
    expect(login.body).toMatchObject({ tokenType: 'Bearer', expiresIn: expect.any(Number) });
    const me = await t.api.as(login.body.accessToken).users.me();
    expectStatus(me, 200);
    expect(me.body.id).toBe(confirm.body.user.id);

    const refreshed = await t.api.auth.refresh({ refreshToken: login.body.refreshToken });
    expectStatus(refreshed, 200);
    expect(refreshed.body).toEqual({
      accessToken: expect.any(String),
      idToken: expect.any(String),
      expiresIn: expect.any(Number),
      tokenType: 'Bearer',
    });
    expectStatus(await t.api.as(refreshed.body.accessToken).users.me(), 200);

    const patched = await t.api.as(login.body.accessToken).users.update({ nickname: 'Renamed' });
    expectStatus(patched, 200);
    expect(patched.body.nickname).toBe('Renamed');
    const [row] = await t.db.query(`SELECT nickname FROM user_mapping WHERE id = $1`, [me.body.id]);
    expect(row.nickname).toBe('Renamed');

    expectStatus(await t.api.as(login.body.accessToken).auth.logout({ refreshToken: login.body.refreshToken }), 204);
    const afterLogout = await t.api.as(login.body.accessToken).users.me();
    expect({ status: afterLogout.status, code: afterLogout.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
    const refreshAfterLogout = await t.api.auth.refresh({ refreshToken: login.body.refreshToken });
    expect(refreshAfterLogout.status).toBe(401);

    const again = await t.api.auth.login({ email, password: PASSWORD });
    expectStatus(again, 200);
    expectStatus(await t.api.as(again.body.accessToken).users.withdraw(), 204);
    const afterWithdrawal = await t.api.as(again.body.accessToken).users.me();
    expect({ status: afterWithdrawal.status, code: afterWithdrawal.body.code }).toEqual({ status: 401, code: 'ACCOUNT_WITHDRAWN' });
    const loginWithdrawn = await t.api.auth.login({ email, password: PASSWORD });
    expect({ status: loginWithdrawn.status, code: loginWithdrawn.body.code }).toEqual({ status: 401, code: 'INVALID_CREDENTIALS' });
    const [scrubbed] = await t.db.query(`SELECT status, email, phone_number, nickname, withdrawn_at FROM user_mapping WHERE id = $1`, [
      me.body.id,
    ]);
    expect(scrubbed).toMatchObject({ status: 'withdrawn', email: null, phone_number: null, nickname: null });
    expect(scrubbed.withdrawn_at).toBeInstanceOf(Date);
    const publicProfile = await t.api.as(refreshed.body.accessToken).users.profile(me.body.id);
    // The refreshed token belongs to the withdrawn user too: refused.
    expect(publicProfile.status).toBe(401);

    const resignup = await t.api.auth.signup({ email, password: PASSWORD, nickname: 'Back' });
    expectStatus(resignup, 201);
    const reconfirm = await t.api.auth.confirm({ email, code: t.code(email) });
    expectStatus(reconfirm, 200);
    expect(reconfirm.body.user.id).not.toBe(me.body.id);
    const [{ count }] = await t.db.query(`SELECT count(*)::int AS count FROM user_mapping WHERE cognito_sub IN ($1, $2)`, [
      signup.body.userSub,
      resignup.body.userSub,
    ]);
    expect(count).toBe(2);
  });

  it('shows a withdrawn user as a public profile with status withdrawn', async () => {
    const viewer = await t.given.user();
    const leaver = await t.given.user({ nickname: 'Leaver' });
    expect((await t.api.as(viewer).users.profile(leaver.id)).body).toEqual({
      id: leaver.id,
      nickname: 'Leaver',
      status: 'active',
    });
    expectStatus(await t.api.as(leaver).users.withdraw(), 204);
    const res = await t.api.as(viewer).users.profile(leaver.id);
    expect(res.body).toEqual({ id: leaver.id, nickname: null, status: 'withdrawn' });
    expect((await t.api.as(viewer).users.profile('00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  describe('signup and login errors', () => {
    it('answers a second signup of the same email with 409 USER_EXISTS', async () => {
      const user = await t.given.user();
      const res = await t.api.auth.signup({ email: user.email, password: PASSWORD, nickname: 'x' });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 409, code: 'USER_EXISTS' });
    });
    it.each(['short1!', 'alllowercase1!', 'NoDigits!!', 'NoSymbol123'])(
      'refuses the weak password %s with INVALID_PASSWORD before calling Cognito',
      async (password) => {
        const email = uniqueEmail('weak');
        const res = await t.api.auth.signup({ email, password, nickname: 'x' });
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'INVALID_PASSWORD' });
        expect((await t.api.auth.login({ email, password })).status).toBe(401);
      },
    );
    it('refuses a malformed email, nickname or phone number with VALIDATION_FAILED', async () => {
      for (const body of [
        { email: 'not-an-email', password: PASSWORD, nickname: 'x' },
        { email: uniqueEmail(), password: PASSWORD, nickname: '' },
        { email: uniqueEmail(), password: PASSWORD, nickname: 'x', phoneNumber: '010-1234' },
        { email: uniqueEmail(), password: PASSWORD, nickname: 12 },
      ]) {
        const res = await t.api.auth.signup(body);
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      }
    });
    it('answers a wrong confirmation code with CODE_MISMATCH and a malformed one with VALIDATION_FAILED', async () => {
      const email = uniqueEmail('code');
      expectStatus(await t.api.auth.signup({ email, password: PASSWORD, nickname: 'x' }), 201);
      const right = t.code(email);
      const wrong = right === '000000' ? '111111' : '000000';
      const res = await t.api.auth.confirm({ email, code: wrong });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'CODE_MISMATCH' });
      expect((await t.api.auth.confirm({ email, code: 'abc' })).body.code).toBe('VALIDATION_FAILED');
      expect((await t.api.auth.confirm({ email: uniqueEmail('nobody'), code: '123456' })).body.code).toBe('CODE_MISMATCH');
    });
    it('confirming twice never creates a second row', async () => {
      const email = uniqueEmail('twice');
      expectStatus(await t.api.auth.signup({ email, password: PASSWORD, nickname: 'x' }), 201);
      const code = t.code(email);
      expectStatus(await t.api.auth.confirm({ email, code }), 200);
      const second = await t.api.auth.confirm({ email, code });
      expect(second.status).toBeGreaterThanOrEqual(400);
      expect(second.status).toBeLessThan(500);
      const [{ count }] = await t.db.query(`SELECT count(*)::int AS count FROM user_mapping WHERE email = $1`, [email]);
      expect(count).toBe(1);
    });
    it('gives the same 401 INVALID_CREDENTIALS for a wrong password and an unknown email', async () => {
      const user = await t.given.user();
      const wrong = await t.api.auth.login({ email: user.email, password: 'Wr0ng!Password' });
      const unknown = await t.api.auth.login({ email: uniqueEmail('ghost'), password: 'Wr0ng!Password' });
      for (const res of [wrong, unknown]) {
        expect({ status: res.status, code: res.body.code, detail: res.body.detail }).toEqual({
          status: 401,
          code: 'INVALID_CREDENTIALS',
          detail: 'Wrong email or password',
        });
      }
    });
    it('answers a login that needs a password reset exactly as a wrong password, so it reveals no account (emulator state set at the SDK boundary)', async () => {
      const user = await t.given.user();
      const resetRequired = interceptCommands(t, (command) =>
        command instanceof InitiateAuthCommand
          ? Promise.reject(
              Object.assign(new Error('Password reset required'), { name: 'PasswordResetRequiredException', $fault: 'client' }),
            )
          : undefined,
      );
      let res;
      try {
        res = await t.api.auth.login({ email: user.email, password: 'Wr0ng!Password' });
      } finally {
        resetRequired.restore();
      }
      const unknown = await t.api.auth.login({ email: uniqueEmail('ghost'), password: 'Wr0ng!Password' });
      const shape = (r: typeof unknown) => ({ status: r.status, body: { ...r.body, requestId: undefined } });
      expect(shape(res)).toEqual(shape(unknown));
      expect(unknown.body.code).toBe('INVALID_CREDENTIALS');
    });
    it('refuses a garbage refresh token with 401', async () => {
      const res = await t.api.auth.refresh({ refreshToken: 'garbage' });
      expect(res.status).toBe(401);
    });
  });

  describe('passwords', () => {
    it('answers forgot-password with 202 for known and unknown emails alike', async () => {
      const user = await t.given.user();
      const known = await t.api.auth.password.forgot({ email: user.email });
      const unknown = await t.api.auth.password.forgot({ email: uniqueEmail('ghost') });
      expect([known.status, unknown.status]).toEqual([202, 202]);
      expect(known.text).toBe(unknown.text);
    });
    it('resets the password with the emailed code and ends every session (AdminUserGlobalSignOut, old tokens TOKEN_REVOKED)', async () => {
      const user = await t.given.user();
      expectStatus(await t.api.auth.password.forgot({ email: user.email }), 202);
      const weak = await t.api.auth.password.reset({ email: user.email, code: t.code(user.email), newPassword: 'weak' });
      expect(weak.body.code).toBe('INVALID_PASSWORD');
      const newPassword = 'N3w!Passw0rd';
      const signOut = mockGlobalSignOut(t);
      try {
        expectStatus(await t.api.auth.password.reset({ email: user.email, code: t.code(user.email), newPassword }), 204);
        // What makes Cognito refuse every old refresh token (cognito-local lacks the operation).
        expect(signOut.inputs()).toEqual([{ UserPoolId: t.pool.userPoolId, Username: await cognitoUsernameOf(t, user.id) }]);
      } finally {
        signOut.restore();
      }
      const old = await t.api.as(user).users.me();
      expect({ status: old.status, code: old.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
      // The new password works at once: no waiting for the next second on the client's side.
      const login = await t.api.auth.login({ email: user.email, password: newPassword });
      expectStatus(login, 200);
      expectStatus(await t.api.as(login.body.accessToken).users.me(), 200);
    });

    it('changes the password only with the right current password, and then ends every other session', async () => {
      const user = await t.given.user();
      const other = await t.api.auth.login({ email: user.email, password: PASSWORD });
      expectStatus(other, 200);
      const wrong = await t.api.as(user).auth.password.change({ currentPassword: 'Wr0ng!Password', newPassword: 'An0ther!Passw0rd' });
      expect({ status: wrong.status, code: wrong.body.code }).toEqual({ status: 400, code: 'INVALID_CREDENTIALS' });
      expectStatus(await t.api.as(other.body.accessToken).users.me(), 200);
      const signOut = mockGlobalSignOut(t);
      try {
        expectStatus(await t.api.as(user).auth.password.change({ currentPassword: PASSWORD, newPassword: 'An0ther!Passw0rd' }), 204);
        expect(signOut.inputs()).toEqual([{ UserPoolId: t.pool.userPoolId, Username: await cognitoUsernameOf(t, user.id) }]);
      } finally {
        signOut.restore();
      }
      for (const token of [user.accessToken, other.body.accessToken as string]) {
        const res = await t.api.as(token).users.me();
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
      }
      const login = await t.api.auth.login({ email: user.email, password: 'An0ther!Passw0rd' });
      expectStatus(login, 200);
      expectStatus(await t.api.as(login.body.accessToken).users.me(), 200);
    });
  });

  describe('email change', () => {
    it('sends a code to the new address and updates the row only after verification', async () => {
      const user = await t.given.user();
      const newEmail = uniqueEmail('moved');
      const requested = await t.api.as(user).users.changeEmail({ email: newEmail });
      expectStatus(requested, 202);
      expect(requested.body.codeDelivery).toMatchObject({ destination: expect.any(String), medium: 'EMAIL' });
      const [before] = await t.db.query(`SELECT email FROM user_mapping WHERE id = $1`, [user.id]);
      expect(before.email).toBe(user.email);
      const wrong = await t.api.as(user).users.verifyEmail({ code: '000000' });
      expect(wrong.body.code === 'CODE_MISMATCH' || t.code(newEmail, 'attribute') === '000000').toBe(true);
      const verified = await t.api.as(user).users.verifyEmail({ code: t.code(newEmail, 'attribute') });
      expectStatus(verified, 200);
      expect(verified.body.email).toBe(newEmail);
      const [after] = await t.db.query(`SELECT email FROM user_mapping WHERE id = $1`, [user.id]);
      expect(after.email).toBe(newEmail);
    });
    it('leaves the row unchanged when Cognito refuses a profile change', async () => {
      const user = await t.given.user({ nickname: 'Before' });
      const sdk = mockClient(sdkClientOf(t));
      sdk.callsFake(() => Promise.reject(Object.assign(new Error('boom'), { name: 'InternalErrorException', $fault: 'server' })));
      try {
        const res = await t.api.as(user).users.update({ nickname: 'After' });
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 503, code: 'IDP_UNAVAILABLE' });
      } finally {
        sdk.restore();
      }
      const [row] = await t.db.query(`SELECT nickname FROM user_mapping WHERE id = $1`, [user.id]);
      expect(row.nickname).toBe('Before');
    });
  });

  describe('operations cognito-local lacks, checked at the SDK command boundary', () => {
    it('resend-code sends ResendConfirmationCode for the email and answers 202 even for unknown emails', async () => {
      const sdk = mockClient(sdkClientOf(t));
      sdk
        .on(ResendConfirmationCodeCommand)
        .rejectsOnce(Object.assign(new Error('no'), { name: 'UserNotFoundException' }))
        .resolves({});
      try {
        const email = uniqueEmail('resend');
        expectStatus(await t.api.auth.resendCode({ email: 'ghost@example.com' }), 202);
        expectStatus(await t.api.auth.resendCode({ email }), 202);
        const calls = sdk.commandCalls(ResendConfirmationCodeCommand);
        expect(calls.map((c) => c.args[0].input)).toEqual([
          { ClientId: t.pool.clientId, Username: 'ghost@example.com', UserContextData: { IpAddress: expect.any(String) } },
          { ClientId: t.pool.clientId, Username: email, UserContextData: { IpAddress: expect.any(String) } },
        ]);
      } finally {
        sdk.restore();
      }
    });

    it('logout-all sends AdminUserGlobalSignOut for the caller and refuses every older token; a new login works at once', async () => {
      const user = await t.given.user();
      const second = await t.api.auth.login({ email: user.email, password: PASSWORD });
      const signOut = mockGlobalSignOut(t);
      try {
        expectStatus(await t.api.as(user).auth.logoutAll(), 204);
        const [row] = await t.db.query(`SELECT cognito_username FROM user_mapping WHERE id = $1`, [user.id]);
        expect(signOut.inputs()).toEqual([{ UserPoolId: t.pool.userPoolId, Username: row.cognito_username }]);
      } finally {
        signOut.restore();
      }
      for (const token of [user.accessToken, second.body.accessToken as string]) {
        const res = await t.api.as(token).users.me();
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
      }
      const fresh = await t.api.auth.login({ email: user.email, password: PASSWORD });
      expectStatus(await t.api.as(fresh.body.accessToken).users.me(), 200);
    });

    it('answers 503 IDP_UNAVAILABLE when Cognito does not answer', async () => {
      const sdk = mockClient(sdkClientOf(t));
      sdk.callsFake(() => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error', code: 'ECONNREFUSED' })));
      try {
        const res = await t.api.auth.login({ email: uniqueEmail(), password: PASSWORD });
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 503, code: 'IDP_UNAVAILABLE' });
      } finally {
        sdk.restore();
      }
    });

    it('answers 429 with Retry-After when Cognito throttles', async () => {
      const sdk = mockClient(sdkClientOf(t));
      sdk.callsFake(() => Promise.reject(Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' })));
      try {
        const res = await t.api.auth.login({ email: uniqueEmail(), password: PASSWORD });
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 429, code: 'TOO_MANY_REQUESTS' });
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      } finally {
        sdk.restore();
      }
    });
  });

  describe('withdrawal is crash-safe', () => {
    async function backdateIntent(userId: string): Promise<void> {
      await t.db.query(`UPDATE user_mapping SET withdrawal_requested_at = now() - interval '1 minute' WHERE id = $1`, [userId]);
    }

    it('completes a withdrawal whose process died after Cognito deleted the user', async () => {
      const user = await t.given.user();
      const [{ cognito_username }] = await t.db.query(`SELECT cognito_username FROM user_mapping WHERE id = $1`, [user.id]);
      // Step 1 (intent) and step 2 (Cognito) happened; the process died before step 3.
      await backdateIntent(user.id);
      await t.app.get(CognitoAdminService).adminDeleteUser(cognito_username);
      const refused = await t.api.as(user).users.me();
      expect(refused.body.code).toBe('ACCOUNT_WITHDRAWN');

      expect(await t.app.get(WithdrawalService).sweep()).toBeGreaterThanOrEqual(1);
      const [row] = await t.db.query(`SELECT status, email, nickname FROM user_mapping WHERE id = $1`, [user.id]);
      expect(row).toEqual({ status: 'withdrawn', email: null, nickname: null });
    });

    it('completes a withdrawal whose process died before calling Cognito', async () => {
      const user = await t.given.user();
      await backdateIntent(user.id);
      expect(await t.app.get(WithdrawalService).sweep()).toBeGreaterThanOrEqual(1);
      const [row] = await t.db.query(`SELECT status FROM user_mapping WHERE id = $1`, [user.id]);
      expect(row.status).toBe('withdrawn');
      const login = await t.api.auth.login({ email: user.email, password: PASSWORD });
      expect(login.body.code).toBe('INVALID_CREDENTIALS');
    });

    it('backs off a row that keeps failing and completes the others in the same sweep', async () => {
      const stuck = await t.given.user();
      const next = await t.given.user();
      await t.db.query(`UPDATE user_mapping SET withdrawal_requested_at = now() - interval '2 minutes' WHERE id = $1`, [stuck.id]);
      await backdateIntent(next.id);
      const [{ cognito_username: stuckName }] = await t.db.query(`SELECT cognito_username FROM user_mapping WHERE id = $1`, [stuck.id]);
      const failing = interceptCommands(t, (command) =>
        command instanceof AdminDeleteUserCommand && command.input.Username === stuckName
          ? Promise.reject(Object.assign(new Error('internal'), { name: 'InternalErrorException', $fault: 'server' }))
          : undefined,
      );
      try {
        expect(await t.app.get(WithdrawalService).sweep()).toBeGreaterThanOrEqual(1);
      } finally {
        failing.restore();
      }
      const rows: Array<{ id: string; status: string; retry_later: boolean }> = await t.db.query(
        `SELECT id, status, COALESCE(withdrawal_next_attempt_at > now(), false) AS retry_later FROM user_mapping WHERE id = ANY($1) ORDER BY withdrawal_requested_at`,
        [[stuck.id, next.id]],
      );
      expect(rows).toEqual([
        { id: stuck.id, status: 'active', retry_later: true },
        { id: next.id, status: 'withdrawn', retry_later: false },
      ]);
    });

    it('refuses the last admin leaving through DELETE /v1/users/me with 409, as the admin route does', async () => {
      const solo = await startTestApp();
      try {
        const only = await solo.given.user({ groups: ['admin'] });
        const res = await solo.api.as(only).users.withdraw();
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 409, code: 'CONFLICT' });
        const [row] = await solo.db.query(`SELECT status, withdrawal_requested_at FROM user_mapping WHERE id = $1`, [only.id]);
        expect(row).toEqual({ status: 'active', withdrawal_requested_at: null });
        const second = await solo.given.user({ groups: ['admin'] });
        expectStatus(await solo.api.as(only).users.withdraw(), 204);
        expect((await solo.api.as(second).users.me()).status).toBe(200);
      } finally {
        await solo.close();
      }
    });

    it('is idempotent', async () => {
      const user = await t.given.user();
      await t.app.get(WithdrawalService).withdraw(user.id);
      await t.app.get(WithdrawalService).withdraw(user.id);
      const [row] = await t.db.query(`SELECT status FROM user_mapping WHERE id = $1`, [user.id]);
      expect(row.status).toBe('withdrawn');
    });
  });
});

describe('rate limiting of public auth routes', () => {
  it('answers 429 with Retry-After past the per-IP limit, and ignores X-Forwarded-For unless TRUST_PROXY', async () => {
    const t = await startTestApp({ env: { RATE_LIMIT_AUTH_PER_MINUTE: '3' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        const res = await t.api.auth.password.forgot({ email: uniqueEmail() }).set('X-Forwarded-For', `10.0.0.${i}`);
        statuses.push(res.status);
        if (res.status === 429) {
          expect(res.body.code).toBe('TOO_MANY_REQUESTS');
          expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        }
      }
      expect(statuses).toEqual([202, 202, 202, 429]);
      // Another route has its own budget.
      expect((await t.api.auth.resendCode({ email: 'a@b.cd' })).status).not.toBe(429);
    } finally {
      await t.close();
    }
  });

  it('counts per X-Forwarded-For client when TRUST_PROXY=true', async () => {
    const t = await startTestApp({ env: { RATE_LIMIT_AUTH_PER_MINUTE: '2', TRUST_PROXY: 'true' } });
    try {
      const forIp = (ip: string) => t.api.auth.password.forgot({ email: uniqueEmail() }).set('X-Forwarded-For', ip);
      expect([(await forIp('198.51.100.1')).status, (await forIp('198.51.100.1')).status, (await forIp('198.51.100.1')).status]).toEqual([
        202, 202, 429,
      ]);
      expect((await forIp('198.51.100.2')).status).toBe(202);
      // Only the hop the load balancer added counts: a client cannot pick its own bucket by
      // writing addresses at the left of the header.
      expect((await forIp('6.6.6.6, 198.51.100.1')).status).toBe(429);
      // An IPv6 client is counted by its /64: hopping addresses inside it does not reset the count.
      expect([
        (await forIp('2001:db8:5:6::1')).status,
        (await forIp('2001:db8:5:6::2')).status,
        (await forIp('2001:db8:5:6:ff::3')).status,
      ]).toEqual([202, 202, 429]);
      expect((await forIp('2001:db8:5:7::1')).status).toBe(202);
    } finally {
      await t.close();
    }
  });
});
