import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { diffSnapshots, snapshot } from './support/db-snapshot';
import { call, CallResult } from './support/load';
import { bearer, startTestApp, TestApp } from './support/test-app';

/**
 * A body the parser refuses is answered in our own words on every route that takes one: no
 * sentence of Fastify's (nor of Nest's wrapping of it) reaches a client, and nothing is written.
 */

/** What the service says about a body it cannot parse (src/common/problem-details.ts). */
const OUR_DETAILS: Record<number, string[]> = {
  400: ['The body is not valid JSON', 'The body is not valid UTF-8', 'Content-Length does not match the body'],
  413: ['The request body exceeds 64 KiB'],
};

/** Sentences of Fastify's body parser and of Nest's adapter; none may appear in a response. */
const LIBRARY_TEXT = /content-type is set|Body is not valid|Body cannot be empty|Request body is too large|FST_|forbidden prototype/;

const BROKEN = [
  '{"title":',
  '{',
  '[1,]',
  '{"title":"x",}',
  '{}{}',
  'nul',
  "{'title':'x'}",
  '{"title":"unterminated',
  '{"__proto__":{"polluted":true}}',
  '{"a":{"constructor":{"prototype":{"polluted":true}}}}',
];

/** Any text that is not JSON (JSON.parse refuses it), generated. */
const notJson = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((text) => {
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
});

interface Route {
  method: string;
  path: string;
}

describe('refused bodies', () => {
  let t: TestApp;
  let db: Client;
  let adminToken: string;
  let routes: Route[];

  beforeAll(async () => {
    t = await startTestApp();
    adminToken = (await t.given.user({ groups: ['admin'] })).accessToken;
    db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    // Every route that takes a body, from the service's own OpenAPI document, so a new route is
    // covered without editing this test.
    const document = (await call(t.baseUrl, '/docs/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((method) => ['post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, () => randomUUID()) })),
    );
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await t?.close();
  }, 30_000);

  function send(route: Route, body: string | Buffer, auth: boolean): Promise<CallResult> {
    return call(t.baseUrl, route.path, {
      method: route.method,
      headers: { 'content-type': 'application/json', ...(auth ? bearer(adminToken) : {}) },
      body,
    });
  }

  function expectOurRefusal(route: Route, sent: string, res: CallResult, status = 400): void {
    const seen = { route: `${route.method} ${route.path}`, sent, status: res.status, code: res.body?.code, detail: res.body?.detail };
    expect(seen).toEqual({
      ...seen,
      status,
      code: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_FAILED',
      detail: OUR_DETAILS[status]?.includes(seen.detail) === true ? seen.detail : `one of ${JSON.stringify(OUR_DETAILS[status])}`,
    });
    expect(JSON.stringify(res.body)).not.toMatch(LIBRARY_TEXT);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
  }

  it('finds the routes that take a body', () => {
    expect(routes.map((r) => `${r.method} ${r.path.split('/').slice(0, 3).join('/')}`)).toEqual(
      expect.arrayContaining(['POST /v1/posts', 'POST /v1/auth', 'PATCH /v1/users', 'POST /v1/admin']),
    );
  });

  it('answers every broken body on every route with our own text and writes nothing', async () => {
    const before = await snapshot(db);
    for (const route of routes) {
      for (const body of BROKEN) {
        for (const auth of [false, true]) {
          expectOurRefusal(route, body, await send(route, body, auth));
        }
      }
    }
    expect(diffSnapshots(before, await snapshot(db))).toEqual([]);
  });

  it('answers generated non-JSON on every route with our own text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), notJson, fc.boolean(), async (route, body, auth) => {
        const res = await send(route, body, auth);
        expectOurRefusal(route, body, res);
      }),
      { numRuns: 200 },
    );
  });

  it('answers invalid UTF-8 and an oversized body with our own text on every route', async () => {
    for (const route of routes) {
      expectOurRefusal(route, 'invalid UTF-8', await send(route, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), true));
      expectOurRefusal(route, '65 KiB', await send(route, `{"title":"${'x'.repeat(65 * 1024)}"}`, true), 413);
    }
  });
});
