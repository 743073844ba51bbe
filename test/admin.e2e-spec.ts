import { AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { AccountChangesService } from '../src/users/account-changes.service';
import { emulatorClient } from '../tools/local-stack/cognito-local';
import { CognitoFaultProxy } from './support/cognito-fault-proxy';
import { cognitoGroupsOf } from './support/cognito-sdk';
import { bearer, expectStatus, startTestApp, TestApp, TestUser } from './support/test-app';

describe('admin: users, groups and the audit log', () => {
  let t: TestApp;
  let proxy: CognitoFaultProxy;
  let admin: TestUser;

  beforeAll(async () => {
    proxy = new CognitoFaultProxy(process.env.TEST_COGNITO_ENDPOINT!);
    const endpoint = await proxy.start();
    t = await startTestApp({ env: { COGNITO_ENDPOINT: endpoint } });
    admin = await t.given.user({ groups: ['admin'], nickname: 'Root' });
  });
  afterAll(async () => {
    await t.close();
    await proxy.stop();
  });
  afterEach(() => proxy.reset());

  async function auditActions(): Promise<Array<{ action: string; outcome: string; target_user_id: string | null }>> {
    return t.db.query(`SELECT action, outcome, target_user_id FROM audit_log ORDER BY created_at`);
  }

  describe('who may call', () => {
    const routes = (id: string): Array<[string, string, object?]> => [
      ['get', '/v1/admin/users'],
      ['get', `/v1/admin/users/${id}`],
      ['post', `/v1/admin/users/${id}/disable`],
      ['post', `/v1/admin/users/${id}/enable`],
      ['delete', `/v1/admin/users/${id}`],
      ['get', '/v1/admin/groups'],
      ['post', '/v1/admin/groups', { name: 'sneaky' }],
      ['delete', '/v1/admin/groups/moderator'],
      ['get', '/v1/admin/groups/admin/users'],
      ['put', `/v1/admin/users/${id}/groups/admin`],
      ['delete', `/v1/admin/users/${id}/groups/admin`],
      ['get', '/v1/admin/audit-log'],
    ];

    it('refuses every admin route to a plain user and a moderator with 403, changing nothing', async () => {
      const plain = await t.given.user();
      const moderator = await t.given.user({ groups: ['moderator'] });
      const before = await auditActions();
      for (const caller of [plain, moderator]) {
        for (const [method, path, body] of routes(caller.id)) {
          const req = t.http[method as 'get'](path).set(bearer(caller.accessToken));
          const res = body === undefined ? await req : await req.send(body);
          expect({ route: `${method} ${path}`, status: res.status, code: res.body.code }).toEqual({
            route: `${method} ${path}`,
            status: 403,
            code: 'FORBIDDEN',
          });
        }
      }
      expect(await auditActions()).toEqual(before);
      expect(await cognitoGroupsOf(t, plain)).toEqual([]);
      expect((await t.api.as(admin).admin.groups.list()).body.map((g: { name: string }) => g.name).sort()).toEqual(['admin', 'moderator']);
      const [row] = await t.db.query(`SELECT status FROM user_mapping WHERE id = $1`, [plain.id]);
      expect(row.status).toBe('active');
    });

    it('matches group names exactly: ["Admin"] is not admin', async () => {
      const token = t.forge({ sub: admin.sub, username: admin.sub, 'cognito:groups': ['Admin'] });
      expect((await t.api.as(token).admin.users.list()).status).toBe(403);
      const real = t.forge({ sub: admin.sub, username: admin.sub, 'cognito:groups': ['admin'] });
      expect((await t.api.as(real).admin.users.list()).status).toBe(200);
    });

    it('refuses an unauthenticated caller with 401', async () => {
      expect((await t.http.get('/v1/admin/users')).status).toBe(401);
    });
  });

  describe('group membership', () => {
    it('promotes a user: the old token is refused at once and the refreshed one can moderate', async () => {
      const user = await t.given.user();
      const author = await t.given.user();
      const post = await t.api.as(author).posts.create({ title: 'Spam?', body: 'Maybe.' });
      expectStatus(post, 201);
      expect((await t.api.as(user).posts.delete(post.body.id)).status).toBe(403);

      expectStatus(await t.api.as(admin).admin.users.addToGroup(user.id, 'moderator'), 204);
      expect(await cognitoGroupsOf(t, user)).toEqual(['moderator']);
      const stale = await t.api.as(user).users.me();
      expect({ status: stale.status, code: stale.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });

      const refreshed = await t.api.auth.refresh({ refreshToken: user.refreshToken });
      expectStatus(refreshed, 200);
      const me = await t.api.as(refreshed.body.accessToken).users.me();
      expectStatus(me, 200);
      expect(me.body.groups).toEqual(['moderator']);
      expectStatus(await t.api.as(refreshed.body.accessToken).posts.delete(post.body.id), 204);
      expect((await t.api.as(author).posts.get(post.body.id)).status).toBe(404);
    });

    it('adds and removes idempotently', async () => {
      const user = await t.given.user();
      expectStatus(await t.api.as(admin).admin.users.addToGroup(user.id, 'moderator'), 204);
      expectStatus(await t.api.as(admin).admin.users.addToGroup(user.id, 'moderator'), 204);
      expect(await cognitoGroupsOf(t, user)).toEqual(['moderator']);
      expectStatus(await t.api.as(admin).admin.users.removeFromGroup(user.id, 'moderator'), 204);
      expectStatus(await t.api.as(admin).admin.users.removeFromGroup(user.id, 'moderator'), 204);
      expect(await cognitoGroupsOf(t, user)).toEqual([]);
    });

    it('answers 404 for an unknown user or group and 400 for a malformed one', async () => {
      const user = await t.given.user();
      expect((await t.api.as(admin).admin.users.addToGroup(user.id, 'nope')).status).toBe(404);
      expect((await t.api.as(admin).admin.users.addToGroup('00000000-0000-4000-8000-000000000000', 'moderator')).status).toBe(404);
      expect((await t.api.as(admin).admin.users.addToGroup(user.id, 'bad name!')).status).toBe(400);
    });

    it('lists the members of a group by our user ids', async () => {
      const res = await t.api.as(admin).admin.groups.members('admin');
      expectStatus(res, 200);
      expect(res.body).toEqual(expect.arrayContaining([{ id: admin.id, email: admin.email, nickname: 'Root' }]));
      expect((await t.api.as(admin).admin.groups.members('nope')).status).toBe(404);
    });
  });

  describe('the last admin', () => {
    it('cannot be removed from admin, disabled or deleted (409); a second admin lifts that', async () => {
      const solo = await startTestApp();
      try {
        const only = await solo.given.user({ groups: ['admin'] });
        const call = (method: 'put' | 'post' | 'delete', path: string) => solo.http[method](path).set(bearer(only.accessToken));
        for (const [method, path] of [
          ['delete', `/v1/admin/users/${only.id}/groups/admin`],
          ['post', `/v1/admin/users/${only.id}/disable`],
          ['delete', `/v1/admin/users/${only.id}`],
        ] as const) {
          const res = await call(method, path);
          expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 409, code: 'CONFLICT' });
        }
        const [row] = await solo.db.query(`SELECT status FROM user_mapping WHERE id = $1`, [only.id]);
        expect(row.status).toBe('active');

        const second = await solo.given.user({ groups: ['admin'] });
        expectStatus(await call('delete', `/v1/admin/users/${second.id}/groups/admin`), 204);
        expect((await call('delete', `/v1/admin/users/${only.id}/groups/admin`)).status).toBe(409);
      } finally {
        await solo.close();
      }
    });

    it('counts only admins who can sign in: an invited admin who never logged in, or a disabled one, does not lift it', async () => {
      const solo = await startTestApp();
      try {
        const only = await solo.given.user({ groups: ['admin'] });
        const call = (method: 'put' | 'post' | 'delete', path: string) => solo.http[method](path).set(bearer(only.accessToken));
        // An invited admin stays in FORCE_CHANGE_PASSWORD until their first login.
        const invited = await call('post', '/v1/admin/users').send({ email: `never-${only.id}@example.com`, nickname: 'n', groups: ['admin'] });
        expectStatus(invited, 201);
        const disabled = await solo.given.user({ groups: ['admin'] });
        expectStatus(await call('post', `/v1/admin/users/${disabled.id}/disable`), 204);

        for (const [method, path] of [
          ['delete', `/v1/admin/users/${only.id}/groups/admin`],
          ['post', `/v1/admin/users/${only.id}/disable`],
          ['delete', `/v1/admin/users/${only.id}`],
          ['delete', '/v1/users/me'],
        ] as const) {
          const res = await call(method, path);
          expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 409, code: 'CONFLICT' });
        }
        const [row] = await solo.db.query(`SELECT status, withdrawal_requested_at FROM user_mapping WHERE id = $1`, [only.id]);
        expect(row).toEqual({ status: 'active', withdrawal_requested_at: null });
        expect(await cognitoGroupsOf(solo, only)).toContain('admin');
      } finally {
        await solo.close();
      }
    });

    it('refuses to delete the admin group itself', async () => {
      const res = await t.api.as(admin).admin.groups.delete('admin');
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 409, code: 'CONFLICT' });
    });
  });

  describe('users', () => {
    it('disables and enables a user in Cognito and in status', async () => {
      const user = await t.given.user();
      expectStatus(await t.api.as(admin).admin.users.disable(user.id), 204);
      const refused = await t.api.as(user).users.me();
      expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 403, code: 'ACCOUNT_DISABLED' });
      const client = emulatorClient(process.env.TEST_COGNITO_ENDPOINT!);
      try {
        expect((await client.send(new AdminGetUserCommand({ UserPoolId: t.pool.userPoolId, Username: user.sub }))).Enabled).toBe(false);
        const detail = await t.api.as(admin).admin.users.get(user.id);
        expect(detail.body).toMatchObject({ id: user.id, status: 'disabled', enabled: false, groups: [] });

        expectStatus(await t.api.as(admin).admin.users.enable(user.id), 204);
        expect((await client.send(new AdminGetUserCommand({ UserPoolId: t.pool.userPoolId, Username: user.sub }))).Enabled).toBe(true);
      } finally {
        client.destroy();
      }
      // The token from before the disable stays refused; a new login works at once.
      expect((await t.api.as(user).users.me()).body.code).toBe('TOKEN_REVOKED');
      const login = await t.api.auth.login({ email: user.email, password: user.password });
      expectStatus(await t.api.as(login.body.accessToken).users.me(), 200);
    });

    it('deletes a user through the withdrawal event', async () => {
      const user = await t.given.user();
      expectStatus(await t.api.as(admin).admin.users.delete(user.id), 204);
      const [row] = await t.db.query(`SELECT status, email FROM user_mapping WHERE id = $1`, [user.id]);
      expect(row).toEqual({ status: 'withdrawn', email: null });
      expect((await t.api.as(user).users.me()).body.code).toBe('ACCOUNT_WITHDRAWN');
      expect((await t.api.as(admin).admin.users.get(user.id)).body).toMatchObject({ status: 'withdrawn', enabled: false });
    });

    it('answers a second DELETE of a withdrawn user with 204 again and writes no second audit entry', async () => {
      const user = await t.given.user();
      expectStatus(await t.api.as(admin).admin.users.delete(user.id), 204);
      const before = await t.db.query(`SELECT action, outcome FROM audit_log WHERE target_user_id = $1`, [user.id]);
      expect(before).toEqual([{ action: 'user.delete', outcome: 'succeeded' }]);
      expectStatus(await t.api.as(admin).admin.users.delete(user.id), 204);
      expect(await t.db.query(`SELECT action, outcome FROM audit_log WHERE target_user_id = $1`, [user.id])).toEqual(before);
      expect((await t.api.as(admin).admin.users.delete('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    });

    it('searches email and nickname case-insensitively with % and _ taken literally, and pages', async () => {
      const odd = await t.given.user({ nickname: 'Percent%Under_score' });
      await t.given.user({ nickname: 'PercentXUnderYscore' });
      const found = await t.api.as(admin).admin.users.list({ q: 'percent%under_' });
      expectStatus(found, 200);
      expect(found.body.items.map((u: { id: string }) => u.id)).toEqual([odd.id]);
      expect(found.body.items[0]).toEqual({
        id: odd.id,
        email: odd.email,
        nickname: 'Percent%Under_score',
        status: 'active',
        createdAt: expect.any(String),
      });

      const ids = new Set<string>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await t.api.as(admin).admin.users.list({ limit: 2, cursor: cursor ?? undefined });
        expectStatus(page, 200);
        for (const item of page.body.items as Array<{ id: string }>) {
          expect(ids.has(item.id)).toBe(false);
          ids.add(item.id);
        }
        cursor = page.body.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 100);
      const [{ count }] = await t.db.query(`SELECT count(*)::int AS count FROM user_mapping`);
      expect(ids.size).toBe(count);
    });

    it('filters by status and validates the query', async () => {
      const res = await t.api.as(admin).admin.users.list({ status: 'active', limit: 100 });
      expectStatus(res, 200);
      expect(res.body.items.every((u: { status: string }) => u.status === 'active')).toBe(true);
      for (const query of ['status=gone', 'limit=0', 'limit=101', 'limit=abc', 'cursor=zzz', 'extra=1']) {
        const bad = await t.api.as(admin).admin.users.list(query);
        expect({ query, status: bad.status, code: bad.body.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
      }
    });
  });

  describe('groups', () => {
    it('creates, refuses a duplicate with GROUP_EXISTS, and deletes a group', async () => {
      const created = await t.api.as(admin).admin.groups.create({ name: 'editors', description: 'Editors', precedence: 5 });
      expectStatus(created, 201);
      expect(created.body).toEqual({ name: 'editors', description: 'Editors', precedence: 5 });
      const again = await t.api.as(admin).admin.groups.create({ name: 'editors' });
      expect({ status: again.status, code: again.body.code }).toEqual({ status: 409, code: 'GROUP_EXISTS' });
      expect((await t.api.as(admin).admin.groups.list()).body).toEqual(
        expect.arrayContaining([{ name: 'editors', description: 'Editors', precedence: 5 }]),
      );
      expectStatus(await t.api.as(admin).admin.groups.delete('editors'), 204);
      expect((await t.api.as(admin).admin.groups.delete('editors')).status).toBe(404);
    });

    it('validates the body', async () => {
      for (const body of [{}, { name: '' }, { name: 'has space' }, { name: 'ok', precedence: '1' }, { name: 'ok', extra: true }]) {
        expect((await t.api.as(admin).admin.groups.create(body)).status).toBe(400);
      }
    });
  });

  describe('Cognito failures', () => {
    it('retries a throttled Cognito call with backoff and succeeds', async () => {
      const user = await t.given.user();
      proxy.throttle('AdminDisableUser', 2);
      expectStatus(await t.api.as(admin).admin.users.disable(user.id), 204);
      expect(proxy.calls.get('AdminDisableUser')).toBe(3);
    });

    it('answers 429 when Cognito keeps throttling, audits the failure, and the sweep completes the disable later', async () => {
      const user = await t.given.user();
      proxy.throttle('AdminDisableUser');
      const res = await t.api.as(admin).admin.users.disable(user.id);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 429, code: 'TOO_MANY_REQUESTS' });
      expect(res.headers['retry-after']).toBeDefined();
      const [row] = await t.db.query(`SELECT status FROM user_mapping WHERE id = $1`, [user.id]);
      expect(row).toEqual({ status: 'active' });
      // The intent stands: the user's tokens are refused until the change is finished.
      expect((await t.api.as(user).users.me()).body.code).toBe('TOKEN_REVOKED');
      const audit = await t.db.query(`SELECT action, outcome, details FROM audit_log WHERE target_user_id = $1`, [user.id]);
      expect(audit).toEqual([{ action: 'user.disable', outcome: 'failed', details: { error: 'TOO_MANY_REQUESTS' } }]);

      proxy.reset();
      await t.db.query(`UPDATE pending_changes SET requested_at = now() - interval '1 minute' WHERE user_id = $1`, [user.id]);
      expect(await t.app.get(AccountChangesService).sweep()).toEqual({ completed: 1, failed: 0 });
      const [after] = await t.db.query(`SELECT status FROM user_mapping WHERE id = $1`, [user.id]);
      expect(after).toEqual({ status: 'disabled' });
      const outcomes = await t.db.query(`SELECT outcome FROM audit_log WHERE target_user_id = $1 ORDER BY created_at`, [user.id]);
      expect(outcomes).toEqual([{ outcome: 'failed' }, { outcome: 'succeeded' }]);
    });
  });

  describe('the audit log', () => {
    it('records each admin write with actor, action, target and details, newest first', async () => {
      const user = await t.given.user();
      expectStatus(await t.api.as(admin).admin.users.addToGroup(user.id, 'moderator'), 204);
      expectStatus(await t.api.as(admin).admin.users.removeFromGroup(user.id, 'moderator'), 204);
      expectStatus(await t.api.as(admin).admin.users.disable(user.id), 204);
      expectStatus(await t.api.as(admin).admin.users.enable(user.id), 204);
      expectStatus(await t.api.as(admin).admin.users.delete(user.id), 204);
      const page = await t.api.as(admin).admin.auditLog({ limit: 5 });
      expectStatus(page, 200);
      expect(page.body.items.map((e: { action: string }) => e.action)).toEqual([
        'user.delete',
        'user.enable',
        'user.disable',
        'group.remove_user',
        'group.add_user',
      ]);
      for (const entry of page.body.items) {
        expect(entry).toMatchObject({ actorId: admin.id, targetUserId: user.id, createdAt: expect.any(String) });
      }
      expect(page.body.items[4].details).toMatchObject({ group: 'moderator', changed: true, outcome: 'succeeded' });
      expect(typeof page.body.nextCursor).toBe('string');
      const next = await t.api.as(admin).admin.auditLog({ limit: 5, cursor: page.body.nextCursor });
      expectStatus(next, 200);
      const seen = new Set(page.body.items.map((e: { id: string }) => e.id));
      expect(next.body.items.some((e: { id: string }) => seen.has(e.id))).toBe(false);
    });
  });
});
