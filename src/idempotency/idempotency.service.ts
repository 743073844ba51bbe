import { Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiError } from '../common/api-error';
import { Transactions } from '../database/transactions';
import { IdempotencyRepository, StoredResponse } from './idempotency.repository';
import { IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER } from './idempotency-key';
import { KeyHeld, PendingKeys } from './pending-key';

/** The response headers a replay repeats (the rest, such as X-Request-Id, belong to each response). */
const REPLAYED_HEADERS = ['location'];

/** A request with the same key committed between this one's snapshot and its lock. */
class KeyTakenMeanwhile extends Error {}

/** A request that sent a valid `Idempotency-Key`, as IdempotencyGuard read it (`@IdempotencyKey()`). */
export interface KeyedRequest {
  readonly userId: string;
  readonly key: string;
  /** What makes two requests "the same": method, path and body (see IdempotencyGuard). */
  readonly requestHash: Buffer;
  /** The route makes this request's effect in one statement that also claims the key (`oneStatementWhen`). */
  readonly oneStatement: boolean;
  readonly reply: FastifyReply;
}

type Outcome = { kind: 'processed'; body: unknown } | { kind: 'stored'; stored: StoredResponse };

/**
 * Safe retries (docs/retries.md), for the routes marked `@Idempotent()`: a handler returns
 * `once(key, work)`. With an `Idempotency-Key`, the work runs inside a transaction that first takes
 * the key (a lock, without waiting) and finally stores the response under it, so the effect and the
 * key commit together: a commit whose answer was lost on the way to the client is found by the retry
 * and replayed, never repeated. Without one, the work just runs.
 */
@Injectable()
export class Idempotency {
  constructor(
    private readonly transactions: Transactions,
    private readonly keys: IdempotencyRepository,
    private readonly pendingKeys: PendingKeys,
  ) {}

  async once<T>(keyed: KeyedRequest | undefined, work: () => Promise<T>): Promise<T> {
    if (keyed === undefined) {
      return work();
    }
    const outcome = keyed.oneStatement ? await this.processInOneStatement(keyed, work) : await this.processOnce(keyed, work);
    return this.answer(keyed, outcome) as T;
  }

  /**
   * Refuses, before any pipe reads the body, a key held by a request in flight (409) or used for a
   * different request (422), so that a body the pipes would refuse is answered as the key says.
   * A key used for this same request passes: the route replays it. One statement, outside any
   * transaction: the lock it may take ends with it.
   */
  async refuseHeld(keyed: KeyedRequest): Promise<void> {
    const claim = await this.keys.claim(keyed.userId, keyed.key);
    if (claim.kind === 'in-flight') {
      throw inFlight();
    }
    if (claim.kind === 'completed') {
      refuseOtherRequest(keyed, claim.stored);
    }
  }

  /** The processed body, or the stored answer replayed (422 when the key was used for another request). */
  private answer(keyed: KeyedRequest, outcome: Outcome): unknown {
    if (outcome.kind === 'processed') {
      return outcome.body;
    }
    refuseOtherRequest(keyed, outcome.stored);
    void keyed.reply.status(outcome.stored.statusCode).headers(outcome.stored.headers).header(REPLAYED_HEADER, 'true');
    return outcome.stored.body;
  }

  /** Runs the work under the key, or answers what the key already holds. */
  private async processOnce(keyed: KeyedRequest, work: () => Promise<unknown>): Promise<Outcome> {
    const { userId, key, requestHash, reply } = keyed;
    try {
      return await this.transactions.run(async (): Promise<Outcome> => {
        const claim = await this.keys.claim(userId, key);
        if (claim.kind !== 'claimed') {
          return heldOutcome(new KeyHeld(claim));
        }
        // Called here, inside the transaction's async context, so the work's writes join it.
        const body = await work();
        if (!(await this.keys.store(userId, key, { requestHash, statusCode: reply.statusCode, body, headers: pick(reply) }))) {
          throw new KeyTakenMeanwhile();
        }
        return { kind: 'processed', body };
      });
    } catch (error) {
      if (!(error instanceof KeyTakenMeanwhile)) {
        throw error;
      }
      // This attempt's effect was rolled back; the one that committed answers for the key.
      const stored = await this.keys.find(userId, key);
      if (stored === null) {
        throw inFlight();
      }
      return { kind: 'stored', stored };
    }
  }

  /**
   * The route claims the key, makes its effect and stores its answer in one statement (see
   * PendingKey), which tells what it found by throwing KeyHeld. Work refused before that statement
   * answers as it would have after taking the key: 409 while the key is in flight, its stored
   * answer or 422 when the key was used, else its own error.
   */
  private async processInOneStatement(keyed: KeyedRequest, work: () => Promise<unknown>): Promise<Outcome> {
    const pending = { userId: keyed.userId, key: keyed.key, requestHash: keyed.requestHash, sent: false };
    try {
      const body = await this.pendingKeys.run(pending, work);
      if (!pending.sent) {
        throw new Error('An @Idempotent({ oneStatementWhen }) route answered without its keyed statement');
      }
      return { kind: 'processed', body };
    } catch (error) {
      if (error instanceof KeyHeld) {
        return heldOutcome(error);
      }
      if (pending.sent) {
        throw error;
      }
      const claim = await this.keys.claim(pending.userId, pending.key);
      if (claim.kind === 'claimed') {
        throw error;
      }
      return heldOutcome(new KeyHeld(claim));
    }
  }
}

function heldOutcome(held: KeyHeld): Outcome {
  if (held.by.kind === 'in-flight') {
    throw inFlight();
  }
  return { kind: 'stored', stored: held.by.stored };
}

function inFlight(): ApiError {
  return new ApiError(409, 'CONFLICT', `A request with this ${IDEMPOTENCY_KEY_HEADER} is still being processed; retry shortly`, {
    headers: { 'Retry-After': '1' },
  });
}

/** 422 when the key's stored answer is another request's. */
function refuseOtherRequest(keyed: KeyedRequest, stored: StoredResponse): void {
  if (!stored.requestHash.equals(keyed.requestHash)) {
    throw new ApiError(422, 'IDEMPOTENCY_KEY_REUSED', `This ${IDEMPOTENCY_KEY_HEADER} was used for a different request; use a new key`);
  }
}

function pick(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = reply.getHeader(name);
    if (typeof value === 'string') {
      headers[name] = value;
    }
  }
  return headers;
}
