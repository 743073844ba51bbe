import { decodeCursor, encodeCursor, pageRequest, toPage } from './pagination';

describe('keyset cursors', () => {
  const position = { createdAt: '2026-11-26T15:03:20.199123Z', id: '0b3f8a52-8a57-4b8e-9a57-1c2d3e4f5a6b' };

  it('round-trips a position at microsecond precision', () => {
    expect(decodeCursor('posts', encodeCursor('posts', position))).toEqual(position);
  });

  it.each(['2024-02-29T23:59:59.999999Z', '0001-01-01T00:00:00.000000Z', '0099-12-31T00:00:00.000000Z', '9999-12-31T23:59:59.999999Z'])(
    'accepts the real instant %s',
    (createdAt) => {
      expect(decodeCursor('posts', encodeCursor('posts', { ...position, createdAt }))).toEqual({ ...position, createdAt });
    },
  );

  it.each([
    ['garbage', 'not base64 !!'],
    ['valid base64 of non-JSON', Buffer.from('hello').toString('base64url')],
    ['a foreign list', encodeCursor('comments', position)],
    ['a tampered id', encodeCursor('posts', { ...position, id: "x' OR 1=1 --" })],
    ['a millisecond timestamp', encodeCursor('posts', { ...position, createdAt: '2026-11-26T15:03:20.199Z' })],
    ['an object', Buffer.from(JSON.stringify({ kind: 'posts' })).toString('base64url')],
    // Found by the fuzzer: Date.parse accepts these, PostgreSQL refused them as a 500.
    ['February 30', encodeCursor('posts', { ...position, createdAt: '2024-02-30T00:00:00.000000Z' })],
    ['February 29 of a common year', encodeCursor('posts', { ...position, createdAt: '2023-02-29T10:00:00.000000Z' })],
    ['April 31', encodeCursor('posts', { ...position, createdAt: '2024-04-31T10:00:00.000000Z' })],
    ['year 0', encodeCursor('posts', { ...position, createdAt: '0000-01-15T05:43:43.537417Z' })],
    ['hour 24', encodeCursor('posts', { ...position, createdAt: '2024-01-01T24:00:00.000000Z' })],
    ['second 60', encodeCursor('posts', { ...position, createdAt: '2024-01-01T23:59:60.000000Z' })],
  ])('refuses %s with VALIDATION_FAILED', (_what, cursor) => {
    expect(() => decodeCursor('posts', cursor)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }) as Error);
  });
});

describe('pages', () => {
  const row = (n: number): { id: string; cursor_ts: string } => ({
    id: `0b3f8a52-8a57-4b8e-9a57-1c2d3e4f5a6${n}`,
    cursor_ts: `2026-11-26T15:03:2${n}.000000Z`,
  });

  it('reads one row more than the page and continues after the last row shown', () => {
    const request = pageRequest('posts', { limit: 2 });
    expect(request).toEqual({ kind: 'posts', limit: 2, after: null, take: 3 });
    const page = toPage(request, [row(1), row(2), row(3)], (r) => r.id);
    expect(page.items).toEqual([row(1).id, row(2).id]);
    expect(pageRequest('posts', { cursor: page.nextCursor ?? '' }).after).toEqual({ createdAt: row(2).cursor_ts, id: row(2).id });
  });

  it('has no next page when the extra row is missing', () => {
    expect(toPage(pageRequest('posts', { limit: 2 }), [row(1), row(2)], (r) => r.id).nextCursor).toBeNull();
  });

  it('defaults to 20 rows and refuses a cursor of another list', () => {
    expect(pageRequest('audit', {}).take).toBe(21);
    const foreign = encodeCursor('posts', { createdAt: row(1).cursor_ts, id: row(1).id });
    expect(() => pageRequest('audit', { cursor: foreign })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }) as Error);
  });
});
