import { FastifyOtelInstrumentation } from '@fastify/otel';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { pathOf } from '../common/request-id';
import { TelemetryConfig } from '../config/app-config';
import { recordAwsCall } from './metrics';

/** The attribute that carries our request id (the X-Request-Id answered) on the server span. */
export const REQUEST_ID_ATTRIBUTE = 'http.request.id';

/**
 * The OpenTelemetry SDK with the instrumentations this service needs. Exporters, protocol,
 * sampler and intervals come from OpenTelemetry's standard env names, read by the SDK itself.
 * Loaded only by preload.ts, and only when telemetry is on.
 */
export function startTelemetry(config: TelemetryConfig): NodeSDK {
  /** When each AWS call started, keyed by the SDK instrumentation's request object. */
  const awsStarted = new WeakMap<object, number>();
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    instrumentations: [
      new FastifyOtelInstrumentation({
        // Hooks into every Fastify instance as it is created (NestJS creates ours).
        registerOnInitialization: true,
        // One span per request plus the handler's (which carries the context into the handler);
        // a span per lifecycle hook would cost more than it tells.
        instrumentHooks: false,
        // An error's message can quote what the client sent (JSON.parse quotes the body).
        recordExceptions: false,
        requestHook: (span, request) => {
          const route = request.routeOptions.url;
          span.updateName(route === undefined ? request.method : `${request.method} ${route}`);
          span.setAttributes({ 'url.path': pathOf(request.url), [REQUEST_ID_ATTRIBUTE]: request.id });
        },
      }),
      new PgInstrumentation({
        // Statement text only ($1 placeholders), never the parameter values.
        enhancedDatabaseReporting: false,
        // The sweeper's and janitor's background queries would be root spans every 30 s.
        requireParentSpan: true,
        ignoreConnectSpans: true,
      }),
      new AwsInstrumentation({
        // The SDK's own HTTP request is not a second span.
        suppressInternalInstrumentation: true,
        // The hooks run for every call, sampled or not, for every AWS client (Cognito, S3).
        preRequestHook: (_span, { request }) => {
          awsStarted.set(request, performance.now());
        },
        responseHook: (_span, { response }) => {
          finishAwsCall(awsStarted, response.request, 'ok');
        },
        exceptionHook: (_span, { request }, error) => {
          finishAwsCall(awsStarted, request, error instanceof Error ? error.name : 'error');
        },
      }),
    ],
  });
  sdk.start();
  return sdk;
}

function finishAwsCall(started: WeakMap<object, number>, request: { serviceName: string; commandName: string }, outcome: string): void {
  const at = started.get(request);
  if (at !== undefined) {
    started.delete(request);
    recordAwsCall(request.serviceName, request.commandName, outcome, (performance.now() - at) / 1000);
  }
}
