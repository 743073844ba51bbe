import { buildApp } from '../lib/app';
import { ConfigError } from '../lib/config';

try {
  buildApp({}, process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    // One line that says what to fix, not a stack trace.
    console.error(`infra: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
