import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { bearer, expectStatus, PASSWORD, startTestApp, TestApp, uniqueEmail } from './support/test-app';

describe('logs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ captureLogs: true });
  });
  afterAll(() => t.close());

  it('carry the request id and never a token, password or code', async () => {
    const email = uniqueEmail('logs');
    expectStatus(await t.api.auth.signup({ email, password: PASSWORD, nickname: 'Logs' }), 201);
    const code = t.code(email);
    expectStatus(await t.api.auth.confirm({ email, code }).set('X-Request-Id', 'trace-me-1'), 200);
    const login = await t.api.auth.login({ email, password: PASSWORD });
    expectStatus(login, 200);
    const { accessToken, refreshToken, idToken } = login.body as Record<string, string>;
    expectStatus(await t.api.auth.refresh({ refreshToken }), 200);
    // Misplaced secrets: a token in the query, a wrong password, a change with both passwords.
    await t.http.get(`/v1/users/me?access_token=${accessToken}`);
    await t.api.auth.login({ email, password: 'Wr0ng!Secret-Pass' });
    await t.api.as(accessToken).auth.password.change({ currentPassword: PASSWORD, newPassword: 'An0ther!Secret-Pass' });
    await t.api.auth.password.reset({ email, code: '123456', newPassword: 'Thi3d!Secret-Pass' });

    const logs = t.logs.join('');
    expect(t.logs.length).toBeGreaterThan(5);
    expect(logs).toContain('"requestId":"trace-me-1"');
    for (const secret of [
      accessToken,
      refreshToken,
      idToken,
      PASSWORD,
      'Wr0ng!Secret-Pass',
      'An0ther!Secret-Pass',
      'Thi3d!Secret-Pass',
      code,
    ]) {
      expect(logs).not.toContain(secret);
    }
  });

  function linesOf(message: string): Array<Record<string, unknown>> {
    return t.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === message);
  }

  it('carry the request id on the lines services write, and an error as its type, message and stack', async () => {
    // A user Cognito knows but this API has not seen: the guard creates the row just in time and
    // then asks Cognito for the attributes, which it cannot read with a token it did not issue.
    // A body that arrives after its headers: the id must survive the body being read.
    const sub = randomUUID();
    const body = JSON.stringify({ title: 'Logged', body: 'with its request id' });
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${t.baseUrl}/v1/posts`, {
        method: 'POST',
        headers: {
          ...bearer(t.forge({ sub, username: sub })),
          'X-Request-Id': 'trace-me-2',
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(body)),
        },
      });
      req.on('response', (res) => resolve(res.resume().statusCode)).on('error', reject);
      req.flushHeaders();
      setTimeout(() => req.end(body), 100);
    });
    expect(status).toBe(201);

    const [created] = linesOf('user_mapping row created just in time');
    expect(created).toMatchObject({ context: 'AccountGateService', requestId: 'trace-me-2' });
    const [failed] = linesOf('could not read attributes for a just-in-time row');
    expect(failed).toMatchObject({ requestId: 'trace-me-2', err: { type: expect.any(String), message: expect.any(String) } });
    expect((failed.err as { stack: string }).stack).toMatch(/\n\s+at /);
    // Fastify's request logger binds the id itself: it is written once, not twice.
    const completed = t.logs.find((line) => line.includes('"request completed"') && line.includes('trace-me-2'));
    expect(completed?.match(/"requestId"/g)).toHaveLength(1);
  });

  it('carry no request id on lines written outside a request', () => {
    const [loaded] = linesOf('JWKS loaded');
    expect(loaded).toBeDefined();
    expect(loaded).not.toHaveProperty('requestId');
  });
});
