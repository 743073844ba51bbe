import { randomUUID } from 'node:crypto';
import { withClient } from '../../tools/local-stack/postgres';
import { call, CallResult, countByStatus, report, runLoops, sleep, waitUntil } from '../support/load';
import { bearer, startTestApp, TestApp, TestUser } from '../support/test-app';

/**
 * Safe retries under faults: connections are cut mid-commit while clients create posts with
 * Idempotency-Keys; every client then retries what it sent. Nothing is stored twice, and every
 * retry is answered with what was stored.
 */

const LOOPS = 6;
/** Commits whose answer the proxy loses: stored by the database, answered 503 by the app. */
const LOST_COMMITS = 8;

interface Attempt {
  key: string;
  user: TestUser;
  title: string;
  body: string;
  result: CallResult;
}

function send(t: TestApp, attempt: Omit<Attempt, 'result'>): Promise<CallResult> {
  return call(t.baseUrl, '/v1/posts', {
    method: 'POST',
    headers: { ...bearer(attempt.user.accessToken), 'Idempotency-Key': attempt.key },
    body: { title: attempt.title, body: attempt.body },
    timeoutMs: 15_000,
  });
}

/** What a mobile client does after a failure: the same request with the same key, until answered. */
async function retry(t: TestApp, attempt: Attempt): Promise<CallResult> {
  let result = await send(t, attempt);
  for (let i = 0; i < 10 && result.status === 503; i += 1) {
    await sleep(200);
    result = await send(t, attempt);
  }
  return result;
}

describe('resilience: connections cut mid-commit, then every client retries with its key', () => {
  let t: TestApp;
  let users: TestUser[];

  beforeAll(async () => {
    t = await startTestApp({ proxyDatabase: true });
    users = [await t.given.user(), await t.given.user()];
  }, 60_000);
  afterAll(() => t.close(), 30_000);

  it('stores every post exactly once, and answers every retry with the response stored for its key', async () => {
    const attempts: Attempt[] = [];
    let stopped = false;
    const load = runLoops(
      LOOPS,
      () => stopped,
      async (worker, i) => {
        const user = users[worker % users.length];
        const title = `cut ${worker}.${i} ${randomUUID()}`;
        const attempt = { key: randomUUID(), user, title, body: `body of ${title}` };
        const result = await send(t, attempt);
        attempts.push({ ...attempt, result });
        if (result.status === 503) {
          await sleep(50);
        }
      },
    );

    await sleep(1_000);
    // Fault 1: the database commits, the answer never gets back.
    t.dbProxy!.loseCommitAnswers(LOST_COMMITS);
    await waitUntil('commit answers lost', () => Promise.resolve(t.dbProxy!.commitAnswersLost >= LOST_COMMITS), 15_000);
    const lostAnswers = t.dbProxy!.commitAnswersLost;
    // Fault 2: every connection is cut at once, whatever it was doing (some of it mid-commit).
    await t.dbProxy!.stop();
    await sleep(1_000);
    await t.dbProxy!.resume();
    await sleep(2_000);
    stopped = true;
    await load;

    // Each client retries once its request is over, answered or not.
    const retries = new Map<Attempt, CallResult>();
    for (const attempt of attempts) {
      retries.set(attempt, await retry(t, attempt));
    }

    const rows = await withClient(t.databaseUrl, async (c) => {
      const res = await c.query<{ id: string; title: string; body: string; author_id: string }>(
        `SELECT id, title, body, author_id FROM posts WHERE title = ANY($1::text[])`,
        [attempts.map((a) => a.title)],
      );
      return res.rows;
    });
    const stored = await withClient(t.databaseUrl, async (c) => {
      const res = await c.query<{ user_id: string; key: string; status_code: number; response_body: Record<string, unknown> }>(
        `SELECT user_id, key, status_code, response_body FROM idempotency_keys WHERE key = ANY($1::text[])`,
        [attempts.map((a) => a.key)],
      );
      return new Map(res.rows.map((r) => [`${r.user_id}/${r.key}`, r]));
    });

    const byTitle = new Map<string, typeof rows>();
    for (const row of rows) {
      byTitle.set(row.title, [...(byTitle.get(row.title) ?? []), row]);
    }
    const problems: unknown[] = [];
    let committedDespiteFailure = 0;
    for (const attempt of attempts) {
      const again = retries.get(attempt)!;
      const kept = byTitle.get(attempt.title) ?? [];
      const key = stored.get(`${attempt.user.id}/${attempt.key}`);
      const wrong = (why: string): number =>
        problems.push({ why, title: attempt.title, first: attempt.result.status, retry: again.status });
      if (kept.length !== 1) {
        wrong(`stored ${kept.length} times`);
        continue;
      }
      const [row] = kept;
      if (row.body !== attempt.body || row.author_id !== attempt.user.id) {
        wrong('stored something else than was sent');
      }
      if (again.status !== 201 || key === undefined || key.status_code !== 201) {
        wrong('retry not answered 201 from a stored key');
        continue;
      }
      // The retry's body is exactly what was stored for the key, and that is the post as stored.
      if (JSON.stringify(again.body) !== JSON.stringify(key.response_body) || (again.body as { id: string }).id !== row.id) {
        wrong('retry body differs from the stored response');
      }
      const replayed = again.headers.get('idempotent-replayed') === 'true';
      if (attempt.result.status === 201) {
        if (!replayed || JSON.stringify(attempt.result.body) !== JSON.stringify(again.body)) {
          wrong('a created post was not replayed as first answered');
        }
      } else if (replayed) {
        committedDespiteFailure += 1;
      }
    }

    report({
      scenario: 'idempotent retries after connections cut mid-commit',
      attempts: attempts.length,
      firstAnswers: countByStatus(attempts.map((a) => ({ label: 'POST /v1/posts', ...a.result }))),
      retryAnswers: countByStatus([...retries.values()].map((r) => ({ label: 'retry', ...r }))),
      commitAnswersLost: lostAnswers,
      committedDespiteFailure,
      problems: problems.length,
    });

    expect(problems).toEqual([]);
    // Throughout the faults: created or 503, never anything else.
    expect(attempts.filter((a) => a.result.status !== 201 && a.result.status !== 503)).toEqual([]);
    // The lost answers happened, and each of those commits was found by its retry, not repeated.
    expect(lostAnswers).toBeGreaterThanOrEqual(LOST_COMMITS);
    expect(committedDespiteFailure).toBeGreaterThanOrEqual(lostAnswers);
  }, 90_000);
});
