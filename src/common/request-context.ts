import { AsyncLocalStorage } from 'node:async_hooks';

/** What code running for a request may know of it: the Fastify request itself fits. */
export interface RequestContext {
  readonly id: string;
  /** The client's address under the TRUST_PROXY rules (Fastify's `request.ip`). */
  readonly ip: string;
}

/**
 * The request being served, for everything that runs on its behalf (services, the database,
 * Cognito calls, event handlers), so each log line written meanwhile carries its id and a Cognito
 * call made for a signing-in user carries the user's address. The store is the request itself:
 * nothing is allocated per request.
 */
const requests = new AsyncLocalStorage<RequestContext>();

/** Runs `next` (and everything it starts) as part of `request`. */
export function runInRequest(request: RequestContext, next: () => void): void {
  requests.run(request, next);
}

/** The id of the request this code runs for, or undefined outside a request (start-up, timers). */
export function currentRequestId(): string | undefined {
  return requests.getStore()?.id;
}

/** The client address of the request this code runs for, or undefined outside a request. */
export function currentClientIp(): string | undefined {
  return requests.getStore()?.ip;
}
