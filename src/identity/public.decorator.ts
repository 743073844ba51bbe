import { applyDecorators, SetMetadata } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';

export const IS_PUBLIC_KEY = 'auth:isPublic';

/** The Fastify route config flag `@Public()` also sets, so a hook can tell before Nest runs. */
export const PUBLIC_ROUTE_FLAG = 'public';

/**
 * Opts a route out of the global bearer-token guard. Per route only (not per controller): the
 * Fastify route config that refuses a request with no token before Nest runs is per route.
 */
export const Public = (): MethodDecorator => applyDecorators(SetMetadata(IS_PUBLIC_KEY, true), RouteConfig({ [PUBLIC_ROUTE_FLAG]: true }));
