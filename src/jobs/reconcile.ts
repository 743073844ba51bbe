import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createRootLogger, PinoNestLogger } from '../common/logger';
import { AppConfig, ConfigError, loadConfigFromProcess } from '../config/app-config';
import { ReconcileModule } from './reconcile.module';
import { ReconcileService, ReconcileSummary, summaryLine } from './reconcile.service';

const USAGE = 'usage: node dist/jobs/reconcile.js [--dry-run]';

/** Runs one reconcile with the app's own modules and closes them again. */
export async function reconcile(config: AppConfig, options: { dryRun: boolean }): Promise<ReconcileSummary> {
  // The summary line is the job's output; its log carries warnings and errors only.
  const logger = createRootLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const context = await NestFactory.createApplicationContext(ReconcileModule.forRoot(config), {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  try {
    return await context.get(ReconcileService).run(options);
  } finally {
    await context.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.some((arg) => arg !== '--dry-run')) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const config = loadConfigFromProcess();
  const summary = await reconcile(config, { dryRun: args.includes('--dry-run') });
  process.stdout.write(`${summaryLine(summary)}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      // One line, never a stack: ApiError messages name the failing dependency, not its internals.
      const message = error instanceof ConfigError ? `Configuration error: ${error.message}` : `reconcile failed: ${String(error)}`;
      process.stderr.write(`${message}\n`);
      process.exit(1);
    },
  );
}
