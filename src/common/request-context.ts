import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The id of the request being served, for everything that runs on its behalf (services, the
 * database, Cognito calls, event handlers), so each log line written meanwhile carries it. The
 * store is the id itself: nothing is allocated per request.
 */
const requestIds = new AsyncLocalStorage<string>();

/** Runs `next` (and everything it starts) as part of the request `requestId`. */
export function runInRequest(requestId: string, next: () => void): void {
  requestIds.run(requestId, next);
}

/** The id of the request this code runs for, or undefined outside a request (start-up, timers). */
export function currentRequestId(): string | undefined {
  return requestIds.getStore();
}
