import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type { StoredResponse } from './idempotency.repository';

/**
 * A keyed request on a route that claims its key, makes its effect and stores its answer in ONE
 * statement (`@Idempotent({ oneStatement })`): no transaction is opened around the handler; the
 * repository that writes sends that statement itself (one round trip where the transaction takes
 * five). `sent` is set just before the statement goes out: from then on the key's fate is the
 * statement's (committed with its answer, or not at all).
 */
export interface PendingKey {
  readonly userId: string;
  readonly key: string;
  readonly requestHash: Buffer;
  sent: boolean;
}

/** Why a keyed statement made no effect: the key is held by a request in flight, or answered already. */
export type KeyHeldBy = { kind: 'in-flight' } | { kind: 'completed'; stored: StoredResponse };

/** Thrown through the handler by a keyed statement that found its key held; Idempotency.once answers it. */
export class KeyHeld extends Error {
  constructor(readonly by: KeyHeldBy) {
    super(`Idempotency key held (${by.kind})`);
  }
}

/** The request's pending key, carried by AsyncLocalStorage from Idempotency.once to the repository. */
@Injectable()
export class PendingKeys {
  private readonly current = new AsyncLocalStorage<PendingKey>();

  run<T>(pending: PendingKey, work: () => Promise<T>): Promise<T> {
    return this.current.run(pending, work);
  }

  /** The request's key if its one statement is still to be sent, marked as sent; else undefined. */
  take(): PendingKey | undefined {
    const pending = this.current.getStore();
    if (pending === undefined || pending.sent) {
      return undefined;
    }
    pending.sent = true;
    return pending;
  }
}
