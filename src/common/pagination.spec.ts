import { decodeCursor, encodeCursor } from './pagination';

describe('keyset cursors', () => {
  const position = { createdAt: '2026-11-26T15:03:20.199123Z', id: '0b3f8a52-8a57-4b8e-9a57-1c2d3e4f5a6b' };

  it('round-trips a position at microsecond precision', () => {
    expect(decodeCursor('posts', encodeCursor('posts', position))).toEqual(position);
  });

  it.each([
    ['garbage', 'not base64 !!'],
    ['valid base64 of non-JSON', Buffer.from('hello').toString('base64url')],
    ['a foreign list', encodeCursor('comments', position)],
    ['a tampered id', encodeCursor('posts', { ...position, id: "x' OR 1=1 --" })],
    ['a millisecond timestamp', encodeCursor('posts', { ...position, createdAt: '2026-11-26T15:03:20.199Z' })],
    ['an object', Buffer.from(JSON.stringify({ kind: 'posts' })).toString('base64url')],
  ])('refuses %s with VALIDATION_FAILED', (_what, cursor) => {
    expect(() => decodeCursor('posts', cursor)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }) as Error);
  });
});
