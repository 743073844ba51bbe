/**
 * The API, same origin. Every call carries the access token held in memory (never a URL, never
 * storage); a failure becomes a Problem carrying the API's `detail`. A 401 or 403 ends the
 * console's session: the app goes back to sign-in with that detail.
 */

export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  expiresIn: number;
}

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

interface ProblemBody {
  detail?: unknown;
  title?: unknown;
  code?: unknown;
}

/** The problem details of a failed response (RFC 9457), or a plain sentence when there are none. */
export async function problemOf(res: Response): Promise<Problem> {
  let body: ProblemBody = {};
  try {
    body = (await res.json()) as ProblemBody;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  const detail = typeof body.detail === 'string' ? body.detail : typeof body.title === 'string' ? body.title : `HTTP ${res.status}`;
  return new Problem(res.status, typeof body.code === 'string' ? body.code : '', detail);
}

let accessToken: string | null = null;
let onUnauthorized: (message: string) => void = () => undefined;

export function setAccessToken(token: string | null): void {
  accessToken = token;
}

export function currentAccessToken(): string | null {
  return accessToken;
}

/** Called with the problem's detail when the API answers 401 or 403 to an authenticated call. */
export function onSessionRefused(handler: (message: string) => void): void {
  onUnauthorized = handler;
}

/** A fetch failing before any answer (network down) still says something. */
async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, init);
  } catch {
    throw new Problem(0, 'NETWORK', 'The service cannot be reached. Check the connection and try again.');
  }
}

/** An authenticated call: the raw response, or a Problem thrown for any non-2xx answer. */
export async function request(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (accessToken !== null) {
    headers.Authorization = `Bearer ${accessToken}`;
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  const res = await send(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) {
    const problem = await problemOf(res);
    if (res.status === 401 || res.status === 403) {
      onUnauthorized(problem.detail);
    }
    throw problem;
  }
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await request('GET', path)).json()) as T;
}

export async function call(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Response> {
  return request(method, path, body);
}

/** A public auth route (sign-in, challenge, refresh): no token, and a 401 is the caller's to show. */
export async function publicPost<T>(path: string, body: unknown): Promise<T> {
  const res = await send(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) {
    throw await problemOf(res);
  }
  return (await res.json()) as T;
}

/** A query string from the set values only. */
export function query(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== '') {
      params.set(name, value);
    }
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

export function messageOf(error: unknown): string {
  return error instanceof Problem ? error.detail : error instanceof Error ? error.message : String(error);
}
