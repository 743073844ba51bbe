import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { Client } from 'pg';
import { report, sleep } from '../support/load';
import { ProductionApp, startProductionApp } from '../support/production-app';
import { RawResult, rawRequest } from '../support/raw-http';

/**
 * SIGTERM reaches the production process while requests are waiting on a slow
 * database (a lock held from outside). As docs/resilience.md says: stop accepting, finish in-flight
 * requests, readiness 503 at once, close the pool, exit 0 within 10 s.
 */

/** How long the outside lock keeps the in-flight requests waiting (under the 4 s lock_timeout). */
const LOCK_MS = 2_000;
/** The signal reaches the process's event loop within this long of kill(). */
const SIGNAL_DELIVERY_MS = 100;

describe('resilience: SIGTERM during slow requests', () => {
  let app: ProductionApp;
  let exit: { code: number | null; signal: NodeJS.Signals | null; afterReleaseMs: number } | undefined;

  beforeAll(async () => {
    app = await startProductionApp({ name: 'sigterm' });
  }, 120_000);
  afterAll(() => app.close(), 30_000);

  it('finishes the in-flight requests with 2xx, stops taking new work at once, and exits 0 within 10 s', async () => {
    const user = await app.user();
    const auth = { Authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' };
    // One keep-alive connection per client, so "an existing connection" is a real, reused socket.
    const agents = Array.from({ length: 4 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    const [slowReads, slowWrites, slowProfile, probe] = agents;
    for (const agent of agents) {
      expect((await rawRequest(`${app.url}/health/ready`, { agent })).status).toBe(200);
    }

    const locker = new Client({ connectionString: app.dbUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE posts, user_mapping IN ACCESS EXCLUSIVE MODE');
    const lockedAt = Date.now();
    const title = `sigterm ${randomUUID()}`;
    // Each waits on the lock: the guard reads user_mapping, the routes read or write posts; the
    // profile change then calls Cognito after SIGTERM, when shutdown has begun.
    const inFlight = Promise.all([
      rawRequest(`${app.url}/v1/posts`, { agent: slowReads, headers: auth }),
      rawRequest(`${app.url}/v1/posts`, { agent: slowWrites, method: 'POST', headers: auth, body: JSON.stringify({ title, body: 'x' }) }),
      rawRequest(`${app.url}/v1/users/me`, {
        agent: slowProfile,
        method: 'PATCH',
        headers: auth,
        body: JSON.stringify({ nickname: 'draining' }),
      }),
    ]);
    await sleep(300);

    const termAt = Date.now();
    app.proc.child.kill('SIGTERM');
    // Readiness right after the signal: on the probe's existing keep-alive connection, then on a
    // new one, repeatedly while the in-flight requests are still waiting.
    const probes: Array<RawResult & { sentAfterMs: number; via: string }> = [];
    while (Date.now() - lockedAt < LOCK_MS) {
      const sentAfterMs = Date.now() - termAt;
      probes.push({ ...(await rawRequest(`${app.url}/health/ready`, { agent: probe, timeoutMs: 2_000 })), sentAfterMs, via: 'kept-alive' });
      probes.push({
        ...(await rawRequest(`${app.url}/health/ready`, { agent: false as unknown as Agent, timeoutMs: 2_000 })),
        sentAfterMs,
        via: 'new',
      });
      await sleep(100);
    }
    await locker.query('ROLLBACK');
    await locker.end();
    const releasedAt = Date.now();
    const [reads, write, profile] = await inFlight;
    const { code, signal } = await app.proc.exited;
    const exitedAt = Date.now();
    const kept = await (async () => {
      const c = new Client({ connectionString: app.dbUrl });
      await c.connect();
      try {
        return (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM posts WHERE title = $1`, [title])).rows[0].n;
      } finally {
        await c.end();
      }
    })();
    for (const agent of agents) {
      agent.destroy();
    }

    const outcome = (r: RawResult): string => (r.status === 0 ? (r.error ?? 'error') : String(r.status));
    const probeOutcomes: Record<string, number> = {};
    for (const p of probes) {
      const key = `${p.via} ${outcome(p)}`;
      probeOutcomes[key] = (probeOutcomes[key] ?? 0) + 1;
    }
    report({
      scenario: '4 SIGTERM during slow requests',
      requests: 3 + probes.length,
      inFlight: { 'GET /v1/posts': outcome(reads), 'POST /v1/posts': outcome(write), 'PATCH /v1/users/me': outcome(profile) },
      inFlightMs: [reads.ms, write.ms, profile.ms],
      readinessAfterSigterm: probeOutcomes,
      lastReadyProbeSentAfterMs: probes
        .filter((p) => p.status === 200)
        .reduce<number | null>((m, p) => Math.max(m ?? 0, p.sentAfterMs), null),
      lockReleasedAfterSigtermMs: releasedAt - termAt,
      exit: { code, signal, afterSigtermMs: exitedAt - termAt },
      lostWrites: write.status === 201 ? 1 - kept : 0,
    });

    // The in-flight requests complete normally.
    expect([reads.status, write.status, profile.status]).toEqual([200, 201, 200]);
    expect(kept).toBe(1);
    // From the moment the process has the signal, nobody is told "ready": the kept-alive
    // connection is answered 503 (ShutdownState) or closed, and new connections are refused
    // (Fastify stops listening as soon as close() begins). A probe sent in the first few ms may
    // still beat the signal's delivery to the process's event loop.
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.filter((p) => p.status === 200).every((p) => p.sentAfterMs < SIGNAL_DELIVERY_MS)).toBe(true);
    const afterDelivery = probes.filter((p) => p.sentAfterMs >= SIGNAL_DELIVERY_MS);
    expect(afterDelivery.length).toBeGreaterThan(0);
    expect(
      afterDelivery.every((p) => p.status === 503 || ['ECONNREFUSED', 'ECONNRESET', 'socket hang up', 'EPIPE'].includes(p.error ?? '')),
    ).toBe(true);
    expect(afterDelivery.filter((p) => p.via === 'new').every((p) => p.error === 'ECONNREFUSED')).toBe(true);
    // Gone within the 10 s the contract allows (the 9 s deadline guarantees at least that).
    expect(exitedAt - termAt).toBeLessThan(10_000);
    exit = { code, signal, afterReleaseMs: exitedAt - releasedAt };
  }, 60_000);

  // Regression: server.close() only reaps connections idle at that moment; a kept-alive
  // connection whose request was in flight stayed open (keepAliveTimeout 65 s), so draining never
  // completed and the 9 s deadline exited 1. Responses sent while draining now close their connection.
  it('exits 0 once the drained requests are answered, not at the 9 s deadline', () => {
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit!.afterReleaseMs).toBeLessThan(2_000);
  });
});
