import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import type { UserPool } from '../../tools/local-stack/cognito-local';

/** cognito-local's own signing key (it ships in the package): forged tokens have a valid signature. */
const signingKey = JSON.parse(readFileSync(require.resolve('cognito-local/lib/keys/cognitoLocal.private.json'), 'utf8')) as { pem: string };

export interface ForgeOptions {
  header?: Record<string, unknown>;
  omit?: string[];
  key?: string;
  algorithm?: jwt.Algorithm;
}

/** An access token for `pool` with every claim right unless `claims` or `options` say otherwise. */
export function forgeToken(pool: UserPool, claims: Record<string, unknown> = {}, options: ForgeOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    sub: randomUUID(),
    token_use: 'access',
    client_id: pool.clientId,
    iss: pool.issuer,
    iat: now,
    exp: now + 3600,
    jti: randomUUID(),
    ...claims,
  };
  for (const key of options.omit ?? []) {
    delete payload[key];
  }
  const algorithm = options.algorithm ?? 'RS256';
  return jwt.sign(payload, options.key ?? signingKey.pem, {
    algorithm,
    keyid: 'CognitoLocal',
    header: { alg: algorithm, ...options.header },
  });
}

/** The claims of a token, unverified: to assert on them, or to re-sign them with a change. */
export function claimsOf(token: string): Record<string, unknown> {
  return jwt.decode(token) as Record<string, unknown>;
}
