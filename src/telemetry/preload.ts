import { ConfigError, loadTelemetryConfigFromProcess, TelemetryConfig } from '../config/app-config';

/**
 * Required before anything else in main.ts: the instrumentations patch fastify, pg and the AWS
 * SDK as they are loaded, so the SDK must be started first. With telemetry off (no OTLP endpoint,
 * or OTEL_SDK_DISABLED=true) not one SDK module is loaded.
 */
let telemetry: TelemetryConfig;
try {
  telemetry = loadTelemetryConfigFromProcess();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

let sdk: { shutdown(): Promise<void> } | null = null;
if (telemetry.enabled) {
  // A synchronous, conditional load: an import would load the SDK even when telemetry is off,
  // and a dynamic import() would start it after the app's modules are already loaded.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startTelemetry } = require('./sdk') as typeof import('./sdk');
  sdk = startTelemetry(telemetry);
}

/** Exports what is buffered (spans, the last metrics) before the process exits. */
export async function shutdownTelemetry(): Promise<void> {
  await sdk?.shutdown();
}
