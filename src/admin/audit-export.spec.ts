import { parse } from 'csv-parse/sync';
import { exportEncoding, exportFilename } from './audit-export';
import { parseInstant } from './dto/audit-log.dto';

const entry = {
  id: '00000000-0000-4000-8000-000000000001',
  actorId: '00000000-0000-4000-8000-000000000002',
  action: 'user.disable',
  targetUserId: null,
  details: { outcome: 'succeeded' },
  createdAt: '2026-12-01T00:00:00.000Z',
};

describe('audit export encodings', () => {
  const csv = exportEncoding('csv');

  it('writes CSV rows that a CSV parser reads back, with quoting where needed', () => {
    const tricky = { ...entry, action: 'a,b "c"\r\nd', details: { note: 'x,"y"\nz' } };
    const text = csv.header + csv.encode([entry, tricky]);
    const rows: string[][] = parse(text);
    expect(rows[0]).toEqual(['id', 'createdAt', 'action', 'actorId', 'targetUserId', 'details']);
    expect(rows[1]).toEqual([entry.id, entry.createdAt, 'user.disable', entry.actorId, '', '{"outcome":"succeeded"}']);
    expect(rows[2][2]).toBe('a,b "c"\r\nd');
    expect(parse(csv.encode([{ ...entry, action: 'x\ry' }]))[0][2]).toBe('x\ry');
    expect(JSON.parse(rows[2][5])).toEqual({ note: 'x,"y"\nz' });
    expect(text.endsWith('\r\n')).toBe(true);
  });

  it.each(['=', '+', '-', '@', '\t', '\r', '\uFF1D'])('prefixes a cell starting with %j with a single quote', (lead) => {
    const rows: string[][] = parse(csv.encode([{ ...entry, action: `${lead}1+1`, targetUserId: `${lead}x` }]));
    expect(rows[0][2]).toBe(`'${lead}1+1`);
    expect(rows[0][4]).toBe(`'${lead}x`);
  });

  it('writes one JSON object per line for jsonl, line breaks inside values escaped', () => {
    const jsonl = exportEncoding('jsonl');
    const text = jsonl.encode([entry, { ...entry, details: { note: 'a\nb\u2028c' } }]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[1])).toEqual({ ...entry, details: { note: 'a\nb\u2028c' } });
    expect(jsonl.header).toBe('');
  });

  it('names the file after the time, with nothing that needs quoting', () => {
    expect(exportFilename(csv, new Date('2026-12-07T01:02:03.456Z'))).toBe('audit-log-20261207T010203Z.csv');
  });
});

describe('parseInstant', () => {
  it.each([
    ['2026-12-01T00:00:00Z', '2026-12-01T00:00:00.000000Z'],
    ['2026-12-01T09:30+09:00', '2026-12-01T00:30:00.000000Z'],
    ['2026-12-01T00:00:00.1234-01:30', '2026-12-01T01:30:00.123400Z'],
    ['2024-02-29T23:59:59.999999Z', '2024-02-29T23:59:59.999999Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000000Z'],
  ])('reads %s as %s', (text, utc) => {
    expect(parseInstant(text)?.utc).toBe(utc);
  });

  it.each([
    '2026-12-01T00:00:00',
    '2026-12-01',
    '2026-12-01 00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2026-12-01T24:00:00Z',
    '2026-12-01T00:60:00Z',
    '2026-12-01T00:00:60Z',
    '2026-12-01T00:00:00+15:00',
    '2026-12-01T00:00:00+0900',
    '2026-12-01T00:00:00.1234567Z',
    '0001-01-01T00:00:00+00:01',
    '9999-12-31T23:59:59-00:01',
    '+02026-12-01T00:00:00Z',
  ])('refuses %s', (text) => {
    expect(parseInstant(text)).toBeNull();
  });

  it('orders instants to the microsecond across offsets', () => {
    const a = parseInstant('2026-12-01T09:00:00.000001+09:00')!;
    const b = parseInstant('2026-12-01T00:00:00Z')!;
    expect(a.micros - b.micros).toBe(1n);
  });
});
