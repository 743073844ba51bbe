import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSOLE_CSP } from '../src/admin-console';
import { buildConsole, checkBudget, CONSOLE_OUT, JS_BUDGET_BYTES } from '../scripts/build-console';
import { startTestApp, TestApp } from './support/test-app';

/** The console as the service serves it (files, headers, settings); the browser suite drives it. */
describe('Admin console: served at /admin/', () => {
  let t: TestApp;
  let jsGzipped: number;

  beforeAll(async () => {
    jsGzipped = await buildConsole();
    t = await startTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('keeps its JavaScript under 250 KB gzipped', () => {
    expect(JS_BUDGET_BYTES).toBe(250 * 1024);
    expect(jsGzipped).toBeGreaterThan(1_000);
    expect(jsGzipped).toBeLessThan(JS_BUDGET_BYTES);
  });

  it('fails the build when the JavaScript passes the budget', () => {
    const dir = mkdtempSync(join(tmpdir(), 'console-budget-'));
    try {
      // Random bytes do not compress: just over the budget once gzipped.
      writeFileSync(join(dir, 'app.js'), randomBytes(JS_BUDGET_BYTES + 1024));
      expect(() => checkBudget(dir)).toThrow(/over its 256000-byte budget/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('redirects /admin to /admin/', async () => {
    const res = await t.http.get('/admin');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('/admin/');
  });

  it.each(['/admin/', '/admin/callback', '/admin/callback?code=abc&state=xyz'])(
    'serves the app at %s under its own strict CSP',
    async (path) => {
      const res = await t.http.get(path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<div id="app"></div>');
      expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    },
  );

  it('allows nothing inline and nothing from another origin', () => {
    const directives = new Map(CONSOLE_CSP.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(CONSOLE_CSP).not.toMatch(/unsafe|https?:|\*/);
    // The page itself: scripts and styles only by reference, no inline code or style attribute.
    const html = readFileSync(join(CONSOLE_OUT, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<style|style=|<script(?![^>]*\ssrc=)/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  it.each([
    ['/admin/app.js', /javascript/],
    ['/admin/app.css', /^text\/css/],
  ])('serves %s with the same CSP, revalidated on each load', async (path, type) => {
    const res = await t.http.get(path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(type);
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('answers an unknown file under /admin/ with a 404 problem, and keeps the API on its own CSP', async () => {
    const missing = await t.http.get('/admin/nothing-here.js');
    expect({ status: missing.status, code: missing.body.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
    const api = await t.http.get('/health/live');
    expect(api.headers['content-security-policy']).not.toBe(CONSOLE_CSP);
  });

  it.each([
    '/admin/..%2f..%2fpackage.json',
    '/admin/%2e%2e/%2e%2e/package.json',
    '/admin/..%5c..%5cpackage.json',
    '/admin/../../package.json',
  ])('serves nothing outside the console folder: %s', async (path) => {
    const res = await t.http.get(path);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.text).not.toContain('"devDependencies"');
  });

  it('tells the console there is no Hosted UI when COGNITO_DOMAIN is unset', async () => {
    const res = await t.http.get('/admin/config.json');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ hostedUi: null });
  });

  it('offers the Hosted UI only with an /admin/callback redirect URI, and never the client secret', async () => {
    const domain = process.env.TEST_COGNITO_ENDPOINT ?? '';
    const hosted = await startTestApp({
      env: {
        COGNITO_DOMAIN: domain,
        OAUTH_REDIRECT_URIS: 'https://app.example.com/callback,https://console.example.com/admin/callback',
        COGNITO_CLIENT_SECRET: 'the-secret-value',
      },
    });
    const other = await startTestApp({ env: { COGNITO_DOMAIN: domain, OAUTH_REDIRECT_URIS: 'https://app.example.com/callback' } });
    try {
      const res = await hosted.http.get('/admin/config.json');
      expect(res.body).toEqual({
        hostedUi: { domain, clientId: hosted.pool.clientId, redirectUris: ['https://console.example.com/admin/callback'] },
      });
      expect(res.text).not.toContain('the-secret-value');
      expect((await other.http.get('/admin/config.json')).body).toEqual({ hostedUi: null });
    } finally {
      await hosted.close();
      await other.close();
    }
  });

  it.each([
    ['ADMIN_CONSOLE_ENABLED=false', { ADMIN_CONSOLE_ENABLED: 'false' }],
    ['NODE_ENV=production', { NODE_ENV: 'production' }],
  ])('answers 404 everywhere under /admin with %s', async (_what, env) => {
    const off = await startTestApp({ env });
    try {
      for (const path of ['/admin', '/admin/', '/admin/app.js', '/admin/config.json', '/admin/callback']) {
        const res = await off.http.get(path);
        expect({ path, status: res.status }).toEqual({ path, status: 404 });
      }
    } finally {
      await off.close();
    }
  });
});
