import { inspectInput, MAX_INPUT_DEPTH } from './validation';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i += 1) {
    value = { a: value };
  }
  return value;
}

describe('inspectInput (hostile bodies and queries)', () => {
  it('lets ordinary flat input through', () => {
    expect(inspectInput({ title: 'héllo 👋', body: 'x', tags: ['a', 'b'] })).toBeNull();
    expect(inspectInput(undefined)).toBeNull();
    expect(inspectInput([1, 2, 3])).toBeNull();
  });

  it('refuses nesting deeper than the limit without recursing (30,000 levels would overflow the stack)', () => {
    expect(inspectInput(nested(MAX_INPUT_DEPTH))).toBeNull();
    expect(inspectInput(nested(MAX_INPUT_DEPTH + 1))?.error.message).toMatch(/nest deeper/);
    let deep: unknown = [];
    for (let i = 0; i < 30_000; i += 1) {
      deep = [deep];
    }
    expect(inspectInput({ title: deep })?.detail).toBe('The request nests too deeply');
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses a %s key, which validation would drop silently', (key) => {
    const input = JSON.parse(`{"title":"t","nested":{"${key}":"x"}}`) as unknown;
    expect(inspectInput(input)).toEqual({
      detail: 'The request has unknown properties',
      error: { field: `nested.${key}`, message: `property ${key} should not exist` },
    });
  });

  it('refuses lone surrogates in values and keys, and accepts surrogate pairs', () => {
    expect(inspectInput({ title: 'a\ud800b' })?.error).toEqual({ field: 'title', message: 'must be valid Unicode text' });
    expect(inspectInput({ title: '\udfff' })).not.toBeNull();
    expect(inspectInput({ list: ['ok', 'bad \ud83d'] })?.error.field).toBe('list.1');
    expect(inspectInput({ ['k\udc00']: 1 })).not.toBeNull();
    expect(inspectInput({ title: '\ud83d\ude00' })).toBeNull();
  });

  it('refuses NUL characters, which PostgreSQL text cannot hold', () => {
    expect(inspectInput({ q: 'a\u0000b' })?.error).toEqual({ field: 'q', message: 'must not contain NUL characters' });
    expect(inspectInput(['\u0000'])).not.toBeNull();
  });
});
