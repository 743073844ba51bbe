import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { setUnverifiedEmail } from './support/cognito-sdk';
import { expectStatus, PASSWORD, startTestApp, TestApp, uniqueEmail } from './support/test-app';

const CHROMIUM = '/usr/bin/chromium';

/** A PKCE pair (RFC 7636, S256). */
function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The app's callback page: it only has to exist, the test reads the code from the URL. */
async function startCallbackServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Signed in</title><p>Signed in.</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback` };
}

describe('Hosted UI (managed login) redirect: POST /v1/auth/oauth/token', () => {
  let t: TestApp;
  let callback: { server: Server; url: string };
  let domain: string;

  beforeAll(async () => {
    callback = await startCallbackServer();
    // cognito-local serves /oauth2/authorize and /oauth2/token at its API endpoint: that is the domain.
    domain = process.env.TEST_COGNITO_ENDPOINT ?? '';
    t = await startTestApp({
      callbackUrls: [callback.url],
      env: { COGNITO_DOMAIN: domain, OAUTH_REDIRECT_URIS: callback.url },
      captureLogs: true,
    });
  });

  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => callback.server.close(resolve));
  });

  /** A confirmed user created in Cognito only, as a Hosted UI sign-up leaves it (no row yet). */
  async function hostedUiUser(): Promise<string> {
    return (await t.given.cognitoUser({ email: uniqueEmail('hosted'), nickname: 'hosted' })).email;
  }

  /** What a browser does on the login form: post the credentials, get redirected with a code. */
  async function authorizationCode(email: string, challenge: string): Promise<string> {
    const res = await fetch(`${domain}/oauth2/authorize`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({
        client_id: t.pool.clientId,
        redirect_uri: callback.url,
        response_type: 'code',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        scope: 'openid email',
        state: 'xyz',
        username: email,
        password: PASSWORD,
      }),
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(callback.url);
    expect(location.searchParams.get('state')).toBe('xyz');
    return location.searchParams.get('code') ?? '';
  }

  it('exchanges the code for tokens and creates the row with email and nickname', async () => {
    const email = await hostedUiUser();
    const { verifier, challenge } = pkce();
    const code = await authorizationCode(email, challenge);

    const res = await t.api.auth.oauthToken({ code, codeVerifier: verifier, redirectUri: callback.url });
    expectStatus(res, 200);
    expect(res.body).toEqual({
      accessToken: expect.any(String),
      idToken: expect.any(String),
      refreshToken: expect.any(String),
      expiresIn: expect.any(Number),
      tokenType: 'Bearer',
    });
    const rows: Array<{ email: string; nickname: string }> = await t.db.query('SELECT email, nickname FROM user_mapping WHERE email = $1', [
      email,
    ]);
    expect(rows).toEqual([{ email, nickname: 'hosted' }]);
    const me = await t.api.as(res.body.accessToken as string).users.me();
    expectStatus(me, 200);
    expect(me.body).toMatchObject({ email, nickname: 'hosted' });

    // The code is single-use: a second exchange is refused, and nothing secret reached a log line.
    const reused = await t.api.auth.oauthToken({ code, codeVerifier: verifier, redirectUri: callback.url });
    expect({ status: reused.status, code: reused.body.code }).toEqual({ status: 400, code: 'INVALID_GRANT' });
    const logs = t.logs.join('');
    for (const secret of [code, verifier, res.body.accessToken as string, res.body.refreshToken as string]) {
      expect(logs).not.toContain(secret);
    }
  });

  it('mirrors only an email Cognito reports verified: a new row gets none, an existing row keeps its verified one', async () => {
    /** Another email set in Cognito, not verified (as a requested and never confirmed change leaves it). */
    async function claimUnverified(username: string): Promise<string> {
      const claimed = uniqueEmail('ceo');
      await setUnverifiedEmail(t, username, claimed);
      return claimed;
    }
    async function exchange(username: string): Promise<string> {
      const { verifier, challenge } = pkce();
      const code = await authorizationCode(username, challenge);
      const res = await t.api.auth.oauthToken({ code, codeVerifier: verifier, redirectUri: callback.url });
      expectStatus(res, 200);
      const me = await t.api.as(res.body.accessToken as string).users.me();
      expectStatus(me, 200);
      return me.body.id as string;
    }
    const emailOf = async (id: string): Promise<string | null> => {
      const [row] = await t.db.query<Array<{ email: string | null }>>('SELECT email FROM user_mapping WHERE id = $1', [id]);
      return row.email;
    };

    const fresh = await claimUnverified(await hostedUiUser());
    expect(await emailOf(await exchange(fresh))).toBeNull();

    const known = await hostedUiUser();
    const id = await exchange(known);
    expect(await emailOf(id)).toBe(known);
    expect(await exchange(await claimUnverified(known))).toBe(id);
    expect(await emailOf(id)).toBe(known);
  });

  it('refuses a wrong code verifier with 400 INVALID_GRANT and creates no row', async () => {
    const email = await hostedUiUser();
    const { challenge } = pkce();
    const code = await authorizationCode(email, challenge);
    const res = await t.api.auth.oauthToken({ code, codeVerifier: pkce().verifier, redirectUri: callback.url });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'INVALID_GRANT' });
    expect(await t.db.query('SELECT 1 FROM user_mapping WHERE email = $1', [email])).toEqual([]);
  });

  it('refuses an unknown code with 400 INVALID_GRANT', async () => {
    const res = await t.api.auth.oauthToken({ code: 'not-a-code', codeVerifier: pkce().verifier, redirectUri: callback.url });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'INVALID_GRANT' });
  });

  it('refuses a redirect URI outside OAUTH_REDIRECT_URIS with 400 VALIDATION_FAILED before asking Cognito', async () => {
    const email = await hostedUiUser();
    const { verifier, challenge } = pkce();
    const code = await authorizationCode(email, challenge);
    const res = await t.api.auth.oauthToken({ code, codeVerifier: verifier, redirectUri: 'https://evil.example.com/callback' });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    // The code was not spent: the right redirect URI still exchanges it.
    expectStatus(await t.api.auth.oauthToken({ code, codeVerifier: verifier, redirectUri: callback.url }), 200);
  });

  it.each([
    ['a verifier shorter than 43 characters', { codeVerifier: 'short' }],
    ['a verifier with characters outside RFC 7636', { codeVerifier: `${'a'.repeat(43)}!` }],
    ['a number for the code', { code: 42 }],
    ['an unknown property', { clientSecret: 'x' }],
  ])('refuses %s with 400 VALIDATION_FAILED', async (_what, override) => {
    const res = await t.api.auth.oauthToken({ code: 'abc', codeVerifier: pkce().verifier, redirectUri: callback.url, ...override });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('answers 404 when the service has no Hosted UI configured', async () => {
    const plain = await startTestApp();
    try {
      const res = await plain.http
        .post('/v1/auth/oauth/token')
        .send({ code: 'abc', codeVerifier: pkce().verifier, redirectUri: callback.url });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
    } finally {
      await plain.close();
    }
  });

  const browser = existsSync(CHROMIUM) ? describe : describe.skip;
  if (!existsSync(CHROMIUM)) {
    process.stdout.write(`hosted-ui browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)\n`);
  }

  browser('in a real browser (headless Chromium)', () => {
    it('logs in on the Hosted UI form, follows the redirect to the app, and the API accepts the exchanged token', async () => {
      const email = await hostedUiUser();
      const { verifier, challenge } = pkce();
      const authorize = new URL(`${domain}/oauth2/authorize`);
      authorize.search = new URLSearchParams({
        client_id: t.pool.clientId,
        redirect_uri: callback.url,
        response_type: 'code',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        scope: 'openid email',
        state: 'browser-state',
      }).toString();

      const chrome = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
      });
      try {
        const page = await chrome.newPage();
        await page.goto(authorize.toString());
        await page.fill('input[name="username"]', email);
        await page.fill('input[name="password"]', PASSWORD);
        await Promise.all([page.waitForURL((url) => url.toString().startsWith(callback.url)), page.click('button[type="submit"]')]);
        expect(await page.textContent('p')).toBe('Signed in.');
        const landed = new URL(page.url());
        expect(landed.searchParams.get('state')).toBe('browser-state');
        const code = landed.searchParams.get('code') ?? '';

        const tokens = await t.api.auth.oauthToken({ code, codeVerifier: verifier, redirectUri: callback.url });
        expectStatus(tokens, 200);
        const me = await t.api.as(tokens.body.accessToken as string).users.me();
        expectStatus(me, 200);
        expect(me.body).toMatchObject({ email, nickname: 'hosted', status: 'active' });
      } finally {
        await chrome.close();
      }
    }, 60_000);
  });
});
