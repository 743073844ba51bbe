import { AdminGetUserCommand, InitiateAuthCommand, RevokeTokenCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createApp } from '../src/app.setup';
import { createRootLogger } from '../src/common/logger';
import { loadConfig } from '../src/config/app-config';
import { cognitoEnv, emulatorClient } from '../tools/local-stack/cognito-local';
import { cognitoUsernameOf, interceptCommands, mockGlobalSignOut } from './support/cognito-sdk';
import { waitUntil } from './support/load';
import { Api } from './support/api';
import type { TokensBody } from './support/api/auth';
import type { SessionBody } from './support/api/users';
import { expectStatus, PASSWORD, startTestApp, TestApp, TestUser } from './support/test-app';
import { claimsOf } from './support/tokens';
import { totp } from './support/totp';

const SELF_SERVICE = 'aws.cognito.signin.user.admin';
const REAUTH_CHALLENGE = 'Bearer error="insufficient_user_authentication", max_age=300';

/**
 * Sessions (one sign-in and every token refreshed from it) and step-up (a recent sign-in before
 * anything that can lock the owner out), against real cognito-local and PostgreSQL. The security
 * review's reproductions are here as attacks: A (takeover through the email), B (TOTP with a token
 * alone), D (logout leaves a sibling token working).
 */
describe('sessions and step-up', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  /** A sign-in from a device named by its User-Agent. */
  const login = (user: { email: string }, userAgent?: string, password = PASSWORD): Promise<TokensBody> =>
    t.api.auth.loggedIn({ email: user.email, password }, userAgent === undefined ? {} : { 'User-Agent': userAgent });

  const refresh = async (refreshToken: string): Promise<string> => (await t.api.auth.refreshed(refreshToken)).accessToken;

  async function status(token: string): Promise<{ status: number; code?: string }> {
    const res = await t.api.as(token).users.me();
    return res.status === 200 ? { status: 200 } : { status: res.status, code: res.body.code as string };
  }

  const sessionsOf = (token: string): Promise<SessionBody[]> => t.api.as(token).users.sessions.listed();

  /**
   * A token as real Cognito refreshes it: signed with the pool's key, the sign-in's auth_time kept
   * (`signedInAgo` seconds ago) and a new iat; an origin_jti when given.
   */
  async function forged(user: TestUser, signedInAgo: number, extra: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return t.forge({
      sub: user.sub,
      username: await cognitoUsernameOf(t, user.id),
      scope: SELF_SERVICE,
      auth_time: now - signedInAgo,
      iat: now,
      ...extra,
    });
  }

  const revoked = { status: 401, code: 'TOKEN_REVOKED' };

  describe('the sessions of the tokens the service issued (login, refresh)', () => {
    it('D: logout ends the whole session: a sibling access token refreshed from the same refresh token is refused too', async () => {
      const user = await t.given.user();
      const signIn = await login(user);
      const sibling = await refresh(signIn.refreshToken);
      expect(await status(sibling)).toEqual({ status: 200 });

      expectStatus(await t.api.as(signIn).auth.logout({ refreshToken: signIn.refreshToken }), 204);

      expect(await status(signIn.accessToken)).toEqual(revoked);
      expect(await status(sibling)).toEqual(revoked);
      // Another sign-in of the same user is not touched.
      expect(await status(user.accessToken)).toEqual({ status: 200 });
    });

    it('lists the sessions newest first with the sign-in request, the current one marked; the User-Agent cut to 256', async () => {
      const user = await t.given.user();
      const first = await login(user, 'first-device/1.0');
      const second = await login(user, `long/${'x'.repeat(400)}`);
      const items = await sessionsOf(second.accessToken);
      expect(items).toHaveLength(3); // given.user's sign-in too
      expect(items.map((s) => s.current)).toEqual([true, false, false]);
      expect(items[0].userAgent).toHaveLength(256);
      expect(items[1]).toMatchObject({ userAgent: 'first-device/1.0', ipAddress: '127.0.0.1', current: false });
      expect(Object.keys(items[1]).sort()).toEqual(['createdAt', 'current', 'id', 'ipAddress', 'lastSeenAt', 'userAgent']);
      expect(Date.parse(items[0].createdAt)).toBeGreaterThanOrEqual(Date.parse(items[1].createdAt));
      // A refreshed token belongs to the session of its sign-in.
      const refreshed = await refresh(first.refreshToken);
      expect((await sessionsOf(refreshed)).find((s) => s.current)?.id).toBe(items[1].id);
    });

    it('records a null userAgent when the sign-in request has none', async () => {
      const user = await t.given.user();
      const res = await t.api.auth.login({ email: user.email, password: PASSWORD }).unset('User-Agent');
      expectStatus(res, 200);
      const current = (await sessionsOf(res.body.accessToken as string)).find((s) => s.current);
      expect(current?.userAgent).toBeNull();
    });

    it('ends one session: all its access tokens are refused at once, its refresh token no longer refreshes, it leaves the list', async () => {
      const user = await t.given.user();
      const phone = await login(user, 'lost-phone');
      const phoneRefreshed = await refresh(phone.refreshToken);
      const laptop = await login(user, 'laptop');
      const target = (await sessionsOf(laptop.accessToken)).find((s) => s.userAgent === 'lost-phone');

      expectStatus(await t.api.as(laptop).users.sessions.end(target?.id as string), 204);

      expect(await status(phone.accessToken)).toEqual(revoked);
      expect(await status(phoneRefreshed)).toEqual(revoked);
      const calls = interceptCommands(t, () => undefined);
      try {
        const again = await t.api.auth.refresh({ refreshToken: phone.refreshToken });
        expect({ status: again.status, code: again.body.code }).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
        // Presented to the API, it is revoked in Cognito too, and never refreshed.
        expect(calls.inputs(RevokeTokenCommand)).toEqual([{ ClientId: t.pool.clientId, Token: phone.refreshToken }]);
        expect(calls.inputs(InitiateAuthCommand)).toEqual([]);
      } finally {
        calls.restore();
      }
      expect((await sessionsOf(laptop.accessToken)).map((s) => s.userAgent)).not.toContain('lost-phone');
      expect(await status(laptop.accessToken)).toEqual({ status: 200 });
    });

    it("answers 404 for an unknown session, an ended one and another user's, and ends nothing", async () => {
      const user = await t.given.user();
      const other = await t.given.user();
      const [otherSession] = await sessionsOf(other.accessToken);
      const spare = await login(user, 'spare');
      const spareId = (await sessionsOf(spare.accessToken)).find((s) => s.current)?.id as string;
      expectStatus(await t.api.as(user).users.sessions.end(spareId), 204);
      for (const id of [randomUUID(), otherSession.id, spareId]) {
        const res = await t.api.as(user).users.sessions.end(id);
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
      }
      expect(await status(other.accessToken)).toEqual({ status: 200 });
      const bad = await t.api.as(user).users.sessions.end('not-a-uuid');
      expect(bad.status).toBe(400);
    });

    it('moves lastSeenAt at most once per 5 minutes, not on every request', async () => {
      const user = await t.given.user();
      const [session] = await sessionsOf(user.accessToken);
      const before = session.lastSeenAt;
      await status(user.accessToken);
      expect((await sessionsOf(user.accessToken))[0].lastSeenAt).toBe(before);
      await t.db.query(`UPDATE session SET last_seen_at = now() - interval '6 minutes' WHERE id = $1`, [session.id]);
      await status(user.accessToken);
      await waitUntil(
        'lastSeenAt moved',
        async () => Date.now() - Date.parse((await sessionsOf(user.accessToken))[0].lastSeenAt) < 60_000,
        5_000,
      );
    });
  });

  describe('the sessions of Cognito origin_jti (tokens the service did not issue)', () => {
    it('starts a session at the first request of an unseen origin_jti; concurrent first requests create one', async () => {
      const user = await t.given.user();
      const origin = randomUUID();
      const tokens = await Promise.all([0, 1, 2, 3, 4].map(() => forged(user, 10, { origin_jti: origin })));
      const answers = await Promise.all(tokens.map((token) => t.api.as(token).users.me().set('User-Agent', 'amplify')));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      const amplify = (await sessionsOf(tokens[0])).filter((s) => s.userAgent === 'amplify');
      expect(amplify).toHaveLength(1);
      expect(amplify[0].current).toBe(true);
      const [{ count }] = await t.db.query(`SELECT count(*)::int AS count FROM session_key WHERE key = $1`, [`o:${origin}`]);
      expect(count).toBe(1);
    });

    it('ending it refuses every token of that origin_jti, also one refreshed later', async () => {
      const user = await t.given.user();
      const origin = randomUUID();
      const first = await forged(user, 10, { origin_jti: origin });
      const [session] = (await sessionsOf(first)).filter((s) => s.current);
      expectStatus(await t.api.as(user).users.sessions.end(session.id), 204);
      expect(await status(first)).toEqual(revoked);
      expect(await status(await forged(user, 10, { origin_jti: origin }))).toEqual(revoked);
      expect(await status(await forged(user, 10, { origin_jti: randomUUID() }))).toEqual({ status: 200 });
    });

    it('keys a login through the API by its origin_jti (real Cognito), so a token refreshed straight at Cognito is in it', async () => {
      const user = await t.given.user();
      const origin = randomUUID();
      const issued = await forged(user, 5, { origin_jti: origin });
      const cognito = interceptCommands(t, (command) =>
        command instanceof InitiateAuthCommand
          ? Promise.resolve({
              AuthenticationResult: { AccessToken: issued, IdToken: 'id', RefreshToken: `opaque-${origin}`, ExpiresIn: 3600 },
            })
          : undefined,
      );
      try {
        const login = await t.api.auth.login({ email: user.email, password: PASSWORD }).set('User-Agent', 'real-cognito');
        expectStatus(login, 200);
      } finally {
        cognito.restore();
      }
      const refreshedAtCognito = await forged(user, 5, { origin_jti: origin });
      const mine = (await sessionsOf(refreshedAtCognito)).filter((s) => s.userAgent === 'real-cognito');
      expect(mine).toHaveLength(1);
      expect(mine[0].current).toBe(true);
    });

    it('accepts a valid token of no known session, with current false everywhere', async () => {
      const user = await t.given.user();
      const unknown = await forged(user, 10);
      expect(await status(unknown)).toEqual({ status: 200 });
      expect((await sessionsOf(unknown)).every((s) => s.current === false)).toBe(true);
    });
  });

  describe('step-up: a recent sign-in (auth_time), refused then allowed, a refusal changes nothing', () => {
    function expectReauth(res: request.Response): void {
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'REAUTHENTICATION_REQUIRED' });
      expect(res.headers['www-authenticate']).toBe(REAUTH_CHALLENGE);
    }

    async function cognitoEmail(user: TestUser): Promise<string | undefined> {
      const client = emulatorClient(t.cognitoEndpoint);
      try {
        const out = await client.send(
          new AdminGetUserCommand({ UserPoolId: t.pool.userPoolId, Username: await cognitoUsernameOf(t, user.id) }),
        );
        return out.UserAttributes?.find((a) => a.Name === 'email')?.Value;
      } finally {
        client.destroy();
      }
    }

    async function enrolTotp(token: string): Promise<string> {
      const start = await t.api.as(token).users.mfa.startTotp();
      expectStatus(start, 200);
      const secret = start.body.secretCode as string;
      expectStatus(await t.api.as(token).users.mfa.verifyTotp({ code: totp(secret) }), 204);
      return secret;
    }

    async function totpOn(token: string): Promise<boolean> {
      return (await t.api.as(token).users.mfa.status()).body.totp as boolean;
    }

    it('A: a stolen, refreshed token (old auth_time, new iat) cannot change the email; a fresh sign-in can', async () => {
      const user = await t.given.user();
      const stolen = await forged(user, 3600);
      const res = await t.api.as(stolen).users.changeEmail({ email: `thief.${randomUUID()}@example.com` });
      expectReauth(res);
      expect(await cognitoEmail(user)).toBe(user.email);
      expect((await t.api.as(user).users.me()).body.email).toBe(user.email);
      // Not the cut-off of the emulator's auth_time reset: a token just inside the window passes.
      expectStatus(await t.api.as(await forged(user, 200)).users.changeEmail({ email: `owner.${randomUUID()}@example.com` }), 202);
    });

    it('a verified new email ends every other session, not the calling one', async () => {
      const user = await t.given.user();
      const other = await login(user, 'other');
      const fresh = await login(user, 'here');
      const email = `moved.${randomUUID()}@example.com`;
      expectStatus(await t.api.as(fresh).users.changeEmail({ email }), 202);
      expectStatus(await t.api.as(fresh).users.verifyEmail({ code: t.code(email, 'attribute') }), 200);
      expect(await status(other.accessToken)).toEqual(revoked);
      expect(await status(user.accessToken)).toEqual(revoked);
      expect(await status(fresh.accessToken)).toEqual({ status: 200 });
      expect((await sessionsOf(fresh.accessToken)).map((s) => s.userAgent)).toEqual(['here']);
    });

    it('B: with TOTP on, a stale token can neither turn it off nor re-bind it; a fresh sign-in can, and other sessions end', async () => {
      const user = await t.given.user();
      const first = await login(user, 'first');
      // A first enrolment needs no recent sign-in and ends no session.
      await enrolTotp(await forged(user, 3600));
      expect(await status(first.accessToken)).toEqual({ status: 200 });

      const stale = await forged(user, 3600);
      expectReauth(await t.api.as(stale).users.mfa.disableTotp());
      expectReauth(await t.api.as(stale).users.mfa.startTotp());
      expect(await totpOn(user.accessToken)).toBe(true);
      expect(await status(first.accessToken)).toEqual({ status: 200 });

      // Re-bound with a recent sign-in: every other session ends.
      const recentOrigin = randomUUID();
      const recent = await forged(user, 10, { origin_jti: recentOrigin });
      await enrolTotp(recent);
      expect(await status(first.accessToken)).toEqual(revoked);
      expect(await status(recent)).toEqual({ status: 200 });

      // Turned off with a recent sign-in: the other sessions end too.
      const sibling = await forged(user, 10, { origin_jti: randomUUID() });
      expect(await status(sibling)).toEqual({ status: 200 });
      expectStatus(await t.api.as(recent).users.mfa.disableTotp(), 204);
      expect(await totpOn(recent)).toBe(false);
      expect(await status(sibling)).toEqual(revoked);
      expect(await status(recent)).toEqual({ status: 200 });
    });

    it('DELETE /v1/users/me: refused with a stale sign-in (the account stays), allowed with a fresh one', async () => {
      const user = await t.given.user();
      expectReauth(await t.api.as(await forged(user, 3600)).users.withdraw());
      expect(await status(user.accessToken)).toEqual({ status: 200 });
      expectStatus(await t.api.as(await forged(user, 5)).users.withdraw(), 204);
    });

    it('DELETE /v1/users/me/sessions: refused with a stale sign-in (nothing ends), then ends every session but the calling one', async () => {
      const user = await t.given.user();
      const other = await login(user, 'other');
      const origin = randomUUID();
      expectReauth(await t.api.as(await forged(user, 3600, { origin_jti: origin })).users.sessions.endOthers());
      expect(await status(other.accessToken)).toEqual({ status: 200 });
      expect(await sessionsOf(other.accessToken)).toHaveLength(3);

      const caller = await forged(user, 5, { origin_jti: origin });
      expectStatus(await t.api.as(caller).users.sessions.endOthers(), 204);
      expect(await status(other.accessToken)).toEqual(revoked);
      expect(await status(user.accessToken)).toEqual(revoked);
      expect(await status(caller)).toEqual({ status: 200 });
      expect((await sessionsOf(caller)).map((s) => s.current)).toEqual([true]);
    });

    it('a token without auth_time is never recent', async () => {
      const user = await t.given.user();
      const now = Math.floor(Date.now() / 1000);
      const token = t.forge(
        { sub: user.sub, username: await cognitoUsernameOf(t, user.id), scope: SELF_SERVICE, iat: now },
        { omit: ['auth_time'] },
      );
      expectReauth(await t.api.as(token).users.sessions.endOthers());
    });
  });

  describe('sign-outs end sessions', () => {
    it('logout-all and a password change end every session, which leave the list', async () => {
      const user = await t.given.user();
      const other = await login(user, 'other');
      const signOut = mockGlobalSignOut(t);
      try {
        expectStatus(await t.api.as(user).auth.logoutAll(), 204);
      } finally {
        signOut.restore();
      }
      expect(await status(other.accessToken)).toEqual(revoked);
      const fresh = await login(user, 'fresh');
      expect((await sessionsOf(fresh.accessToken)).map((s) => s.userAgent)).toEqual(['fresh']);
      const refused = await t.api.auth.refresh({ refreshToken: other.refreshToken });
      expect(refused.status).toBe(401);

      const signOutAgain = mockGlobalSignOut(t);
      try {
        expectStatus(await t.api.as(fresh).auth.password.change({ currentPassword: PASSWORD, newPassword: 'An0ther!Passw0rd' }), 204);
      } finally {
        signOutAgain.restore();
      }
      const afterChange = await login(user, 'after', 'An0ther!Passw0rd');
      expect((await sessionsOf(afterChange.accessToken)).map((s) => s.userAgent)).toEqual(['after']);
    });

    it('a password reset ends every session', async () => {
      const user = await t.given.user();
      const other = await login(user, 'other');
      expectStatus(await t.api.auth.password.forgot({ email: user.email }), 202);
      const signOut = mockGlobalSignOut(t);
      try {
        const newPassword = 'Res3t!Passw0rd';
        expectStatus(await t.api.auth.password.reset({ email: user.email, code: t.code(user.email), newPassword }), 204);
      } finally {
        signOut.restore();
      }
      expect(await status(other.accessToken)).toEqual(revoked);
      const [{ live }] = await t.db.query(`SELECT count(*)::int AS live FROM session WHERE user_id = $1 AND ended_at IS NULL`, [user.id]);
      expect(live).toBe(0);
    });
  });

  describe('admins', () => {
    it("lists a user's sessions (current false) and ends one, audited as session.revoke", async () => {
      const admin = await t.given.user({ groups: ['admin'] });
      const user = await t.given.user();
      const list = await t.api.as(admin).admin.users.sessions(user.id);
      expectStatus(list, 200);
      expect(list.body.items).toHaveLength(1);
      expect(list.body.items[0].current).toBe(false);
      const sessionId = list.body.items[0].id as string;

      expect((await t.api.as(user).admin.users.sessions(user.id)).status).toBe(403);
      const foreign = await t.api.as(admin).admin.users.endSession(admin.id, sessionId);
      expect(foreign.status).toBe(404);
      expect((await t.api.as(admin).admin.users.sessions(randomUUID())).status).toBe(404);

      expectStatus(await t.api.as(admin).admin.users.endSession(user.id, sessionId), 204);
      expect(await status(user.accessToken)).toEqual(revoked);
      const audit = await t.api.as(admin).admin.auditLog();
      expect(audit.body.items[0]).toMatchObject({ action: 'session.revoke', actorId: admin.id, targetUserId: user.id });
      expect(audit.body.items[0].details).toMatchObject({ sessionId, outcome: 'succeeded' });
    });
  });

  describe('two instances sharing one database', () => {
    let b: NestFastifyApplication;
    /** The client against instance B. */
    let onB: Api;

    beforeAll(async () => {
      // B also says a sign-in is recent for a minute only: REAUTH_MAX_AGE is per deployment.
      const config = loadConfig({
        NODE_ENV: 'test',
        DATABASE_URL: t.databaseUrl,
        ...cognitoEnv(t.pool, t.cognitoEndpoint),
        REAUTH_MAX_AGE: '60',
      });
      b = await createApp(config, createRootLogger('error', { write: () => undefined }));
      await b.listen({ port: 0, host: '127.0.0.1' });
      const address = b.getHttpServer().address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
      await waitUntil('B ready', async () => (await fetch(`${url}/health/ready`)).status === 200, 10_000);
      onB = new Api(request(url));
    });
    afterAll(async () => {
      await b.close();
    });

    it('a session ended on A is refused on B at once, though B verified its token before', async () => {
      const user = await t.given.user();
      const phone = await login(user, 'phone');
      expectStatus(await onB.as(phone).users.me(), 200);
      const target = (await sessionsOf(user.accessToken)).find((s) => s.userAgent === 'phone');
      expectStatus(await t.api.as(user).users.sessions.end(target?.id as string), 204);
      const refused = await onB.as(phone).users.me();
      expect({ status: refused.status, code: refused.body.code }).toEqual(revoked);
      expect(claimsOf(phone.accessToken).jti).toBeDefined();
    });

    it('asks for a sign-in within REAUTH_MAX_AGE: 100 s ago is recent on A (300) and not on B (60)', async () => {
      const user = await t.given.user();
      const token = await forged(user, 100, { origin_jti: randomUUID() });
      const refused = await onB.as(token).users.sessions.endOthers();
      expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 401, code: 'REAUTHENTICATION_REQUIRED' });
      expect(refused.headers['www-authenticate']).toBe('Bearer error="insufficient_user_authentication", max_age=60');
      expectStatus(await t.api.as(token).users.sessions.endOthers(), 204);
    });
  });

  describe('the OpenAPI document', () => {
    it('has the session routes, and the 401 REAUTHENTICATION_REQUIRED of every step-up route', async () => {
      const { paths } = (await t.http.get('/docs/openapi.json')).body as {
        paths: Record<string, Record<string, { responses: Record<string, { description?: string }> }>>;
      };
      expect(Object.keys(paths['/v1/users/me/sessions']).sort()).toEqual(['delete', 'get']);
      expect(Object.keys(paths['/v1/users/me/sessions/{id}'])).toEqual(['delete']);
      expect(Object.keys(paths['/v1/admin/users/{id}/sessions']).sort()).toEqual(['get']);
      expect(Object.keys(paths['/v1/admin/users/{id}/sessions/{sessionId}'])).toEqual(['delete']);
      for (const [path, method] of [
        ['/v1/users/me/email', 'post'],
        ['/v1/users/me/mfa/totp', 'post'],
        ['/v1/users/me/mfa/totp', 'delete'],
        ['/v1/users/me', 'delete'],
        ['/v1/users/me/sessions', 'delete'],
      ]) {
        expect(paths[path][method].responses['401']?.description).toContain('REAUTHENTICATION_REQUIRED');
      }
    });
  });
});
