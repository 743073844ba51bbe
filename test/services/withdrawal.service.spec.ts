import { ApiError } from '../../src/common/api-error';
import { WithdrawalService } from '../../src/users/withdrawal.service';
import { ServiceHarness, startServices } from './services';

interface Row {
  status: string;
  email: string | null;
  withdrawal_requested_at: Date | null;
}

describe('WithdrawalService on the real database', () => {
  let s: ServiceHarness;
  let withdrawal: WithdrawalService;

  const rowOf = async (id: string): Promise<Row> =>
    (await s.db.pool.query<Row>(`SELECT status, email, withdrawal_requested_at FROM user_mapping WHERE id = $1`, [id])).rows[0];

  beforeAll(async () => {
    s = await startServices('withdrawal');
    withdrawal = s.get(WithdrawalService);
  });
  afterAll(() => s?.close());

  describe('the last-admin guard', () => {
    beforeEach(() => s.emptyGroup('admin'));

    it('refuses the only admin with 409 and changes nothing', async () => {
      const admin = await s.given.user({ groups: ['admin'] });

      const refused = await withdrawal.withdraw(admin.id).catch((error: unknown) => error);

      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).getStatus()).toBe(409);
      expect(await rowOf(admin.id)).toEqual({ status: 'active', email: admin.email, withdrawal_requested_at: null });
      expect(await s.inCognito(admin.username)).toBe(true);
    });

    it('does not count an admin whose own withdrawal is under way', async () => {
      const leaving = await s.given.user({ groups: ['admin'], withdrawalRequestedSecondsAgo: 1 });
      const admin = await s.given.user({ groups: ['admin'] });

      await expect(withdrawal.withdraw(admin.id)).rejects.toMatchObject({ status: 409 });
      expect((await rowOf(admin.id)).withdrawal_requested_at).toBeNull();
      expect((await rowOf(leaving.id)).status).toBe('active');
    });

    it('lets an admin leave while another active admin remains', async () => {
      const stays = await s.given.user({ groups: ['admin'] });
      const leaves = await s.given.user({ groups: ['admin'] });

      await withdrawal.withdraw(leaves.id);

      expect(await rowOf(leaves.id)).toMatchObject({ status: 'withdrawn', email: null });
      expect(await s.inCognito(leaves.username)).toBe(false);
      expect(await rowOf(stays.id)).toMatchObject({ status: 'active', email: stays.email });
    });
  });

  describe('the sweep', () => {
    beforeEach(() => s.db.pool.query(`UPDATE user_mapping SET withdrawal_requested_at = NULL WHERE status <> 'withdrawn'`));

    it('completes an intent past its grace period: Cognito user deleted, row withdrawn, posts kept', async () => {
      const user = await s.given.user({ withdrawalRequestedSecondsAgo: 60 });
      const post = await s.given.post(user.id);

      expect(await withdrawal.sweep()).toBe(1);

      expect(await rowOf(user.id)).toMatchObject({ status: 'withdrawn', email: null });
      expect(await s.inCognito(user.username)).toBe(false);
      const { rows } = await s.db.pool.query(`SELECT author_id FROM posts WHERE id = $1`, [post.id]);
      expect(rows).toEqual([{ author_id: user.id }]);
    });

    it('leaves an intent within its grace period to the request that recorded it', async () => {
      const user = await s.given.user({ withdrawalRequestedSecondsAgo: 0 });

      expect(await withdrawal.sweep()).toBe(0);

      expect((await rowOf(user.id)).status).toBe('active');
      expect(await s.inCognito(user.username)).toBe(true);
    });

    it('does nothing for users without an intent', async () => {
      const user = await s.given.user();

      expect(await withdrawal.sweep()).toBe(0);

      expect(await rowOf(user.id)).toEqual({ status: 'active', email: user.email, withdrawal_requested_at: null });
    });
  });
});
