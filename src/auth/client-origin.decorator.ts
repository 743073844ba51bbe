import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { SessionOrigin } from '../users/sessions.repository';
import { requestOrigin } from './cognito-jwt.strategy';

/** The client of a sign-in request, as its session records it (docs/sessions.md). */
export const ClientOrigin = createParamDecorator((_: unknown, ctx: ExecutionContext): SessionOrigin => {
  return requestOrigin(ctx.switchToHttp().getRequest<FastifyRequest>());
});
