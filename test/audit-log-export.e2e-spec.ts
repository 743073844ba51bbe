import http from 'node:http';
import { parse } from 'csv-parse/sync';
import type { Response } from 'supertest';
import { EXPORT_BATCH_SIZE } from '../src/admin/audit-export';
import { AuditLogRepository } from '../src/admin/audit-log.repository';
import { insertAuditEntries, mappedUser } from './support/audit-rows';
import { bearer, expectStatus, startTestApp, TestApp, TestUser } from './support/test-app';

const CSV_HEADER = 'id,createdAt,action,actorId,targetUserId,details';

/** GET /v1/admin/audit-log/export: every filtered entry, streamed. */
describe('audit log export', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.given.user({ groups: ['admin'] });
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const exportOf = (query: string, token = admin.accessToken) =>
    t.api
      .as(token)
      .admin.auditLogExport(query)
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => done(null, text));
      });

  /** The list's items for the filters, every page followed. */
  async function listAll(filters: string): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    do {
      const res: Response = await t.api.as(admin).admin.auditLog(`${filters}&limit=100${cursor === null ? '' : `&cursor=${cursor}`}`);
      expectStatus(res, 200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor !== null);
    return items;
  }

  const csvRows = (text: string): string[][] => parse(text, { relax_column_count: false });

  describe('csv', () => {
    it('streams every matching entry (more than a page and than a batch), newest first, as an attachment', async () => {
      const actor = await mappedUser(t.db);
      const target = await mappedUser(t.db);
      const matching = await insertAuditEntries(t.db, {
        count: EXPORT_BATCH_SIZE + 120,
        actorId: actor,
        action: 'user.invite',
        targetUserId: target,
        newest: '2026-06-01T00:00:00Z',
        stepMs: 500,
      });
      // Same actor, other action; same action, other actor: filtered out.
      await insertAuditEntries(t.db, { count: 60, actorId: actor, action: 'user.enable', newest: '2026-06-01T00:00:00Z', stepMs: 700 });
      await insertAuditEntries(t.db, { count: 60, actorId: await mappedUser(t.db), action: 'user.invite', newest: '2026-06-01T00:00:00Z' });
      const list = jest.spyOn(t.app.get(AuditLogRepository), 'list');

      const res = await exportOf(`format=csv&action=user.invite&actorId=${actor}`);
      expectStatus(res, 200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-log-\d{8}T\d{6}Z\.csv"$/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
      const [header, ...rows] = csvRows(res.body as string);
      expect(header.join(',')).toBe(CSV_HEADER);
      expect(rows.map((row) => row[0])).toEqual(matching);
      for (const row of rows) {
        expect(row.slice(2, 5)).toEqual(['user.invite', actor, target]);
        expect(JSON.parse(row[5])).toMatchObject({ outcome: 'succeeded' });
      }
      expect(rows[0][1]).toBe('2026-06-01T00:00:00.000Z');
      // Read in keyset batches, not one query for everything.
      expect(list).toHaveBeenCalledTimes(2);
    });

    it('quotes details with commas, quotes and line breaks, and defuses cells a spreadsheet would run as formulas', async () => {
      const actor = await mappedUser(t.db);
      const details = { note: 'a, "quoted" word\nand a second line\r\n', formula: '=HYPERLINK("http://evil.example")' };
      await insertAuditEntries(t.db, { count: 1, actorId: actor, action: 'group.create', details, newest: '2026-05-01T00:00:02Z' });
      // Actions are ours, but the export does not rely on that: one starting like a formula is defused.
      for (const [i, action] of ['=1+2', '+SUM(A1)', '-2+3', '@cmd', '\tx'].entries()) {
        await t.db.query(`INSERT INTO audit_log (actor_id, action, created_at) VALUES ($1, $2, $3)`, [
          actor,
          action,
          `2026-05-01T00:00:01.00${i}Z`,
        ]);
      }
      // A raw line break, comma and quotes in a cell (details are JSON, whose strings escape line breaks).
      const multiline = 'line one\r\nline two, "three"';
      await t.db.query(`INSERT INTO audit_log (actor_id, action, created_at) VALUES ($1, $2, $3)`, [
        actor,
        multiline,
        '2026-05-01T00:00:00Z',
      ]);
      const res = await exportOf(`format=csv&actorId=${actor}`);
      expectStatus(res, 200);
      const text = res.body as string;
      expect(text).toContain('a, \\""quoted\\"" word');
      expect(text).toContain('"line one\r\nline two, ""three"""');
      const rows = csvRows(text).slice(1);
      expect(rows).toHaveLength(7);
      expect(rows[6][2]).toBe(multiline);
      expect(JSON.parse(rows[0][5])).toEqual({ ...details, pad: '', n: 0, outcome: 'succeeded' });
      expect(rows.slice(1, 6).map((row) => row[2])).toEqual(["'\tx", "'@cmd", "'-2+3", "'+SUM(A1)", "'=1+2"]);
      expect(rows[1][4]).toBe(''); // no target: an empty cell
      expect(text.split('\r\n')[0]).toBe(CSV_HEADER);
    });

    it('answers the header row alone when nothing matches', async () => {
      const res = await exportOf(`format=csv&actorId=${await mappedUser(t.db)}`);
      expectStatus(res, 200);
      expect(res.body).toBe(`${CSV_HEADER}\r\n`);
    });
  });

  describe('jsonl', () => {
    it('streams one entry per line, exactly what the list pages hold, for the filters', async () => {
      const actor = await mappedUser(t.db);
      await insertAuditEntries(t.db, { count: 250, actorId: actor, action: 'user.disable', newest: '2026-04-01T00:00:00Z', stepMs: 3 });
      await insertAuditEntries(t.db, { count: 40, actorId: actor, action: 'user.disable', newest: '2026-05-01T00:00:00Z' });
      await insertAuditEntries(t.db, {
        count: 20,
        actorId: actor,
        action: 'user.disable',
        newest: '2026-03-01T00:00:00Z',
        details: { note: 'line\nbreak, "and" quotes' },
      });
      const filters = `actorId=${actor}&from=2026-01-01T00:00:00Z&to=2026-04-30T00:00:00Z`;
      const res = await exportOf(`format=jsonl&${filters}`);
      expectStatus(res, 200);
      expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-log-\d{8}T\d{6}Z\.jsonl"$/);
      const text = res.body as string;
      expect(text.endsWith('\n')).toBe(true);
      const lines = text.slice(0, -1).split('\n');
      expect(lines).toHaveLength(270);
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(entries).toEqual(await listAll(filters));
    });

    it('answers an empty body when nothing matches', async () => {
      const res = await exportOf(`format=jsonl&actorId=${await mappedUser(t.db)}`);
      expectStatus(res, 200);
      expect(res.body).toBe('');
    });
  });

  describe('bad input and callers', () => {
    it.each([
      ['format missing', 'action=user.disable', 'format'],
      ['format other', 'format=xml', 'format'],
      ['format in upper case', 'format=CSV', 'format'],
      ['from without an offset', 'format=csv&from=2026-11-01T00:00:00', 'from'],
      ['a bad uuid', 'format=csv&targetUserId=nope', 'targetUserId'],
      ['a bad action', 'format=csv&action=%3D1%2B2', 'action'],
      ['a page parameter', 'format=csv&limit=10', 'limit'],
      ['a cursor', 'format=csv&cursor=abc', 'cursor'],
    ])('refuses %s with 400 problem details naming the field', async (_name, query, field) => {
      const res = await t.api.as(admin).admin.auditLogExport(query);
      expectStatus(res, 400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['content-disposition']).toBeUndefined();
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    });

    it('refuses from after to with 400', async () => {
      const res = await t.api.as(admin).admin.auditLogExport('format=jsonl&from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z');
      expectStatus(res, 400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'from' }] });
    });

    it('refuses a non-admin with 403 and an anonymous caller with 401, before reading anything', async () => {
      const list = jest.spyOn(t.app.get(AuditLogRepository), 'list');
      const plain = await t.given.user();
      const moderator = await t.given.user({ groups: ['moderator'] });
      for (const caller of [plain, moderator]) {
        const res = await t.api.as(caller).admin.auditLogExport('format=csv');
        expectStatus(res, 403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
      const anonymous = await t.http.get('/v1/admin/audit-log/export?format=csv');
      expectStatus(anonymous, 401);
      expect(anonymous.body.code).toBe('UNAUTHENTICATED');
      expect(list).not.toHaveBeenCalled();
    });
  });

  it('documents both routes, their filters and the export formats in the OpenAPI document', async () => {
    const doc = await t.http.get('/docs/openapi.json');
    expectStatus(doc, 200);
    const names = (path: string) =>
      (doc.body.paths[path].get.parameters as Array<{ name: string; in: string }>).filter((p) => p.in === 'query').map((p) => p.name);
    const filters = ['action', 'actorId', 'targetUserId', 'from', 'to'];
    expect(names('/v1/admin/audit-log').sort()).toEqual([...filters, 'limit', 'cursor'].sort());
    expect(names('/v1/admin/audit-log/export').sort()).toEqual([...filters, 'format'].sort());
    const exportOp = doc.body.paths['/v1/admin/audit-log/export'].get;
    const format = exportOp.parameters.find((p: { name: string }) => p.name === 'format');
    expect(format).toMatchObject({ required: true, schema: { enum: ['csv', 'jsonl'] } });
    expect(Object.keys(exportOp.responses['200'].content).sort()).toEqual(['application/x-ndjson', 'text/csv']);
  });

  describe('streaming', () => {
    /** Starts an export with node:http (supertest reads everything); resolves with the response once headers arrive. */
    function startExport(query: string): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
      return new Promise((resolve, reject) => {
        const req = http.get(`${t.baseUrl}/v1/admin/audit-log/export?${query}`, { headers: bearer(admin.accessToken) }, (res) =>
          resolve({ req, res }),
        );
        req.on('error', reject);
      });
    }
    const settle = () => new Promise((r) => setTimeout(r, 400));
    /**
     * Waits until `calls()` stays the same over one settle period (at most ten): on a busy machine
     * filling the socket buffers can take longer than one period. A stream that never stops reading
     * still fails the bounds asserted after this.
     */
    async function untilQuiet(calls: () => number): Promise<void> {
      for (let period = 0; period < 10; period += 1) {
        const before = calls();
        await settle();
        if (calls() === before) {
          return;
        }
      }
    }

    it('reads no further than a slow client takes, and stops querying when the client goes away', async () => {
      const actor = await mappedUser(t.db);
      const count = EXPORT_BATCH_SIZE * 24;
      // ~2 KB per entry: the whole export (~25 MB) is far more than the socket buffers hold.
      await insertAuditEntries(t.db, { count, actorId: actor, newest: '2026-02-01T00:00:00Z', stepMs: 1, padding: 2000 });
      const list = jest.spyOn(t.app.get(AuditLogRepository), 'list');

      const { req, res } = await startExport(`format=jsonl&actorId=${actor}`);
      expect(res.statusCode).toBe(200);
      res.pause(); // a client that does not read
      await untilQuiet(() => list.mock.calls.length);
      const whilePaused = list.mock.calls.length;
      await settle();
      expect(list.mock.calls.length).toBe(whilePaused); // backpressure: no more reads while nobody reads
      // Only what the socket buffers hold was read (a few MB), nowhere near all 24 batches.
      expect(whilePaused).toBeLessThanOrEqual(12);

      req.destroy(); // the client goes away mid-stream
      await untilQuiet(() => list.mock.calls.length);
      const afterClose = list.mock.calls.length;
      await settle();
      expect(list.mock.calls.length).toBe(afterClose);
      expect(afterClose).toBeLessThanOrEqual(whilePaused + 1);

      // The app still serves, and the pool was not left short of a connection.
      expectStatus(await t.api.as(admin).admin.auditLog({ actorId: actor, limit: 1 }), 200);
    });

    it('aborts the response (never a complete-looking file) when the database fails after the first byte', async () => {
      const actor = await mappedUser(t.db);
      await insertAuditEntries(t.db, { count: EXPORT_BATCH_SIZE * 3, actorId: actor, newest: '2026-01-15T00:00:00Z' });
      const repository = t.app.get(AuditLogRepository);
      const real = repository.list.bind(repository);
      let calls = 0;
      // The second batch fails as a lost connection would (a fault injected at the repository).
      jest.spyOn(repository, 'list').mockImplementation((filters, page) => {
        calls += 1;
        return calls === 2 ? Promise.reject(Object.assign(new Error('Connection terminated unexpectedly'), {})) : real(filters, page);
      });
      const { res } = await startExport(`format=csv&actorId=${actor}`);
      expect(res.statusCode).toBe(200);
      const outcome = await new Promise<{ bytes: number; aborted: boolean }>((resolve) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ bytes, aborted: false }));
        res.on('error', () => resolve({ bytes, aborted: true }));
        res.on('aborted', () => resolve({ bytes, aborted: true }));
      });
      expect(outcome.aborted).toBe(true);
      expect(outcome.bytes).toBeGreaterThan(0);
    });

    it('answers HEAD with the headers alone, reading no more than the first batch', async () => {
      const actor = await mappedUser(t.db);
      await insertAuditEntries(t.db, { count: EXPORT_BATCH_SIZE * 2, actorId: actor, newest: '2026-01-10T00:00:00Z' });
      const list = jest.spyOn(t.app.get(AuditLogRepository), 'list');
      const res = await t.http.head(`/v1/admin/audit-log/export?format=csv&actorId=${actor}`).set(bearer(admin.accessToken));
      expectStatus(res, 200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toMatch(/^attachment; /);
      await new Promise((r) => setTimeout(r, 200));
      expect(list).toHaveBeenCalledTimes(1);
    });

    it('answers problem details when the database fails before the first byte', async () => {
      jest.spyOn(t.app.get(AuditLogRepository), 'list').mockRejectedValueOnce(new Error('Connection terminated unexpectedly'));
      const res = await t.api.as(admin).admin.auditLogExport('format=csv');
      expectStatus(res, 503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['content-disposition']).toBeUndefined();
      expect(res.body.code).toBe('SERVICE_UNAVAILABLE');
    });
  });
});
