import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { SessionOrigin } from '../users/sessions.repository';

/** The client of a request as a session records it: `request.ip` follows the TRUST_PROXY rules. */
export function requestOrigin(request: FastifyRequest): SessionOrigin {
  const userAgent = request.headers['user-agent'];
  return { userAgent: typeof userAgent === 'string' && userAgent !== '' ? userAgent : null, ipAddress: request.ip ?? null };
}

/** The client of a sign-in request, as its session records it (docs/sessions.md). */
export const ClientOrigin = createParamDecorator((_: unknown, ctx: ExecutionContext): SessionOrigin => {
  return requestOrigin(ctx.switchToHttp().getRequest<FastifyRequest>());
});
