import type { FastifyInstance } from 'fastify';
import { recordHttpServerRequest } from './metrics';

/** `http.server.request.duration` by route template, method and status, for every response. */
export function recordHttpServerMetrics(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    recordHttpServerRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
