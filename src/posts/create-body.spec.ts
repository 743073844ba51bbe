import 'reflect-metadata';
import { ApiError } from '../common/api-error';
import { readCheckedBody } from '../common/checked-body';
import { createValidationPipe, inspectInput } from '../common/validation';
import { MAX_ATTACHMENTS } from '../uploads/entities/upload.entity';
import { CreatePostDto, plainCreatePost } from './dto/posts.dto';
import { POST_BODY_MAX, TITLE_MAX } from './entities/post.entity';

const HEART = '\u2764\uFE0F'; // two code points, as PostgreSQL counts them
const EMOJI = '\u{1F600}'; // one code point in two UTF-16 units
const UUIDS = ['6a1f0d2c-4b8e-4f7a-9c3d-2e1b0a9f8e7d', '0b6f3c1e-2d4a-4e8b-8f1c-7a9d0e2b3c4d', '9d8c7b6a-5f4e-4d3c-ab2a-1f0e9d8c7b6a'];

/** Text that TrimmedText(1, max) accepts, refuses, or trims into range. */
function texts(max: number): unknown[] {
  return [
    undefined,
    null,
    '',
    ' ',
    '\u00A0\uFEFF',
    'Hello',
    '  Hello  ',
    'line\nbreak\ttab\r\n',
    'a'.repeat(max),
    'a'.repeat(max + 1),
    ` ${'a'.repeat(max)} `,
    EMOJI.repeat(max),
    EMOJI.repeat(max + 1),
    HEART.repeat(max / 2),
    HEART.repeat(max / 2 + 1),
    'bell\u0007',
    'del\u007F',
    'nul\u0000',
    'lone \uD800 surrogate',
    'lone \uDC00 low',
    '\u2028separator\u2029',
    42,
    true,
    [],
    ['Hello'],
    {},
  ];
}

const ATTACHMENTS: unknown[] = [
  undefined,
  null,
  [],
  [UUIDS[0]],
  UUIDS,
  [UUIDS[0], UUIDS[0]],
  [UUIDS[0], UUIDS[0].toUpperCase()],
  [UUIDS[0].toUpperCase()],
  Array.from({ length: MAX_ATTACHMENTS }, (_, i) => `${UUIDS[0].slice(0, -1)}${i}`),
  Array.from({ length: MAX_ATTACHMENTS + 1 }, (_, i) => `${UUIDS[0].slice(0, -1)}${i}`),
  ['00000000-0000-0000-0000-000000000000'],
  ['6a1f0d2c-4b8e-0f7a-9c3d-2e1b0a9f8e7d'], // version 0
  ['not-a-uuid'],
  [1],
  [null],
  [[UUIDS[0]]],
  UUIDS[0],
  {},
];

/** Bodies over every title, body and attachment value, strangers and non-objects. */
function corpus(): unknown[] {
  const bodies: unknown[] = [];
  const titles = texts(TITLE_MAX);
  const bodyTexts = texts(POST_BODY_MAX);
  for (const title of titles) {
    for (const body of [bodyTexts[5], bodyTexts[2], bodyTexts[9], bodyTexts[17], bodyTexts[21]]) {
      bodies.push({ title, body });
    }
  }
  for (const body of bodyTexts) {
    bodies.push({ title: 'Hello', body });
  }
  for (const attachmentIds of ATTACHMENTS) {
    bodies.push({ title: 'Hello', body: 'World', attachmentIds });
    bodies.push({ title: '', body: 'World', attachmentIds });
  }
  bodies.push(
    { title: 'Hello', body: 'World', other: 1 },
    { title: 'Hello', body: 'World', authorId: UUIDS[0] },
    { title: '', body: 'World', other: 1 },
    JSON.parse('{"title":"Hello","body":"World","__proto__":{"x":1}}'),
    { title: 'Hello', body: 'World', constructor: 'x' },
    { title: 'Hello', body: { deep: { deeper: 'x' } } },
    {},
    null,
    undefined,
    'Hello',
    42,
    [],
    [{ title: 'Hello', body: 'World' }],
  );
  // A missing property is absent, as JSON.parse leaves it.
  return bodies.map((b) =>
    typeof b === 'object' && b !== null && !Array.isArray(b)
      ? Object.fromEntries(Object.entries(b as Record<string, unknown>).filter(([, v]) => v !== undefined))
      : b,
  );
}

/** What a route answers: the error's status, code, detail and field errors, or the values it reads. */
async function outcome(run: () => unknown): Promise<unknown> {
  try {
    const value = (await run()) as Record<string, unknown>;
    return { ok: Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))) };
  } catch (error) {
    const e = error as ApiError;
    return { status: e.getStatus(), code: e.code, detail: e.message, errors: e.errors };
  }
}

describe('CheckedBody(CreatePostDto, plainCreatePost) answers exactly as the validation pipe', () => {
  const pipe = createValidationPipe();
  const bodies = corpus();
  const copy = (body: unknown): unknown => (body === undefined ? undefined : structuredClone(body));

  it('covers a corpus of bodies, valid and broken', () => {
    expect(bodies.length).toBeGreaterThan(200);
  });

  it('gives the same values, the same 400s and the same field errors in the same order', async () => {
    const differences: unknown[] = [];
    for (const body of bodies) {
      const expected = await outcome(() => pipe.transform(copy(body), { type: 'body', metatype: CreatePostDto, data: undefined }));
      const actual = await outcome(() => readCheckedBody(copy(body), CreatePostDto, plainCreatePost));
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        differences.push({ body, expected, actual });
      }
    }
    expect(differences.slice(0, 5)).toEqual([]);
  });

  it('reads every body the pipe accepts by hand, and only those (after the input inspection)', async () => {
    const byHand: unknown[] = [];
    const mismatched: unknown[] = [];
    for (const body of bodies) {
      const accepted = (await outcome(() => pipe.transform(copy(body), { type: 'body', metatype: CreatePostDto, data: undefined }))) as {
        ok?: unknown;
      };
      // Bodies that are not text at all (a lone surrogate, a NUL) are refused before any DTO is read.
      const read = inspectInput(body) === null ? plainCreatePost(copy(body)) : undefined;
      if ((accepted.ok !== undefined) !== (read !== undefined)) {
        mismatched.push({ body, accepted, read });
      }
      if (read !== undefined) {
        byHand.push(read);
      }
    }
    expect(mismatched.slice(0, 5)).toEqual([]);
    expect(byHand.length).toBeGreaterThan(20);
  });

  it('trims the text as the pipe does and keeps the ids as sent', () => {
    expect(plainCreatePost({ title: '  Hi  ', body: '\tThere\n', attachmentIds: [UUIDS[1]] })).toEqual({
      title: 'Hi',
      body: 'There',
      attachmentIds: [UUIDS[1]],
    });
  });
});
