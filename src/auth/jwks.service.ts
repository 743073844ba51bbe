import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { JwksClient } from 'jwks-rsa';
import { createPublicKey, KeyObject } from 'node:crypto';
import { ApiError } from '../common/api-error';
import { AppConfig } from '../config/app-config';
import { countJwksFetch } from '../telemetry/metrics';

/** An unknown kid triggers at most one JWKS fetch per this interval, so forged kids cannot flood the pool's endpoint. */
export const JWKS_REFETCH_INTERVAL_MS = 10_000;
const STARTUP_RETRY_MS = 2_000;
/**
 * The keys are fetched again this often, so a key the pool stops publishing (rotated out after a
 * compromise) stops being trusted within minutes even if no token with an unknown kid arrives.
 */
export const JWKS_PERIODIC_REFRESH_MS = 5 * 60_000;

/**
 * The user pool's signing keys, fetched with jwks-rsa at start-up and every 5 minutes, and cached
 * as `KeyObject`s (a PEM string costs a `createPublicKey` per verification). An unknown kid
 * refetches at most once per 10 s, so a flood of random kids cannot hammer the JWKS endpoint.
 */
@Injectable()
export class JwksService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(JwksService.name);
  private readonly client: JwksClient;
  private keys = new Map<string, KeyObject>();
  private lastFetchAt = 0;
  private inflight: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private periodicTimer: NodeJS.Timeout | null = null;
  private loaded = false;

  constructor(config: AppConfig) {
    // jwks-rsa does the fetching; caching and rate limiting are ours (its limiter allows bursts).
    this.client = new JwksClient({ jwksUri: config.cognito.jwksUri, cache: false, rateLimit: false, timeout: 3_000 });
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  /** Fetches at start-up without blocking it: readiness stays 503 until the keys are in. */
  onApplicationBootstrap(): void {
    void this.refresh().catch(() => this.scheduleRetry());
    // A failed periodic fetch keeps the keys it had (logged in fetch); the next tick tries again.
    this.periodicTimer = setInterval(() => void this.refresh().catch(() => undefined), JWKS_PERIODIC_REFRESH_MS);
    this.periodicTimer.unref();
  }

  onModuleDestroy(): void {
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
    }
    if (this.periodicTimer !== null) {
      clearInterval(this.periodicTimer);
    }
  }

  /** Whether the pool still publishes this key (a cached verification is only good while it does). */
  has(kid: string): boolean {
    return this.keys.has(kid);
  }

  /** The verification key for a kid; 401 for a kid the pool does not have, 503 if no keys can be had. */
  async keyFor(kid: string): Promise<KeyObject> {
    const cached = this.keys.get(kid);
    if (cached !== undefined) {
      return cached;
    }
    if (Date.now() - this.lastFetchAt >= JWKS_REFETCH_INTERVAL_MS) {
      try {
        await this.refresh();
      } catch (error) {
        if (!this.loaded) {
          throw ApiError.idpUnavailable('The signing keys of the user pool cannot be fetched', error);
        }
      }
    } else if (!this.loaded) {
      throw ApiError.idpUnavailable('The signing keys of the user pool cannot be fetched');
    }
    const key = this.keys.get(kid);
    if (key === undefined) {
      throw ApiError.unauthenticated('The token was not signed by this user pool');
    }
    return key;
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetch(): Promise<void> {
    this.lastFetchAt = Date.now();
    try {
      const signingKeys = await this.client.getSigningKeys();
      const keys = new Map<string, KeyObject>();
      for (const key of signingKeys) {
        if (key.kid !== undefined && (key.alg === undefined || key.alg === 'RS256')) {
          keys.set(key.kid, createPublicKey(key.getPublicKey()));
        }
      }
      this.keys = keys;
      this.loaded = true;
      countJwksFetch('ok');
      this.logger.log({ kids: [...keys.keys()] }, 'JWKS loaded');
    } catch (error) {
      countJwksFetch('error');
      this.logger.warn({ err: error }, 'JWKS fetch failed');
      throw error;
    }
  }

  private scheduleRetry(): void {
    this.retryTimer = setTimeout(() => {
      void this.refresh().catch(() => this.scheduleRetry());
    }, STARTUP_RETRY_MS);
    this.retryTimer.unref();
  }
}
