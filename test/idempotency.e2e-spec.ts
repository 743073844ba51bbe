import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { IdempotencyJanitor } from '../src/idempotency/idempotency-janitor';
import { whileKeyHeld } from './support/idempotency-lock';
import { rawExchange } from './support/raw-http';
import { bearer, expectStatus, startTestApp, TestApp, TestUser } from './support/test-app';

/** Idempotency-Key on the create routes (docs/retries.md). */
describe('safe retries with Idempotency-Key', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await t.given.user({ nickname: 'Alice' });
    bob = await t.given.user({ nickname: 'Bob' });
  });
  afterAll(() => t.close());

  async function postsTitled(title: string): Promise<Array<{ id: string; author_id: string }>> {
    return t.db.query(`SELECT id, author_id FROM posts WHERE title = $1 ORDER BY created_at`, [title]);
  }

  async function storedKeys(user: TestUser, key: string): Promise<Array<{ status_code: number; response_body: unknown }>> {
    return t.db.query(`SELECT status_code, response_body FROM idempotency_keys WHERE user_id = $1 AND key = $2`, [user.id, key]);
  }

  describe('a retry', () => {
    it('of a created post gets the same status, body and Location again, marked as replayed, and stores nothing twice', async () => {
      const key = randomUUID();
      const title = `retry ${key}`;
      const first = await t.api.as(alice).posts.create({ title, body: 'once' }, { idempotencyKey: key });
      expectStatus(first, 201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();

      const retry = await t.api.as(alice).posts.create({ title, body: 'once' }, { idempotencyKey: key });
      expectStatus(retry, 201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.headers.location).toBe(`/v1/posts/${first.body.id}`);
      expect(retry.headers.location).toBe(first.headers.location);
      expect(retry.text).toBe(first.text);
      expect(retry.headers['x-request-id']).not.toBe(first.headers['x-request-id']);

      expect(await postsTitled(title)).toEqual([{ id: first.body.id, author_id: alice.id }]);
      expect(await storedKeys(alice, key)).toEqual([{ status_code: 201, response_body: first.body }]);
    });

    it('is answered with the bytes the post is read back with (the answer stored in SQL matches the API)', async () => {
      const key = randomUUID();
      const first = await t.api
        .as(bob)
        .posts.create({ title: `bytes ${key} "quoted" \\ é ✓`, body: 'line\nnext\ttab' }, { idempotencyKey: key });
      expectStatus(first, 201);
      const read = await t.http.get(first.headers.location).set(bearer(bob.accessToken));
      expectStatus(read, 200);
      expect(first.text).toBe(read.text);
      const unkeyed = await t.api.as(bob).posts.create({ title: `bytes ${key} "quoted" \\ é ✓`, body: 'line\nnext\ttab' });
      expect(Object.keys(first.body)).toEqual(Object.keys(unkeyed.body));
      expect(first.headers['content-type']).toBe(unkeyed.headers['content-type']);
    });

    it('is recognised whatever the order of the body keys', async () => {
      const key = randomUUID();
      const title = `order ${key}`;
      const first = await t.api.as(alice).posts.create({ title, body: 'b' }, { idempotencyKey: key });
      expectStatus(first, 201);
      const retry = await t.api.as(alice).posts.create({ body: 'b', title }, { idempotencyKey: key });
      expectStatus(retry, 201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect(await postsTitled(title)).toHaveLength(1);
    });

    it('of a comment is replayed without counting the comment twice', async () => {
      const post = await t.api.as(alice).posts.create({ title: `commented ${randomUUID()}`, body: 'b' });
      expectStatus(post, 201);
      const key = randomUUID();
      const send = (): Promise<Response> => t.api.as(bob).comments.create(post.body.id, { body: 'hello' }, { idempotencyKey: key });
      const first = await send();
      expectStatus(first, 201);
      const retry = await send();
      expectStatus(retry, 201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(first.body);

      const read = await t.api.as(bob).posts.get(post.body.id);
      expect(read.body.commentCount).toBe(1);
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM comments WHERE post_id = $1`, [post.body.id]);
      expect(n).toBe(1);
    });

    it('without a key is a new request', async () => {
      const title = `no key ${randomUUID()}`;
      expectStatus(await t.api.as(alice).posts.create({ title, body: 'b' }), 201);
      const again = await t.api.as(alice).posts.create({ title, body: 'b' });
      expectStatus(again, 201);
      expect(again.headers['idempotent-replayed']).toBeUndefined();
      expect(await postsTitled(title)).toHaveLength(2);
    });
  });

  describe('a key used for another request', () => {
    it('with another body is 422 IDEMPOTENCY_KEY_REUSED and changes nothing', async () => {
      const key = randomUUID();
      const title = `reused ${key}`;
      const first = await t.api.as(alice).posts.create({ title, body: 'first' }, { idempotencyKey: key });
      expectStatus(first, 201);

      const other = await t.api.as(alice).posts.create({ title: `${title} other`, body: 'second' }, { idempotencyKey: key });
      expect(other.status).toBe(422);
      expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(await postsTitled(`${title} other`)).toEqual([]);
      expect(await storedKeys(alice, key)).toEqual([{ status_code: 201, response_body: first.body }]);
    });

    it('on another route is 422 IDEMPOTENCY_KEY_REUSED', async () => {
      const key = randomUUID();
      const first = await t.api.as(alice).posts.create({ title: `route ${key}`, body: 'hello' }, { idempotencyKey: key });
      expectStatus(first, 201);
      const comment = await t.api.as(alice).comments.create(first.body.id, { body: 'hello' }, { idempotencyKey: key });
      expect(comment.status).toBe(422);
      expect(comment.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM comments WHERE post_id = $1`, [first.body.id]);
      expect(n).toBe(0);
    });
  });

  describe('keys are per user', () => {
    it('two users sending one key get two effects', async () => {
      const key = randomUUID();
      const title = `shared key ${key}`;
      const [a, b] = await Promise.all([
        t.api.as(alice).posts.create({ title, body: 'b' }, { idempotencyKey: key }),
        t.api.as(bob).posts.create({ title, body: 'b' }, { idempotencyKey: key }),
      ]);
      expectStatus(a, 201);
      expectStatus(b, 201);
      expect(a.headers['idempotent-replayed']).toBeUndefined();
      expect(b.headers['idempotent-replayed']).toBeUndefined();
      expect(a.body.id).not.toBe(b.body.id);
      expect((await postsTitled(title)).map((p) => p.author_id).sort()).toEqual([alice.id, bob.id].sort());
    });
  });

  describe('concurrent requests with one key', () => {
    it('ten at once have one effect: the others are replays or 409 CONFLICT with Retry-After', async () => {
      const key = randomUUID();
      const title = `ten at once ${key}`;
      const results = await Promise.all(
        Array.from({ length: 10 }, () => t.api.as(alice).posts.create({ title, body: 'b' }, { idempotencyKey: key })),
      );

      const rows = await postsTitled(title);
      expect(rows).toHaveLength(1);
      expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
      const created = results.filter((r) => r.status === 201);
      expect(created.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
      expect(created.every((r) => r.body.id === rows[0].id)).toBe(true);
      for (const conflict of results.filter((r) => r.status === 409)) {
        expect(conflict.body.code).toBe('CONFLICT');
        expect(conflict.headers['retry-after']).toBe('1');
      }

      const later = await t.api.as(alice).posts.create({ title, body: 'b' }, { idempotencyKey: key });
      expectStatus(later, 201);
      expect(later.headers['idempotent-replayed']).toBe('true');
      expect(later.body.id).toBe(rows[0].id);
    });

    it('while the first is still in flight is 409 CONFLICT with Retry-After, and processed once the first is gone', async () => {
      const key = randomUUID();
      const title = `in flight ${key}`;
      await whileKeyHeld(t.databaseUrl, alice.id, key, async () => {
        const during = await t.api.as(alice).posts.create({ title, body: 'b' }, { idempotencyKey: key });
        expect(during.status).toBe(409);
        expect(during.body.code).toBe('CONFLICT');
        expect(during.headers['retry-after']).toBe('1');
        expect(await postsTitled(title)).toEqual([]);
      });
      const after = await t.api.as(alice).posts.create({ title, body: 'b' }, { idempotencyKey: key });
      expectStatus(after, 201);
      expect(after.headers['idempotent-replayed']).toBeUndefined();
    });
  });

  describe('a malformed key', () => {
    it.each([
      ['empty', ''],
      ['256 characters', 'a'.repeat(256)],
      ['a space', 'abc def'],
      ['a dot', 'abc.def'],
      ['non-ASCII', 'clé'],
      ['two keys', 'abc, def'],
    ])('(%s) is 400 VALIDATION_FAILED and changes nothing', async (_case, key) => {
      const title = `malformed ${randomUUID()}`;
      const res = await t.api.as(alice).posts.create({ title, body: 'b' }, { idempotencyKey: key });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
      expect(await postsTitled(title)).toEqual([]);
    });

    it('sent twice in one request (two header lines) is 400', async () => {
      const title = `twice ${randomUUID()}`;
      const body = JSON.stringify({ title, body: 'b' });
      const { status, response } = await rawExchange(
        Number(new URL(t.baseUrl).port),
        [
          'POST /v1/posts HTTP/1.1',
          'Host: 127.0.0.1',
          `Authorization: Bearer ${alice.accessToken}`,
          'Content-Type: application/json',
          `Content-Length: ${Buffer.byteLength(body)}`,
          'Idempotency-Key: abc',
          'Idempotency-Key: def',
          'Connection: close',
          '',
          body,
        ].join('\r\n'),
      );
      expect(status).toBe(400);
      expect(response).toContain('VALIDATION_FAILED');
      expect(await postsTitled(title)).toEqual([]);
    });

    it('of the longest allowed length (255) is accepted', async () => {
      const key = `${randomUUID()}${'k'.repeat(219)}`;
      expect(key).toHaveLength(255);
      expectStatus(await t.api.as(alice).posts.create({ title: `long key ${key.slice(0, 8)}`, body: 'b' }, { idempotencyKey: key }), 201);
    });
  });

  describe('a request refused by validation', () => {
    it('stores nothing under its key, so the corrected retry with the same key is processed', async () => {
      const key = randomUUID();
      const bad = await t.api.as(alice).posts.create({ title: '', body: 'b' }, { idempotencyKey: key });
      expect(bad.status).toBe(400);
      expect(await storedKeys(alice, key)).toEqual([]);

      const title = `corrected ${key}`;
      const good = await t.api.as(alice).posts.create({ title, body: 'b' }, { idempotencyKey: key });
      expectStatus(good, 201);
      expect(good.headers['idempotent-replayed']).toBeUndefined();
      expect(await postsTitled(title)).toHaveLength(1);
    });

    it('on a key already answered is 422 IDEMPOTENCY_KEY_REUSED, as the key is checked first', async () => {
      const key = randomUUID();
      expectStatus(await t.api.as(alice).posts.create({ title: `answered ${key}`, body: 'b' }, { idempotencyKey: key }), 201);
      const bad = await t.api.as(alice).posts.create({ title: '', body: 'b' }, { idempotencyKey: key });
      expect(bad.status).toBe(422);
      expect(bad.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    });

    it('on a key in flight is 409 CONFLICT, as the key is checked first', async () => {
      const key = randomUUID();
      await whileKeyHeld(t.databaseUrl, alice.id, key, async () => {
        const bad = await t.api.as(alice).posts.create({ title: '', body: 'b' }, { idempotencyKey: key });
        expect(bad.status).toBe(409);
        expect(bad.headers['retry-after']).toBe('1');
      });
    });

    it('on a route that processes in a transaction (a comment) checks the key first too: 422, or 409 in flight', async () => {
      const post = await t.api.as(alice).posts.create({ title: `commented ${randomUUID()}`, body: 'b' });
      expectStatus(post, 201);
      const answered = randomUUID();
      expectStatus(await t.api.as(alice).comments.create(post.body.id, { body: 'first' }, { idempotencyKey: answered }), 201);
      const reused = await t.api.as(alice).comments.create(post.body.id, { body: '' }, { idempotencyKey: answered });
      expect(reused.status).toBe(422);
      expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');

      const held = randomUUID();
      await whileKeyHeld(t.databaseUrl, alice.id, held, async () => {
        const during = await t.api.as(alice).comments.create(post.body.id, { body: '' }, { idempotencyKey: held });
        expect(during.status).toBe(409);
        expect(during.headers['retry-after']).toBe('1');
      });
      const refused = await t.api.as(alice).comments.create(post.body.id, { body: '' }, { idempotencyKey: held });
      expect(refused.status).toBe(400);
      expect(await storedKeys(alice, held)).toEqual([]);
    });

    it('on a missing post (a comment) stores nothing under its key', async () => {
      const key = randomUUID();
      const res = await t.api.as(alice).comments.create(randomUUID(), { body: 'hello' }, { idempotencyKey: key });
      expect(res.status).toBe(404);
      expect(await storedKeys(alice, key)).toEqual([]);
    });
  });

  describe('after 24 hours', () => {
    async function age(user: TestUser, key: string, hours: number): Promise<void> {
      await t.db.query(`UPDATE idempotency_keys SET created_at = now() - make_interval(hours => $3) WHERE user_id = $1 AND key = $2`, [
        user.id,
        key,
        hours,
      ]);
    }

    it('a key is forgotten: the same key is a new request', async () => {
      const key = randomUUID();
      const title = `expired ${key}`;
      const first = await t.api.as(alice).posts.create({ title, body: 'b' }, { idempotencyKey: key });
      expectStatus(first, 201);
      await age(alice, key, 25);

      const again = await t.api.as(alice).posts.create({ title, body: 'b' }, { idempotencyKey: key });
      expectStatus(again, 201);
      expect(again.headers['idempotent-replayed']).toBeUndefined();
      expect(again.body.id).not.toBe(first.body.id);
      expect(await storedKeys(alice, key)).toEqual([{ status_code: 201, response_body: again.body }]);
    });

    it('keys are purged, fresh ones kept, and janitors of two instances purge each row once', async () => {
      const old = [randomUUID(), randomUUID(), randomUUID()];
      const fresh = randomUUID();
      for (const key of [...old, fresh]) {
        expectStatus(await t.api.as(bob).posts.create({ title: `purge ${key}`, body: 'b' }, { idempotencyKey: key }), 201);
      }
      for (const key of old) {
        await age(bob, key, 25);
      }
      await age(bob, fresh, 23);
      const [{ before }] = await t.db.query(
        `SELECT count(*)::int AS before FROM idempotency_keys WHERE created_at <= now() - interval '24 hours'`,
      );

      const janitor = t.app.get(IdempotencyJanitor);
      const [a, b] = await Promise.all([janitor.purge(), janitor.purge()]);
      expect(a + b).toBe(before);
      for (const key of old) {
        expect(await storedKeys(bob, key)).toEqual([]);
      }
      expect(await storedKeys(bob, fresh)).toHaveLength(1);
    });
  });
});
