import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

export interface Hit {
  count: number;
  resetInMs: number;
}

/** INCR and start the window's expiry on its first hit, atomically. */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { count, redis.call('PTTL', KEYS[1]) }
`;
const WARN_EVERY_MS = 30_000;

/**
 * Fixed-window counters: in Redis when `REDIS_URL` is set (shared by every ECS task), in this
 * process otherwise. If Redis cannot answer within a few milliseconds the process counts on its
 * own (logged, at most every 30 s): a missing Redis weakens the limit, it never fails a request.
 */
@Injectable()
export class RateLimitStore implements OnModuleDestroy {
  private readonly logger = new Logger(RateLimitStore.name);
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly redis: Redis | null;
  private lastWarningAt = 0;

  constructor(config: AppConfig) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
    this.redis =
      config.redisUrl === undefined
        ? null
        : new Redis(config.redisUrl, {
            // Fail fast instead of queueing: the fallback is better than a slow login.
            enableOfflineQueue: false,
            maxRetriesPerRequest: 0,
            connectTimeout: 1_000,
            commandTimeout: 250,
            retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
          });
    this.redis?.on('error', (error: Error) => this.warn('Redis unavailable; rate limits are per process until it returns', error));
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
    this.redis?.disconnect();
  }

  async hit(key: string, windowMs: number): Promise<Hit> {
    if (this.redis !== null && this.redis.status === 'ready') {
      try {
        const [count, ttl] = (await this.redis.eval(HIT_SCRIPT, 1, `ratelimit:${key}`, String(windowMs))) as [number, number];
        return { count, resetInMs: ttl > 0 ? ttl : windowMs };
      } catch (error) {
        this.warn('Redis rate-limit call failed; counting in this process', error);
      }
    } else if (this.redis !== null) {
      this.warn('Redis not connected; counting in this process');
    }
    return this.hitLocally(key, windowMs);
  }

  private hitLocally(key: string, windowMs: number): Hit {
    const now = Date.now();
    let window = this.windows.get(key);
    if (window === undefined || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    return { count: window.count, resetInMs: window.resetAt - now };
  }

  private warn(message: string, error?: unknown): void {
    const now = Date.now();
    if (now - this.lastWarningAt >= WARN_EVERY_MS) {
      this.lastWarningAt = now;
      this.logger.warn({ err: error }, message);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, window] of this.windows) {
      if (window.resetAt <= now) {
        this.windows.delete(key);
      }
    }
  }
}
