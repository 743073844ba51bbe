import { randomUUID } from 'node:crypto';
import { maxOf, call, CallResult, countByStatus, percentile, Recorder, report, runLoops, sleep } from '../support/load';
import { ProductionApp, ProductionUser, startProductionApp } from '../support/production-app';

/**
 * A steady mixed load at fixed concurrency against the production process.
 * Zero 5xx, and the resident set grows less than 20 % after warm-up (a leak per request shows
 * up as steady growth; V8 settling its heap does not pass 20 %).
 */

const SOAK_MS = Number(process.env.SOAK_SECONDS ?? 60) * 1_000;
/** The first part of the run lets V8, the pool and the JIT settle before RSS is the baseline. */
const WARMUP_MS = Math.min(20_000, Math.max(5_000, SOAK_MS * 0.25));
const CONCURRENCY = 8;
const MAX_RSS_GROWTH = 0.2;

describe('resilience: soak', () => {
  let app: ProductionApp;
  let users: ProductionUser[];
  let postIds: string[];

  beforeAll(async () => {
    app = await startProductionApp({ name: 'soak' });
    users = [await app.user(), await app.user(['moderator'])];
    postIds = [];
    for (let i = 0; i < 10; i += 1) {
      const res = await call(app.url, '/v1/posts', {
        method: 'POST',
        headers: { Authorization: `Bearer ${users[i % 2].accessToken}` },
        body: { title: `soak seed ${i}`, body: 'seed' },
      });
      postIds.push(res.body.id);
    }
  }, 120_000);
  afterAll(() => app.close(), 30_000);

  it(
    `serves ${SOAK_MS / 1000} s of mixed load at concurrency ${CONCURRENCY} with no 5xx and RSS growth under 20 % after warm-up`,
    async () => {
      const rec = new Recorder();
      const startedAt = Date.now();
      const rss: Array<{ at: number; kib: number }> = [];
      const sampler = setInterval(() => rss.push({ at: Date.now() - startedAt, kib: app.rssKiB() }), 1_000);
      let stopped = false;
      const stopTimer = setTimeout(() => (stopped = true), SOAK_MS);

      await runLoops(
        CONCURRENCY,
        () => stopped,
        async (worker, i): Promise<CallResult> => {
          const user = users[worker % users.length];
          const auth = { Authorization: `Bearer ${user.accessToken}` };
          const postId = postIds[(worker * 7 + i) % postIds.length];
          switch (i % 12) {
            case 0:
              return rec.add(
                'POST /v1/posts',
                await call(app.url, '/v1/posts', {
                  method: 'POST',
                  headers: auth,
                  body: { title: `soak ${randomUUID()}`, body: 'b'.repeat(500) },
                }),
              );
            case 1:
              return rec.add(
                'POST comment',
                await call(app.url, `/v1/posts/${postId}/comments`, { method: 'POST', headers: auth, body: { body: 'soaking' } }),
              );
            case 2:
              return rec.add('GET comments', await call(app.url, `/v1/posts/${postId}/comments?limit=10`, { headers: auth }));
            case 3:
              return rec.add('GET /v1/users/me', await call(app.url, '/v1/users/me', { headers: auth }));
            case 4:
              return rec.add(
                'GET /v1/users/:id',
                await call(app.url, `/v1/users/${users[(worker + 1) % users.length].id}`, { headers: auth }),
              );
            case 5:
              return rec.add('GET /health/ready', await call(app.url, '/health/ready'));
            // Error paths too: a leak per refused request counts as much as one per success.
            case 6:
              return rec.add('GET bad id (400)', await call(app.url, '/v1/posts/not-a-uuid', { headers: auth }));
            case 7:
              return rec.add('GET unknown (404)', await call(app.url, `/v1/posts/${randomUUID()}`, { headers: auth }));
            case 8:
              return rec.add('no token (401)', await call(app.url, '/v1/posts'));
            case 9:
              return rec.add('GET /v1/posts/:id', await call(app.url, `/v1/posts/${postId}`, { headers: auth }));
            default: {
              const page = await call(app.url, '/v1/posts?limit=20', { headers: auth });
              rec.add('GET /v1/posts', page);
              if (page.status === 200 && typeof page.body?.nextCursor === 'string') {
                rec.add(
                  'GET /v1/posts page 2',
                  await call(app.url, `/v1/posts?limit=20&cursor=${page.body.nextCursor}`, { headers: auth }),
                );
              }
              return page;
            }
          }
        },
      );
      clearTimeout(stopTimer);
      clearInterval(sampler);
      await sleep(0);

      const elapsed = Date.now() - startedAt;
      const median = (values: number[]): number => percentile(values, 50);
      const afterWarmup = rss.filter((s) => s.at >= WARMUP_MS);
      const baseline = median(afterWarmup.slice(0, 3).map((s) => s.kib));
      const final = median(afterWarmup.slice(-3).map((s) => s.kib));
      const growth = (final - baseline) / baseline;
      const ms = rec.outcomes.map((o) => o.ms);
      const serverErrors = rec.outcomes.filter((o) => o.status >= 500 || o.status === 0);
      report({
        scenario: '5 soak',
        seconds: Math.round(elapsed / 1000),
        concurrency: CONCURRENCY,
        requests: rec.count,
        rps: Math.round(rec.count / (elapsed / 1000)),
        statuses: countByStatus(rec.outcomes),
        latencyMs: { p50: percentile(ms, 50), p99: percentile(ms, 99), max: maxOf(ms) },
        rssMiB: {
          start: Math.round((rss[0]?.kib ?? 0) / 1024),
          afterWarmup: Math.round(baseline / 1024),
          end: Math.round(final / 1024),
          peak: Math.round(maxOf(rss.map((s) => s.kib)) / 1024),
        },
        rssGrowthAfterWarmupPct: Math.round(growth * 1000) / 10,
        rssSeriesMiB: rss.filter((_, i) => i % 5 === 4).map((s) => Math.round(s.kib / 1024)),
        warmupSeconds: WARMUP_MS / 1000,
      });

      expect(app.proc.child.exitCode).toBeNull();
      expect(serverErrors.slice(0, 5)).toEqual([]);
      expect(afterWarmup.length).toBeGreaterThanOrEqual(3);
      expect(growth).toBeLessThan(MAX_RSS_GROWTH);
    },
    SOAK_MS + 60_000,
  );
});
