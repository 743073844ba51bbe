import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { RevocationJanitor } from '../src/auth/revocation-janitor';
import { bearer, startTestApp, TestApp, TestUser } from './support/test-app';

const publicPem = (JSON.parse(readFileSync(require.resolve('cognito-local/lib/keys/cognitoLocal.public.json'), 'utf8')) as { pem: string })
  .pem;

describe('the bearer-token guard', () => {
  let t: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    user = await t.given.user();
  });
  afterAll(() => t.close());

  const me = (headers: Record<string, string>) => t.http.get('/v1/users/me').set(headers);
  const claimsOf = (u: TestUser) => ({ sub: u.sub, username: u.sub });

  async function expectRefused(token: string, code = 'UNAUTHENTICATED', status = 401): Promise<void> {
    const res = await me(bearer(token));
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    if (status === 401) {
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    }
  }

  it('accepts a real access token from the user pool', async () => {
    const res = await me(bearer(user.accessToken));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: user.id, email: user.email, status: 'active', groups: [] });
  });

  it('accepts a forged token whose claims are all correct (the baseline for the tests below)', async () => {
    expect((await me(bearer(t.forge(claimsOf(user))))).status).toBe(200);
  });

  describe('header shape', () => {
    it('refuses a request without Authorization', async () => {
      expect((await t.http.get('/v1/users/me')).status).toBe(401);
    });
    it('refuses a non-Bearer scheme', async () => {
      expect((await me({ Authorization: `Basic ${user.accessToken}` })).status).toBe(401);
    });
    it('refuses trailing junk after the token', async () => {
      expect((await me({ Authorization: `Bearer ${user.accessToken} extra` })).status).toBe(401);
    });
    it('refuses two Authorization headers', async () => {
      const res = await fetch(`${t.baseUrl}/v1/users/me`, {
        headers: [
          ['Authorization', `Bearer ${user.accessToken}`],
          ['Authorization', `Bearer ${user.accessToken}`],
        ],
      });
      expect(res.status).toBe(401);
    });
    it('never reads a token from the query string or a cookie', async () => {
      expect((await t.http.get(`/v1/users/me?access_token=${user.accessToken}`)).status).toBe(401);
      expect((await t.http.get('/v1/users/me').set('Cookie', `access_token=${user.accessToken}`)).status).toBe(401);
    });
  });

  describe('signature and algorithm', () => {
    it('refuses alg "none"', async () => {
      const [header, payload] = t.forge(claimsOf(user)).split('.');
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'CognitoLocal' })).toString('base64url');
      await expectRefused(`${none}.${payload}.`);
      await expectRefused(`${none}.${payload}.${header}`);
    });
    it('refuses HS256 signed with the public key as the secret', async () => {
      await expectRefused(t.forge(claimsOf(user), { algorithm: 'HS256', key: publicPem }));
    });
    it('refuses a token signed by a foreign key under the pool kid', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      await expectRefused(t.forge(claimsOf(user), { key: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() }));
    });
    it('ignores a jku header pointing at another key set', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      await expectRefused(t.forge(claimsOf(user), { key: pem, header: { jku: 'http://127.0.0.1:1/jwks.json', kid: 'attacker' } }));
    });
    it('refuses a kid the pool does not have', async () => {
      await expectRefused(t.forge(claimsOf(user), { header: { kid: 'unknown-kid' } }));
    });
    it('refuses a tampered payload', async () => {
      const [header, , signature] = user.accessToken.split('.');
      const payload = Buffer.from(JSON.stringify({ ...claimsOf(user), token_use: 'access', 'cognito:groups': ['admin'] })).toString(
        'base64url',
      );
      await expectRefused(`${header}.${payload}.${signature}`);
    });
  });

  describe('claims', () => {
    const now = () => Math.floor(Date.now() / 1000);
    it('refuses a wrong issuer', async () => {
      await expectRefused(t.forge({ ...claimsOf(user), iss: 'http://127.0.0.1:1/other_pool' }));
    });
    it('refuses the issuer with a trailing slash', async () => {
      await expectRefused(t.forge({ ...claimsOf(user), iss: `${t.pool.issuer}/` }));
    });
    it('refuses an ID token', async () => {
      await expectRefused(user.idToken);
      await expectRefused(t.forge({ ...claimsOf(user), token_use: 'id' }));
    });
    it('refuses a refresh token', async () => {
      await expectRefused(user.refreshToken);
    });
    it('refuses a token of another app client', async () => {
      await expectRefused(t.forge({ ...claimsOf(user), client_id: 'another-client' }));
    });
    it('refuses a token without exp', async () => {
      await expectRefused(t.forge(claimsOf(user), { omit: ['exp'] }));
    });
    it('refuses an expired token (beyond the 5 s skew)', async () => {
      await expectRefused(t.forge({ ...claimsOf(user), iat: now() - 3600, exp: now() - 10 }));
    });
    it('tolerates an expiry within the 5 s skew', async () => {
      expect((await me(bearer(t.forge({ ...claimsOf(user), iat: now() - 3600, exp: now() - 2 })))).status).toBe(200);
    });
    it('refuses a future nbf', async () => {
      await expectRefused(t.forge({ ...claimsOf(user), nbf: now() + 60 }));
    });
    it('refuses a future iat', async () => {
      await expectRefused(t.forge({ ...claimsOf(user), iat: now() + 60 }));
    });
    it('refuses a non-string sub', async () => {
      await expectRefused(t.forge({ sub: 42 }));
    });
    it('refuses cognito:groups given as a string', async () => {
      await expectRefused(t.forge({ ...claimsOf(user), 'cognito:groups': 'admin' }));
    });
    it('refuses cognito:groups with a non-string member', async () => {
      await expectRefused(t.forge({ ...claimsOf(user), 'cognito:groups': ['admin', 1] }));
    });
  });

  describe('the caller row', () => {
    it('refuses a withdrawn user with 401 ACCOUNT_WITHDRAWN', async () => {
      const victim = await t.given.user();
      await t.db.query(
        `UPDATE user_mapping SET status = 'withdrawn', withdrawn_at = now(), email = NULL, phone_number = NULL, nickname = NULL WHERE id = $1`,
        [victim.id],
      );
      await expectRefused(victim.accessToken, 'ACCOUNT_WITHDRAWN');
    });
    it('refuses a disabled user with 403 ACCOUNT_DISABLED', async () => {
      const victim = await t.given.user();
      await t.db.query(`UPDATE user_mapping SET status = 'disabled' WHERE id = $1`, [victim.id]);
      await expectRefused(victim.accessToken, 'ACCOUNT_DISABLED', 403);
    });
    it('refuses a token issued before tokens_valid_after with TOKEN_REVOKED', async () => {
      const victim = await t.given.user();
      await t.db.query(`UPDATE user_mapping SET tokens_valid_after = now() WHERE id = $1`, [victim.id]);
      await expectRefused(victim.accessToken, 'TOKEN_REVOKED');
    });
    it('refuses a revoked jti with TOKEN_REVOKED', async () => {
      const victim = await t.given.user();
      const jti = randomUUID();
      await t.db.query(`INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')`, [
        jti,
        victim.id,
      ]);
      await expectRefused(t.forge({ ...claimsOf(victim), jti }), 'TOKEN_REVOKED');
      expect((await me(bearer(t.forge({ ...claimsOf(victim), jti: randomUUID() })))).status).toBe(200);
    });
    it('purges revocations whose token has expired anyway, and keeps the others', async () => {
      const victim = await t.given.user();
      const [expired, live] = [randomUUID(), randomUUID()];
      await t.db.query(
        `INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $3, now() - interval '1 minute'), ($2, $3, now() + interval '1 hour')`,
        [expired, live, victim.id],
      );
      expect(await t.app.get(RevocationJanitor).purge()).toBeGreaterThanOrEqual(1);
      const rows: Array<{ jti: string }> = await t.db.query(`SELECT jti FROM revoked_tokens WHERE jti = ANY($1)`, [[expired, live]]);
      expect(rows.map((r) => r.jti)).toEqual([live]);
    });
    it('keeps refusing a logged-out token after the purge while its exp is within the clock skew', async () => {
      const victim = await t.given.user();
      const jti = randomUUID();
      const exp = Math.floor(Date.now() / 1000) - 2;
      const token = t.forge({ ...claimsOf(victim), jti, iat: exp - 60, exp });
      await t.db.query(`INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, to_timestamp($3))`, [jti, victim.id, exp]);
      await expectRefused(token, 'TOKEN_REVOKED');
      await t.app.get(RevocationJanitor).purge();
      await expectRefused(token, 'TOKEN_REVOKED');
    });
    it('accepts a token from the second of the cut-off and refuses one from the second before (the same-second rule)', async () => {
      const victim = await t.given.user();
      const [{ cut }] = await t.db
        .query(
          `UPDATE user_mapping SET tokens_valid_after = date_trunc('second', now()) + interval '1 second' WHERE id = $1
         RETURNING extract(epoch FROM tokens_valid_after)::int AS cut`,
          [victim.id],
        )
        .then((r: [Array<{ cut: number }>, number]) => r[0]);
      await expectRefused(t.forge({ ...claimsOf(victim), iat: cut - 1 }), 'TOKEN_REVOKED');
      expect((await me(bearer(t.forge({ ...claimsOf(victim), iat: cut })))).status).toBe(200);
    });

    it('creates exactly one row just in time for concurrent first requests of an unknown sub', async () => {
      const sub = randomUUID();
      const token = t.forge({ sub, username: sub });
      const responses = await Promise.all(Array.from({ length: 10 }, () => me(bearer(token))));
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
      const rows: Array<{ id: string }> = await t.db.query(`SELECT id FROM user_mapping WHERE cognito_sub = $1`, [sub]);
      expect(rows).toHaveLength(1);
      expect(new Set(responses.map((r) => r.body.id as string))).toEqual(new Set([rows[0].id]));
    });
  });
});

describe('the JWKS', () => {
  let jwksServer: Server;
  let fetches = 0;
  let t: TestApp;

  beforeAll(async () => {
    // A counting stand-in for the pool's JWKS endpoint that serves the emulator's real keys.
    const upstream = `${process.env.TEST_COGNITO_ENDPOINT}/any/.well-known/jwks.json`;
    jwksServer = createServer((_req, res) => {
      fetches += 1;
      void fetch(upstream)
        .then((r) => r.text())
        .then((body) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    const address = jwksServer.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    t = await startTestApp({ env: { COGNITO_JWKS_URI: `http://127.0.0.1:${port}/jwks.json` } });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((r) => jwksServer.close(r));
  });

  it('is fetched at start-up, and a flood of unknown kids causes at most one refetch per 10 s', async () => {
    const user = await t.given.user();
    expect(fetches).toBe(1);
    const flood = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.http.get('/v1/users/me').set(bearer(t.forge({ sub: user.sub }, { header: { kid: randomUUID() } }))),
      ),
    );
    expect(flood.every((r) => r.status === 401)).toBe(true);
    expect(fetches).toBeLessThanOrEqual(2);
    // Valid tokens keep working throughout.
    expect((await t.api.as(user).users.me()).status).toBe(200);
  });
});

describe('the JWKS unreachable at start-up', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { COGNITO_JWKS_URI: 'http://127.0.0.1:9/jwks.json' }, waitForReady: false });
  });
  afterAll(() => t.close());

  it('answers 503 IDP_UNAVAILABLE (never 401 or 500) and readiness stays 503', async () => {
    const res = await t.http.get('/v1/users/me').set(bearer(t.forge({ sub: randomUUID() })));
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('IDP_UNAVAILABLE');
    expect((await t.http.get('/health/ready')).status).toBe(503);
  });
});
