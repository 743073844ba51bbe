import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { call, countByStatus, maxOf, percentile, Recorder, report, runLoops, sleep } from '../support/load';
import { bearer, startTestApp, TestApp, TestUser } from '../support/test-app';

/**
 * A flood of tokens whose `kid` the pool never published. Each is refused
 * 401; the JWKS endpoint is fetched at most once per 10 s however many arrive; valid requests
 * interleaved with the flood keep succeeding.
 */

const FLOOD_MS = Number(process.env.JWKS_FLOOD_SECONDS ?? 11) * 1_000;
const REFETCH_INTERVAL_MS = 10_000;
const FLOOD_LOOPS = 6;
const VALID_LOOPS = 2;

describe('resilience: a flood of tokens with random kids', () => {
  let jwks: Server;
  const fetchedAt: number[] = [];
  let t: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    // The pool's JWKS behind a counter, answering a little slowly so refetches overlap the flood.
    const upstream = `${process.env.TEST_COGNITO_ENDPOINT}/any/.well-known/jwks.json`;
    jwks = createServer((_req, res) => {
      fetchedAt.push(Date.now());
      void sleep(300)
        .then(() => fetch(upstream))
        .then((r) => r.text())
        .then((body) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const address = jwks.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    t = await startTestApp({ env: { COGNITO_JWKS_URI: `http://127.0.0.1:${port}/jwks.json` } });
    user = await t.given.user();
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await new Promise((r) => jwks.close(r));
  }, 30_000);

  /** Token headers an attacker would try: unknown kids of every shape, and key-location headers. */
  function floodToken(i: number): string {
    const kids = [randomUUID(), 'x'.repeat(200), '../../etc/passwd', `${randomUUID()}\u0000`, '', 'CognitoLocal ', String(i)];
    const header: Record<string, unknown> = { kid: kids[i % kids.length] };
    if (i % 5 === 0) {
      header.jku = 'http://127.0.0.1:1/jwks.json';
    }
    return t.forge({ sub: user.sub }, { header });
  }

  it(
    'refuses every one with 401, fetches the JWKS at most once per 10 s, and keeps serving valid tokens',
    async () => {
      const startupFetches = fetchedAt.length;
      const flood = new Recorder();
      const valid = new Recorder();
      const started = Date.now();
      let stopped = false;
      const stopTimer = setTimeout(() => (stopped = true), FLOOD_MS);
      await Promise.all([
        runLoops(
          FLOOD_LOOPS,
          () => stopped,
          async (worker, i) =>
            flood.add('random kid', await call(t.baseUrl, '/v1/users/me', { headers: bearer(floodToken(worker * 100_000 + i)) })),
        ),
        runLoops(
          VALID_LOOPS,
          () => stopped,
          async (worker) => {
            // The real access token, and a fresh token signed with the real key each time.
            const token = worker === 0 ? user.accessToken : t.forge({ sub: user.sub, username: user.sub });
            valid.add('valid', await call(t.baseUrl, '/v1/users/me', { headers: bearer(token) }));
          },
        ),
      ]);
      clearTimeout(stopTimer);
      const elapsed = Date.now() - started;
      const refetches = fetchedAt.slice(startupFetches);
      const gaps = fetchedAt.slice(1).map((at, i) => at - fetchedAt[i]);
      const validMs = valid.outcomes.map((o) => o.ms);
      const validOk = valid.where((o) => o.status === 200).length;
      report({
        scenario: '9 JWKS flood (random kids)',
        seconds: Math.round(elapsed / 1000),
        requests: flood.count + valid.count,
        flood: { requests: flood.count, statuses: countByStatus(flood.outcomes), rps: Math.round(flood.count / (elapsed / 1000)) },
        valid: {
          requests: valid.count,
          statuses: countByStatus(valid.outcomes),
          successRate: valid.count === 0 ? 0 : validOk / valid.count,
          p50: percentile(validMs, 50),
          p99: percentile(validMs, 99),
          max: maxOf(validMs),
        },
        jwksFetches: { atStartup: startupFetches, duringFlood: refetches.length, gapsMs: gaps },
      });

      expect(flood.count).toBeGreaterThan(100);
      expect(flood.outcomes.filter((o) => o.status !== 401)).toEqual([]);
      expect(flood.outcomes.every((o) => o.code === 'UNAUTHENTICATED')).toBe(true);
      // At most one refetch per 10 s window of the flood; none closer than 10 s to the previous.
      expect(refetches.length).toBeGreaterThanOrEqual(1);
      expect(refetches.length).toBeLessThanOrEqual(1 + Math.floor(elapsed / REFETCH_INTERVAL_MS));
      // Measured where the requests arrive: the app stamps a fetch as it starts it, a few ms before.
      expect(gaps.slice(startupFetches - 1).every((gap) => gap >= REFETCH_INTERVAL_MS - 250)).toBe(true);
      // Valid requests interleaved with the flood: every one succeeded.
      expect(valid.count).toBeGreaterThan(50);
      expect(validOk).toBe(valid.count);
    },
    FLOOD_MS + 30_000,
  );
});
