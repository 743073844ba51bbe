import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
  ListUsersCommandInput,
  TooManyRequestsException,
  UserNotFoundException,
  UserStatusType,
  UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { ReconcileModule } from '../src/jobs/reconcile.module';
import { ReconcileService } from '../src/jobs/reconcile.service';
import { databaseUrl, withClient } from '../tools/local-stack/postgres';

/**
 * cognito-local's ListUsers ignores Limit and PaginationToken, so the paging is tested here, at
 * the SDK command boundary, against a real database.
 */
const cognito = mockClient(CognitoIdentityProviderClient);
const POOL = 'ap-northeast-2_Paging1';

function listed(sub: string, attributes: Record<string, string> = {}, status: UserStatusType = 'CONFIRMED'): UserType {
  return {
    Username: `user-${sub}`,
    UserStatus: status,
    Enabled: true,
    Attributes: Object.entries({ sub, email: `${sub}@example.com`, nickname: 'nick', ...attributes }).map(([Name, Value]) => ({
      Name,
      Value,
    })),
  };
}

describe('reconcile paging (ListUsers at the SDK boundary, three pages)', () => {
  const adminUrl = process.env.TEST_PG_ADMIN_URL!;
  const name = `${process.env.TEST_RUN_ID}_paging_${randomUUID().slice(0, 6)}`;
  let db: Client;
  let context: INestApplicationContext;

  async function insertRow(sub: string, extra: { intent?: boolean } = {}): Promise<string> {
    const result = await db.query<{ id: string }>(
      `INSERT INTO user_mapping (cognito_sub, cognito_username, email, nickname, withdrawal_requested_at)
       VALUES ($1, $2, $3, 'nick', $4) RETURNING id`,
      [sub, `user-${sub}`, `${sub}@example.com`, extra.intent === true ? new Date(Date.now() - 60_000) : null],
    );
    return result.rows[0].id;
  }

  async function statusOf(sub: string): Promise<{ status: string; nickname: string | null } | undefined> {
    return (await db.query(`SELECT status, nickname FROM user_mapping WHERE cognito_sub = $1`, [sub])).rows[0];
  }

  beforeAll(async () => {
    await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${process.env.TEST_TEMPLATE_DB}`));
    db = new Client({ connectionString: databaseUrl(adminUrl, name) });
    await db.connect();
    const config = loadConfig({
      DATABASE_URL: databaseUrl(adminUrl, name),
      COGNITO_REGION: 'ap-northeast-2',
      COGNITO_USER_POOL_ID: POOL,
      COGNITO_CLIENT_ID: 'pagingclient',
      COGNITO_ENDPOINT: 'http://127.0.0.1:9',
      LOG_LEVEL: 'error',
    });
    context = await NestFactory.createApplicationContext(ReconcileModule.forRoot(config), { logger: false });
  });

  afterEach(() => cognito.reset());

  afterAll(async () => {
    await context?.close();
    await db?.end();
    await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });

  it('walks every page, creates, updates and withdraws, and leaves alone a user who signed up during the run', async () => {
    const subs = ['a', 'b', 'c', 'd', 'gone', 'unlisted', 'pending'].map((s) => `${s}-${randomUUID().slice(0, 8)}`);
    const [a, b, c, d, gone, unlisted, pending] = subs;
    for (const sub of [a, b, c, d, gone, unlisted]) {
      await insertRow(sub);
    }
    await insertRow(pending, { intent: true });
    const fresh = `new-${randomUUID().slice(0, 8)}`;
    const late = `late-${randomUUID().slice(0, 8)}`;
    cognito.on(ListUsersCommand).callsFake(async (input: ListUsersCommandInput) => {
      switch (input.PaginationToken) {
        case undefined:
          return { Users: [listed(a), listed(b)], PaginationToken: 'page-2' };
        case 'page-2':
          // Someone signs up and confirms while the job is between pages: a row it never listed.
          await insertRow(late);
          return { Users: [listed(c, { nickname: 'renamed' }), listed(d)], PaginationToken: 'page-3' };
        default:
          return { Users: [listed(fresh), listed(`unconfirmed-${randomUUID()}`, {}, 'UNCONFIRMED')] };
      }
    });
    cognito
      .on(AdminGetUserCommand, { Username: `user-${gone}` })
      .rejects(new UserNotFoundException({ message: 'User does not exist.', $metadata: {} }));
    // Not listed, yet there: ListUsers is no snapshot, so absence alone never withdraws.
    cognito
      .on(AdminGetUserCommand, { Username: `user-${unlisted}` })
      .resolves({ Username: `user-${unlisted}`, UserAttributes: [{ Name: 'sub', Value: unlisted }] });

    const summary = await context.get(ReconcileService).run({ dryRun: false });

    expect(cognito.commandCalls(ListUsersCommand).map((call) => call.args[0].input)).toEqual([
      { UserPoolId: POOL, Limit: 60, PaginationToken: undefined },
      { UserPoolId: POOL, Limit: 60, PaginationToken: 'page-2' },
      { UserPoolId: POOL, Limit: 60, PaginationToken: 'page-3' },
    ]);
    expect(summary).toMatchObject({ ran: true, cognitoUsers: 6, unconfirmed: 1, created: 1, updated: 1, withdrawn: 1 });
    expect(await statusOf(gone)).toEqual({ status: 'withdrawn', nickname: null });
    expect(await statusOf(c)).toEqual({ status: 'active', nickname: 'renamed' });
    expect(await statusOf(fresh)).toMatchObject({ status: 'active' });
    expect(await statusOf(late)).toMatchObject({ status: 'active' });
    expect(await statusOf(unlisted)).toMatchObject({ status: 'active' });
    // The withdrawal under way is the sweeper's: not withdrawn, not even asked about.
    expect(await statusOf(pending)).toMatchObject({ status: 'active' });
    expect(
      cognito
        .commandCalls(AdminGetUserCommand)
        .map((call) => call.args[0].input.Username)
        .sort(),
    ).toEqual([`user-${gone}`, `user-${unlisted}`].sort());
    // The rows of the earlier pages are only read: unchanged nickname, nothing written.
    expect(await statusOf(a)).toEqual({ status: 'active', nickname: 'nick' });
  });

  it('withdraws nothing when the listing fails part-way (a partial listing makes live users look gone)', async () => {
    const gone = `gone-${randomUUID().slice(0, 8)}`;
    await insertRow(gone);
    cognito
      .on(ListUsersCommand)
      .resolvesOnce({ Users: [listed(`x-${randomUUID()}`)], PaginationToken: 'page-2' })
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));
    cognito.on(AdminGetUserCommand).rejects(new UserNotFoundException({ message: 'User does not exist.', $metadata: {} }));

    await expect(context.get(ReconcileService).run({ dryRun: false })).rejects.toMatchObject({ status: 429 });
    expect(await statusOf(gone)).toMatchObject({ status: 'active' });
    expect(cognito.commandCalls(AdminGetUserCommand)).toHaveLength(0);
  });
});
