import type { FastifyRequest } from 'fastify';

/** Three base64url segments; a signature segment is required (no unsigned tokens). */
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/**
 * The access token from exactly one well-formed `Authorization: Bearer` header, or null.
 * Tokens in the query, body or cookies are never looked at. Node keeps only the first of
 * repeated Authorization headers, so the raw header list is counted.
 */
export function bearerToken(request: Pick<FastifyRequest, 'headers' | 'raw'>): string | null {
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization') {
      count += 1;
    }
  }
  const header = request.headers.authorization;
  if (count !== 1 || typeof header !== 'string') {
    return null;
  }
  const match = BEARER.exec(header);
  return match === null ? null : match[1];
}
