import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { join } from 'node:path';
import { AppConfig } from './config/app-config';

/**
 * The admin console's files, built by `npm run build` (scripts/build-console.ts) into dist/console.
 * The same path from src/ (tests, tsx) and from dist/ (the image): both sit next to dist/.
 */
export const CONSOLE_ROOT = join(__dirname, '..', 'dist', 'console');
/** Where the Hosted UI sends the browser back to, relative to the console's origin. */
export const CONSOLE_CALLBACK_PATH = '/admin/callback';

/**
 * The console's own Content-Security-Policy, stricter than the API's (which lets the Swagger UI
 * run inline code): scripts, styles and connections from this origin only, nothing inline, no
 * frames, no plugins, forms posting nowhere else. `data:` images only for the CSS framework's
 * small inline SVG icons (checkbox marks, select arrows).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * What the console needs to know before sign-in, public by nature: whether the Hosted UI is on,
 * and where it is. The console signs in through it only if its own `<origin>/admin/callback` is
 * one of the redirect URIs, so those are listed (nothing secret: the client secret never leaves).
 */
export interface ConsoleSettings {
  hostedUi: { domain: string; clientId: string; redirectUris: string[] } | null;
}

export function consoleSettings(config: AppConfig): ConsoleSettings {
  const hostedUi = config.cognito.hostedUi;
  if (hostedUi === undefined) {
    return { hostedUi: null };
  }
  const redirectUris = hostedUi.redirectUris.filter((uri) => URL.canParse(uri) && new URL(uri).pathname === CONSOLE_CALLBACK_PATH);
  return redirectUris.length === 0
    ? { hostedUi: null }
    : { hostedUi: { domain: hostedUi.domain, clientId: config.cognito.clientId, redirectUris } };
}

/**
 * The console at /admin/ (registered only when ADMIN_CONSOLE_ENABLED; off, none of these routes
 * exist and /admin/ is a 404 like any unknown path): its static files, the settings at
 * /admin/config.json, the app again at /admin/callback (the Hosted UI's way back), and /admin
 * redirecting to /admin/.
 */
export function adminConsolePlugin(config: AppConfig): FastifyPluginAsync {
  const settings = JSON.stringify(consoleSettings(config));
  return async (scope) => {
    // Runs after the app-wide onRequest hook (registered before this scope): replaces its CSP.
    scope.addHook('onRequest', (_request, reply, done) => {
      void reply.header('content-security-policy', CONSOLE_CSP);
      done();
    });
    await scope.register(fastifyStatic, {
      root: CONSOLE_ROOT,
      prefix: '/admin/',
      index: 'index.html',
      wildcard: true,
      // Always revalidated (ETag): a new build is picked up at the next load.
      cacheControl: false,
      setHeaders: (reply: FastifyReply) => void reply.header('cache-control', 'no-cache'),
      dotfiles: 'deny',
      // The files appear with `npm run build`; until then /admin/ answers 404.
      suppressWarning: true,
    });
    scope.get('/admin', (_request, reply) => reply.redirect('/admin/', 301));
    scope.get('/admin/config.json', (_request, reply) =>
      reply.header('cache-control', 'no-store').type('application/json; charset=utf-8').send(settings),
    );
    scope.get(CONSOLE_CALLBACK_PATH, (_request, reply) => reply.header('cache-control', 'no-store').sendFile('index.html'));
  };
}
