import { randomUUID } from 'node:crypto';
import { AccountGateService } from '../../src/auth/account-gate.service';
import { UserMappingRepository } from '../../src/users/user-mapping.repository';
import { ServiceHarness, startServices } from './services';

describe('the just-in-time user_mapping row on the real database', () => {
  let s: ServiceHarness;
  let users: UserMappingRepository;

  const rowsFor = async (sub: string) =>
    (await s.db.pool.query(`SELECT id, email, nickname FROM user_mapping WHERE cognito_sub = $1`, [sub])).rows;

  beforeAll(async () => {
    s = await startServices('ensure');
    users = s.get(UserMappingRepository);
  });
  afterAll(() => s?.close());

  it('ensure: concurrent callers get one row, and exactly one of them created it', async () => {
    const sub = randomUUID();

    const results = await Promise.all(Array.from({ length: 4 }, () => users.ensure(sub, `user-${sub}`, { email: `${sub}@example.com` })));

    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
    expect(await rowsFor(sub)).toEqual([{ id: results[0].user.id, email: `${sub}@example.com`, nickname: null }]);
  });

  it('ensure: an existing row is returned as it is, not overwritten', async () => {
    const existing = await s.given.user();

    const { user, created } = await users.ensure(existing.sub, existing.username, { email: 'other@example.com', nickname: 'other' });

    expect(created).toBe(false);
    expect(user.id).toBe(existing.id);
    expect(await rowsFor(existing.sub)).toEqual([{ id: existing.id, email: existing.email, nickname: 'nick' }]);
  });

  it('admit: a Cognito user without a row gets one, with the attributes Cognito holds', async () => {
    const known = await s.given.user();
    await s.db.pool.query(`DELETE FROM user_mapping WHERE id = $1`, [known.id]);
    const now = Math.floor(Date.now() / 1000);

    const { account } = await s.get(AccountGateService).admit(
      {
        sub: known.sub,
        username: known.username,
        groups: [],
        jti: null,
        scopes: [],
        iat: now,
        exp: now + 300,
        authTime: now,
        originJti: null,
      },
      () => ({ userAgent: null, ipAddress: null }),
    );

    expect(account).toMatchObject({ cognitoSub: known.sub, status: 'active' });
    expect(await rowsFor(known.sub)).toEqual([{ id: account.id, email: known.email, nickname: 'nick' }]);
  });
});
