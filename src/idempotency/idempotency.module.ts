import { Global, Module } from '@nestjs/common';
import { IdempotencyJanitor } from './idempotency-janitor';
import { IdempotencyRepository } from './idempotency.repository';
import { PendingKeys } from './pending-key';

/**
 * Safe retries (docs/retries.md): the `idempotency_keys` table and its janitor. The
 * interceptor runs only on the routes marked `@Idempotent()` (route-scoped, so every other
 * route skips it); global so those routes' modules can build it.
 */
@Global()
@Module({
  providers: [IdempotencyRepository, IdempotencyJanitor, PendingKeys],
  exports: [IdempotencyRepository, PendingKeys],
})
export class IdempotencyModule {}
