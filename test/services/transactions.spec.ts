import { randomUUID } from 'node:crypto';
import { QueryFailedError } from 'typeorm';
import { statement } from '../../src/database/statement';
import { Transactions } from '../../src/database/transactions';
import { UserMappingRepository } from '../../src/users/user-mapping.repository';
import { GivenUser, ServiceHarness, startServices } from './services';

const REVOKE = statement<never, [jti: string, userId: string]>(
  `INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')`,
);
const PURGE_OF = statement<never, [userId: string]>(`DELETE FROM revoked_tokens WHERE user_id = $1`);
const BACKEND = statement<{ pid: number }, []>('SELECT pg_backend_pid() AS pid');
const CREATE_TEMP = statement<never, []>('CREATE TEMPORARY TABLE IF NOT EXISTS scratch_seen (n int)');
const INSERT_TEMP = statement<never, [n: number]>('INSERT INTO scratch_seen VALUES ($1)');
const COUNT_TEMP = statement<{ n: number }, []>('SELECT count(*)::int AS n FROM scratch_seen');

describe('Transactions: one query path on the real database', () => {
  let s: ServiceHarness;
  let transactions: Transactions;
  let user: GivenUser;

  const revoked = async (jti: string): Promise<boolean> =>
    (await s.db.pool.query(`SELECT 1 FROM revoked_tokens WHERE jti = $1`, [jti])).rows.length > 0;

  beforeAll(async () => {
    s = await startServices('transactions');
    transactions = s.get(Transactions);
    user = await s.given.user();
  });
  afterAll(() => s?.close());

  it('rolls back every statement of run(), a nested run() included, when the work throws', async () => {
    const [outer, inner] = [randomUUID(), randomUUID()];
    const work = transactions.run(async () => {
      await transactions.execute(REVOKE, [outer, user.id]);
      await transactions.run(() => transactions.execute(REVOKE, [inner, user.id]));
      throw new Error('after both writes');
    });
    await expect(work).rejects.toThrow('after both writes');
    expect(await revoked(outer)).toBe(false);
    expect(await revoked(inner)).toBe(false);
  });

  it('commits every statement of run() together', async () => {
    const jti = randomUUID();
    await transactions.run(() => transactions.execute(REVOKE, [jti, user.id]));
    expect(await revoked(jti)).toBe(true);
  });

  it('tells the affected-row count of a statement outside a transaction', async () => {
    const other = await s.given.user();
    await transactions.execute(REVOKE, [randomUUID(), other.id]);
    await transactions.execute(REVOKE, [randomUUID(), other.id]);
    expect((await transactions.execute(PURGE_OF, [other.id])).rowCount).toBe(2);
  });

  it('keeps the statements of onOwnConnection on one session, but opens run() on a pooled connection', async () => {
    const seen = await transactions.onOwnConnection(async () => {
      const [first] = await transactions.rows(BACKEND, []);
      await transactions.execute(CREATE_TEMP, []);
      await transactions.execute(INSERT_TEMP, [1]);
      const [{ n }] = await transactions.rows(COUNT_TEMP, []);
      const [again] = await transactions.rows(BACKEND, []);
      const [inRun] = await transactions.run(() => transactions.rows(BACKEND, []));
      return { first: first.pid, again: again.pid, inRun: inRun.pid, n };
    });
    expect(seen.n).toBe(1);
    expect(seen.again).toBe(seen.first);
    expect(seen.inRun).not.toBe(seen.first);
  });

  it('fails a constraint violation with its SQLSTATE, on the pool (pg) and in a transaction (TypeORM)', async () => {
    const jti = randomUUID();
    await transactions.execute(REVOKE, [jti, user.id]);
    await expect(transactions.execute(REVOKE, [jti, user.id])).rejects.toMatchObject({ code: '23505' });
    const inRun = transactions.run(() => transactions.execute(REVOKE, [jti, user.id]));
    await expect(inRun).rejects.toBeInstanceOf(QueryFailedError);
    await expect(inRun).rejects.toMatchObject({ code: '23505' });
  });

  it('updateProfile writes the fields given (null clears one), leaves the others, and moves updated_at', async () => {
    const users = s.get(UserMappingRepository);
    const target = await s.given.user();
    await s.db.pool.query(
      `UPDATE user_mapping SET nickname = 'before', phone_number = '+15550100', updated_at = now() - interval '1 minute' WHERE id = $1`,
      [target.id],
    );
    const before = (await users.findById(target.id))!;

    const after = (await users.updateProfile(target.id, { nickname: 'after', phoneNumber: null }))!;

    expect(after).toMatchObject({ nickname: 'after', phoneNumber: null, email: before.email });
    expect(after.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
  });
});
