import { AccountChangesService } from '../src/users/account-changes.service';
import { CognitoFaultProxy } from './support/cognito-fault-proxy';
import { cognitoGroupsOf } from './support/cognito-sdk';
import { waitUntil } from './support/load';
import { expectStatus, startTestApp, TestApp, TestUser } from './support/test-app';
import { nextSecond } from './support/time';
import { claimsOf } from './support/tokens';

/**
 * Revocation under races and partial failures, through a delaying proxy in front of cognito-local
 * and a cutting proxy in front of PostgreSQL: a token refreshed while a change is in flight, a
 * database cut while Cognito is being changed, a member added while a group is being deleted.
 */
describe('revocation holds under races and partial failures', () => {
  let t: TestApp;
  let idp: CognitoFaultProxy;
  let admin: TestUser;

  beforeAll(async () => {
    idp = new CognitoFaultProxy(process.env.TEST_COGNITO_ENDPOINT!);
    t = await startTestApp({ env: { COGNITO_ENDPOINT: await idp.start() }, proxyDatabase: true });
    admin = await t.given.user({ groups: ['admin'], nickname: 'Root' });
  });
  afterAll(async () => {
    await t.close();
    await idp.stop();
  });
  afterEach(() => idp.reset());

  it('refuses a token refreshed in a later second while a moderator is being demoted (it still lists the old group)', async () => {
    const moderator = await t.given.user({ groups: ['moderator'] });
    const author = await t.given.user();
    const post = await t.api.as(author).posts.create({ title: 'Kept', body: 'Not yours to delete.' });
    expectStatus(post, 201);

    // Cognito is slow to apply the demotion; the moderator refreshes meanwhile, a second later.
    idp.delay('AdminRemoveUserFromGroup', 2_000);
    const demotion = t.api.as(admin).admin.users.removeFromGroup(moderator.id, 'moderator').then((r) => r);
    await idp.called('AdminRemoveUserFromGroup');
    await nextSecond();
    const refreshed = await t.api.auth.refresh({ refreshToken: moderator.refreshToken });
    expectStatus(refreshed, 200);
    const raced = refreshed.body.accessToken as string;
    expect(claimsOf(raced)['cognito:groups']).toEqual(['moderator']);
    expectStatus(await demotion, 204);

    const me = await t.api.as(raced).users.me();
    expect({ status: me.status, code: me.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
    expect((await t.api.as(raced).posts.delete(post.body.id)).status).toBe(401);
    expectStatus(await t.api.as(author).posts.get(post.body.id), 200);

    // The refresh right after the answer carries the new groups and works at once.
    const after = await t.api.auth.refresh({ refreshToken: moderator.refreshToken });
    expectStatus(after, 200);
    expect(claimsOf(after.body.accessToken)['cognito:groups']).toBeUndefined();
    expectStatus(await t.api.as(after.body.accessToken).users.me(), 200);
    expect((await t.api.as(after.body.accessToken).posts.delete(post.body.id)).status).toBe(403);
  });

  it('refuses a demoted admin the token it refreshed mid-demotion, so it cannot promote itself back', async () => {
    const other = await t.given.user({ groups: ['admin'] });
    idp.delay('AdminRemoveUserFromGroup', 2_000);
    const demotion = t.api.as(admin).admin.users.removeFromGroup(other.id, 'admin').then((r) => r);
    await idp.called('AdminRemoveUserFromGroup');
    await nextSecond();
    const refreshed = await t.api.auth.refresh({ refreshToken: other.refreshToken });
    expectStatus(refreshed, 200);
    expectStatus(await demotion, 204);
    idp.reset();
    const again = await t.api.as(refreshed.body.accessToken as string).admin.users.addToGroup(other.id, 'admin');
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
    expect(await cognitoGroupsOf(t, other)).toEqual([]);
  });

  it('answers 503 (not 500) when the database is cut while Cognito applies a demotion, and the retry finishes the revocation', async () => {
    const moderator = await t.given.user({ groups: ['moderator'] });
    idp.delay('AdminRemoveUserFromGroup', 1_500);
    const demotion = t.api.as(admin).admin.users.removeFromGroup(moderator.id, 'moderator').then((r) => r);
    await idp.called('AdminRemoveUserFromGroup');
    await t.dbProxy!.stop();
    const cut = await demotion;
    expect({ status: cut.status, code: cut.body.code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    await t.dbProxy!.resume();
    idp.reset();
    expect(await cognitoGroupsOf(t, moderator)).toEqual([]);

    // Cognito changed, the database write was lost: the old token must not work meanwhile.
    await waitUntil('the database is back', async () => (await t.http.get('/health/ready')).status === 200, 15_000);
    const meanwhile = await t.api.as(moderator).users.me();
    expect({ status: meanwhile.status, code: meanwhile.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });

    expectStatus(await t.api.as(admin).admin.users.removeFromGroup(moderator.id, 'moderator'), 204);
    const old = await t.api.as(moderator).users.me();
    expect({ status: old.status, code: old.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
    const audit: Array<{ outcome: string; details: Record<string, unknown> }> = await t.db.query(
      `SELECT outcome, details FROM audit_log WHERE target_user_id = $1 AND action = 'group.remove_user' AND outcome = 'succeeded'`,
      [moderator.id],
    );
    expect(audit.map((a) => a.details)).toEqual(expect.arrayContaining([{ group: 'moderator', changed: true }]));
    expect(await t.db.query(`SELECT id FROM pending_changes WHERE user_id = $1`, [moderator.id])).toEqual([]);
    const fresh = await t.api.auth.refresh({ refreshToken: moderator.refreshToken });
    expectStatus(await t.api.as(fresh.body.accessToken).users.me(), 200);
  });

  it('lets the sweep finish a demotion whose database write was lost, with its audit entry', async () => {
    const moderator = await t.given.user({ groups: ['moderator'] });
    idp.delay('AdminRemoveUserFromGroup', 1_500);
    const demotion = t.api.as(admin).admin.users.removeFromGroup(moderator.id, 'moderator').then((r) => r);
    await idp.called('AdminRemoveUserFromGroup');
    await t.dbProxy!.stop();
    expect((await demotion).status).toBe(503);
    await t.dbProxy!.resume();
    idp.reset();
    await waitUntil('the database is back', async () => (await t.http.get('/health/ready')).status === 200, 15_000);

    await t.db.query(`UPDATE pending_changes SET requested_at = now() - interval '1 minute' WHERE user_id = $1`, [moderator.id]);
    expect(await t.app.get(AccountChangesService).sweep()).toEqual({ completed: 1, failed: 0 });
    const old = await t.api.as(moderator).users.me();
    expect({ status: old.status, code: old.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
    const audit = await t.db.query(
      `SELECT actor_id FROM audit_log WHERE target_user_id = $1 AND action = 'group.remove_user' AND outcome = 'succeeded'`,
      [moderator.id],
    );
    expect(audit).toEqual([{ actor_id: admin.id }]);
  });

  describe('an invitation whose database write is lost after Cognito created the user', () => {
    /** Invites `email` into moderator and cuts the database once Cognito created the user and is adding its group. */
    async function inviteAndLoseTheDatabase(email: string): Promise<void> {
      idp.delay('AdminAddUserToGroup', 1_500);
      const invitation = t.api.as(admin).admin.users.invite({ email, nickname: 'invitee', groups: ['moderator'] }).then((r) => r);
      await idp.called('AdminAddUserToGroup');
      await t.dbProxy!.stop();
      const cut = await invitation;
      expect({ status: cut.status, code: cut.body.code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      await t.dbProxy!.resume();
      idp.reset();
      await waitUntil('the database is back', async () => (await t.http.get('/health/ready')).status === 200, 15_000);
    }

    const invitesOf = (email: string): Promise<Array<{ actor_id: string; outcome: string; details: unknown; email: string | null }>> =>
      t.db.query(
        `SELECT a.actor_id, a.outcome, a.details, u.email FROM audit_log a LEFT JOIN user_mapping u ON u.id = a.target_user_id
          WHERE a.action = 'user.invite' AND (u.email = $1 OR a.details->>'email' = $1)`,
        [email],
      );

    it('is finished and audited once by the sweep', async () => {
      const email = `lost-invite-${Date.now()}@example.com`;
      await inviteAndLoseTheDatabase(email);

      await t.db.query(`UPDATE pending_changes SET requested_at = now() - interval '1 minute' WHERE action = 'user.invite'`);
      expect(await t.app.get(AccountChangesService).sweep()).toEqual({ completed: 1, failed: 0 });
      const [row] = await t.db.query(`SELECT id, status FROM user_mapping WHERE email = $1`, [email]);
      expect(row).toEqual({ id: expect.any(String), status: 'active' });
      expect(await invitesOf(email)).toEqual([{ actor_id: admin.id, outcome: 'succeeded', details: { groups: ['moderator'] }, email }]);
      expect(await t.db.query(`SELECT id FROM pending_changes WHERE action = 'user.invite'`)).toEqual([]);
      const detail = await t.api.as(admin).admin.users.get(row.id);
      expect(detail.body).toMatchObject({ email, groups: ['moderator'], enabled: true });

      // Nothing is left for a second sweep, and an invitation of the same address now is refused.
      expect(await t.app.get(AccountChangesService).sweep()).toEqual({ completed: 0, failed: 0 });
      const again = await t.api.as(admin).admin.users.invite({ email, nickname: 'invitee', groups: ['moderator'] });
      expect({ status: again.status, code: again.body.code }).toEqual({ status: 409, code: 'USER_EXISTS' });
      expect((await invitesOf(email)).filter((e) => e.outcome === 'succeeded')).toHaveLength(1);
    });

    it('is finished by the admin’s retry before the sweep, answered 201 and audited once', async () => {
      const email = `retried-invite-${Date.now()}@example.com`;
      await inviteAndLoseTheDatabase(email);

      const retry = await t.api.as(admin).admin.users.invite({ email, nickname: 'invitee', groups: ['moderator'] });
      expectStatus(retry, 201);
      expect(retry.body).toMatchObject({ email, nickname: 'invitee', groups: ['moderator'], enabled: true });
      await t.db.query(`UPDATE pending_changes SET requested_at = now() - interval '1 minute' WHERE action = 'user.invite'`);
      expect(await t.app.get(AccountChangesService).sweep()).toEqual({ completed: 0, failed: 0 });
      expect(await invitesOf(email)).toEqual([{ actor_id: admin.id, outcome: 'succeeded', details: { groups: ['moderator'] }, email }]);
    });
  });

  it('refuses to add a member to a group while its deletion is in flight, and revokes the members it had', async () => {
    expectStatus(await t.api.as(admin).admin.groups.create({ name: 'editors' }), 201);
    const member = await t.given.user({ groups: ['editors'] });
    const newcomer = await t.given.user();
    idp.delay('DeleteGroup', 1_500);
    const deletion = t.api.as(admin).admin.groups.delete('editors').then((r) => r);
    await idp.called('DeleteGroup');
    const add = await t.api.as(admin).admin.users.addToGroup(newcomer.id, 'editors');
    expect({ status: add.status, code: add.body.code }).toEqual({ status: 409, code: 'CONFLICT' });
    expectStatus(await deletion, 204);
    expect(await cognitoGroupsOf(t, newcomer)).toEqual([]);
    const old = await t.api.as(member).users.me();
    expect({ status: old.status, code: old.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
    const [entry] = await t.db.query(
      `SELECT outcome, details FROM audit_log WHERE action = 'group.delete' ORDER BY created_at DESC LIMIT 1`,
    );
    expect(entry).toEqual({ outcome: 'succeeded', details: { group: 'editors', members: 1 } });
  });
});
