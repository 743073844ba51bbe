import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { IdempotencyJanitor } from './idempotency-janitor';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotencyRepository } from './idempotency.repository';

/**
 * Safe retries (contract section 10): one global interceptor that acts on the routes marked
 * `@Idempotent()`, the `idempotency_keys` table and its janitor.
 */
@Module({
  providers: [IdempotencyRepository, IdempotencyJanitor, { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor }],
})
export class IdempotencyModule {}
