import 'reflect-metadata';
import { ApiError } from '../common/api-error';
import { parseListQuery } from '../common/page-query';
import { PageQueryDto } from '../common/pagination';
import { createValidationPipe } from '../common/validation';
import { ListPostsQueryDto } from './dto/posts.dto';

const UUID_V4 = '6a1f0d2c-4b8e-4f7a-9c3d-2e1b0a9f8e7d';
const VALUES: unknown[] = [
  undefined,
  '',
  '0',
  '1',
  '20',
  '0020',
  '00020',
  '100',
  '101',
  '9999',
  '-1',
  '1.5',
  '1e2',
  ' 5',
  'abc',
  ['1', '2'],
  [],
  'x'.repeat(512),
  'x'.repeat(513),
  UUID_V4,
  UUID_V4.toUpperCase(),
  '6a1f0d2c-4b8e-0f7a-9c3d-2e1b0a9f8e7d', // version 0
  '6a1f0d2c-4b8e-4f7a-7c3d-2e1b0a9f8e7d', // variant 7
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'a\u0000b',
  '\uD800',
];

/** Every query of up to three keys over the list's keys and a stranger, with every value above. */
function corpus(): Array<Record<string, unknown>> {
  const queries: Array<Record<string, unknown>> = [{}];
  const keys = ['limit', 'cursor', 'authorId', 'other'];
  for (const a of keys) {
    for (const va of VALUES) {
      queries.push({ [a]: va });
      for (const b of keys.filter((k) => k !== a)) {
        for (const vb of [VALUES[3], VALUES[14], VALUES[15], VALUES[19]]) {
          queries.push({ [a]: va, [b]: vb });
        }
      }
    }
  }
  queries.push({ other: '1', limit: 'abc', authorId: 'x', cursor: ['a'], more: '2' });
  queries.push({ cursor: ['a'], limit: '0', authorId: 'x' });
  return queries.map((q) => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)));
}

/** What a route answers: the error's status, code, detail and field errors, or the parsed values. */
function answer(value: unknown): unknown {
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return { ok: Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b))) };
}

function refusal(error: unknown): unknown {
  const e = error as ApiError;
  return { status: e.getStatus(), code: e.code, detail: e.message, errors: e.errors };
}

function outcome(run: () => unknown): unknown {
  try {
    return answer(run());
  } catch (error) {
    return refusal(error);
  }
}

async function outcomeAsync(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return answer(await run());
  } catch (error) {
    return refusal(error);
  }
}

describe('parseListQuery answers exactly as the DTOs validated by class-validator', () => {
  const pipe = createValidationPipe();
  const queries = corpus();

  it('covers a corpus of queries, valid and broken', () => {
    expect(queries.length).toBeGreaterThan(400);
  });

  it.each([
    ['PageQueryDto (the comments list)', PageQueryDto, [] as string[]],
    ['ListPostsQueryDto (the posts list)', ListPostsQueryDto, ['authorId']],
  ])('%s: the same 400s, field errors in the same order, and the same values', async (_name, dto, filters) => {
    const differences: unknown[] = [];
    for (const query of queries) {
      const expected = await outcomeAsync(() => pipe.transform({ ...query }, { type: 'query', metatype: dto, data: undefined }));
      const actual = outcome(() => parseListQuery({ ...query }, filters));
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        differences.push({ query, expected, actual });
      }
    }
    expect(differences.slice(0, 5)).toEqual([]);
  });

  it('gives the numbers as numbers and keeps the strings as sent', () => {
    expect(parseListQuery({ limit: '0020', cursor: 'abc', authorId: UUID_V4 }, ['authorId'])).toEqual({
      limit: 20,
      cursor: 'abc',
      authorId: UUID_V4,
    });
  });
});
