import { createServer, Server } from 'node:http';
import { generateKeyPairSync, JsonWebKey } from 'node:crypto';
import { loadConfig } from '../config/app-config';
import { JWKS_PERIODIC_REFRESH_MS, JwksService } from './jwks.service';

function jwk(kid: string): JsonWebKey {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

/** Lets real I/O (the JWKS fetch over HTTP) progress while timers are fake. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 5_000 && !condition(); i += 1) {
    await new Promise((r) => setImmediate(r));
  }
}

describe('JwksService', () => {
  let server: Server;
  let published: JsonWebKey[];
  let fetches = 0;
  let service: JwksService;

  beforeEach(async () => {
    published = [jwk('kept'), jwk('rotated-out')];
    fetches = 0;
    server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    service = new JwksService(
      loadConfig({
        DATABASE_URL: 'postgres://u:p@localhost:5432/db',
        COGNITO_REGION: 'ap-northeast-2',
        COGNITO_USER_POOL_ID: 'ap-northeast-2_Abc123',
        COGNITO_CLIENT_ID: 'client123',
        COGNITO_JWKS_URI: `http://127.0.0.1:${port}/jwks.json`,
      }),
    );
  });
  afterEach(async () => {
    service.onModuleDestroy();
    jest.useRealTimers();
    await new Promise((resolve) => server.close(resolve));
  });

  it('stops trusting a key the pool no longer publishes at the next periodic refresh, with no unknown kid needed', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    service.onApplicationBootstrap();
    await until(() => service.has('rotated-out'));
    expect(service.has('rotated-out')).toBe(true);

    published = [published[0]];
    jest.advanceTimersByTime(JWKS_PERIODIC_REFRESH_MS);
    await until(() => !service.has('rotated-out'));
    expect({ rotatedOut: service.has('rotated-out'), kept: service.has('kept'), fetches }).toEqual({
      rotatedOut: false,
      kept: true,
      fetches: 2,
    });
  });

  it('keeps the keys it has when a periodic refresh fails', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    service.onApplicationBootstrap();
    await until(() => service.has('kept'));
    server.removeAllListeners('request');
    server.on('request', (_req, res) => {
      fetches += 1;
      res.writeHead(500).end();
    });
    jest.advanceTimersByTime(JWKS_PERIODIC_REFRESH_MS);
    await until(() => fetches >= 2);
    await until(() => false);
    expect({ kept: service.has('kept'), fetches }).toEqual({ kept: true, fetches: 2 });
  });
});
