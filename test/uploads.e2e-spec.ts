import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { FailFastClient } from '../src/database/database-options';
import { ObjectStorage } from '../src/uploads/object-storage';
import { UploadSweeper } from '../src/uploads/upload-sweeper';
import { OBJECT_STORAGE } from '../src/uploads/uploads.service';
import type { CreatePostRequest, PostBody } from './support/api/posts';
import { TcpProxy } from './support/tcp-proxy';
import { expectStatus, startTestApp, TestApp, TestUser } from './support/test-app';
import { decodePolicy, postToS3, PresignedUpload, s3Env, TestBucket } from './support/uploads';

const MAX_BYTES = 4096;
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(300, 3)]);

const problem = (res: Response): { status: number; code: unknown } => ({ status: res.status, code: res.body.code });

describe('uploads: presigned S3 POSTs, attached to posts, swept', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let moderator: TestUser;
  /** The app reaches s3rver through this proxy, so a test can take S3 away and bring it back. */
  const s3 = new TcpProxy('127.0.0.1', Number(new URL(process.env.TEST_S3_ENDPOINT ?? 'http://x:1').port));
  let s3Port: number;
  const bucket = new TestBucket();

  beforeAll(async () => {
    s3Port = await s3.start();
    t = await startTestApp({ env: s3Env(`http://127.0.0.1:${s3Port}`, { UPLOAD_MAX_BYTES: String(MAX_BYTES) }) });
    alice = await t.given.user({ nickname: 'Alice' });
    bob = await t.given.user({ nickname: 'Bob' });
    moderator = await t.given.user({ nickname: 'Mod', groups: ['moderator'] });
  });
  afterAll(async () => {
    bucket.destroy();
    await t.close();
    await s3.stop();
  });

  const requestUpload = (user: TestUser, contentType = 'image/png', size = PNG.length): Promise<PresignedUpload> =>
    t.api.as(user).uploads.created({ contentType, size });

  /** An upload the user requested and then really uploaded to S3 through its presigned POST. */
  async function uploaded(user: TestUser, file = PNG, contentType = 'image/png'): Promise<PresignedUpload> {
    const upload = await requestUpload(user, contentType, file.length);
    const res = await postToS3(upload, file);
    expect(res.status).toBe(204);
    return upload;
  }

  /** The post every attachment test creates: only its images differ. */
  const withImages = (attachmentIds: unknown): CreatePostRequest => ({ title: 'With images', body: 'Look', attachmentIds });

  async function counts(): Promise<{ posts: number; attached: number }> {
    const [row] = await t.db.query<Array<{ posts: number; attached: number }>>(
      `SELECT (SELECT count(*)::int FROM posts) AS posts, (SELECT count(*)::int FROM uploads WHERE state <> 'pending') AS attached`,
    );
    return row;
  }

  describe('POST /v1/uploads', () => {
    it('hands out a POST policy bound to one key under the caller, the exact type and 1..size bytes, for at most 5 minutes', async () => {
      const before = Date.now();
      const upload = await requestUpload(alice, 'image/jpeg', 1234);
      expect(upload).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        method: 'POST',
        url: `http://127.0.0.1:${s3Port}/${process.env.TEST_S3_BUCKET}`,
        fields: expect.objectContaining({ key: `uploads/${alice.id}/${upload.id}`, 'Content-Type': 'image/jpeg' }),
        expiresAt: expect.any(String),
      });
      const policy = decodePolicy(upload);
      expect(policy.conditions).toEqual(
        expect.arrayContaining([
          { bucket: process.env.TEST_S3_BUCKET },
          { key: `uploads/${alice.id}/${upload.id}` },
          { 'Content-Type': 'image/jpeg' },
          ['content-length-range', 1, 1234],
        ]),
      );
      // No condition lets the key, the type or the size vary (no starts-with, no second range).
      expect(JSON.stringify(policy.conditions)).not.toContain('starts-with');
      expect(policy.conditions.filter((c) => Array.isArray(c) && c[0] === 'content-length-range')).toHaveLength(1);
      const expires = Date.parse(policy.expiration);
      expect(new Date(expires).toISOString()).toBe(upload.expiresAt);
      expect(expires).toBeLessThanOrEqual(Date.now() + 5 * 60_000);
      expect(expires).toBeGreaterThan(before + 4 * 60_000);
      // The SDK's default checksum (the empty body's CRC32) must not be in what the client sends.
      expect(Object.keys(upload.fields).filter((k) => /checksum/i.test(k))).toEqual([]);
      expect(JSON.stringify(policy.conditions)).not.toMatch(/checksum/i);

      const [row] = await t.db.query(`SELECT owner_id, object_key, content_type, size, state, post_id FROM uploads WHERE id = $1`, [
        upload.id,
      ]);
      expect(row).toEqual({
        owner_id: alice.id,
        object_key: `uploads/${alice.id}/${upload.id}`,
        content_type: 'image/jpeg',
        size: '1234',
        state: 'pending',
        post_id: null,
      });
    });

    it('lets the client upload straight to S3 with the fields it was given', async () => {
      const upload = await uploaded(alice);
      expect(await bucket.exists(upload.fields.key)).toBe(true);
    });

    it.each([
      [{ contentType: 'image/svg+xml', size: 10 }, 'contentType'],
      [{ contentType: 'text/html', size: 10 }, 'contentType'],
      [{ contentType: 'image/png', size: 0 }, 'size'],
      [{ contentType: 'image/png', size: MAX_BYTES + 1 }, 'size'],
      [{ contentType: 'image/png', size: 1.5 }, 'size'],
      [{ contentType: 'image/png', size: '10' }, 'size'],
      [{ contentType: 'image/png' }, 'size'],
      [{ contentType: 'image/png', size: 10, key: 'uploads/x' }, 'key'],
    ])('refuses %o with 400 on %s and records nothing', async (body, field) => {
      const [{ n: before }] = await t.db.query(`SELECT count(*)::int AS n FROM uploads`);
      const res = await t.api.as(alice).uploads.create(body);
      expect(problem(res)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      const [{ n: after }] = await t.db.query(`SELECT count(*)::int AS n FROM uploads`);
      expect(after).toBe(before);
    });

    it('accepts exactly UPLOAD_MAX_BYTES', async () => {
      await requestUpload(alice, 'image/webp', MAX_BYTES);
    });

    it('is documented in the OpenAPI document', async () => {
      const doc = await t.http.get('/docs/openapi.json');
      expectStatus(doc, 200);
      expect(Object.keys(doc.body.paths)).toContain('/v1/uploads');
      expect(Object.keys(doc.body.components.schemas.UploadResponse.properties).sort()).toEqual(
        ['expiresAt', 'fields', 'id', 'method', 'url'].sort(),
      );
    });

    it('needs a token', async () => {
      expect((await t.http.post('/v1/uploads').send({ contentType: 'image/png', size: 10 })).status).toBe(401);
    });
  });

  describe('attachments on POST /v1/posts', () => {
    it('attaches up to four checked uploads in order, with presigned GET URLs that serve the bytes', async () => {
      const uploads = [await uploaded(alice), await uploaded(alice, JPEG, 'image/jpeg'), await uploaded(alice), await uploaded(alice)];
      const ids = uploads.map((u) => u.id);
      const res = await t.api.as(alice).posts.create(withImages(ids));
      expectStatus(res, 201);
      const post = res.body as PostBody;
      expect(post.attachments.map((a) => a.id)).toEqual(ids);
      expect(post.attachments[1]).toEqual({ id: ids[1], contentType: 'image/jpeg', size: JPEG.length, url: expect.any(String) });

      const url = new URL(post.attachments[1].url);
      // Served from the attachment's own copy, not from the key the upload's policy targets.
      expect(url.pathname).toBe(`/${process.env.TEST_S3_BUCKET}/attachments/${alice.id}/${ids[1]}`);
      expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(15 * 60);
      // The SDK's default would sign x-amz-checksum-crc32 / x-amz-sdk-checksum-algorithm in, which real S3 refuses.
      expect([...url.searchParams.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
      const image = await fetch(url);
      expect(image.status).toBe(200);
      expect(Buffer.from(await image.arrayBuffer())).toEqual(JPEG);

      // Every representation carries them: the post, and the list.
      const read = await t.api.as(bob).posts.get(post.id);
      expect((read.body as PostBody).attachments.map((a) => a.id)).toEqual(ids);
      const list = await t.api.as(bob).posts.list({ authorId: alice.id });
      expect((list.body.items as PostBody[]).find((p) => p.id === post.id)?.attachments.map((a) => a.id)).toEqual(ids);
      const rows = await t.db.query(`SELECT state, post_id, position FROM uploads WHERE id = ANY($1) ORDER BY position`, [ids]);
      expect(rows).toEqual(ids.map((_, i) => ({ state: 'attached', post_id: post.id, position: i })));
    });

    it('serves what was checked: replaying the presigned POST after the post attached it changes nothing', async () => {
      const upload = await uploaded(alice);
      const res = await t.api.as(alice).posts.create(withImages([upload.id]));
      expectStatus(res, 201);
      // The policy is still valid for minutes and may be used again (s3rver enforces none, so the
      // same fields are replayed as S3 would accept them): other bytes of the same type and size.
      const swapped = Buffer.concat([PNG.subarray(0, 8), Buffer.alloc(PNG.length - 8, 0x41)]);
      expect((await postToS3(upload, swapped)).status).toBe(204);
      const served = async (url: string): Promise<Buffer> => Buffer.from(await (await fetch(url)).arrayBuffer());
      expect(await served((res.body as PostBody).attachments[0].url)).toEqual(PNG);
      const read = await t.api.as(bob).posts.get((res.body as PostBody).id);
      expect(await served((read.body as PostBody).attachments[0].url)).toEqual(PNG);
    });

    it('keeps a page of posts at a constant number of SQL statements, whatever their attachments', async () => {
      const author = await t.given.user({ nickname: 'Pager' });
      for (let i = 0; i < 5; i += 1) {
        const ids = [];
        for (let j = 0; j < 4; j += 1) {
          ids.push((await uploaded(author)).id);
        }
        expectStatus(await t.api.as(author).posts.create(withImages(ids)), 201);
      }
      // Counted on the pg connection itself: the list runs straight on the pool (poolQuery), not through TypeORM.
      const statements = async (limit: number): Promise<number> => {
        const spy = jest.spyOn(FailFastClient.prototype, 'query');
        try {
          const res = await t.api.as(bob).posts.list({ authorId: author.id, limit });
          expectStatus(res, 200);
          expect(res.body.items).toHaveLength(limit);
          expect((res.body.items as PostBody[]).every((p) => p.attachments.length === 4)).toBe(true);
          return spy.mock.calls.length;
        } finally {
          spy.mockRestore();
        }
      };
      const one = await statements(1);
      expect(one).toBeGreaterThanOrEqual(2); // the page and its attachments
      expect(await statements(5)).toBe(one);
    });

    it('accepts an empty list, and posts without attachments show none', async () => {
      const res = await t.api.as(alice).posts.create(withImages([]));
      expectStatus(res, 201);
      expect(res.body.attachments).toEqual([]);
    });

    describe('refuses with 400 on attachmentIds and creates nothing', () => {
      async function expectRefused(user: TestUser, attachmentIds: unknown): Promise<Response> {
        const before = await counts();
        const res = await t.api.as(user).posts.create(withImages(attachmentIds));
        expect(problem(res)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
        expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'attachmentIds' })]));
        expect(JSON.stringify(res.body)).not.toMatch(/uploads\/|amazonaws|S3Client|stack/);
        expect(await counts()).toEqual(before);
        return res;
      }

      it("another user's upload", async () => {
        const theirs = await uploaded(bob);
        await expectRefused(alice, [theirs.id]);
      });

      it('an id that was never handed out', async () => {
        await expectRefused(alice, [randomUUID()]);
      });

      it('an upload requested but never uploaded to S3', async () => {
        const upload = await requestUpload(alice);
        const res = await expectRefused(alice, [upload.id]);
        expect(res.body.errors[0].message).toContain('has not been uploaded');
      });

      it('an upload already on another post', async () => {
        const upload = await uploaded(alice);
        expectStatus(await t.api.as(alice).posts.create(withImages([upload.id])), 201);
        await expectRefused(alice, [upload.id]);
      });

      it('five attachments', async () => {
        const ids = [];
        for (let i = 0; i < 5; i += 1) {
          ids.push((await uploaded(alice)).id);
        }
        await expectRefused(alice, ids);
        // None of them was taken: four of them still attach.
        expectStatus(await t.api.as(alice).posts.create(withImages(ids.slice(0, 4))), 201);
      });

      it.each([[['not-a-uuid']], ['one-id'], [[1]], [null]])('malformed %j', async (attachmentIds) => {
        await expectRefused(alice, attachmentIds);
      });

      it('the same id twice', async () => {
        const upload = await uploaded(alice);
        await expectRefused(alice, [upload.id, upload.id]);
      });

      it('one bad id among good ones (and the good ones stay attachable)', async () => {
        const good = await uploaded(alice);
        await expectRefused(alice, [good.id, randomUUID()]);
        expectStatus(await t.api.as(alice).posts.create(withImages([good.id])), 201);
      });

      // s3rver enforces no POST policy, so these objects get into the bucket; real S3 would refuse
      // the upload, and our own check refuses the object anyway.
      it('an object of another type than declared (emulator: the policy is not enforced)', async () => {
        const upload = await requestUpload(alice, 'image/png', PNG.length);
        expect((await postToS3(upload, PNG, { 'Content-Type': 'text/html' })).status).toBe(204);
        const res = await expectRefused(alice, [upload.id]);
        expect(res.body.errors[0].message).toContain('declared type');
      });

      it('an object larger than declared (emulator: the policy is not enforced)', async () => {
        const upload = await requestUpload(alice, 'image/png', 10);
        expect((await postToS3(upload, PNG)).status).toBe(204);
        const res = await expectRefused(alice, [upload.id]);
        expect(res.body.errors[0].message).toContain('bytes long');
      });

      it('an object put in its place behind our back with another type', async () => {
        const upload = await requestUpload(alice, 'image/jpeg', JPEG.length);
        await bucket.put(upload.fields.key, JPEG, 'application/octet-stream');
        await expectRefused(alice, [upload.id]);
      });

      it('an upload older than 24 h', async () => {
        const upload = await uploaded(alice);
        await t.db.query(`UPDATE uploads SET created_at = now() - interval '25 hours' WHERE id = $1`, [upload.id]);
        await expectRefused(alice, [upload.id]);
      });
    });

    it('answers 503 while S3 is down and creates nothing; the same request succeeds once S3 is back', async () => {
      const upload = await uploaded(alice);
      const before = await counts();
      await s3.stop();
      try {
        const res = await t.api.as(alice).posts.create(withImages([upload.id]));
        expect(problem(res)).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
        expect(res.headers['retry-after']).toBeDefined();
        expect(await counts()).toEqual(before);
      } finally {
        await s3.start(s3Port);
      }
      expectStatus(await t.api.as(alice).posts.create(withImages([upload.id])), 201);
    });
  });

  describe('the sweep', () => {
    const sweeper = (): UploadSweeper => t.app.get(UploadSweeper);

    it('deletes uploads never attached within 24 h and the images of deleted posts, and nothing else', async () => {
      const stale = await uploaded(bob);
      const fresh = await uploaded(bob);
      const kept = await uploaded(bob);
      const gone = await uploaded(bob);
      await t.db.query(`UPDATE uploads SET created_at = now() - interval '25 hours' WHERE id = $1`, [stale.id]);
      const keptPost = (await t.api.as(bob).posts.create(withImages([kept.id]))).body as PostBody;
      const gonePost = (await t.api.as(bob).posts.create(withImages([gone.id]))).body as PostBody;
      // A moderator's deletion counts like the author's.
      expect((await t.api.as(moderator).posts.delete(gonePost.id)).status).toBe(204);
      // Past the time its presigned POST could be replayed.
      await t.db.query(`UPDATE uploads SET created_at = now() - interval '11 minutes' WHERE id = $1`, [gone.id]);

      const result = await sweeper().sweep();
      expect(result.failed).toBe(0);
      expect(result.deleted).toBeGreaterThanOrEqual(2);
      expect(await bucket.exists(stale.fields.key)).toBe(false);
      expect(await bucket.exists(gone.fields.key)).toBe(false);
      expect(await bucket.exists(`attachments/${bob.id}/${gone.id}`)).toBe(false);
      expect(await bucket.exists(fresh.fields.key)).toBe(true);
      expect(await bucket.exists(kept.fields.key)).toBe(true);
      const left = await t.db.query(`SELECT id FROM uploads WHERE id = ANY($1) ORDER BY id`, [[stale.id, fresh.id, kept.id, gone.id]]);
      expect(left.map((r: { id: string }) => r.id).sort()).toEqual([fresh.id, kept.id].sort());
      expect((await t.api.as(alice).posts.get(keptPost.id)).body.attachments).toHaveLength(1);
      expect(await sweeper().sweep()).toEqual({ deleted: 0, failed: 0 });
    });

    it('deletes an attached upload’s original once its policy is spent, keeps the copy the post serves, and both with the post', async () => {
      const upload = await uploaded(bob);
      const attachment = `attachments/${bob.id}/${upload.id}`;
      const post = (await t.api.as(bob).posts.create(withImages([upload.id]))).body as PostBody;
      expect(await bucket.exists(attachment)).toBe(true);
      // While the policy could still be replayed, the key it targets is tracked and kept.
      await sweeper().sweep();
      expect(await bucket.exists(upload.fields.key)).toBe(true);

      await t.db.query(`UPDATE uploads SET created_at = now() - interval '11 minutes' WHERE id = $1`, [upload.id]);
      expect((await sweeper().sweep()).failed).toBe(0);
      expect(await bucket.exists(upload.fields.key)).toBe(false);
      expect(await bucket.exists(attachment)).toBe(true);
      const read = await t.api.as(alice).posts.get(post.id);
      const image = await fetch((read.body as PostBody).attachments[0].url);
      expect(Buffer.from(await image.arrayBuffer())).toEqual(PNG);
      expect(await sweeper().sweep()).toEqual({ deleted: 0, failed: 0 });

      expect((await t.api.as(bob).posts.delete(post.id)).status).toBe(204);
      expect((await sweeper().sweep()).failed).toBe(0);
      expect(await bucket.exists(attachment)).toBe(false);
      expect(await t.db.query(`SELECT 1 FROM uploads WHERE id = $1`, [upload.id])).toEqual([]);
    });

    it('deletes the copy an attach left behind when it was refused (as a crash before the commit would)', async () => {
      const upload = await requestUpload(bob, 'image/png', PNG.length);
      expect((await postToS3(upload, PNG, { 'Content-Type': 'text/html' })).status).toBe(204);
      expect(problem(await t.api.as(bob).posts.create(withImages([upload.id])))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      const attachment = `attachments/${bob.id}/${upload.id}`;
      expect(await bucket.exists(attachment)).toBe(true);
      const [row] = await t.db.query(`SELECT state FROM uploads WHERE id = $1`, [upload.id]);
      expect(row).toEqual({ state: 'pending' });

      await t.db.query(`UPDATE uploads SET created_at = now() - interval '25 hours' WHERE id = $1`, [upload.id]);
      expect((await sweeper().sweep()).failed).toBe(0);
      expect(await bucket.exists(upload.fields.key)).toBe(false);
      expect(await bucket.exists(attachment)).toBe(false);
    });

    it('deletes each object exactly once when several instances sweep at the same time', async () => {
      const owner = await t.given.user({ nickname: 'Bulk' });
      // More than one batch of rows, inserted directly (their objects need not exist: S3 deletes absent keys too).
      await t.db.query(
        `INSERT INTO uploads (id, owner_id, object_key, attachment_key, content_type, size, created_at)
         SELECT id, $1::uuid, 'uploads/' || $1::text || '/' || id, 'attachments/' || $1::text || '/' || id, 'image/png', 10, now() - interval '2 days'
           FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, 230)) g`,
        [owner.id],
      );
      // The real S3 client, watched: which keys each DeleteObjects call carried.
      const spy = jest.spyOn(t.app.get<symbol, ObjectStorage>(OBJECT_STORAGE), 'deleteMany');
      try {
        // Each sweep runs its batches in its own transactions on its own connections, as another instance would.
        const results = await Promise.all([sweeper().sweep(), sweeper().sweep(), sweeper().sweep()]);
        const keys = spy.mock.calls.flatMap(([batch]) => batch).filter((k) => k.includes(`/${owner.id}/`));
        expect(keys).toHaveLength(460);
        expect(new Set(keys).size).toBe(460);
        expect(results.reduce((sum, r) => sum + r.deleted, 0)).toBeGreaterThanOrEqual(230);
      } finally {
        spy.mockRestore();
      }
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM uploads WHERE owner_id = $1`, [owner.id]);
      expect(n).toBe(0);
    });

    it('survives S3 being down: nothing is lost, and the next sweep deletes it', async () => {
      const upload = await uploaded(bob);
      const post = (await t.api.as(bob).posts.create(withImages([upload.id]))).body as PostBody;
      expect((await t.api.as(bob).posts.delete(post.id)).status).toBe(204);
      await t.db.query(`UPDATE uploads SET created_at = now() - interval '11 minutes' WHERE id = $1`, [upload.id]);
      await s3.stop();
      try {
        await expect(sweeper().sweep()).rejects.toMatchObject({ status: 503 });
        const [row] = await t.db.query(`SELECT state FROM uploads WHERE id = $1`, [upload.id]);
        expect(row).toEqual({ state: 'orphaned' });
      } finally {
        await s3.start(s3Port);
      }
      expect(await bucket.exists(upload.fields.key)).toBe(true);
      expect((await sweeper().sweep()).failed).toBe(0);
      expect(await bucket.exists(upload.fields.key)).toBe(false);
      expect(await t.db.query(`SELECT 1 FROM uploads WHERE id = $1`, [upload.id])).toEqual([]);
    });
  });
});

describe('uploads without S3_BUCKET', () => {
  let t: TestApp;
  let alice: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await t.given.user();
  });
  afterAll(() => t.close());

  it('has no upload route (404)', async () => {
    const res = await t.api.as(alice).uploads.create({ contentType: 'image/png', size: 10 });
    expect(problem(res)).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(Object.keys((await t.http.get('/docs/openapi.json')).body.paths)).not.toContain('/v1/uploads');
  });

  it('takes no attachments on posts (400 on attachmentIds), and shows none', async () => {
    const res = await t.api.as(alice).posts.create({ title: 't', body: 'b', attachmentIds: [randomUUID()] });
    expect(problem(res)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'attachmentIds' })]);
    const plain = await t.api.as(alice).posts.create({ title: 't', body: 'b' });
    expectStatus(plain, 201);
    expect(plain.body.attachments).toEqual([]);
  });
});
