import { randomUUID } from 'node:crypto';
import { CognitoFaultProxy } from '../support/cognito-fault-proxy';
import { maxOf, call, CallResult, countByStatus, percentile, Recorder, report, waitUntil } from '../support/load';
import { bearer, PASSWORD, startTestApp, TestApp, TestUser } from '../support/test-app';

/**
 * Cognito (API and JWKS) becomes unreachable. Routes that only need a verified
 * token keep working on the cached signing keys; routes that must call Cognito answer 503
 * IDP_UNAVAILABLE fast; everything recovers when it returns. Two kinds of outage: connections
 * refused (the endpoint is down) and a black hole (connections accepted, nothing answered).
 */

/** "Fast": a Cognito-backed route gives up within this bound, whatever the outage looks like. */
const FAST_MS = 3_000;

describe('resilience: the identity provider goes away', () => {
  let proxy: CognitoFaultProxy;
  let t: TestApp;
  let user: TestUser;
  let postId: string;

  beforeAll(async () => {
    proxy = new CognitoFaultProxy(process.env.TEST_COGNITO_ENDPOINT!);
    const url = await proxy.start();
    // cognito-local serves the same keys under any pool path; the JWKS goes through the proxy too.
    t = await startTestApp({ env: { COGNITO_ENDPOINT: url, COGNITO_JWKS_URI: `${url}/any/.well-known/jwks.json` } });
    user = await t.given.user();
    const post = await call(t.baseUrl, '/v1/posts', {
      method: 'POST',
      headers: bearer(user.accessToken),
      body: { title: 'idp', body: 'idp' },
    });
    postId = post.body.id;
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await proxy.stop();
  }, 30_000);

  /** Routes that need only the token (already verified with cached keys) and the database. */
  function tokenOnly(rec: Recorder): Promise<CallResult[]> {
    const auth = bearer(user.accessToken);
    return Promise.all([
      call(t.baseUrl, '/v1/users/me', { headers: auth }).then((r) => rec.add('GET /v1/users/me', r)),
      call(t.baseUrl, '/v1/posts', { headers: auth }).then((r) => rec.add('GET /v1/posts', r)),
      call(t.baseUrl, `/v1/posts/${postId}`, { headers: auth }).then((r) => rec.add('GET /v1/posts/:id', r)),
      call(t.baseUrl, '/v1/posts', { method: 'POST', headers: auth, body: { title: 'during', body: 'outage' } }).then((r) =>
        rec.add('POST /v1/posts', r),
      ),
      call(t.baseUrl, `/v1/posts/${postId}/comments`, { method: 'POST', headers: auth, body: { body: 'during outage' } }).then((r) =>
        rec.add('POST /v1/posts/:id/comments', r),
      ),
      call(t.baseUrl, '/health/ready').then((r) => rec.add('GET /health/ready', r)),
    ]);
  }

  /** Routes that cannot answer without Cognito. */
  function cognitoBacked(rec: Recorder): Promise<CallResult[]> {
    const auth = bearer(user.accessToken);
    const email = `idp.${randomUUID()}@example.com`;
    return Promise.all([
      call(t.baseUrl, '/v1/auth/login', { method: 'POST', body: { email: user.email, password: PASSWORD } }).then((r) =>
        rec.add('POST /v1/auth/login', r),
      ),
      call(t.baseUrl, '/v1/auth/signup', { method: 'POST', body: { email, password: PASSWORD, nickname: 'idp' } }).then((r) =>
        rec.add('POST /v1/auth/signup', r),
      ),
      call(t.baseUrl, '/v1/auth/refresh', { method: 'POST', body: { refreshToken: user.refreshToken } }).then((r) =>
        rec.add('POST /v1/auth/refresh', r),
      ),
      call(t.baseUrl, '/v1/users/me', { method: 'PATCH', headers: auth, body: { nickname: 'renamed' } }).then((r) =>
        rec.add('PATCH /v1/users/me', r),
      ),
      call(t.baseUrl, '/v1/auth/password/forgot', { method: 'POST', body: { email: user.email } }).then((r) =>
        rec.add('POST /v1/auth/password/forgot', r),
      ),
    ]);
  }

  it.each([
    ['refused connections', (): Promise<void> => proxy.refuse()],
    [
      'a black hole',
      (): Promise<void> => {
        proxy.hang();
        return Promise.resolve();
      },
    ],
  ])(
    'keeps token-only routes working and answers Cognito-backed routes 503 IDP_UNAVAILABLE fast, with %s',
    async (kind, breakIt) => {
      const rec = new Recorder();
      expect((await cognitoBacked(new Recorder())).every((r) => r.status < 300)).toBe(true);

      await breakIt();
      const outageAt = Date.now();
      const kept = await tokenOnly(rec);
      const refused = await cognitoBacked(rec);
      // A token whose kid is unknown makes the guard try to refetch the JWKS: still a plain 401.
      const unknownKid = rec.add(
        'unknown kid',
        await call(t.baseUrl, '/v1/users/me', { headers: bearer(t.forge({ sub: user.sub }, { header: { kid: randomUUID() } })) }),
      );
      const outageMs = Date.now() - outageAt;

      await proxy.restore();
      const backAt = Date.now();
      const recoveredMs = await waitUntil(
        'login 200 after the identity provider returns',
        async () =>
          (await call(t.baseUrl, '/v1/auth/login', { method: 'POST', body: { email: user.email, password: PASSWORD } })).status === 200,
        10_000,
        100,
      );
      const afterwards = await cognitoBacked(rec);
      const recoveryMs = Date.now() - backAt;

      const refusedMs = refused.map((r) => r.ms);
      report({
        scenario: `3 identity provider outage (${kind})`,
        requests: rec.count,
        statuses: countByStatus(rec.outcomes),
        tokenOnly: Object.fromEntries(rec.outcomes.slice(0, kept.length).map((o) => [o.label, o.status])),
        cognitoBacked: Object.fromEntries(
          rec.outcomes.slice(kept.length, kept.length + refused.length).map((o) => [o.label, `${o.status} ${o.code ?? ''} ${o.ms}ms`]),
        ),
        cognitoBackedMs: { p50: percentile(refusedMs, 50), max: maxOf(refusedMs) },
        unknownKid: unknownKid.status,
        outageMs,
        recoveryMs: { firstLogin: recoveredMs, allCognitoRoutes: recoveryMs },
      });

      expect(kept.map((r) => r.status)).toEqual([200, 200, 200, 201, 201, 200]);
      expect(refused.map((r) => [r.status, r.body?.code])).toEqual(refused.map(() => [503, 'IDP_UNAVAILABLE']));
      expect(refused.every((r) => r.headers.get('retry-after') !== null)).toBe(true);
      expect(maxOf(refusedMs)).toBeLessThan(FAST_MS);
      expect(unknownKid.status).toBe(401);
      expect(recoveredMs).toBeLessThan(2_000);
      expect(afterwards.map((r) => r.status)).toEqual([200, 201, 200, 200, 202]);
    },
    60_000,
  );
});
