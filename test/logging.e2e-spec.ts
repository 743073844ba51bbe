import { bearer, expectStatus, PASSWORD, startTestApp, TestApp, uniqueEmail } from './support/test-app';

describe('logs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ captureLogs: true });
  });
  afterAll(() => t.close());

  it('carry the request id and never a token, password or code', async () => {
    const email = uniqueEmail('logs');
    expectStatus(await t.http.post('/v1/auth/signup').send({ email, password: PASSWORD, nickname: 'Logs' }), 201);
    const code = t.code(email);
    expectStatus(await t.http.post('/v1/auth/confirm').set('X-Request-Id', 'trace-me-1').send({ email, code }), 200);
    const login = await t.http.post('/v1/auth/login').send({ email, password: PASSWORD });
    expectStatus(login, 200);
    const { accessToken, refreshToken, idToken } = login.body as Record<string, string>;
    expectStatus(await t.http.post('/v1/auth/refresh').send({ refreshToken }), 200);
    // Misplaced secrets: a token in the query, a wrong password, a change with both passwords.
    await t.http.get(`/v1/users/me?access_token=${accessToken}`);
    await t.http.post('/v1/auth/login').send({ email, password: 'Wr0ng!Secret-Pass' });
    await t.http
      .post('/v1/auth/password/change')
      .set(bearer(accessToken))
      .send({ currentPassword: PASSWORD, newPassword: 'An0ther!Secret-Pass' });
    await t.http.post('/v1/auth/password/reset').send({ email, code: '123456', newPassword: 'Thi3d!Secret-Pass' });

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
});
