/**
 * Load and fault-scenario helpers: bounded HTTP calls that never throw (a network failure is
 * status 0), a recorder of every outcome, and the one-line JSON summary each resilience
 * scenario prints.
 */

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON unless it is already a string or a Buffer. */
  body?: unknown;
  /** The client gives up after this long and records status 0 with `timedOut` (default 15 s). */
  timeoutMs?: number;
}

export interface CallResult {
  status: number;
  /** Parsed JSON when the response was JSON, else the text (`any`, as supertest's body: tests read the fields they expect). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Headers;
  ms: number;
  startedAt: number;
  endedAt: number;
  /** Set when the call failed below HTTP (refused, reset) or timed out: status is 0. */
  error?: string;
  timedOut?: boolean;
}

/** One HTTP call with a hard client-side bound. Never throws. */
export async function call(baseUrl: string, path: string, options: CallOptions = {}): Promise<CallResult> {
  const startedAt = Date.now();
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Buffer | undefined;
  if (options.body !== undefined) {
    if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) {
      body = options.body;
    } else {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
  }
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: body === undefined ? undefined : new Uint8Array(typeof body === 'string' ? Buffer.from(body) : body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      redirect: 'manual',
    });
    const text = await res.text();
    let parsed: unknown = text;
    if (/json/.test(res.headers.get('content-type') ?? '') && text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const endedAt = Date.now();
    return { status: res.status, body: parsed, headers: res.headers, ms: endedAt - startedAt, startedAt, endedAt };
  } catch (error) {
    const endedAt = Date.now();
    const e = error as Error & { cause?: { code?: string } };
    const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
    return {
      status: 0,
      body: null,
      headers: new Headers(),
      ms: endedAt - startedAt,
      startedAt,
      endedAt,
      error: timedOut ? 'timeout' : (e.cause?.code ?? e.message),
      timedOut,
    };
  }
}

export interface Outcome {
  label: string;
  status: number;
  code?: string;
  ms: number;
  startedAt: number;
  endedAt: number;
  error?: string;
  retryAfter?: string | null;
}

/** Every outcome of a scenario, with the figures the summaries need. */
export class Recorder {
  readonly outcomes: Outcome[] = [];

  add(label: string, result: CallResult): CallResult {
    this.outcomes.push({
      label,
      status: result.status,
      code: typeof result.body === 'object' && result.body !== null ? (result.body as { code?: string }).code : undefined,
      ms: result.ms,
      startedAt: result.startedAt,
      endedAt: result.endedAt,
      error: result.error,
      retryAfter: result.headers.get('retry-after'),
    });
    return result;
  }

  where(filter: (o: Outcome) => boolean): Outcome[] {
    return this.outcomes.filter(filter);
  }

  get count(): number {
    return this.outcomes.length;
  }
}

/** `{ "200": 10, "503": 3, "0": 1 }`: outcome counts by status (0 = no HTTP answer). */
export function countByStatus(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    counts[o.status] = (counts[o.status] ?? 0) + 1;
  }
  return counts;
}

/** Math.max without spreading (a long run records more values than the call stack takes). */
export function maxOf(values: number[]): number {
  return values.reduce((m, v) => (v > m ? v : m), 0);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) {
    return 0;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The one line a scenario prints: `resilience {"scenario":...}` (grep-able from the test output). */
export function report(summary: Record<string, unknown>): void {
  process.stdout.write(`resilience ${JSON.stringify(summary)}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Runs `loops` concurrent workers until `stop()` says so: each calls `step(worker, iteration)`
 * back to back. Returns when every worker has finished its current step.
 */
export async function runLoops(
  loops: number,
  shouldStop: () => boolean,
  step: (worker: number, i: number) => Promise<unknown>,
): Promise<void> {
  await Promise.all(
    Array.from({ length: loops }, async (_, worker) => {
      for (let i = 0; !shouldStop(); i += 1) {
        await step(worker, i);
      }
    }),
  );
}

/** Polls until `probe` is true; returns the ms it took, or throws after `timeoutMs`. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await probe()) {
      return Date.now() - started;
    }
    await sleep(everyMs);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}
