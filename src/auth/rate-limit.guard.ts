import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { ApiError } from '../common/api-error';
import { AppConfig } from '../config/app-config';
import { countRateLimitRefusal } from '../telemetry/metrics';
import { RateLimitStore } from './rate-limit.store';

export const RATE_LIMITED_KEY = 'auth:rateLimited';

/** Limits a route to `RATE_LIMIT_AUTH_PER_MINUTE` requests per client IP per minute. */
export const RateLimited = (): MethodDecorator & ClassDecorator => SetMetadata(RATE_LIMITED_KEY, true);

const WINDOW_MS = 60_000;

/**
 * Who a limit counts against: an IPv4 address, or an IPv6 client's /64. One subscriber usually
 * gets a whole /64 and can pick any address in it, so counting single IPv6 addresses would let
 * one client spread its attempts over 2^64 keys. An IPv4-mapped IPv6 address counts as IPv4.
 */
export function rateLimitClientKey(ip: string): string {
  if (!ipaddr.isValid(ip)) {
    return ip;
  }
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') {
    return address.toString();
  }
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toNormalizedString()}/64`;
}

/**
 * Fixed one-minute windows per (route, client IP, an IPv6 client by its /64). The IP is Fastify's
 * `request.ip`, which reads X-Forwarded-For only when TRUST_PROXY=true (behind the ALB).
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly store: RateLimitStore,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const limited = this.reflector.getAllAndOverride<boolean | undefined>(RATE_LIMITED_KEY, [context.getHandler(), context.getClass()]);
    if (limited !== true) {
      return true;
    }
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const route = request.routeOptions.url ?? request.url;
    const { count, resetInMs } = await this.store.hit(`${route}|${rateLimitClientKey(request.ip)}`, WINDOW_MS);
    if (count > this.config.rateLimitAuthPerMinute) {
      countRateLimitRefusal(route);
      throw ApiError.tooManyRequests(resetInMs / 1000);
    }
    return true;
  }
}
