import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { renderProblem } from './problem-details';
import { pathOf } from './request-id';

/** Writes a problem-details response (shared by the Nest filter and Fastify's error handler). */
export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  const { body, headers, unexpected } = renderProblem(error, request.id);
  if (unexpected) {
    logger.error({ err: error, requestId: request.id, method: request.method, path: pathOf(request.url) }, 'unhandled error');
  }
  if (reply.sent) {
    return;
  }
  void reply.status(body.status).headers(headers).header('content-type', 'application/problem+json; charset=utf-8').send(body);
}

/** The one place errors become responses (errors have one path). */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger);
  }
}
