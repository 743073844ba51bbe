// First: the telemetry SDK, when on, must be started before fastify, pg and the AWS SDK load.
import { shutdownTelemetry } from './telemetry/preload';
import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.setup';
import { createRootLogger } from './common/logger';
import { ConfigError, loadConfigFromProcess } from './config/app-config';
import { ShutdownState } from './health/shutdown-state';

/** ECS gives 30 s between SIGTERM and SIGKILL; the contract asks us to be gone within 10 s. */
const SHUTDOWN_DEADLINE_MS = 9_000;

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfigFromProcess();
  } catch (error) {
    if (error instanceof ConfigError) {
      // One clear line naming the variable, no stack trace, exit code 1.
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createRootLogger(config.logLevel, undefined, config.logFormat);
  let app: NestFastifyApplication;
  try {
    app = await createApp(config, logger);
    await app.listen({ port: config.port, host: '0.0.0.0' });
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    process.exit(1);
  }
  logger.info({ port: config.port }, 'listening');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: readiness 503, draining in-flight requests');
    app.get(ShutdownState).begin();
    setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app
      .close()
      .then(() => shutdownTelemetry())
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'error while stopping');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

void bootstrap();
