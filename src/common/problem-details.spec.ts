import { HttpException } from '@nestjs/common';
import { errorCodes } from 'fastify';
import { renderProblem } from './problem-details';

/** Nest's Fastify adapter turns Fastify's 4xx errors into HttpException(fastifyError.message, status, { cause }). */
function wrappedByNest(error: Error & { statusCode?: number }): HttpException {
  return new HttpException(error.message, error.statusCode ?? 500, { cause: error });
}

describe('renderProblem', () => {
  it("renders a Fastify body-parser error wrapped by Nest's adapter in our words", () => {
    expect(renderProblem(wrappedByNest(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY()), 'r1').body).toEqual({
      status: 400,
      title: 'Bad Request',
      detail: 'The body is not valid JSON',
      code: 'VALIDATION_FAILED',
      requestId: 'r1',
    });
  });

  it('answers a wrapped Fastify 4xx it has no words for with the status text, not the library sentence', () => {
    const rendered = renderProblem(wrappedByNest(new errorCodes.FST_ERR_INVALID_URL('/x?token=secret')), 'r2');
    expect(rendered.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', detail: 'Bad Request' });
    expect(JSON.stringify(rendered.body)).not.toMatch(/secret|URL/);
  });

  it('keeps the message of an HttpException thrown without a cause', () => {
    expect(renderProblem(new HttpException('Too many requests, slow down', 429), 'r3').body.detail).toBe('Too many requests, slow down');
  });
});
