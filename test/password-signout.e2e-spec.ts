import { AccountChangesService } from '../src/users/account-changes.service';
import { AccountChangesSweeper } from '../src/users/account-changes.sweeper';
import { mockGlobalSignOut } from './support/cognito-sdk';
import { expectStatus, PASSWORD, startTestApp, TestApp, TestUser } from './support/test-app';

/**
 * Password reset and change against the plain emulator: cognito-local has no
 * AdminUserGlobalSignOut (HTTP 500), as a throttling or unreachable Cognito cannot sign the user
 * out at that moment. Cognito already has the new password, so the answer is 204; the old tokens
 * are refused from the answer on, a sign-in with the new password works at once, and the sweep
 * finishes the sign-out once Cognito answers it.
 */
describe('password reset and change, and logout-all, when Cognito cannot sign the user out yet', () => {
  let t: TestApp;

  beforeAll(async () => {
    // No sign-out proxy and no SDK mock: the API talks to cognito-local as it is.
    t = await startTestApp();
    // The test runs the sweep itself, at the moments it chooses: the app's 30 s timer is stopped.
    t.app.get(AccountChangesSweeper).onModuleDestroy();
  });
  afterAll(() => t.close());

  async function pendingSignOuts(userId: string): Promise<number> {
    const [{ count }] = await t.db.query(
      `SELECT count(*)::int AS count FROM pending_changes WHERE user_id = $1 AND action = 'user.sign_out'`,
      [userId],
    );
    return count as number;
  }

  async function expectRevoked(token: string): Promise<void> {
    const res = await t.api.as(token).users.me();
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
  }

  /** The sweep, as the timer runs it, once the intent is past the grace it leaves to its request. */
  async function sweepDue(userId: string): Promise<{ completed: number; failed: number }> {
    await t.db.query(`UPDATE pending_changes SET requested_at = now() - interval '1 minute', next_attempt_at = now() WHERE user_id = $1`, [
      userId,
    ]);
    return t.app.get(AccountChangesService).sweep();
  }

  /** Cognito answers the sign-out again: the sweep completes it, and everything issued before is refused. */
  async function finishWhenCognitoAnswers(user: TestUser, tokensBefore: string[]): Promise<void> {
    const stillFailing = await sweepDue(user.id);
    expect(stillFailing).toEqual({ completed: 0, failed: 1 });
    expect(await pendingSignOuts(user.id)).toBe(1);
    const signOut = mockGlobalSignOut(t);
    try {
      expect(await sweepDue(user.id)).toEqual({ completed: 1, failed: 0 });
      const [row] = await t.db.query(`SELECT cognito_username FROM user_mapping WHERE id = $1`, [user.id]);
      expect(signOut.inputs()).toEqual([{ UserPoolId: t.pool.userPoolId, Username: row.cognito_username }]);
    } finally {
      signOut.restore();
    }
    expect(await pendingSignOuts(user.id)).toBe(0);
    // Cognito has now ended every session, those signed in before it did included.
    for (const token of tokensBefore) {
      await expectRevoked(token);
    }
  }

  it('reset: 204, old tokens TOKEN_REVOKED, the new password signs in at once, the sweep finishes the sign-out', async () => {
    const user = await t.given.user();
    expectStatus(await t.api.auth.password.forgot({ email: user.email }), 202);
    const newPassword = 'N3w!Passw0rd';
    const reset = await t.api.auth.password.reset({ email: user.email, code: t.code(user.email), newPassword });
    expectStatus(reset, 204);
    await expectRevoked(user.accessToken);
    expect(await pendingSignOuts(user.id)).toBe(1);

    const login = await t.api.auth.login({ email: user.email, password: newPassword });
    expectStatus(login, 200);
    expectStatus(await t.api.as(login.body.accessToken).users.me(), 200);
    const old = await t.api.auth.login({ email: user.email, password: PASSWORD });
    expect(old.body.code).toBe('INVALID_CREDENTIALS');

    await finishWhenCognitoAnswers(user, [login.body.accessToken as string]);
    const after = await t.api.auth.login({ email: user.email, password: newPassword });
    expectStatus(await t.api.as(after.body.accessToken).users.me(), 200);
  });

  it('change: 204, every token of the user TOKEN_REVOKED, the new password signs in at once, the sweep finishes', async () => {
    const user = await t.given.user();
    const other = await t.api.auth.login({ email: user.email, password: PASSWORD });
    expectStatus(other, 200);
    const newPassword = 'An0ther!Passw0rd';
    const change = await t.api.as(user).auth.password.change({ currentPassword: PASSWORD, newPassword });
    expectStatus(change, 204);
    await expectRevoked(user.accessToken);
    await expectRevoked(other.body.accessToken as string);

    const login = await t.api.auth.login({ email: user.email, password: newPassword });
    expectStatus(login, 200);
    expectStatus(await t.api.as(login.body.accessToken).users.me(), 200);

    await finishWhenCognitoAnswers(user, [login.body.accessToken as string]);
  });

  // Cognito keeps a session's auth_time across refreshes (cognito-local resets it, so this is shown
  // with forged tokens): while the sign-out is pending, an old session's refreshed token is refused.
  it('while the sign-out is pending, refuses a token refreshed from a session signed in before the change (auth_time)', async () => {
    const user = await t.given.user();
    const signedInBefore = Math.floor(Date.now() / 1000) - 60;
    const [{ username }] = await t.db.query(`SELECT cognito_username AS username FROM user_mapping WHERE id = $1`, [user.id]);
    expectStatus(await t.api.as(user).auth.password.change({ currentPassword: PASSWORD, newPassword: 'Th1rd!Passw0rd' }), 204);
    const now = Math.floor(Date.now() / 1000);
    const refreshedOld = t.forge({ sub: user.sub, username, iat: now, auth_time: signedInBefore });
    const noAuthTime = t.forge({ sub: user.sub, username, iat: now }, { omit: ['auth_time'] });
    const signedInAfter = t.forge({ sub: user.sub, username, iat: now, auth_time: now });
    await expectRevoked(refreshedOld);
    await expectRevoked(noAuthTime);
    expectStatus(await t.api.as(signedInAfter).users.me(), 200);
  });

  it('logout-all answers 204 too: every session ends at once, and the sweep finishes the sign-out in Cognito', async () => {
    const user = await t.given.user();
    const second = await t.api.auth.login({ email: user.email, password: user.password });
    expectStatus(second, 200);
    const other = second.body as { accessToken: string; refreshToken: string };
    expectStatus(await t.api.as(user).auth.logoutAll(), 204);
    await expectRevoked(user.accessToken);
    await expectRevoked(other.accessToken);
    const refresh = await t.api.auth.refresh({ refreshToken: other.refreshToken });
    expect(refresh.status).toBe(401);
    await finishWhenCognitoAnswers(user, [user.accessToken, other.accessToken]);
  });
});
