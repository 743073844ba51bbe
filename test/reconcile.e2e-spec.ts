import {
  AdminConfirmSignUpCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { Client } from 'pg';
import { emulatorClient } from '../tools/local-stack/cognito-local';
import { ensureBuilt, productionEnv, ROOT, run } from '../tools/local-stack/processes';
import { distStamp } from './support/dist';
import { PASSWORD, startTestApp, TestApp, TestUser, uniqueEmail } from './support/test-app';
import { WithdrawalService } from '../src/users/withdrawal.service';
import { RECONCILE_LOCK_KEY } from '../src/jobs/reconcile.service';

jest.setTimeout(120_000);

/** `node dist/jobs/reconcile.js` as the scheduled ECS task runs it: its stdout and exit code. */
async function runJob(t: TestApp, args: string[] = []): Promise<{ stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '', ...productionEnv(t.databaseUrl, t.pool, t.cognitoEndpoint) };
  return run(process.execPath, ['dist/jobs/reconcile.js', ...args], { cwd: ROOT, env });
}

async function rows(t: TestApp): Promise<unknown[]> {
  return t.db.query(`SELECT * FROM user_mapping ORDER BY id`);
}

async function row(t: TestApp, id: string): Promise<{ status: string; email: string | null; nickname: string | null }> {
  const [found] = await t.db.query(`SELECT status, email, nickname FROM user_mapping WHERE id = $1`, [id]);
  return found;
}

describe('reconcile against cognito-local (the whole run, as its own process)', () => {
  let t: TestApp;
  let cognito: CognitoIdentityProviderClient;
  let kept: TestUser;
  let deleted: TestUser;
  let renamed: TestUser;
  let pending: TestUser;
  let withoutRow: { email: string; sub: string };

  beforeAll(async () => {
    await ensureBuilt();
    t = await startTestApp();
    cognito = emulatorClient(t.cognitoEndpoint);
    const poolId = t.pool.userPoolId;
    kept = await t.given.user();
    deleted = await t.given.user();
    renamed = await t.given.user({ nickname: 'before' });
    pending = await t.given.user();
    // Changes made outside the API: a user deleted in the console, an attribute changed by an admin tool.
    await cognito.send(new AdminDeleteUserCommand({ UserPoolId: poolId, Username: deleted.sub }));
    await cognito.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: poolId,
        Username: renamed.sub,
        UserAttributes: [{ Name: 'nickname', Value: 'after' }],
      }),
    );
    // A withdrawal whose Cognito delete happened but whose database step has not (the sweeper's job).
    await t.db.query(`UPDATE user_mapping SET withdrawal_requested_at = now() - interval '1 minute' WHERE id = $1`, [pending.id]);
    await cognito.send(new AdminDeleteUserCommand({ UserPoolId: poolId, Username: pending.sub }));
    // A confirmed user created in the console, never seen by the API; and one who never confirmed.
    const email = uniqueEmail('console');
    await cognito.send(
      new SignUpCommand({
        ClientId: t.pool.clientId,
        Username: email,
        Password: PASSWORD,
        UserAttributes: [{ Name: 'email', Value: email }],
      }),
    );
    await cognito.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));
    // Confirming with the emailed code marks the email verified in Cognito; cognito-local does not.
    await cognito.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: poolId,
        Username: email,
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
    const created = await cognito.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: email }));
    withoutRow = { email, sub: created.UserAttributes?.find((a) => a.Name === 'sub')?.Value ?? '' };
    const unconfirmed = uniqueEmail('unconfirmed');
    await cognito.send(
      new SignUpCommand({
        ClientId: t.pool.clientId,
        Username: unconfirmed,
        Password: PASSWORD,
        UserAttributes: [{ Name: 'email', Value: unconfirmed }],
      }),
    );
  });

  afterAll(async () => {
    cognito?.destroy();
    await t?.close();
  });

  it('--dry-run prints what it would do and changes nothing', async () => {
    const before = await rows(t);
    const { stdout } = await runJob(t, ['--dry-run']);
    expect(stdout.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^reconcile: cognito_users=4 unconfirmed=1 created=1 updated=1 withdrawn=1 disabled=0 enabled=0 dry_run=true duration_ms=\d+$/,
      ),
    ]);
    expect(await rows(t)).toEqual(before);
  });

  it('withdraws the deleted user, copies the drifted nickname, creates the missing row, and prints one line', async () => {
    const { stdout } = await runJob(t);
    expect(stdout.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^reconcile: cognito_users=4 unconfirmed=1 created=1 updated=1 withdrawn=1 disabled=0 enabled=0 dry_run=false duration_ms=\d+$/,
      ),
    ]);
    expect(await row(t, deleted.id)).toEqual({ status: 'withdrawn', email: null, nickname: null });
    expect(await row(t, renamed.id)).toMatchObject({ status: 'active', nickname: 'after' });
    expect(await row(t, kept.id)).toMatchObject({ status: 'active', email: kept.email, nickname: 'tester' });
    const [created] = await t.db.query(`SELECT email, status FROM user_mapping WHERE cognito_sub = $1`, [withoutRow.sub]);
    expect(created).toEqual({ email: withoutRow.email, status: 'active' });
    // The withdrawn user's token is refused like after any withdrawal.
    expect((await t.api.as(deleted).users.me()).status).toBe(401);
  });

  it('left the withdrawal under way (not counted above) to the sweeper, which completes it', async () => {
    await t.app.get(WithdrawalService).sweep();
    expect(await row(t, pending.id)).toEqual({ status: 'withdrawn', email: null, nickname: null });
  });

  it('finds nothing to do on a second run', async () => {
    const before = await rows(t);
    const { stdout } = await runJob(t);
    expect(stdout).toMatch(
      /^reconcile: cognito_users=4 unconfirmed=1 created=0 updated=0 withdrawn=0 disabled=0 enabled=0 dry_run=false duration_ms=\d+\n$/,
    );
    expect(await rows(t)).toEqual(before);
  });

  it('skips, exit 0, while another run holds the lock', async () => {
    const user = await t.given.user();
    await cognito.send(new AdminDeleteUserCommand({ UserPoolId: t.pool.userPoolId, Username: user.sub }));
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [RECONCILE_LOCK_KEY]);
      const { stdout } = await runJob(t);
      expect(stdout).toBe('reconcile: skipped, another run holds the lock (dry_run=false)\n');
      expect(await row(t, user.id)).toMatchObject({ status: 'active' });
    } finally {
      await holder.end();
    }
  });

  it('two runs at once withdraw a gone user once between them', async () => {
    const user = await t.given.user();
    await cognito.send(new AdminDeleteUserCommand({ UserPoolId: t.pool.userPoolId, Username: user.sub }));
    const outputs = await Promise.all([runJob(t), runJob(t)]);
    const withdrawn = outputs.map(({ stdout }) => Number(/withdrawn=(\d+)/.exec(stdout)?.[1] ?? 0));
    // The earlier test left one more gone user (the lock test's): both are withdrawn, each once.
    expect(withdrawn.reduce((a, b) => a + b, 0)).toBe(2);
    expect(await row(t, user.id)).toMatchObject({ status: 'withdrawn' });
  });

  it('npm run reconcile runs from the sources: it neither builds nor touches dist/', async () => {
    const before = distStamp();
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...productionEnv(t.databaseUrl, t.pool, t.cognitoEndpoint) };
    const { stdout } = await run('npm', ['run', '--silent', 'reconcile', '--', '--dry-run'], { cwd: ROOT, env, timeout: 60_000 });
    expect(stdout).toMatch(/^reconcile: cognito_users=\d+ .* dry_run=true duration_ms=\d+\n$/);
    expect(distStamp()).toEqual(before);
  });

  it('refuses an unknown argument with its usage and exit 2', async () => {
    await expect(runJob(t, ['--dryrun'])).rejects.toMatchObject({ code: 2, stderr: 'usage: node dist/jobs/reconcile.js [--dry-run]\n' });
  });
});
