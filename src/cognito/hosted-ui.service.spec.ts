import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ApiError } from '../common/api-error';
import { HostedUiConfig, loadConfig } from '../config/app-config';
import { HostedUiService } from './hosted-ui.service';

interface Seen {
  authorization?: string;
  contentType?: string;
  body: Record<string, string>;
}

/** A stand-in for the pool's token endpoint on 127.0.0.1: answers what the test says, records what it got. */
async function tokenEndpoint(answer: { status: number; body: unknown }): Promise<{ server: Server; domain: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: Object.fromEntries(new URLSearchParams(raw)),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, domain: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

const env = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  COGNITO_REGION: 'ap-northeast-2',
  COGNITO_USER_POOL_ID: 'ap-northeast-2_Abc123',
  COGNITO_CLIENT_ID: 'client123',
};
const input = { code: 'the-code', codeVerifier: 'v'.repeat(43), redirectUri: 'https://app.example.com/cb' };

describe('HostedUiService.exchangeCode', () => {
  let endpoint: Awaited<ReturnType<typeof tokenEndpoint>> | undefined;

  afterEach(async () => {
    if (endpoint !== undefined) {
      await stop(endpoint.server);
      endpoint = undefined;
    }
  });

  const hostedUi = (domain: string): HostedUiConfig => ({ domain, redirectUris: [input.redirectUri] });

  it('posts the authorization_code grant with the PKCE verifier, and authenticates a confidential client with HTTP Basic', async () => {
    endpoint = await tokenEndpoint({ status: 200, body: { access_token: 'a', id_token: 'i', refresh_token: 'r', expires_in: 3600 } });
    const service = new HostedUiService(loadConfig({ ...env, COGNITO_CLIENT_SECRET: 's3cr3t' }));
    await expect(service.exchangeCode(hostedUi(endpoint.domain), input)).resolves.toEqual({
      accessToken: 'a',
      idToken: 'i',
      refreshToken: 'r',
      expiresIn: 3600,
    });
    expect(endpoint.seen).toEqual([
      {
        authorization: `Basic ${Buffer.from('client123:s3cr3t').toString('base64')}`,
        contentType: 'application/x-www-form-urlencoded',
        body: {
          grant_type: 'authorization_code',
          client_id: 'client123',
          code: 'the-code',
          redirect_uri: 'https://app.example.com/cb',
          code_verifier: input.codeVerifier,
        },
      },
    ]);
  });

  it('sends no Authorization header for a public client', async () => {
    endpoint = await tokenEndpoint({ status: 200, body: { access_token: 'a', id_token: 'i' } });
    await new HostedUiService(loadConfig(env)).exchangeCode(hostedUi(endpoint.domain), input);
    expect(endpoint.seen[0].authorization).toBeUndefined();
  });

  it.each([
    [400, { error: 'invalid_grant' }, 400, 'INVALID_GRANT'],
    [400, { error: 'invalid_request' }, 400, 'INVALID_GRANT'],
    [400, { error: 'invalid_client' }, 503, 'IDP_UNAVAILABLE'],
    [429, {}, 429, 'TOO_MANY_REQUESTS'],
    [500, 'not json', 503, 'IDP_UNAVAILABLE'],
    [200, { access_token: 'a' }, 503, 'IDP_UNAVAILABLE'],
  ])('maps an answer %i %j to %i %s', async (status, body, expectedStatus, code) => {
    endpoint = await tokenEndpoint({ status, body });
    const error = await new HostedUiService(loadConfig(env)).exchangeCode(hostedUi(endpoint.domain), input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect({ status: (error as ApiError).getStatus(), code: (error as ApiError).code }).toEqual({ status: expectedStatus, code });
  });

  it('answers 503 IDP_UNAVAILABLE when the domain does not answer', async () => {
    endpoint = await tokenEndpoint({ status: 200, body: {} });
    const domain = endpoint.domain;
    await stop(endpoint.server);
    endpoint = undefined;
    const error = await new HostedUiService(loadConfig(env)).exchangeCode(hostedUi(domain), input).catch((e: unknown) => e);
    expect((error as ApiError).code).toBe('IDP_UNAVAILABLE');
  });
});
