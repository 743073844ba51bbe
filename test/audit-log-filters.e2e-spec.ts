import { auditListQuery, AuditFilters } from '../src/admin/audit-log.repository';
import { insertAuditEntries, mappedUser, ordered } from './support/audit-rows';
import { expectStatus, startTestApp, TestApp, TestUser } from './support/test-app';

/** The audit log's filters and their paging (GET /v1/admin/audit-log). */
describe('audit log filters', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.given.user({ groups: ['admin'] });
  });
  afterAll(() => t.close());

  /** The query as the spec writes it (filters are composed as strings on purpose). */
  const get = (query: string, token = admin.accessToken) => t.api.as(token).admin.auditLog(query);
  const ids = (res: { body: { items: Array<{ id: string }> } }) => res.body.items.map((e) => e.id);

  /** Follows nextCursor to the end with the same filters; every id seen, in order. */
  async function allPages(filters: string, limit: number): Promise<{ ids: string[]; pages: number }> {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`${filters}&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
      expectStatus(res, 200);
      seen.push(...ids(res));
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 100);
    return { ids: seen, pages };
  }

  describe('each filter and their combination', () => {
    // Five entries an hour apart on a day no other test writes to.
    const day = (hour: number) => `2026-11-01T${String(hour).padStart(2, '0')}:00:00Z`;
    const window = `from=${day(0)}&to=2026-11-02T00:00:00Z`;
    let a: string, b: string, x: string, y: string;
    const e: Record<string, string> = {};

    beforeAll(async () => {
      [a, b, x, y] = [await mappedUser(t.db), await mappedUser(t.db), await mappedUser(t.db), await mappedUser(t.db)];
      const seed: Array<[string, string, string, string | null, number]> = [
        ['e1', a, 'user.disable', x, 1],
        ['e2', a, 'user.enable', x, 2],
        ['e3', b, 'user.disable', y, 3],
        ['e4', b, 'group.create', null, 4],
        ['e5', a, 'user.disable', y, 5],
      ];
      for (const [name, actorId, action, targetUserId, hour] of seed) {
        [e[name]] = await insertAuditEntries(t.db, { count: 1, actorId, action, targetUserId, newest: day(hour) });
      }
    });

    it.each([
      ['action', () => `action=user.disable&${window}`, ['e5', 'e3', 'e1']],
      ['actorId', () => `actorId=${a}`, ['e5', 'e2', 'e1']],
      ['targetUserId', () => `targetUserId=${x}`, ['e2', 'e1']],
      ['from (inclusive)', () => `from=${day(3)}&to=2026-11-02T00:00:00Z`, ['e5', 'e4', 'e3']],
      ['to (exclusive)', () => `from=${day(0)}&to=${day(3)}`, ['e2', 'e1']],
      ['from with another offset', () => `from=${encodeURIComponent('2026-11-01T12:00:00+09:00')}&to=${day(23)}`, ['e5', 'e4', 'e3']],
      ['action AND actorId', () => `action=user.disable&actorId=${a}`, ['e5', 'e1']],
      ['action AND actorId AND targetUserId', () => `action=user.disable&actorId=${a}&targetUserId=${y}`, ['e5']],
      ['actorId AND from AND to', () => `actorId=${a}&from=${day(2)}&to=${day(5)}`, ['e2']],
      ['upper-case uuid', () => `actorId=${b.toUpperCase()}`, ['e4', 'e3']],
      ['nothing matching', () => `action=user.delete&actorId=${a}`, []],
      ['from equal to to (empty range)', () => `from=${day(3)}&to=${day(3)}`, []],
    ])('filters by %s', async (_name, query, expected) => {
      const res = await get(query());
      expectStatus(res, 200);
      expect(ids(res)).toEqual(expected.map((name) => e[name]));
      expect(res.body.nextCursor).toBeNull();
    });

    it('returns entries in the shape of the list, outcome in details', async () => {
      const res = await get(`targetUserId=${x}&action=user.enable`);
      expect(res.body.items).toEqual([
        {
          id: e.e2,
          actorId: a,
          action: 'user.enable',
          targetUserId: x,
          details: { pad: '', n: 0, outcome: 'succeeded' },
          createdAt: '2026-11-01T02:00:00.000Z',
        },
      ]);
    });
  });

  describe('paging with filters', () => {
    it('walks every matching entry exactly once, across pages, even with equal timestamps', async () => {
      const actor = await mappedUser(t.db);
      const other = await mappedUser(t.db);
      // Matching and non-matching entries interleaved at the same instants (ties broken by id).
      const matching = await insertAuditEntries(t.db, {
        count: 45,
        actorId: actor,
        action: 'user.enable',
        newest: '2026-10-01T00:00:00Z',
        stepMs: 0,
      });
      matching.push(
        ...(await insertAuditEntries(t.db, {
          count: 30,
          actorId: actor,
          action: 'user.enable',
          newest: '2026-10-01T00:00:00Z',
          stepMs: 7,
        })),
      );
      await insertAuditEntries(t.db, { count: 40, actorId: actor, action: 'user.disable', newest: '2026-10-01T00:00:00Z', stepMs: 3 });
      await insertAuditEntries(t.db, { count: 40, actorId: other, action: 'user.enable', newest: '2026-10-01T00:00:00Z', stepMs: 5 });
      const expected = await ordered(t.db, matching);

      const walked = await allPages(`action=user.enable&actorId=${actor}`, 10);
      expect(walked.pages).toBe(8);
      expect(walked.ids).toEqual(expected);
    });

    it('refuses a cursor with other filters than it was issued for, so it cannot widen a filtered list', async () => {
      const actor = await mappedUser(t.db);
      await insertAuditEntries(t.db, { count: 5, actorId: actor, newest: '2026-09-01T00:00:00Z' });
      const first = await get(`actorId=${actor}&limit=2`);
      expectStatus(first, 200);
      const cursor = first.body.nextCursor as string;
      for (const query of [
        `cursor=${cursor}`,
        `actorId=${admin.id}&cursor=${cursor}`,
        `actorId=${actor}&action=user.enable&cursor=${cursor}`,
      ]) {
        const res = await get(query);
        expectStatus(res, 400);
        expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'cursor', message: 'is not valid' }] });
      }
      const unfiltered = await get('limit=1');
      const res = await get(`actorId=${actor}&cursor=${unfiltered.body.nextCursor}`);
      expectStatus(res, 400);
      // The same filters continue (limit may change).
      expectStatus(await get(`actorId=${actor}&limit=3&cursor=${cursor}`), 200);
    });

    it('reads every filtered page from an index in keyset order: page 10,000 costs what page 1 costs', async () => {
      const actor = await mappedUser(t.db);
      const target = await mappedUser(t.db);
      // 10,000 entries of other actors over 13 s, and the actor's 200 (each with the target)
      // spread over the same 13 s; the page continues from the middle of them.
      for (let i = 0; i < 10; i += 1) {
        const spread = await mappedUser(t.db);
        await insertAuditEntries(t.db, {
          count: 1000,
          actorId: spread,
          action: `test.action_${i}`,
          newest: '2026-08-01T00:00:00Z',
          stepMs: 13,
        });
      }
      await insertAuditEntries(t.db, {
        count: 200,
        actorId: actor,
        action: 'user.invite',
        targetUserId: target,
        newest: '2026-08-01T00:00:00Z',
        stepMs: 65,
      });
      await t.db.query('ANALYZE audit_log');
      const after = { createdAt: '2026-07-31T23:59:53.500000Z', id: 'ffffffff-ffff-4fff-bfff-ffffffffffff' };
      const cases: Array<[AuditFilters, string]> = [
        [{ action: 'user.invite' }, 'ix_audit_log_action'],
        [{ actorId: actor }, 'ix_audit_log_actor'],
        [{ targetUserId: target }, 'ix_audit_log_target_created'],
        [{ from: '2026-07-31T23:59:50.000000Z', to: '2026-08-01T00:00:01.000000Z' }, 'ix_audit_log_created'],
      ];
      for (const [filters, index] of cases) {
        const { sql, params } = auditListQuery(filters, { after, take: 21 });
        const plan = (await t.db.query(`EXPLAIN ${sql}`, params)).map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
        const usesIndex = plan.includes(`using ${index}`);
        const sorts = /\bSort\b/.test(plan);
        // The plan is in the failure message.
        expect({ filters, usesIndex, sorts, plan: usesIndex && !sorts ? 'as expected' : plan }).toEqual({
          filters,
          usesIndex: true,
          sorts: false,
          plan: 'as expected',
        });
      }
    });
  });

  describe('bad input', () => {
    it.each([
      ['from without an offset', 'from=2026-11-01T00:00:00', 'from'],
      ['to as a date only', 'to=2026-11-01', 'to'],
      ['from not a calendar date', 'from=2026-02-30T00:00:00Z', 'from'],
      ['to with hour 24', 'to=2026-11-01T24:00:00Z', 'to'],
      ['from with a nanosecond fraction', 'from=2026-11-01T00:00:00.123456789Z', 'from'],
      ['from in year 0 once in UTC', `from=${encodeURIComponent('0001-01-01T00:00:00+01:00')}`, 'from'],
      ['from as free text', 'from=yesterday', 'from'],
      ['an offset whose + was not encoded (a space)', 'from=2026-11-01T09:00:00+09:00', 'from'],
      ['actorId not a uuid', 'actorId=123', 'actorId'],
      ['targetUserId not a uuid', "targetUserId=x'%20OR%201=1--", 'targetUserId'],
      ['action with SQL', 'action=user.disable%27%20OR%201=1--', 'action'],
      ['action in upper case', 'action=USER.DISABLE', 'action'],
      ['action too long', `action=a${'.b'.repeat(40)}`, 'action'],
      ['action given twice', 'action=user.enable&action=user.disable', 'action'],
      ['an unknown filter', 'outcome=failed', 'outcome'],
    ])('refuses %s with 400 naming the field', async (_name, query, field) => {
      const res = await get(query);
      expectStatus(res, 400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    });

    it('refuses from after to with 400, also when they differ by a microsecond', async () => {
      for (const query of [
        'from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z',
        'from=2026-11-01T00:00:00.000001Z&to=2026-11-01T00:00:00Z',
        `from=${encodeURIComponent('2026-11-01T08:00:00+09:00')}&to=2026-10-31T22:00:00Z`,
      ]) {
        const res = await get(query);
        expectStatus(res, 400);
        expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: 'from must not be after to', errors: [{ field: 'from' }] });
      }
    });
  });

  describe('who may call', () => {
    it('refuses a non-admin with 403 and an anonymous caller with 401', async () => {
      const plain = await t.given.user();
      const moderator = await t.given.user({ groups: ['moderator'] });
      for (const caller of [plain, moderator]) {
        const res = await get(`action=user.disable&actorId=${admin.id}`, caller.accessToken);
        expectStatus(res, 403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
      const anonymous = await t.http.get(`/v1/admin/audit-log?action=user.disable`);
      expectStatus(anonymous, 401);
      expect(anonymous.body.code).toBe('UNAUTHENTICATED');
    });
  });
});
