/**
 * The limit to compare the app with: a bare node:http server on the same Node, database and pool
 * size doing exactly the app's work per request with no framework. It reads the bearer token the
 * same way (exactly one Authorization header), verifies it with node:crypto and a cached
 * KeyObject (every claim check of the contract), reads the caller's user_mapping row once with
 * the guard's SQL (GET /v1/users/me answers from that row, as the app does), runs the same SQL as
 * each route and writes the same bytes: the same JSON bodies and the same headers (security
 * headers, X-Request-Id, problem details on errors). bench/run.ts checks that before measuring.
 *
 * Posts carry `attachments: []`: the app reads and signs attachments only when S3 is configured,
 * and the servers compared with this one run without it (bench/run.ts measures images as a variant).
 *
 * BASELINE_VERIFY_CACHE=off turns off the verified-token cache the app has (SHA-256 digest of the
 * token -> its claims, expiry and signing key checked again on every hit): the uncached variant
 * verifies the RS256 signature on every request.
 *
 * Run with `node bench/baseline.mts` (Node 24 strips the types); configured by the same env as the app.
 */
import { createHash, createPublicKey, KeyObject, randomUUID, verify } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import pg from 'pg';

const env = process.env;
const issuer = env.COGNITO_ISSUER ?? '';
const clientId = env.COGNITO_CLIENT_ID ?? '';
const cacheVerified = env.BASELINE_VERIFY_CACHE !== 'off';
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.DB_POOL_MAX ?? 10), connectionTimeoutMillis: 2000 });
const keys = new Map<string, KeyObject>();

interface Claims {
  sub: string;
  iat: number;
  exp: number;
  jti: string | null;
  groups: string[];
  kid: string;
}

/** Verified tokens by SHA-256 digest, bounded and oldest-first evicted like the app's. */
const verified = new Map<string, Claims>();
const VERIFIED_CAPACITY = 10_000;

/** The app's security headers (helmet with the app's CSP), constant. */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;" +
    "object-src 'none';script-src 'self' 'unsafe-inline';script-src-attr 'none';style-src 'self' 'unsafe-inline';upgrade-insecure-requests",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BEARER = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/i;

function b64json(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function verifyToken(req: IncomingMessage): Claims | null {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].length === 13 && req.rawHeaders[i].toLowerCase() === 'authorization') {
      count += 1;
    }
  }
  const match = count === 1 ? BEARER.exec(req.headers.authorization ?? '') : null;
  if (match === null) {
    return null;
  }
  const now = Math.floor(Date.now() / 1000);
  const digest = cacheVerified ? createHash('sha256').update(match[0].slice(7)).digest('base64') : '';
  const known = cacheVerified ? verified.get(digest) : undefined;
  if (known !== undefined) {
    if (known.exp + 5 >= now && keys.has(known.kid)) {
      return known;
    }
    verified.delete(digest);
  }
  const header = b64json(match[1]);
  if (header === null || header.alg !== 'RS256' || typeof header.kid !== 'string') {
    return null;
  }
  const key = keys.get(header.kid);
  if (key === undefined || !verify('RSA-SHA256', Buffer.from(`${match[1]}.${match[2]}`), key, Buffer.from(match[3], 'base64url'))) {
    return null;
  }
  const p = b64json(match[2]);
  if (
    p === null ||
    typeof p.exp !== 'number' ||
    p.exp + 5 < now ||
    typeof p.iat !== 'number' ||
    p.iat > now + 5 ||
    (p.nbf !== undefined && (typeof p.nbf !== 'number' || p.nbf > now + 5)) ||
    p.iss !== issuer ||
    p.token_use !== 'access' ||
    p.client_id !== clientId ||
    typeof p.sub !== 'string'
  ) {
    return null;
  }
  const groups = p['cognito:groups'] ?? [];
  if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) {
    return null;
  }
  const claims: Claims = { sub: p.sub, iat: p.iat, exp: p.exp, jti: typeof p.jti === 'string' ? p.jti : null, groups, kid: header.kid };
  if (cacheVerified) {
    if (verified.size >= VERIFIED_CAPACITY) {
      verified.delete(verified.keys().next().value as string);
    }
    verified.set(digest, claims);
  }
  return claims;
}

interface CallerRow {
  id: string;
  email: string | null;
  phone_number: string | null;
  nickname: string | null;
  status: string;
  tokens_valid_after: Date | null;
  withdrawal_requested_at: Date | null;
  jti_revoked: boolean;
  change_pending: boolean;
  session_ended: boolean | null;
  created_at: Date;
  updated_at: Date;
}

/** The caller's row, read once per request with the guard's SQL; null when it refuses the token. */
async function caller(claims: Claims): Promise<CallerRow | null> {
  // A prepared statement, as the app's guard uses (CallerStateRepository).
  const { rows } = await pool.query<CallerRow>({
    name: 'caller_state',
    text: `SELECT u.*, ($2::varchar IS NOT NULL AND EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = $2)) AS jti_revoked,
            EXISTS (SELECT 1 FROM pending_changes p WHERE p.user_id = u.id) AS change_pending,
            s.id AS session_id, s.ended_at IS NOT NULL AS session_ended,
            s.last_seen_at < now() - interval '5 minutes' AS session_seen_long_ago
       FROM user_mapping u
       LEFT JOIN session_key k ON k.key = $3
       LEFT JOIN session s ON s.id = k.session_id AND s.user_id = u.id
      WHERE u.cognito_sub = $1`,
    values: [claims.sub, claims.jti, claims.jti === null ? null : `j:${claims.jti}`],
  });
  const row = rows[0];
  if (
    row === undefined ||
    row.status !== 'active' ||
    row.withdrawal_requested_at !== null ||
    row.jti_revoked ||
    row.change_pending ||
    row.session_ended === true ||
    (row.tokens_valid_after !== null && claims.iat * 1000 < row.tokens_valid_after.getTime())
  ) {
    return null;
  }
  return row;
}

function send(
  res: ServerResponse,
  requestId: string,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  type = 'application/json; charset=utf-8',
): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'x-request-id': requestId,
    ...SECURITY_HEADERS,
    // Every /v1 answer of the app, errors included (all of this server's routes are /v1).
    'cache-control': 'no-store',
    ...headers,
    'content-type': type,
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

const PROBLEM = 'application/problem+json; charset=utf-8';
function problem(res: ServerResponse, requestId: string, status: number, title: string, code: string, detail: string, headers = {}): void {
  send(res, requestId, status, { status, title, detail, code, requestId }, headers, PROBLEM);
}

const author = (r: Record<string, unknown>) => ({ id: r.author_id, nickname: r.author_nickname, status: r.author_status });
const post = (r: Record<string, unknown>) => ({
  id: r.id,
  title: r.title,
  body: r.body,
  author: author(r),
  commentCount: r.comment_count,
  // The app reads attachments only when S3 is configured; the bench runs it without, as this.
  attachments: [],
  createdAt: (r.created_at as Date).toISOString(),
  updatedAt: (r.updated_at as Date).toISOString(),
});
const comment = (r: Record<string, unknown>) => ({
  id: r.id,
  postId: r.post_id,
  body: r.body,
  author: author(r),
  createdAt: (r.created_at as Date).toISOString(),
  updatedAt: (r.updated_at as Date).toISOString(),
});
const cursorOf = (kind: string, rows: Array<Record<string, unknown>>, limit: number): string | null =>
  rows.length > limit ? Buffer.from(JSON.stringify([kind, rows[limit - 1].cursor_ts, rows[limit - 1].id])).toString('base64url') : null;

const POST_COLUMNS = `p.id, p.title, p.body, p.comment_count, p.created_at, p.updated_at,
       u.id AS author_id, u.nickname AS author_nickname, u.status AS author_status`;
const TS = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (data += chunk));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const POST_PATH = new RegExp(`^/v1/posts/(${UUID})$`);
const COMMENTS_PATH = new RegExp(`^/v1/posts/(${UUID})/comments$`);

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const header = req.headers['x-request-id'];
  const requestId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/health/ready') {
    return send(res, requestId, 200, { status: 'ready' });
  }
  const claims = verifyToken(req);
  if (claims === null) {
    return problem(res, requestId, 401, 'Unauthorized', 'UNAUTHENTICATED', 'A valid access token is required', {
      'www-authenticate': 'Bearer error="invalid_token"',
    });
  }
  const user = await caller(claims);
  if (user === null) {
    return problem(res, requestId, 401, 'Unauthorized', 'TOKEN_REVOKED', 'This token has been revoked; refresh or log in again', {
      'www-authenticate': 'Bearer error="invalid_token"',
    });
  }
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? 20 : /^[0-9]{1,3}$/.test(limitText) ? Number(limitText) : 0;
  if (limit < 1 || limit > 100) {
    return problem(res, requestId, 400, 'Bad Request', 'VALIDATION_FAILED', 'limit must be an integer from 1 to 100');
  }
  if (req.method === 'GET' && url.pathname === '/v1/posts') {
    const { rows } = await pool.query<Record<string, unknown>>(
      `SELECT ${POST_COLUMNS}, ${TS('p.created_at')} AS cursor_ts FROM posts p JOIN user_mapping u ON u.id = p.author_id
        WHERE p.deleted_at IS NULL ORDER BY p.created_at DESC, p.id DESC LIMIT $1`,
      [limit + 1],
    );
    return send(res, requestId, 200, { items: rows.slice(0, limit).map(post), nextCursor: cursorOf('posts', rows, limit) });
  }
  if (req.method === 'GET' && url.pathname === '/v1/users/me') {
    // The row the guard step read: no second query, as in the app.
    return send(res, requestId, 200, {
      id: user.id,
      email: user.email,
      phoneNumber: user.phone_number,
      nickname: user.nickname,
      status: user.status,
      groups: claims.groups,
      createdAt: user.created_at.toISOString(),
      updatedAt: user.updated_at.toISOString(),
    });
  }
  if (req.method === 'POST' && url.pathname === '/v1/posts') {
    let input: { title?: unknown; body?: unknown } | null = null;
    try {
      input = JSON.parse(await readBody(req)) as { title?: unknown; body?: unknown } | null;
    } catch {
      return problem(res, requestId, 400, 'Bad Request', 'VALIDATION_FAILED', 'The body is not valid JSON');
    }
    const title = typeof input?.title === 'string' ? input.title.trim() : '';
    const body = typeof input?.body === 'string' ? input.body.trim() : '';
    if (title.length < 1 || title.length > 200 || body.length < 1 || body.length > 20000) {
      return problem(res, requestId, 400, 'Bad Request', 'VALIDATION_FAILED', 'The request is not valid');
    }
    const { rows } = await pool.query<Record<string, unknown>>(
      `WITH p AS (INSERT INTO posts (author_id, title, body) VALUES ($1, $2, $3) RETURNING *)
       SELECT ${POST_COLUMNS} FROM p JOIN user_mapping u ON u.id = p.author_id`,
      [user.id, title, body],
    );
    return send(res, requestId, 201, post(rows[0]), { location: `/v1/posts/${String(rows[0].id)}` });
  }
  const one = POST_PATH.exec(url.pathname);
  if (req.method === 'GET' && one !== null) {
    const { rows } = await pool.query<Record<string, unknown>>(
      `SELECT ${POST_COLUMNS} FROM posts p JOIN user_mapping u ON u.id = p.author_id WHERE p.id = $1 AND p.deleted_at IS NULL`,
      [one[1]],
    );
    if (rows.length === 0) {
      return problem(res, requestId, 404, 'Not Found', 'NOT_FOUND', 'No such post');
    }
    return send(res, requestId, 200, post(rows[0]));
  }
  const comments = COMMENTS_PATH.exec(url.pathname);
  if (req.method === 'GET' && comments !== null) {
    const { rows } = await pool.query<Record<string, unknown>>(
      `SELECT page.* FROM posts p LEFT JOIN (
         SELECT c.id, c.post_id, c.body, c.created_at, c.updated_at, u.id AS author_id, u.nickname AS author_nickname,
                u.status AS author_status, ${TS('c.created_at')} AS cursor_ts
           FROM comments c JOIN user_mapping u ON u.id = c.author_id
          WHERE c.post_id = $1 AND c.deleted_at IS NULL ORDER BY c.created_at, c.id LIMIT $2
       ) page ON true WHERE p.id = $1 AND p.deleted_at IS NULL ORDER BY page.created_at, page.id`,
      [comments[1], limit + 1],
    );
    if (rows.length === 0) {
      return problem(res, requestId, 404, 'Not Found', 'NOT_FOUND', 'No such post');
    }
    const live = rows.filter((r) => r.id !== null);
    return send(res, requestId, 200, { items: live.slice(0, limit).map(comment), nextCursor: cursorOf('comments', live, limit) });
  }
  return problem(res, requestId, 404, 'Not Found', 'NOT_FOUND', 'No such route or resource');
}

async function main(): Promise<void> {
  const jwks = (await (await fetch(env.COGNITO_JWKS_URI ?? '')).json()) as { keys: Array<{ kid: string } & Record<string, unknown>> };
  for (const jwk of jwks.keys) {
    keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
  }
  const server = createServer((req, res) => {
    handle(req, res).catch(() =>
      problem(res, randomUUID(), 503, 'Service Unavailable', 'SERVICE_UNAVAILABLE', 'The database is unavailable, try again shortly', {
        'retry-after': '1',
      }),
    );
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(env.PORT ?? 3001), '127.0.0.1');
  process.once('SIGTERM', () => {
    server.close();
    void pool.end().then(() => process.exit(0));
  });
}

void main();
