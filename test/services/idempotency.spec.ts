import { createHash, randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { ApiError } from '../../src/common/api-error';
import { Transactions } from '../../src/database/transactions';
import { IdempotencyRepository } from '../../src/idempotency/idempotency.repository';
import { Idempotency, KeyedRequest } from '../../src/idempotency/idempotency.service';
import { PendingKeys } from '../../src/idempotency/pending-key';
import { whileKeyHeld } from '../support/idempotency-lock';
import { GivenUser, ServiceHarness, startServices } from './services';

/** The part of a Fastify reply Idempotency reads and sets, recorded. */
function recordingReply(): FastifyReply & { recorded: { status?: number; headers: Record<string, string> } } {
  const recorded: { status?: number; headers: Record<string, string> } = { headers: {} };
  const reply = {
    recorded,
    statusCode: 201,
    getHeader: (name: string) => recorded.headers[name.toLowerCase()],
    status(code: number) {
      recorded.status = code;
      return reply;
    },
    headers(values: Record<string, string>) {
      for (const [name, value] of Object.entries(values)) {
        recorded.headers[name.toLowerCase()] = value;
      }
      return reply;
    },
    header(name: string, value: string) {
      recorded.headers[name.toLowerCase()] = value;
      return reply;
    },
  };
  return reply as unknown as FastifyReply & { recorded: typeof recorded };
}

/**
 * Idempotency.once on a route that makes its effect in one keyed statement (`oneStatementWhen`),
 * when the work refuses the request before sending that statement: the refusal must answer as the
 * key says, as it would after taking the key. No route of the API refuses there today (the guard
 * sends only plainly valid post bodies down that path), so it is held here, on the real database.
 */
describe('Idempotency.once: a one-statement request refused before its statement', () => {
  let s: ServiceHarness;
  let idempotency: Idempotency;
  let user: GivenUser;

  beforeAll(async () => {
    s = await startServices('idempotency');
    const transactions = s.get(Transactions);
    idempotency = new Idempotency(transactions, new IdempotencyRepository(transactions), new PendingKeys());
    user = await s.given.user();
  });
  afterAll(() => s?.close());

  const keyed = (key: string, body: string, oneStatement: boolean, reply = recordingReply()): KeyedRequest => ({
    userId: user.id,
    key,
    requestHash: createHash('sha256').update(body).digest(),
    oneStatement,
    reply,
  });
  const refusedBeforeItsStatement = (): Promise<never> => Promise.reject(ApiError.notFound());
  const stored = async (key: string): Promise<unknown[]> =>
    (await s.db.pool.query(`SELECT 1 FROM idempotency_keys WHERE user_id = $1 AND key = $2`, [user.id, key])).rows;

  async function answered(key: string, body: string): Promise<void> {
    await idempotency.once(keyed(key, body, false), () => Promise.resolve({ id: 'first' }));
    expect(await stored(key)).toHaveLength(1);
  }

  it('answers its own error on a fresh key, and stores nothing under it', async () => {
    const key = randomUUID();
    await expect(idempotency.once(keyed(key, 'a', true), refusedBeforeItsStatement)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await stored(key)).toEqual([]);
  });

  it('is 422 IDEMPOTENCY_KEY_REUSED on a key answered for another request', async () => {
    const key = randomUUID();
    await answered(key, 'a');
    await expect(idempotency.once(keyed(key, 'b', true), refusedBeforeItsStatement)).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
  });

  it('replays the stored answer on a key answered for this same request', async () => {
    const key = randomUUID();
    await answered(key, 'a');
    const reply = recordingReply();
    await expect(idempotency.once(keyed(key, 'a', true, reply), refusedBeforeItsStatement)).resolves.toEqual({ id: 'first' });
    expect(reply.recorded).toEqual({ status: 201, headers: { 'idempotent-replayed': 'true' } });
  });

  it('is 409 CONFLICT with Retry-After on a key held by a request in flight', async () => {
    const key = randomUUID();
    await whileKeyHeld(s.db.url, user.id, key, async () => {
      await expect(idempotency.once(keyed(key, 'a', true), refusedBeforeItsStatement)).rejects.toMatchObject({
        code: 'CONFLICT',
        headers: { 'Retry-After': '1' },
      });
    });
  });
});
