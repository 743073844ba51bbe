import { call, CallResult, countByStatus, report } from '../support/load';
import { bearer, startTestApp, TestApp, TestUser } from '../support/test-app';

/**
 * Headers a client can write do not change who it is or what it does.
 * X-Forwarded-For (and its cousins) only moves the rate-limit bucket when TRUST_PROXY=true, and
 * then only through the hop the ALB appends; method-override headers are ignored.
 */

const LIMIT = 3;
const SPOOFING_HEADERS = ['X-Forwarded-For', 'X-Real-IP', 'Forwarded', 'True-Client-IP', 'CF-Connecting-IP', 'X-Client-IP'];

/** A rate-limited route with a body the validation refuses: counted by the guard, no Cognito call. */
function limited(t: TestApp, headers: Record<string, string>): Promise<CallResult> {
  return call(t.baseUrl, '/v1/auth/password/forgot', { method: 'POST', headers, body: {} });
}

describe('resilience: spoofed client addresses without TRUST_PROXY', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_AUTH_PER_MINUTE: String(LIMIT) } });
  }, 60_000);
  afterAll(() => t.close(), 30_000);

  it('keeps every request in the socket address bucket, whatever address headers say', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 3; i += 1) {
      const headers: Record<string, string> = {};
      for (const name of SPOOFING_HEADERS) {
        headers[name] = name === 'Forwarded' ? `for=198.51.100.${i}` : `198.51.100.${i}`;
      }
      statuses.push((await limited(t, headers)).status);
    }
    report({
      scenario: '8 header spoofing: X-Forwarded-For, TRUST_PROXY=false',
      requests: statuses.length,
      statuses: countByStatus(statuses.map((status) => ({ status })) as never),
      sequence: statuses,
    });
    // 400: counted, then refused by validation; 429 once the one real client is over the limit.
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(400), 429, 429, 429]);
  });
});

describe('resilience: X-Forwarded-For with TRUST_PROXY=true', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_AUTH_PER_MINUTE: String(LIMIT), TRUST_PROXY: 'true' } });
  }, 60_000);
  afterAll(() => t.close(), 30_000);

  it('buckets by the hop the ALB appended, not by addresses the client wrote', async () => {
    // The client writes a different address each time at the left; the ALB appends the real one.
    const spoofed: number[] = [];
    for (let i = 0; i < LIMIT + 2; i += 1) {
      spoofed.push((await limited(t, { 'X-Forwarded-For': `10.0.0.${i}, 203.0.113.7` })).status);
    }
    // Different real clients behind the ALB each get their own bucket.
    const distinct: number[] = [];
    for (let i = 0; i < LIMIT + 2; i += 1) {
      distinct.push((await limited(t, { 'X-Forwarded-For': `203.0.113.${100 + i}` })).status);
    }
    report({
      scenario: '8 header spoofing: X-Forwarded-For, TRUST_PROXY=true',
      requests: spoofed.length + distinct.length,
      spoofedLeftmost: spoofed,
      distinctClients: distinct,
    });
    expect(spoofed).toEqual([...Array<number>(LIMIT).fill(400), 429, 429]);
    expect(distinct).toEqual(Array<number>(LIMIT + 2).fill(400));
  });
});

describe('resilience: method override headers', () => {
  let t: TestApp;
  let author: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    author = await t.given.user();
  }, 60_000);
  afterAll(() => t.close(), 30_000);

  async function livePost(): Promise<string> {
    const res = await call(t.baseUrl, '/v1/posts', {
      method: 'POST',
      headers: bearer(author.accessToken),
      body: { title: 'keep me', body: 'b' },
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function row(id: string): Promise<{ title: string; deleted: boolean }> {
    const [r]: Array<{ title: string; deleted: boolean }> = await t.db.query(
      `SELECT title, deleted_at IS NOT NULL AS deleted FROM posts WHERE id = $1`,
      [id],
    );
    return r;
  }

  it('ignores X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override and ?_method', async () => {
    const outcomes: Record<string, number> = {};
    const id = await livePost();
    for (const header of ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override']) {
      // A GET stays a read.
      const read = await call(t.baseUrl, `/v1/posts/${id}`, { headers: { ...bearer(author.accessToken), [header]: 'DELETE' } });
      outcomes[`GET +${header}: DELETE`] = read.status;
      expect(read.status).toBe(200);
      // A POST to a post is not turned into PATCH or DELETE: there is no such route.
      for (const method of ['DELETE', 'PATCH']) {
        const post = await call(t.baseUrl, `/v1/posts/${id}`, {
          method: 'POST',
          headers: { ...bearer(author.accessToken), [header]: method },
          body: { title: 'overridden' },
        });
        outcomes[`POST /:id +${header}: ${method}`] = post.status;
        expect(post.status).toBe(404);
      }
      // A POST to the collection still creates.
      const create = await call(t.baseUrl, '/v1/posts', {
        method: 'POST',
        headers: { ...bearer(author.accessToken), [header]: 'GET' },
        body: { title: 't', body: 'b' },
      });
      outcomes[`POST /v1/posts +${header}: GET`] = create.status;
      expect(create.status).toBe(201);
    }
    const query = await call(t.baseUrl, `/v1/posts/${id}?_method=DELETE`, {
      method: 'POST',
      headers: bearer(author.accessToken),
      body: { title: 'x' },
    });
    outcomes['POST /:id?_method=DELETE'] = query.status;
    expect(query.status).toBe(404);
    report({
      scenario: '8 header spoofing: method override',
      requests: Object.keys(outcomes).length,
      statuses: countByStatus(Object.values(outcomes).map((status) => ({ status })) as never),
      outcomes,
    });
    expect(await row(id)).toEqual({ title: 'keep me', deleted: false });
  });

  it('builds Location from the route alone, not from Host or X-Forwarded-Host', async () => {
    const res = await call(t.baseUrl, '/v1/posts', {
      method: 'POST',
      headers: {
        ...bearer(author.accessToken),
        'X-Forwarded-Host': 'evil.example.com',
        'X-Forwarded-Proto': 'http',
        'X-Original-URL': '/v1/admin/users',
      },
      body: { title: 't', body: 'b' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/posts/${res.body.id}`);
  });
});
