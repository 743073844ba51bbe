import { NestFactory } from '@nestjs/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from '@nestjs/common';
import { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest, LogController } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Bindings, ChildLoggerOptions, Logger as Pino } from 'pino';
import { adminConsolePlugin } from './admin-console';
import { AppModule } from './app.module';
import { Authenticator } from './auth/authenticator';
import { ApiError } from './common/api-error';
import { lazyChildLogger, PinoNestLogger } from './common/logger';
import { sendProblem } from './common/problem-details.filter';
import { runInRequest } from './common/request-context';
import { pathOf, requestIdFor } from './common/request-id';
import { securityHeaders } from './common/security-headers';
import { AppConfig } from './config/app-config';
import { ShutdownState } from './health/shutdown-state';
import { AuthUser } from './identity/auth-user';
import { PUBLIC_ROUTE_FLAG } from './identity/public.decorator';
import { recordHttpServerMetrics } from './telemetry/http-metrics';

/** Bodies over 64 KiB are refused with 413 (docs/api.md, conventions). */
export const BODY_LIMIT_BYTES = 64 * 1024;
/** Above the ALB's 60 s idle timeout, so the ALB never reuses a connection we just closed. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Builds the whole application exactly as production runs it (also used by the e2e tests). */
export async function createApp(config: AppConfig, logger: Pino): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), fastifyAdapter(config, logger), {
    logger: new PinoNestLogger(logger),
    // Fastify's own JSON parser only: no urlencoded/text bodies, so anything else is 415.
    bodyParser: false,
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  acceptOnlyJsonBodies(fastify);
  authenticateBeforeNest(fastify, app.get(Authenticator));
  closeConnectionsWhileDraining(fastify, app.get(ShutdownState));
  addSecurityHeadersAndRequestContext(fastify);
  if (config.telemetry.enabled) {
    recordHttpServerMetrics(fastify);
  }
  logEachRequest(fastify, logger);
  enableCors(app, config.corsOrigins);
  if (config.swaggerEnabled) {
    serveApiDocs(app);
  }
  if (config.adminConsoleEnabled) {
    await app.register(adminConsolePlugin(config));
  }
  return app;
}

/** The HTTP server: limits, proxy trust, request ids, and what the router refuses before any hook. */
function fastifyAdapter(config: AppConfig, logger: Pino): FastifyAdapter {
  return new FastifyAdapter({
    loggerInstance: logger,
    // One line per request is written by our onResponse hook, with the request id.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    childLoggerFactory: (parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) =>
      lazyChildLogger(parent as Pino, bindings, options),
    bodyLimit: BODY_LIMIT_BYTES,
    // Behind the ALB: trust exactly one hop, so the client IP is the address the ALB saw (the
    // right-most X-Forwarded-For entry), not whatever a client wrote at the left of the header.
    trustProxy: config.trustProxy ? (_address: string, hop: number) => hop === 0 : false,
    genReqId: requestIdFor,
    requestIdHeader: false,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    return503OnClosing: true,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: false },
    // What the router refuses before any hook runs (malformed percent-encoding, an over-long path
    // parameter) still leaves as problem details with a request id.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void reply.header('X-Request-Id', request.id);
      if (isApiPath(request.url)) {
        void reply.header('Cache-Control', 'no-store');
      }
      sendProblem(error, request, reply, new Logger('Errors'));
    },
  });
}

/** Body parsing: a body is JSON (strict UTF-8, no prototype poisoning) or it is refused with 415. */
function acceptOnlyJsonBodies(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser(['text/plain', 'application/json']);
  // Fastify's own JSON parser (prototype poisoning refused), except that an empty body is no
  // body: clients often send Content-Type: application/json on bodiless POSTs (logout-all).
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  // Decoded strictly: Node's default decoding turns invalid UTF-8 into U+FFFD, which would be
  // stored in place of what the client sent.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer); // parseAs: 'buffer'
    } catch {
      done(ApiError.validation('The body is not valid UTF-8'), undefined);
      return;
    }
    if (text === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, text, done);
  });
  // A body is only accepted as JSON; a body with no or another Content-Type is 415.
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    const hasBody = request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0';
    const chunked = request.headers['transfer-encoding'] !== undefined;
    const type = request.headers['content-type'];
    if ((hasBody || chunked) && (type === undefined || !/^application\/json\s*(;|$)/i.test(type))) {
      done(Object.assign(new Error('unsupported media type'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }));
      return;
    }
    done(null, payload);
  });
}

/**
 * A private API route's caller is authenticated here, before Nest runs, by the same Authenticator
 * the global AuthGuard calls (the guard then finds the caller on the request): a refusal is sent
 * without Nest's execution context and exception filter chain (a missing token costs a third of
 * the CPU it did through them). After the body is parsed, so a broken body is still a 400 and an
 * oversized one a 413. Only `/v1/` routes: health and docs, outside it, are public.
 */
function authenticateBeforeNest(fastify: FastifyInstance, authenticator: Authenticator): void {
  const errors = new Logger('Errors');
  fastify.addHook('preValidation', (request, reply, done) => {
    const route = request.routeOptions;
    if (
      request.is404 ||
      route.url?.startsWith('/v1/') !== true ||
      (route.config as unknown as Record<string, unknown>)[PUBLIC_ROUTE_FLAG] === true
    ) {
      done();
      return;
    }
    authenticator.authenticate(request).then(
      (user) => {
        (request as FastifyRequest & { user?: AuthUser }).user = user;
        done();
      },
      // Answering from a hook: the callback is not called, the rest of the chain does not run.
      (error: unknown) => sendProblem(error, request, reply, errors),
    );
  });
}

/**
 * While draining (SIGTERM) every response closes its connection: server.close() only reaps the
 * connections idle at that moment, so a kept-alive connection whose request was in flight would
 * stay open for keepAliveTimeout (65 s) and hold the exit past the deadline.
 */
function closeConnectionsWhileDraining(fastify: FastifyInstance, shutdown: ShutdownState): void {
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (shutdown.isDraining) {
      void reply.header('Connection', 'close');
    }
    done(null, payload);
  });
}

/**
 * Security headers and the request id on every response. helmet's headers are constant for our
 * options: computed once, not per request. Everything a request runs (services, Cognito, the
 * database) logs with its id. Every `/v1` response, errors included, is `Cache-Control: no-store`:
 * tokens, TOTP secrets, presigned posts and per-user data never sit in a shared cache (RFC 6749
 * section 5.1).
 */
function addSecurityHeadersAndRequestContext(fastify: FastifyInstance): void {
  const security = securityHeaders();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(security).header('X-Request-Id', request.id);
    if (isApiPath(request.url)) {
      void reply.header('Cache-Control', 'no-store');
    }
    runInRequest(request, done);
  });
}

/** Whether a request URL is under `/v1` (the API), as opposed to health checks and docs. */
function isApiPath(url: string): boolean {
  return url === '/v1' || url.startsWith('/v1/') || url.startsWith('/v1?');
}

/** One log line per request, with its id, status and duration. */
function logEachRequest(fastify: FastifyInstance, logger: Pino): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    if (logger.isLevelEnabled('info')) {
      request.log.info(
        { method: request.method, path: pathOf(request.url), statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'request completed',
      );
    }
    done();
  });
}

/** CORS for the configured browser origins only; none configured, no CORS headers at all. */
function enableCors(app: NestFastifyApplication, origins: string[]): void {
  if (origins.length === 0) {
    return;
  }
  app.enableCors({
    origin: origins,
    methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id', 'Idempotency-Key'],
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'Location', 'WWW-Authenticate', 'Idempotent-Replayed'],
    maxAge: 600,
    // A preflight is answered by the CORS hook, before ours: it says no-store itself.
    cacheControl: 'no-store',
  });
}

/**
 * The service's name and version from its package.json, one folder above this file both in src/
 * and in dist/ (the image copies package.json next to dist/).
 */
function servicePackage(): { name: string; version: string } {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
  return { name: typeof pkg.name === 'string' ? pkg.name : 'api', version: typeof pkg.version === 'string' ? pkg.version : '0.0.0' };
}

/** The OpenAPI document at /docs/openapi.json and its UI at /docs, titled with the service's name and version. */
function serveApiDocs(app: NestFastifyApplication): void {
  const { name, version } = servicePackage();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(name)
      .setDescription('Cognito-authenticated REST API. Errors are RFC 9457 problem details.')
      .setVersion(version)
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json', raw: ['json'] });
}
