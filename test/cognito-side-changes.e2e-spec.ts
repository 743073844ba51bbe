import {
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { emulatorClient } from '../tools/local-stack/cognito-local';
import { productionEnv, ROOT, run } from '../tools/local-stack/processes';
import { setUnverifiedEmail as setUnverifiedEmailInCognito } from './support/cognito-sdk';
import { expectStatus, PASSWORD, startTestApp, TestApp, uniqueEmail } from './support/test-app';

jest.setTimeout(120_000);

/**
 * Changes made in Cognito itself (the console, an admin tool, incident response), not through
 * the API: an email address Cognito has not verified, a user disabled or enabled again. What the
 * API mirrors of them, at a just-in-time row and in `npm run reconcile`.
 */
describe('changes made in Cognito itself', () => {
  let t: TestApp;
  let cognito: CognitoIdentityProviderClient;

  beforeAll(async () => {
    t = await startTestApp();
    cognito = emulatorClient(t.cognitoEndpoint);
  });
  afterAll(async () => {
    cognito?.destroy();
    await t?.close();
  });

  /** `npm run reconcile` (from the sources) against this file's database and pool: its one line. */
  async function reconcile(...args: string[]): Promise<string> {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...productionEnv(t.databaseUrl, t.pool, t.cognitoEndpoint) };
    const { stdout } = await run('npm', ['run', '--silent', 'reconcile', ...(args.length > 0 ? ['--', ...args] : [])], {
      cwd: ROOT,
      env,
      timeout: 60_000,
    });
    return stdout.trim();
  }

  /** A confirmed user created in Cognito only (no row yet); its sub. */
  async function cognitoOnlyUser(email: string): Promise<string> {
    return (await t.given.cognitoUser({ email })).sub;
  }

  /** Sets another email in Cognito, not verified, and checks the emulator reports it so. */
  async function setUnverifiedEmail(username: string, email: string): Promise<void> {
    await setUnverifiedEmailInCognito(t, username, email);
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: t.pool.userPoolId, Username: email }));
    expect(user.UserAttributes?.find((a) => a.Name === 'email_verified')?.Value).toBe('false');
  }

  async function rowOf(sub: string): Promise<{ id: string; email: string | null; status: string } | undefined> {
    const [row] = await t.db.query(`SELECT id, email, status FROM user_mapping WHERE cognito_sub = $1`, [sub]);
    return row;
  }

  describe('an email Cognito has not verified is not mirrored', () => {
    it('a just-in-time row does not take it (email null)', async () => {
      const email = uniqueEmail('jit');
      const sub = await cognitoOnlyUser(email);
      const claimed = uniqueEmail('ceo');
      await setUnverifiedEmail(email, claimed);
      const login = await t.api.auth.login({ email: claimed, password: PASSWORD });
      expectStatus(login, 200);
      const me = await t.api.as(login.body.accessToken as string).users.me();
      expectStatus(me, 200);
      expect(me.body.email).toBeNull();
      expect(await rowOf(sub)).toMatchObject({ email: null });
    });

    it('reconcile neither creates a row with it nor overwrites a verified one with it', async () => {
      const user = await t.given.user();
      const unverifiedOnExisting = uniqueEmail('ceo');
      await setUnverifiedEmail(user.sub, unverifiedOnExisting);
      const freshEmail = uniqueEmail('fresh');
      const freshSub = await cognitoOnlyUser(freshEmail);
      await setUnverifiedEmail(freshEmail, uniqueEmail('ceo'));

      await reconcile();
      expect(await rowOf(user.sub)).toMatchObject({ email: user.email });
      expect(await rowOf(freshSub)).toMatchObject({ email: null, status: 'active' });
      // Once verified in Cognito, the address is mirrored.
      await cognito.send(
        new AdminUpdateUserAttributesCommand({
          UserPoolId: t.pool.userPoolId,
          Username: user.sub,
          UserAttributes: [
            { Name: 'email', Value: unverifiedOnExisting },
            { Name: 'email_verified', Value: 'true' },
          ],
        }),
      );
      await reconcile();
      expect(await rowOf(user.sub)).toMatchObject({ email: unverifiedOnExisting });
    });
  });

  describe('a user disabled in Cognito itself', () => {
    it('reconcile carries Enabled=false over as a disable, and a re-enable back; --dry-run only counts', async () => {
      const user = await t.given.user();
      const bystander = await t.given.user();
      expectStatus(await t.api.as(user).users.me(), 200);
      await cognito.send(new AdminDisableUserCommand({ UserPoolId: t.pool.userPoolId, Username: user.sub }));

      const before = await t.db.query(`SELECT * FROM user_mapping ORDER BY id`);
      expect(await reconcile('--dry-run')).toMatch(/ disabled=1 enabled=0 dry_run=true /);
      expect(await t.db.query(`SELECT * FROM user_mapping ORDER BY id`)).toEqual(before);
      expectStatus(await t.api.as(user).users.me(), 200);

      expect(await reconcile()).toMatch(/ disabled=1 enabled=0 dry_run=false /);
      expect(await rowOf(user.sub)).toMatchObject({ status: 'disabled' });
      const refused = await t.api.as(user).users.me();
      expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 403, code: 'ACCOUNT_DISABLED' });
      expectStatus(await t.api.as(bystander).users.me(), 200);
      // Through the account-change path: nothing left pending.
      expect(await t.db.query(`SELECT action FROM pending_changes WHERE user_id = $1`, [user.id])).toEqual([]);
      expect(await reconcile()).toMatch(/ disabled=0 enabled=0 dry_run=false /);

      await cognito.send(new AdminEnableUserCommand({ UserPoolId: t.pool.userPoolId, Username: user.sub }));
      expect(await reconcile('--dry-run')).toMatch(/ disabled=0 enabled=1 dry_run=true /);
      expect(await rowOf(user.sub)).toMatchObject({ status: 'disabled' });
      expect(await reconcile()).toMatch(/ disabled=0 enabled=1 dry_run=false /);
      expect(await rowOf(user.sub)).toMatchObject({ status: 'active' });
      // As after an admin disable: the tokens from before are refused, a new login works.
      const old = await t.api.as(user).users.me();
      expect({ status: old.status, code: old.body.code }).toEqual({ status: 401, code: 'TOKEN_REVOKED' });
      const login = await t.api.auth.login({ email: user.email, password: PASSWORD });
      expectStatus(await t.api.as(login.body.accessToken as string).users.me(), 200);
    });

    it('leaves a user alone whose admin change is in flight (the change finishes it)', async () => {
      const user = await t.given.user();
      await cognito.send(new AdminDisableUserCommand({ UserPoolId: t.pool.userPoolId, Username: user.sub }));
      // An admin disable whose Cognito call happened and whose database step has not.
      await t.db.query(`INSERT INTO pending_changes (user_id, action, details, actor_id) VALUES ($1, 'user.disable', '{}', NULL)`, [
        user.id,
      ]);
      expect(await reconcile()).toMatch(/ disabled=0 enabled=0 dry_run=false /);
      expect(await rowOf(user.sub)).toMatchObject({ status: 'active' });
      await t.db.query(`DELETE FROM pending_changes WHERE user_id = $1`, [user.id]);
    });
  });
});
