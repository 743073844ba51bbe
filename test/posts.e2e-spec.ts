import type { Response } from 'supertest';
import type { CommentBody, CreatePostRequest, PostBody } from './support/api/posts';
import { bearer, expectStatus, startTestApp, TestApp, TestUser } from './support/test-app';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

const problem = (res: Response): { status: number; code: unknown } => ({ status: res.status, code: res.body.code });

describe('posts and comments', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let moderator: TestUser;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    // One at a time: the helper reads cognito-local's JSON file, which a concurrent signup may be rewriting.
    alice = await t.given.user({ nickname: 'Alice' });
    bob = await t.given.user({ nickname: 'Bob' });
    carol = await t.given.user({ nickname: 'Carol' });
    moderator = await t.given.user({ nickname: 'Mod', groups: ['moderator'] });
    admin = await t.given.user({ nickname: 'Root', groups: ['admin'] });
  });
  afterAll(() => t.close());

  /** A post as a reader (Carol) sees it. */
  const getPost = (postId: string): Promise<Response> => t.api.as(carol).posts.get(postId);

  describe('posts', () => {
    it('creates a post with a Location header and the author read from user_mapping', async () => {
      const res = await t.api.as(alice).posts.create({ title: '  Hello world  ', body: '\n First post \n' });
      expectStatus(res, 201);
      expect(res.body).toEqual({
        id: expect.any(String),
        title: 'Hello world',
        body: 'First post',
        author: { id: alice.id, nickname: 'Alice', status: 'active' },
        commentCount: 0,
        attachments: [],
        createdAt: expect.stringMatching(ISO_UTC),
        updatedAt: expect.stringMatching(ISO_UTC),
      });
      expect(res.headers.location).toBe(`/v1/posts/${res.body.id}`);
      const read = await getPost(res.body.id);
      expectStatus(read, 200);
      expect(read.body).toEqual(res.body);
    });

    it('lets the author edit the title alone, leaving the body, and moves updatedAt', async () => {
      const post = await t.api.as(alice).posts.created({ title: 'Before', body: 'Unchanged body' });
      const res = await t.api.as(alice).posts.update(post.id, { title: ' After ' });
      expectStatus(res, 200);
      expect(res.body).toMatchObject({ id: post.id, title: 'After', body: 'Unchanged body', createdAt: post.createdAt });
      expect(Date.parse(res.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(post.updatedAt));
      const body = await t.api.as(alice).posts.update(post.id, { body: 'New body' });
      expect(body.body).toMatchObject({ title: 'After', body: 'New body' });
    });

    it('soft-deletes: the row stays, but reads, edits and a second delete answer 404', async () => {
      const post = await t.api.as(alice).posts.created();
      expectStatus(await t.api.as(alice).posts.delete(post.id), 204);
      const [row] = await t.db.query(`SELECT deleted_at FROM posts WHERE id = $1`, [post.id]);
      expect(row.deleted_at).toBeInstanceOf(Date);
      expect(problem(await getPost(post.id))).toEqual({ status: 404, code: 'NOT_FOUND' });
      const list = await t.api.as(carol).posts.list({ authorId: alice.id, limit: 100 });
      expect(list.body.items.map((p: PostBody) => p.id)).not.toContain(post.id);
      const edit = await t.api.as(alice).posts.update(post.id, { title: 'x' });
      expect(problem(edit)).toEqual({ status: 404, code: 'NOT_FOUND' });
      expect(problem(await t.api.as(alice).posts.delete(post.id))).toEqual({
        status: 404,
        code: 'NOT_FOUND',
      });
    });

    it('answers 404 for an unknown post on every route', async () => {
      const api = t.api.as(alice);
      expect(problem(await api.posts.get(UNKNOWN_ID)).status).toBe(404);
      expect(problem(await api.posts.update(UNKNOWN_ID, { title: 'x' })).status).toBe(404);
      expect(problem(await api.posts.delete(UNKNOWN_ID)).status).toBe(404);
      expect(problem(await api.comments.list(UNKNOWN_ID)).status).toBe(404);
      expect(problem(await api.comments.create(UNKNOWN_ID, { body: 'x' })).status).toBe(404);
      expect(problem(await api.comments.update(UNKNOWN_ID, UNKNOWN_ID, { body: 'x' })).status).toBe(404);
      expect(problem(await api.comments.delete(UNKNOWN_ID, UNKNOWN_ID)).status).toBe(404);
    });

    it('lists newest first and filters by author', async () => {
      const author = await t.given.user({ nickname: 'Lister' });
      const first = await t.api.as(author).posts.created({ title: 'first' });
      const second = await t.api.as(author).posts.created({ title: 'second' });
      const res = await t.api.as(carol).posts.list({ authorId: author.id });
      expectStatus(res, 200);
      expect(res.body).toEqual({ items: [second, first], nextCursor: null });
      const all = await t.api.as(carol).posts.list({ limit: 2 });
      expect(all.body.items.map((p: PostBody) => p.id)).toEqual([second.id, first.id]);
      expect(typeof all.body.nextCursor).toBe('string');
      const nobody = await t.api.as(carol).posts.list({ authorId: UNKNOWN_ID });
      expect(nobody.body).toEqual({ items: [], nextCursor: null });
    });

    it('requires a token', async () => {
      expect((await t.http.get('/v1/posts')).status).toBe(401);
      expect((await t.http.post('/v1/posts').send({ title: 'a', body: 'b' })).status).toBe(401);
    });
  });

  describe('comments', () => {
    it('adds, lists oldest first, edits and deletes comments, keeping commentCount in step', async () => {
      const post = await t.api.as(alice).posts.created();
      const c1 = await t.api.as(bob).comments.created(post.id, '  first  ');
      expect(c1).toEqual({
        id: expect.any(String),
        postId: post.id,
        body: 'first',
        author: { id: bob.id, nickname: 'Bob', status: 'active' },
        createdAt: expect.stringMatching(ISO_UTC),
        updatedAt: expect.stringMatching(ISO_UTC),
      });
      const c2 = await t.api.as(carol).comments.created(post.id, 'second');
      expect((await getPost(post.id)).body.commentCount).toBe(2);

      const list = await t.api.as(alice).comments.list(post.id);
      expectStatus(list, 200);
      expect(list.body).toEqual({ items: [c1, c2], nextCursor: null });

      const edited = await t.api.as(bob).comments.update(post.id, c1.id, { body: ' edited ' });
      expectStatus(edited, 200);
      expect(edited.body).toMatchObject({ id: c1.id, postId: post.id, body: 'edited', createdAt: c1.createdAt });

      expectStatus(await t.api.as(bob).comments.delete(post.id, c1.id), 204);
      expect((await getPost(post.id)).body.commentCount).toBe(1);
      const after = await t.api.as(alice).comments.list(post.id);
      expect(after.body.items.map((c: CommentBody) => c.id)).toEqual([c2.id]);
      expect(problem(await t.api.as(bob).comments.delete(post.id, c1.id)).status).toBe(404);
      expect(problem(await t.api.as(bob).comments.update(post.id, c1.id, { body: 'x' })).status).toBe(404);
    });

    it('answers an empty page for a live post without comments', async () => {
      const post = await t.api.as(alice).posts.created();
      const res = await t.api.as(bob).comments.list(post.id);
      expect(res.body).toEqual({ items: [], nextCursor: null });
    });

    it('treats a comment addressed through another post as missing, even for its author and a moderator', async () => {
      const post = await t.api.as(alice).posts.created();
      const other = await t.api.as(alice).posts.created();
      const comment = await t.api.as(bob).comments.created(post.id);
      // Addressed through the other post.
      expect(problem(await t.api.as(bob).comments.update(other.id, comment.id, { body: 'x' }))).toEqual({
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(problem(await t.api.as(bob).comments.delete(other.id, comment.id))).toEqual({ status: 404, code: 'NOT_FOUND' });
      expect(problem(await t.api.as(moderator).comments.delete(other.id, comment.id))).toEqual({ status: 404, code: 'NOT_FOUND' });
      expect(problem(await t.api.as(admin).comments.delete(other.id, comment.id))).toEqual({ status: 404, code: 'NOT_FOUND' });
      const list = await t.api.as(alice).comments.list(post.id);
      expect(list.body.items).toEqual([comment]);
      expect((await getPost(post.id)).body.commentCount).toBe(1);
      expect((await getPost(other.id)).body.commentCount).toBe(0);
    });

    it("hides a deleted post's comments from every read and write", async () => {
      const post = await t.api.as(alice).posts.created();
      const comment = await t.api.as(bob).comments.created(post.id);
      expectStatus(await t.api.as(moderator).posts.delete(post.id), 204);
      const comments = t.api.as(bob).comments;
      expect(problem(await comments.list(post.id))).toEqual({ status: 404, code: 'NOT_FOUND' });
      expect(problem(await comments.create(post.id, { body: 'late' }))).toEqual({
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(problem(await comments.update(post.id, comment.id, { body: 'x' })).status).toBe(404);
      expect(problem(await comments.delete(post.id, comment.id)).status).toBe(404);
      expect(problem(await t.api.as(admin).comments.delete(post.id, comment.id)).status).toBe(404);
    });

    it('counts each comment once under concurrent inserts and concurrent deletes of one comment', async () => {
      const post = await t.api.as(alice).posts.created();
      const created = await Promise.all(Array.from({ length: 20 }, (_, i) => t.api.as(bob).comments.created(post.id, `c${i}`)));
      expect((await getPost(post.id)).body.commentCount).toBe(20);
      const victim = created[0];
      const deletes = await Promise.all(Array.from({ length: 8 }, () => t.api.as(moderator).comments.delete(post.id, victim.id)));
      expect(deletes.map((r) => r.status).sort()).toEqual([204, 404, 404, 404, 404, 404, 404, 404]);
      expect((await getPost(post.id)).body.commentCount).toBe(19);
      const [{ live }] = await t.db.query(`SELECT count(*)::int AS live FROM comments WHERE post_id = $1 AND deleted_at IS NULL`, [
        post.id,
      ]);
      expect(live).toBe(19);
    });

    it('refuses a comment on a post deleted concurrently, or counts it before the delete', async () => {
      const post = await t.api.as(alice).posts.created();
      const [comment, deletion] = await Promise.all([
        t.api.as(bob).comments.create(post.id, { body: 'racing' }),
        t.api.as(alice).posts.delete(post.id),
      ]);
      expectStatus(deletion, 204);
      expect([201, 404]).toContain(comment.status);
      const [row] = await t.db.query(
        `SELECT p.comment_count, (SELECT count(*)::int FROM comments c WHERE c.post_id = p.id) AS rows FROM posts p WHERE p.id = $1`,
        [post.id],
      );
      expect(row.comment_count).toBe(row.rows);
    });
  });

  describe('permissions', () => {
    type Actor = 'author' | 'other user' | 'moderator' | 'admin';
    /** Posts are Alice's; comments are Bob's on Alice's post, so "other user" for a comment is the post's author. */
    const actorFor = (actor: Actor, resource: 'post' | 'comment'): TestUser =>
      ({ author: resource === 'post' ? alice : bob, 'other user': resource === 'post' ? bob : alice, moderator, admin })[actor];

    it.each<[Actor, number]>([
      ['author', 200],
      ['other user', 403],
      ['moderator', 403],
      ['admin', 403],
    ])('PATCH a post as %s: %i', async (actor, status) => {
      const post = await t.api.as(alice).posts.created({ title: 'Original' });
      const res = await t.api.as(actorFor(actor, 'post')).posts.update(post.id, { title: 'Changed' });
      expectStatus(res, status);
      expect((await getPost(post.id)).body.title).toBe(status === 200 ? 'Changed' : 'Original');
      if (status === 403) {
        expect(res.body.code).toBe('FORBIDDEN');
      }
    });

    it.each<[Actor, number]>([
      ['author', 204],
      ['other user', 403],
      ['moderator', 204],
      ['admin', 204],
    ])('DELETE a post as %s: %i', async (actor, status) => {
      const post = await t.api.as(alice).posts.created();
      const res = await t.api.as(actorFor(actor, 'post')).posts.delete(post.id);
      expectStatus(res, status);
      expect((await getPost(post.id)).status).toBe(status === 204 ? 404 : 200);
    });

    it.each<[Actor, number]>([
      ['author', 200],
      ['other user', 403],
      ['moderator', 403],
      ['admin', 403],
    ])('PATCH a comment as %s: %i', async (actor, status) => {
      const post = await t.api.as(alice).posts.created();
      const comment = await t.api.as(bob).comments.created(post.id, 'Original');
      const res = await t.api.as(actorFor(actor, 'comment')).comments.update(post.id, comment.id, { body: 'Changed' });
      expectStatus(res, status);
      const list = await t.api.as(carol).comments.list(post.id);
      expect(list.body.items[0].body).toBe(status === 200 ? 'Changed' : 'Original');
    });

    it.each<[Actor, number]>([
      ['author', 204],
      ['other user', 403],
      ['moderator', 204],
      ['admin', 204],
    ])('DELETE a comment as %s: %i', async (actor, status) => {
      const post = await t.api.as(alice).posts.created();
      const comment = await t.api.as(bob).comments.created(post.id);
      const res = await t.api.as(actorFor(actor, 'comment')).comments.delete(post.id, comment.id);
      expectStatus(res, status);
      const list = await t.api.as(carol).comments.list(post.id);
      expect(list.body.items).toHaveLength(status === 204 ? 0 : 1);
      expect((await getPost(post.id)).body.commentCount).toBe(status === 204 ? 0 : 1);
    });
  });

  describe('validation', () => {
    const post = (body: unknown) => t.api.as(alice).posts.create(body as CreatePostRequest);

    it.each<[string, unknown]>([
      ['an unknown property', { title: 't', body: 'b', authorId: UNKNOWN_ID }],
      ['a missing title', { body: 'b' }],
      ['a blank title', { title: '   ', body: 'b' }],
      ['a title of 201 characters', { title: 'a'.repeat(201), body: 'b' }],
      ['a title of 200 emoji with variation selectors (400 code points)', { title: '❤️'.repeat(200), body: 'b' }],
      ['a numeric title', { title: 123, body: 'b' }],
      ['a body of 20,001 characters', { title: 't', body: 'b'.repeat(20_001) }],
      ['a whitespace body', { title: 't', body: ' \n\t ' }],
      ['a control character', { title: 'a\u0000b', body: 'b' }],
      ['an array', [{ title: 't', body: 'b' }]],
    ])('refuses a post with %s', async (_what, body) => {
      expect(problem(await post(body))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    });

    it('counts lengths after trimming', async () => {
      const res = await post({ title: `   ${'a'.repeat(200)}   `, body: ` ${'b'.repeat(20_000)} ` });
      expectStatus(res, 201);
      expect(res.body.title).toHaveLength(200);
      expect(res.body.body).toHaveLength(20_000);
      expectStatus(await post({ title: '❤️'.repeat(100), body: 'b' }), 201);
    });

    it.each<[string, unknown]>([
      ['an empty object', {}],
      ['a null title', { title: null }],
      ['an unknown property', { title: 'ok', pinned: true }],
      ['a blank body', { body: '  ' }],
    ])('refuses a post edit with %s', async (_what, body) => {
      const target = await t.api.as(alice).posts.created();
      const res = await t.api.as(alice).posts.update(target.id, body as Record<string, unknown>);
      expect(problem(res)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    });

    it('refuses comment bodies outside 1..2000 characters after trimming, and unknown properties', async () => {
      const target = await t.api.as(alice).posts.created();
      const send = (body: Record<string, unknown>) => t.api.as(bob).comments.create(target.id, body);
      expect(problem(await send({ body: 'c'.repeat(2001) }))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      expect(problem(await send({ body: '   ' }))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      expect(problem(await send({ body: 'ok', postId: target.id }))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      expect(problem(await send({}))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      expectStatus(await send({ body: ` ${'c'.repeat(2000)} ` }), 201);
      const comment = await t.api.as(bob).comments.created(target.id);
      const edit = await t.api.as(bob).comments.update(target.id, comment.id, { body: '' });
      expect(problem(edit)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    });

    it.each([
      ['GET', '/v1/posts/not-a-uuid'],
      ['PATCH', '/v1/posts/not-a-uuid'],
      ['DELETE', '/v1/posts/not-a-uuid'],
      ['GET', '/v1/posts/not-a-uuid/comments'],
      ['POST', '/v1/posts/not-a-uuid/comments'],
      ['PATCH', `/v1/posts/${UNKNOWN_ID}/comments/not-a-uuid`],
      ['DELETE', `/v1/posts/not-a-uuid/comments/${UNKNOWN_ID}`],
    ])('refuses a malformed path id: %s %s', async (method, path) => {
      const res = await t.http[method.toLowerCase() as 'get' | 'patch' | 'delete' | 'post'](path)
        .set(bearer(alice.accessToken))
        .send(method === 'GET' || method === 'DELETE' ? undefined : { title: 't', body: 'b' });
      expect(problem(res)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    });

    it.each([['limit=0'], ['limit=101'], ['limit=abc'], ['limit=1.5'], ['authorId=nope'], ['authorId='], ['cursor=!!!'], ['unknown=1']])(
      'refuses the list query %s',
      async (query) => {
        expect(problem(await t.api.as(alice).posts.list(query))).toEqual({
          status: 400,
          code: 'VALIDATION_FAILED',
        });
      },
    );

    it('refuses tampered and foreign cursors with 400, never a 500', async () => {
      const target = await t.api.as(alice).posts.created();
      await Promise.all([t.api.as(bob).comments.created(target.id), t.api.as(bob).comments.created(target.id)]);
      const [p1, p2] = await Promise.all([t.api.as(alice).posts.created(), t.api.as(alice).posts.created()]);
      expect(p1.id).not.toBe(p2.id);
      const postsCursor = (await t.api.as(alice).posts.list({ limit: 1 })).body.nextCursor as string;
      const commentsCursor = (await t.api.as(alice).comments.list(target.id, { limit: 1 })).body.nextCursor as string;
      expect(typeof postsCursor).toBe('string');
      expect(typeof commentsCursor).toBe('string');

      const decoded = JSON.parse(Buffer.from(postsCursor, 'base64url').toString('utf8')) as [string, string, string];
      const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const bad = [
        commentsCursor,
        forge([decoded[0], '2026-13-45T99:99:99.999999Z', decoded[2]]),
        forge([decoded[0], decoded[1], "' OR 1=1 --"]),
        forge([decoded[0], decoded[1]]),
        forge({ kind: 'posts' }),
        postsCursor.slice(0, -3),
        'x'.repeat(600),
      ];
      for (const cursor of bad) {
        const res = await t.api.as(alice).posts.list({ cursor });
        expect({ cursor, ...problem(res) }).toEqual({ cursor, status: 400, code: 'VALIDATION_FAILED' });
      }
      const foreign = await t.api.as(alice).comments.list(target.id, { cursor: postsCursor });
      expect(problem(foreign)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    });
  });

  it('documents the routes and their shapes in the OpenAPI document', async () => {
    const doc = await t.http.get('/docs/openapi.json');
    expectStatus(doc, 200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/posts', '/v1/posts/{id}', '/v1/posts/{postId}/comments', '/v1/posts/{postId}/comments/{commentId}']),
    );
    const schemas = doc.body.components.schemas;
    expect(Object.keys(schemas.PostResponse.properties).sort()).toEqual(
      ['attachments', 'author', 'body', 'commentCount', 'createdAt', 'id', 'title', 'updatedAt'].sort(),
    );
    expect(schemas.PostPageResponse.properties.items.items.$ref).toBe('#/components/schemas/PostResponse');
    expect(schemas.CreatePostDto.required).toEqual(['title', 'body']);
    expect(schemas.UpdatePostDto.required ?? []).toEqual([]);
  });

  describe('withdrawn authors', () => {
    it('keeps their posts and comments listed with author.status "withdrawn"', async () => {
      const leaver = await t.given.user({ nickname: 'Leaver' });
      const post = await t.api.as(leaver).posts.created({ title: 'Still here' });
      const host = await t.api.as(alice).posts.created();
      const comment = await t.api.as(leaver).comments.created(host.id, 'Bye');
      expectStatus(await t.api.as(leaver).users.withdraw(), 204);

      const withdrawn = { id: leaver.id, nickname: null, status: 'withdrawn' };
      const list = await t.api.as(carol).posts.list({ authorId: leaver.id });
      expectStatus(list, 200);
      expect(list.body.items).toEqual([{ ...post, author: withdrawn }]);
      expect((await getPost(post.id)).body.author).toEqual(withdrawn);
      const comments = await t.api.as(carol).comments.list(host.id);
      expect(comments.body.items).toEqual([{ ...comment, author: withdrawn }]);
      // And they can be moderated like any other.
      expectStatus(await t.api.as(moderator).posts.delete(post.id), 204);
    });
  });
});
