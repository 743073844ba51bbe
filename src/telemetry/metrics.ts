import { Attributes, Counter, Histogram, metrics } from '@opentelemetry/api';

/**
 * The service's own metrics (the pg instrumentation reports the pool: `db.client.connection.*`).
 * Without the SDK the API hands out no-op instruments, so a call costs next to nothing. Each
 * instrument is created on first use, after src/telemetry/preload.ts has registered the SDK.
 * Attributes are bounded sets (route templates, operation names, error names): never an id,
 * a path with values in it, or anything a client typed.
 */
const METER = 'api';

/** Latency buckets in seconds, from a cached-token GET to a Cognito call at its deadline. */
const SECONDS_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function lazy<T>(create: () => T): () => T {
  let instrument: T | undefined;
  return () => (instrument ??= create());
}

const httpServerDuration = lazy<Histogram>(() =>
  metrics.getMeter(METER).createHistogram('http.server.request.duration', {
    description: 'Duration of HTTP server requests.',
    unit: 's',
    advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
  }),
);

const awsCallDuration = lazy<Histogram>(() =>
  metrics.getMeter(METER).createHistogram('aws.client.call.duration', {
    description: 'Duration of AWS SDK calls (Cognito, S3) by service, operation and outcome, retries included.',
    unit: 's',
    advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
  }),
);

const jwksFetches = lazy<Counter>(() =>
  metrics.getMeter(METER).createCounter('jwks.fetches', { description: 'Fetches of the user pool signing keys by outcome.' }),
);

const rateLimitRefusals = lazy<Counter>(() =>
  metrics.getMeter(METER).createCounter('rate_limit.refusals', { description: 'Requests refused with 429 by the rate limit, by route.' }),
);

export function recordHttpServerRequest(method: string, route: string | undefined, status: number, seconds: number): void {
  const attributes: Attributes = { 'http.request.method': method, 'http.response.status_code': status };
  // No route template (404, router refusals): leave it out rather than record the raw path.
  if (route !== undefined) {
    attributes['http.route'] = route;
  }
  httpServerDuration().record(seconds, attributes);
}

/** `outcome` is `ok` or the SDK error's name (NotAuthorizedException, TimeoutError...). */
export function recordAwsCall(service: string, operation: string, outcome: string, seconds: number): void {
  awsCallDuration().record(seconds, { 'rpc.service': service, 'rpc.method': operation, outcome });
}

export function countJwksFetch(outcome: 'ok' | 'error'): void {
  jwksFetches().add(1, { outcome });
}

export function countRateLimitRefusal(route: string): void {
  rateLimitRefusals().add(1, { 'http.route': route });
}
