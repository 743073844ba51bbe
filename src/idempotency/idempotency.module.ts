import { Global, Module } from '@nestjs/common';
import { IdempotencyJanitor } from './idempotency-janitor';
import { IdempotencyRepository } from './idempotency.repository';
import { Idempotency } from './idempotency.service';
import { PendingKeys } from './pending-key';

/**
 * Safe retries (docs/retries.md): the `idempotency_keys` table, its janitor and `Idempotency`.
 * The guard runs only on the routes marked `@Idempotent()` (route-scoped, so every other route
 * skips it); global so those routes' modules can build it.
 */
@Global()
@Module({
  providers: [IdempotencyRepository, IdempotencyJanitor, PendingKeys, Idempotency],
  exports: [IdempotencyRepository, PendingKeys, Idempotency],
})
export class IdempotencyModule {}
