import type request from 'supertest';
import { bearer, expectStatus } from '../test-app';

export type Http = ReturnType<typeof request>;

/**
 * Sends one caller's requests: with its bearer token, or with none for the public routes. Every
 * method gives the raw supertest `Test`, so a spec can still set a header or assert anything.
 */
export class Sender {
  constructor(
    private readonly http: Http,
    private readonly token?: string,
  ) {}

  get(path: string): request.Test {
    return this.auth(this.http.get(path));
  }

  post(path: string): request.Test {
    return this.auth(this.http.post(path));
  }

  put(path: string): request.Test {
    return this.auth(this.http.put(path));
  }

  patch(path: string): request.Test {
    return this.auth(this.http.patch(path));
  }

  delete(path: string): request.Test {
    return this.auth(this.http.delete(path));
  }

  private auth(req: request.Test): request.Test {
    return this.token === undefined ? req : req.set(bearer(this.token));
  }
}

/** A query as an object (`{ limit: 2 }`) or as sent (`'limit=abc'`), for the specs that send wrong ones. */
export type Query = Record<string, string | number | boolean | undefined> | string;

/** One path segment, escaped: a spec passes the raw value (`'bad name!'`). */
export const segment = (value: string): string => encodeURIComponent(value);

/** Asserts the success status of an answer and gives its body, typed, for a spec that needs a fixture. */
export async function expectBody<T>(answer: request.Test, status: number): Promise<T> {
  const res = await answer;
  expectStatus(res, status);
  return res.body as T;
}

/** Adds the query unless there is none (a path without `?` stays as it is). */
export function withQuery(req: request.Test, query: Query | undefined): request.Test {
  if (query === undefined) {
    return req;
  }
  if (typeof query === 'string') {
    return req.query(query);
  }
  const defined = Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined));
  return req.query(defined);
}
