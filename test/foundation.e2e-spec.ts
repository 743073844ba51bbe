import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mockGlobalSignOut } from './support/cognito-sdk';
import { bearer, PASSWORD, startTestApp, TestApp } from './support/test-app';

const PACKAGE_VERSION = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

describe('foundation: cross-cutting HTTP contract', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { CORS_ORIGINS: 'https://app.example.com' } });
  });
  afterAll(() => t.close());

  it('answers liveness and readiness when the database and JWKS are up', async () => {
    expect((await t.http.get('/health/live')).status).toBe(200);
    const ready = await t.http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: 'up', jwks: 'loaded' });
  });

  it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const echoed = await t.http.get('/health/live').set('X-Request-Id', 'abc-123:x.y_z');
    expect(echoed.headers['x-request-id']).toBe('abc-123:x.y_z');
    const replaced = await t.http.get('/health/live').set('X-Request-Id', 'bad id with spaces');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['a public route', '/health/live', 200],
    ['a refused request', '/v1/users/me', 401],
    ['an unknown route', '/v1/nowhere', 404],
  ])('sets the security headers on %s', async (_what, path, status) => {
    const res = await t.http.get(path);
    expect(res.status).toBe(status);
    expect(res.headers).toMatchObject({
      'content-security-policy': expect.stringContaining("default-src 'self'") as unknown,
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
    });
  });

  it('renders a bad body as problem details with code, requestId and field errors', async () => {
    const res = await t.http.post('/v1/auth/login').set('X-Request-Id', 'req-1').send({ email: 42, password: 'x' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request', code: 'VALIDATION_FAILED', requestId: 'req-1' });
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'email' })]));
  });

  it('refuses unknown body properties instead of dropping them', async () => {
    const res = await t.http.post('/v1/auth/login').send({ email: 'a@example.com', password: 'x', admin: true });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'admin' })]));
  });

  it.each([
    ['an array', '[1,2]'],
    ['a string', '"hello"'],
    ['null', 'null'],
  ])('refuses %s where a JSON object is expected', async (_what, body) => {
    const res = await t.http.post('/v1/auth/login').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });

  it('answers malformed JSON with 400 problem details', async () => {
    const res = await t.http.post('/v1/auth/login').set('Content-Type', 'application/json').send('{"email":');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('treats an empty JSON body as no body', async () => {
    const user = await t.given.user();
    // cognito-local lacks AdminUserGlobalSignOut: answered at the SDK boundary.
    const signOut = mockGlobalSignOut(t);
    let res;
    try {
      res = await t.http.post('/v1/auth/logout-all').set(bearer(user.accessToken)).set('Content-Type', 'application/json').send('');
    } finally {
      signOut.restore();
    }
    expect(res.status).toBe(204);
    const login = await t.http.post('/v1/auth/login').set('Content-Type', 'application/json').send('');
    expect({ status: login.status, code: login.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('refuses __proto__ keys', async () => {
    const res = await t.http
      .post('/v1/auth/login')
      .set('Content-Type', 'application/json')
      .send('{"__proto__":{"x":1},"email":"a@example.com","password":"x"}');
    expect(res.status).toBe(400);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded'])('answers a %s body with 415', async (type) => {
    const res = await t.http.post('/v1/auth/login').set('Content-Type', type).send('email=a@example.com');
    expect(res.status).toBe(415);
    expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a body over 64 KiB with 413', async () => {
    const res = await t.http.post('/v1/auth/login').send({ email: 'a@example.com', password: 'x'.repeat(70 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers an unknown route with 404 problem details', async () => {
    const res = await t.http.get('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NOT_FOUND');
    expect(typeof res.body.requestId).toBe('string');
  });

  it('sends security headers and no X-Powered-By', async () => {
    const res = await t.http.get('/health/live');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('allows CORS only for configured origins', async () => {
    const allowed = await t.http
      .options('/v1/users/me')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'GET');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const foreign = await t.http
      .options('/v1/users/me')
      .set('Origin', 'https://evil.example.com')
      .set('Access-Control-Request-Method', 'GET');
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = await t.http.get('/docs/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.paths['/v1/auth/login']).toBeDefined();
    // The service's own name and version (package.json), not a placeholder.
    expect(doc.body.info).toMatchObject({ title: 'cognito-nest-api', version: PACKAGE_VERSION });
    expect((await t.http.get('/docs')).status).toBe(200);
  });

  it('documents the query of the lists read by hand as their DTOs did', async () => {
    const doc = await t.http.get('/docs/openapi.json');
    const parameters = (path: string): Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }> =>
      doc.body.paths[path].get.parameters.filter((p: { in: string }) => p.in === 'query');
    const page = [
      { name: 'limit', in: 'query', required: false, schema: { minimum: 1, maximum: 100, default: 20, type: 'number' } },
      {
        name: 'cursor',
        in: 'query',
        required: false,
        description: 'Opaque: the nextCursor of the previous page',
        schema: { type: 'string' },
      },
    ];
    expect(parameters('/v1/posts/{postId}/comments')).toEqual(page);
    expect(parameters('/v1/posts')).toEqual([
      {
        name: 'authorId',
        in: 'query',
        required: false,
        description: "Only this author's posts",
        schema: { format: 'uuid', type: 'string' },
      },
      ...page,
    ]);
  });

  it('requires a token on /v1 routes and says so with WWW-Authenticate', async () => {
    const res = await t.http.get('/v1/users/me');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('marks every /v1 response Cache-Control: no-store (success, errors, the early 401, 404, 413, 415), not /health', async () => {
    const user = await t.given.user();
    const responses = [
      await t.http.get('/v1/users/me').set(bearer(user.accessToken)), // 200, per-user data
      await t.http.post('/v1/auth/login').send({ email: user.email, password: PASSWORD }), // 200, tokens
      await t.http.get('/v1/users/me'), // 401 answered by the early hook
      await t.http.get('/v1/users/me').set(bearer('not-a-token')), // 401 from the guard
      await t.http.get('/v1/nothing-here'), // 404
      await t.http.get('/v1/users/not-a-uuid').set(bearer(user.accessToken)), // 400
      await t.http.post('/v1/auth/login').send({ email: 'a@example.com', password: 'x'.repeat(70 * 1024) }), // 413
      await t.http.post('/v1/auth/login').set('Content-Type', 'text/plain').send('x'), // 415
      await t.http.get('/v1/%E0%A4%A'), // malformed percent-encoding, refused by the router
      await t.http.options('/v1/users/me').set('Origin', 'https://app.example.com').set('Access-Control-Request-Method', 'GET'),
    ];
    expect(responses.map((res) => [res.status, res.headers['cache-control']])).toEqual(
      [200, 200, 401, 401, 404, 400, 413, 415, 400, 204].map((status) => [status, 'no-store']),
    );
    expect((await t.http.get('/health/live')).headers['cache-control']).toBeUndefined();
  });

  it('validates path ids as UUIDs', async () => {
    const user = await t.given.user();
    const res = await t.http.get('/v1/users/not-a-uuid').set(bearer(user.accessToken));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });
});

describe('foundation: the database going away and coming back', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ proxyDatabase: true });
  });
  afterAll(() => t.close());

  it('turns readiness 503 within 5 s and back to 200 without a restart', async () => {
    const user = await t.given.user();
    expect((await t.http.get('/health/ready')).status).toBe(200);
    await t.dbProxy!.stop();

    const started = Date.now();
    const down = await t.http.get('/health/ready');
    expect(down.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(down.body.code).toBe('SERVICE_UNAVAILABLE');

    const me = await t.http.get('/v1/users/me').set(bearer(user.accessToken));
    expect(me.status).toBe(503);
    expect(me.body.code).toBe('SERVICE_UNAVAILABLE');
    expect(me.headers['retry-after']).toBeDefined();
    expect((await t.http.get('/health/live')).status).toBe(200);

    await t.dbProxy!.resume();
    let recovered = 0;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if ((await t.http.get('/health/ready')).status === 200) {
        recovered = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(recovered).toBeGreaterThan(0);
    expect((await t.http.get('/v1/users/me').set(bearer(user.accessToken))).status).toBe(200);
  });
});
