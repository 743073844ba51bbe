import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call } from './support/load';
import { startOtlpReceiver, OtlpReceiver } from '../tools/local-stack/otlp-receiver';
import { productionNodeOptions } from '../tools/local-stack/processes';
import { ProductionApp, ProductionUser, startProductionApp } from './support/production-app';
import { PASSWORD } from './support/test-app';

/** The production process (`node dist/main.js`): the instrumentations patch real `require`s there, not Jest's module registry. */
jest.setTimeout(120_000);

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
}
interface OtlpDataPoint {
  attributes: OtlpAttribute[];
}
interface OtlpMetric {
  name: string;
  sum?: { dataPoints: OtlpDataPoint[] };
  histogram?: { dataPoints: OtlpDataPoint[] };
  gauge?: { dataPoints: OtlpDataPoint[] };
}

const SPAN_KIND_SERVER = 2;

function attrs(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? (value.intValue === undefined ? (value.boolValue ?? value.doubleValue) : Number(value.intValue));
  }
  return out;
}

function spansOf(receiver: OtlpReceiver): Array<OtlpSpan & { resource: Record<string, unknown> }> {
  return receiver.exports
    .filter((e) => e.signal === 'traces')
    .flatMap((e) =>
      (
        e.json as { resourceSpans: Array<{ resource: { attributes: OtlpAttribute[] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> }
      ).resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ ...span, resource: attrs(rs.resource.attributes) }))),
      ),
    );
}

/** Every data point of every metric export, with its metric name and attributes. */
function pointsOf(receiver: OtlpReceiver): Array<{ name: string; attributes: Record<string, unknown> }> {
  return receiver.exports
    .filter((e) => e.signal === 'metrics')
    .flatMap((e) =>
      (e.json as { resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: OtlpMetric[] }> }> }).resourceMetrics.flatMap((rm) =>
        rm.scopeMetrics.flatMap((sm) =>
          sm.metrics.flatMap(
            (m) => (m.sum ?? m.histogram ?? m.gauge)?.dataPoints.map((p) => ({ name: m.name, attributes: attrs(p.attributes) })) ?? [],
          ),
        ),
      ),
    );
}

/** Every attribute value anywhere in an export (resource, spans, events, data points), as text. */
function attributeValues(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    node.forEach((child) => attributeValues(child, out));
  } else if (node !== null && typeof node === 'object') {
    for (const [key, child] of Object.entries(node)) {
      if (key === 'attributes' && Array.isArray(child)) {
        for (const attribute of child as OtlpAttribute[]) {
          out.push(`${attribute.key}=${JSON.stringify(attribute.value)}`);
        }
      } else if (key === 'status' || key === 'message') {
        out.push(JSON.stringify(child));
      } else {
        attributeValues(child, out);
      }
    }
  }
  return out;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const found = probe();
    if (found !== undefined) {
      return found;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`no ${what} was exported within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A preloaded script that writes every CommonJS module the process loaded to a file at exit. */
function moduleProbe(): { nodeOptions: string; loaded: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'module-probe-'));
  const out = join(dir, 'loaded.json');
  const script = join(dir, 'probe.js');
  writeFileSync(
    script,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));\n`,
  );
  return {
    nodeOptions: `${productionNodeOptions()} --require ${script}`,
    loaded: () => JSON.parse(readFileSync(out, 'utf8')) as string[],
  };
}

const SDK_MODULE = /node_modules\/(@opentelemetry\/(sdk-|exporter-|instrumentation)|@fastify\/otel)/;

describe('telemetry on: OTLP/HTTP (http/json) to a receiver on 127.0.0.1', () => {
  let receiver: OtlpReceiver;
  let app: ProductionApp;
  let user: ProductionUser;
  const probe = moduleProbe();
  const secrets: string[] = [];
  const wrongPassword = `Wr0ng!${randomUUID().slice(0, 8)}`;
  const signupEmail = `otel.${randomUUID()}@example.com`;
  const requestId = `otel-${randomUUID()}`;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    app = await startProductionApp({
      name: 'otel',
      env: {
        NODE_OPTIONS: probe.nodeOptions,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        RATE_LIMIT_AUTH_PER_MINUTE: '4',
      },
    });
    user = await app.user();
    secrets.push(user.email, user.accessToken, user.refreshToken, PASSWORD, wrongPassword, signupEmail);

    const posts = await call(app.url, '/v1/posts', { headers: { authorization: `Bearer ${user.accessToken}`, 'x-request-id': requestId } });
    expect(posts.status).toBe(200);
    // A token misplaced in the query string must not reach a span either.
    const misplaced = await call(app.url, `/v1/posts?cursor=${user.accessToken}`, {
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    expect(misplaced.status).toBe(400);
    const signup = await call(app.url, '/v1/auth/signup', {
      method: 'POST',
      body: { email: signupEmail, password: PASSWORD, nickname: 'otel' },
    });
    expect(signup.status).toBe(201);
    const code = '493817';
    secrets.push(code);
    expect((await call(app.url, '/v1/auth/confirm', { method: 'POST', body: { email: signupEmail, code } })).status).toBe(400);
    // A malformed body quoting a password (JSON.parse errors quote what they could not parse).
    const malformed = await call(app.url, '/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"email":"${signupEmail}","password":"${wrongPassword}`,
    });
    expect(malformed.status).toBe(400);
    // The login route allows 4 a minute per client IP: app.user() used one, so the 4th here is refused.
    const attempts = [];
    for (let i = 0; i < 4; i += 1) {
      attempts.push(
        (await call(app.url, '/v1/auth/login', { method: 'POST', body: { email: user.email, password: wrongPassword } })).status,
      );
    }
    expect(attempts).toEqual([401, 401, 401, 429]);
  });

  afterAll(async () => {
    await app?.close();
    await receiver?.close();
  });

  it('exports one server span per request with the route template, status and request id, named by the service', async () => {
    const server = await until('server span for GET /v1/posts', () =>
      spansOf(receiver).find((s) => s.kind === SPAN_KIND_SERVER && attrs(s.attributes)['http.request.id'] === requestId),
    );
    expect(server.name).toBe('GET /v1/posts');
    expect(attrs(server.attributes)).toMatchObject({
      'http.route': '/v1/posts',
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'url.path': '/v1/posts',
    });
    expect(server.resource['service.name']).toBe('api');
  });

  it('exports the SQL of a request as spans in its trace, with the statement and no parameter values', async () => {
    const server = await until('server span', () => spansOf(receiver).find((s) => attrs(s.attributes)['http.request.id'] === requestId));
    const sql = await until('SQL spans', () => {
      const found = spansOf(receiver).filter((s) => s.traceId === server.traceId && attrs(s.attributes)['db.system.name'] === 'postgresql');
      return found.length > 0 ? found : undefined;
    });
    for (const span of sql) {
      expect(attrs(span.attributes)['db.query.text']).toEqual(expect.any(String));
      expect(attrs(span.attributes)).not.toHaveProperty('db.postgresql.values');
    }
    const byId = new Map(spansOf(receiver).map((s) => [s.spanId, s]));
    // Each SQL span descends from the request's server span.
    for (const span of sql) {
      let node: OtlpSpan | undefined = span;
      while (node !== undefined && node.spanId !== server.spanId) {
        node = node.parentSpanId ? byId.get(node.parentSpanId) : undefined;
      }
      expect(node?.spanId).toBe(server.spanId);
    }
  });

  it('exports each Cognito call as a child span of the request that made it', async () => {
    const cognito = await until('Cognito InitiateAuth span', () =>
      spansOf(receiver).find(
        (s) => attrs(s.attributes)['rpc.method'] === 'InitiateAuth' && attrs(s.attributes)['rpc.system'] === 'aws-api',
      ),
    );
    const parent = spansOf(receiver).find((s) => s.spanId === cognito.parentSpanId);
    expect(parent).toBeDefined();
    expect(spansOf(receiver).find((s) => s.traceId === cognito.traceId && s.kind === SPAN_KIND_SERVER)?.name).toBe('POST /v1/auth/login');
  });

  it('exports the request duration, DB pool, Cognito, JWKS and rate-limit metrics', async () => {
    const find = (name: string, match: Record<string, unknown>) => () =>
      pointsOf(receiver).find((p) => p.name === name && Object.entries(match).every(([k, v]) => p.attributes[k] === v));
    await until(
      'http.server.request.duration',
      find('http.server.request.duration', { 'http.route': '/v1/posts', 'http.request.method': 'GET', 'http.response.status_code': 200 }),
    );
    await until(
      'a 429 in http.server.request.duration',
      find('http.server.request.duration', { 'http.route': '/v1/auth/login', 'http.response.status_code': 429 }),
    );
    await until('db.client.connection.count (used)', find('db.client.connection.count', { 'db.client.connection.state': 'used' }));
    await until('db.client.connection.count (idle)', find('db.client.connection.count', { 'db.client.connection.state': 'idle' }));
    await until('db.client.connection.pending_requests', find('db.client.connection.pending_requests', {}));
    await until('a successful InitiateAuth', find('aws.client.call.duration', { 'rpc.method': 'InitiateAuth', outcome: 'ok' }));
    const failed = await until('a refused InitiateAuth', () =>
      pointsOf(receiver).find(
        (p) => p.name === 'aws.client.call.duration' && p.attributes['rpc.method'] === 'InitiateAuth' && p.attributes.outcome !== 'ok',
      ),
    );
    // cognito-local says InvalidPasswordException where Cognito says NotAuthorizedException.
    expect(failed.attributes.outcome).toMatch(/Exception$/);
    await until('jwks.fetches', find('jwks.fetches', { outcome: 'ok' }));
    await until('rate_limit.refusals', find('rate_limit.refusals', { 'http.route': '/v1/auth/login' }));
  });

  it('puts no token, password, code or email in any attribute of anything it exported', async () => {
    await until('the spans of every request', () =>
      spansOf(receiver).filter((s) => s.kind === SPAN_KIND_SERVER).length >= 10 ? true : undefined,
    );
    const values = receiver.exports.flatMap((e) => attributeValues(e.json));
    expect(values.length).toBeGreaterThan(100);
    for (const secret of secrets) {
      expect(values.filter((v) => v.includes(secret))).toEqual([]);
      expect(receiver.exports.filter((e) => e.raw.includes(secret)).map((e) => e.signal)).toEqual([]);
    }
  });

  it('loaded the SDK in the process (the check the telemetry-off tests rely on)', async () => {
    await app.close();
    expect(probe.loaded().filter((m) => SDK_MODULE.test(m)).length).toBeGreaterThan(0);
  });
});

describe('telemetry off', () => {
  it.each([
    ['no OTLP endpoint is set', {}],
    ['OTEL_SDK_DISABLED=true', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' }],
  ])('loads not one SDK module when %s', async (_case, env: Record<string, string>) => {
    const probe = moduleProbe();
    const app = await startProductionApp({ name: 'nootel', env: { NODE_OPTIONS: probe.nodeOptions, ...env } });
    try {
      expect((await call(app.url, '/health/ready')).status).toBe(200);
    } finally {
      await app.close();
    }
    const loaded = probe.loaded();
    expect(loaded.some((m) => m.includes('node_modules/pg/'))).toBe(true);
    expect(loaded.filter((m) => SDK_MODULE.test(m))).toEqual([]);
  });
});
