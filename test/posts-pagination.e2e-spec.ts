import { randomUUID } from 'node:crypto';
import { bearer, expectStatus, startTestApp, TestApp, TestUser } from './support/test-app';
import { FailFastClient } from '../src/database/database-options';

interface Item {
  id: string;
  author: { id: string; nickname: string | null; status: string };
}

describe('posts and comments: keyset pages and query count', () => {
  let t: TestApp;
  let viewer: TestUser;
  let pager: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    viewer = await t.given.user({ nickname: 'Viewer' });
    pager = await t.given.user({ nickname: 'Pager' });
  });
  afterAll(() => t.close());

  async function page(path: string, cursor: string | null): Promise<{ ids: string[]; nextCursor: string | null }> {
    const res = await t.http.get(cursor === null ? path : `${path}&cursor=${cursor}`).set(bearer(viewer.accessToken));
    expectStatus(res, 200);
    return { ids: (res.body.items as Item[]).map((item) => item.id), nextCursor: res.body.nextCursor as string | null };
  }

  /**
   * A few hundred rows whose timestamps tie at the microsecond (every 5th row), differ only below
   * the millisecond (every 7th row) or are a second apart; every 11th row is soft-deleted.
   */
  const SEEDED_TIMES = `CASE WHEN i % 5 = 0 THEN base
                             WHEN i % 7 = 0 THEN base + make_interval(secs => i / 1000000.0)
                             ELSE base - make_interval(secs => i) END`;

  it('walks 300 posts newest first with inserts on both sides of the cursor, never repeating or skipping one', async () => {
    await t.db.query(
      `INSERT INTO posts (author_id, title, body, created_at, deleted_at)
       SELECT $1, 'seed ' || i, 'body ' || i, ${SEEDED_TIMES}, CASE WHEN i % 11 = 0 THEN now() END
         FROM generate_series(1, 300) i, (SELECT now() - interval '1 day' AS base) b`,
      [pager.id],
    );
    const path = `/v1/posts?authorId=${pager.id}&limit=7`;
    /** Rows inserted behind the cursor (already passed): the walk must not return them. */
    const behind = new Set<string>();
    const seen: string[] = [];
    let cursor: string | null = null;
    let step = 0;
    do {
      const result = await page(path, cursor);
      seen.push(...result.ids);
      cursor = result.nextCursor;
      if (cursor === null) {
        break;
      }
      step += 1;
      // Newer than everything: behind a newest-first cursor.
      const newer = await t.api.as(pager).posts.create({ title: `new ${step}`, body: 'b' });
      expectStatus(newer, 201);
      behind.add(newer.body.id);
      // Older than everything: ahead of the cursor, so the walk reaches it.
      await t.db.query(
        `INSERT INTO posts (author_id, title, body, created_at)
         VALUES ($1, 'old', 'b', now() - interval '10 years' - make_interval(secs => $2))`,
        [pager.id, step],
      );
      // The same microsecond as the page's last row: which side it falls on depends on its id.
      const tiedId = randomUUID();
      const [{ ahead }] = await t.db.query(
        `INSERT INTO posts (id, author_id, title, body, created_at)
         SELECT $1, author_id, 'tied', 'b', created_at FROM posts WHERE id = $2
         RETURNING (created_at, id) < (SELECT created_at, id FROM posts WHERE id = $2) AS ahead`,
        [tiedId, result.ids[result.ids.length - 1]],
      );
      if (ahead !== true) {
        behind.add(tiedId);
      }
    } while (cursor !== null);

    const all: Array<{ id: string }> = await t.db.query(
      `SELECT id FROM posts WHERE author_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC`,
      [pager.id],
    );
    expect(step).toBeGreaterThan(40);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(all.map((r) => r.id).filter((id) => !behind.has(id)));
  });

  it('walks the unfiltered list in pages of 100 exactly as the database orders it', async () => {
    await t.db.query(
      `INSERT INTO posts (author_id, title, body, created_at)
       SELECT $1, 'bulk ' || i, 'b', ${SEEDED_TIMES}
         FROM generate_series(1, 250) i, (SELECT now() - interval '2 days' AS base) b`,
      [viewer.id],
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const result = await page('/v1/posts?limit=100', cursor);
      seen.push(...result.ids);
      cursor = result.nextCursor;
    } while (cursor !== null);
    const all: Array<{ id: string }> = await t.db.query(`SELECT id FROM posts WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC`);
    expect(seen).toEqual(all.map((r) => r.id));
  });

  it('walks 250 comments oldest first with inserts on both sides of the cursor, never repeating or skipping one', async () => {
    const post = await t.api.as(pager).posts.create({ title: 'busy', body: 'b' });
    expectStatus(post, 201);
    const postId = post.body.id as string;
    await t.db.query(
      `WITH seeded AS (
         INSERT INTO comments (post_id, author_id, body, created_at, deleted_at)
         SELECT $1, $2, 'seed ' || i, ${SEEDED_TIMES}, CASE WHEN i % 11 = 0 THEN now() END
           FROM generate_series(1, 250) i, (SELECT now() - interval '1 day' AS base) b
         RETURNING deleted_at
       )
       UPDATE posts SET comment_count = (SELECT count(*) FROM seeded WHERE deleted_at IS NULL) WHERE id = $1`,
      [postId, viewer.id],
    );
    const path = `/v1/posts/${postId}/comments?limit=9`;
    const behind = new Set<string>();
    const seen: string[] = [];
    let cursor: string | null = null;
    let step = 0;
    do {
      const result = await page(path, cursor);
      seen.push(...result.ids);
      cursor = result.nextCursor;
      if (cursor === null) {
        break;
      }
      step += 1;
      // Newer than everything: ahead of an oldest-first cursor, so the walk reaches it.
      expectStatus(await t.api.as(pager).comments.create(postId, { body: `new ${step}` }), 201);
      // Older than everything: behind the cursor.
      const [old] = await t.db.query(
        `INSERT INTO comments (post_id, author_id, body, created_at)
         VALUES ($1, $2, 'old', now() - interval '10 years' - make_interval(secs => $3)) RETURNING id`,
        [postId, viewer.id, step],
      );
      behind.add(old.id);
      const tiedId = randomUUID();
      const [{ ahead }] = await t.db.query(
        `INSERT INTO comments (id, post_id, author_id, body, created_at)
         SELECT $1, post_id, author_id, 'tied', created_at FROM comments WHERE id = $2
         RETURNING (created_at, id) > (SELECT created_at, id FROM comments WHERE id = $2) AS ahead`,
        [tiedId, result.ids[result.ids.length - 1]],
      );
      if (ahead !== true) {
        behind.add(tiedId);
      }
    } while (cursor !== null);

    const all: Array<{ id: string }> = await t.db.query(
      `SELECT id FROM comments WHERE post_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`,
      [postId],
    );
    expect(step).toBeGreaterThan(25);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(all.map((r) => r.id).filter((id) => !behind.has(id)));
  });

  describe('query count', () => {
    let postId: string;

    beforeAll(async () => {
      // 120 distinct authors, so an author lookup per row (N+1) would show.
      const authors: Array<{ id: string }> = await t.db.query(
        `INSERT INTO user_mapping (cognito_sub, cognito_username, nickname)
         SELECT 'seed-' || i || '-' || $1, 'seed-' || i || '-' || $1, 'Seed ' || i FROM generate_series(1, 120) i
         RETURNING id`,
        [randomUUID()],
      );
      const ids = authors.map((a) => a.id);
      await t.db.query(`INSERT INTO posts (author_id, title, body) SELECT a, 'by ' || a, 'b' FROM unnest($1::uuid[]) a`, [ids]);
      const post = await t.api.as(pager).posts.create({ title: 'many voices', body: 'b' });
      expectStatus(post, 201);
      postId = post.body.id;
      for (const id of ids) {
        expectStatus(await t.api.as(pager).comments.create(postId, { body: id }), 201);
      }
      await t.db.query(`UPDATE comments SET author_id = body::uuid WHERE post_id = $1`, [postId]);
    });

    /**
     * Every SQL statement the app sends while serving one request, counted on the pg connection
     * itself: through TypeORM or straight on its pool (poolQuery), each one is a client query.
     */
    async function statementsOf(path: string): Promise<{ statements: string[]; items: Item[] }> {
      const spy = jest.spyOn(FailFastClient.prototype, 'query');
      try {
        const res = await t.http.get(path).set(bearer(viewer.accessToken));
        expectStatus(res, 200);
        // A statement is SQL text, or a query config ({ text, values, name? }) as poolQuery sends it.
        const text = (query: unknown): string => (typeof query === 'string' ? query : String((query as { text?: unknown }).text));
        return { statements: spy.mock.calls.map(([query]) => text(query)), items: res.body.items as Item[] };
      } finally {
        spy.mockRestore();
      }
    }

    it.each([
      ['posts', () => '/v1/posts?limit=', /\bFROM posts\b/],
      ['comments', () => `/v1/posts/${postId}/comments?limit=`, /\bFROM comments\b/],
    ])('reads a page of %s in the same number of statements for 1 and 100 items', async (_list, path, reads) => {
      const one = await statementsOf(`${path()}1`);
      const hundred = await statementsOf(`${path()}100`);
      expect(one.items).toHaveLength(1);
      expect(hundred.items).toHaveLength(100);
      expect(new Set(hundred.items.map((item) => item.author.id)).size).toBe(100);
      expect(hundred.statements).toHaveLength(one.statements.length);
      // The caller's own row (the guard) plus the page itself, with its authors joined.
      expect(hundred.statements.filter((sql) => reads.test(sql))).toHaveLength(1);
      expect(hundred.statements).toHaveLength(2);
    });
  });
});
