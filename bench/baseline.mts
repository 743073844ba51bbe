/**
 * The limit to compare the app with: a bare node:http server on the same Node,
 * database and pool size doing the same work per request with no framework. It verifies the
 * same RS256 access token with node:crypto and a cached KeyObject (every claim check of the
 * contract), looks up the caller's user_mapping row with the same SQL as the guard, runs the
 * same SQL as each route and writes the same JSON. Run with `node bench/baseline.mts` (Node 24
 * strips the types); configured by the same env as the app.
 */
import { createPublicKey, KeyObject, verify } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import pg from 'pg';

const env = process.env;
const issuer = env.COGNITO_ISSUER ?? '';
const clientId = env.COGNITO_CLIENT_ID ?? '';
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.DB_POOL_MAX ?? 10), connectionTimeoutMillis: 2000 });
const keys = new Map<string, KeyObject>();

interface Claims {
  sub: string;
  iat: number;
  jti: string | null;
  groups: string[];
}

function b64json(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function verifyToken(req: IncomingMessage): Claims | null {
  const match = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/i.exec(req.headers.authorization ?? '');
  if (match === null) {
    return null;
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
  const now = Math.floor(Date.now() / 1000);
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
  return { sub: p.sub, iat: p.iat, jti: typeof p.jti === 'string' ? p.jti : null, groups: groups };
}

async function caller(claims: Claims): Promise<string | null> {
  const { rows } = await pool.query<Record<string, unknown>>(
    `SELECT u.id, u.status, u.tokens_valid_after,
            u.withdrawal_requested_at IS NOT NULL AS withdrawal_requested,
            ($2::varchar IS NOT NULL AND EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = $2)) AS jti_revoked
       FROM user_mapping u WHERE u.cognito_sub = $1`,
    [claims.sub, claims.jti],
  );
  const row = rows[0] as
    { id: string; status: string; tokens_valid_after: Date | null; withdrawal_requested: boolean; jti_revoked: boolean } | undefined;
  if (
    row === undefined ||
    row.status !== 'active' ||
    row.withdrawal_requested ||
    row.jti_revoked ||
    (row.tokens_valid_after !== null && claims.iat * 1000 < row.tokens_valid_after.getTime())
  ) {
    return null;
  }
  return row.id;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), ...headers });
  res.end(json);
}

const author = (r: Record<string, unknown>) => ({ id: r.author_id, nickname: r.author_nickname, status: r.author_status });
const post = (r: Record<string, unknown>) => ({
  id: r.id,
  title: r.title,
  body: r.body,
  author: author(r),
  commentCount: r.comment_count,
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

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/health/ready') {
    return send(res, 200, { status: 'ready' });
  }
  const claims = verifyToken(req);
  if (claims === null) {
    return send(
      res,
      401,
      { status: 401, title: 'Unauthorized', code: 'UNAUTHENTICATED' },
      { 'www-authenticate': 'Bearer error="invalid_token"' },
    );
  }
  const userId = await caller(claims);
  if (userId === null) {
    return send(res, 401, { status: 401, title: 'Unauthorized', code: 'TOKEN_REVOKED' });
  }
  const limit = Number(url.searchParams.get('limit') ?? 20);
  if (req.method === 'GET' && url.pathname === '/v1/posts') {
    const { rows } = await pool.query<Record<string, unknown>>(
      `SELECT ${POST_COLUMNS}, ${TS('p.created_at')} AS cursor_ts FROM posts p JOIN user_mapping u ON u.id = p.author_id
        WHERE p.deleted_at IS NULL ORDER BY p.created_at DESC, p.id DESC LIMIT $1`,
      [limit + 1],
    );
    return send(res, 200, { items: rows.slice(0, limit).map(post), nextCursor: cursorOf('posts', rows, limit) });
  }
  if (req.method === 'GET' && url.pathname === '/v1/users/me') {
    const { rows } = await pool.query<Record<string, unknown>>(`SELECT * FROM user_mapping WHERE id = $1`, [userId]);
    const u = rows[0];
    return send(res, 200, {
      id: u.id,
      email: u.email,
      phoneNumber: u.phone_number,
      nickname: u.nickname,
      status: u.status,
      groups: claims.groups,
      createdAt: (u.created_at as Date).toISOString(),
      updatedAt: (u.updated_at as Date).toISOString(),
    });
  }
  if (req.method === 'POST' && url.pathname === '/v1/posts') {
    const input = JSON.parse(await readBody(req)) as { title?: unknown; body?: unknown };
    const title = typeof input.title === 'string' ? input.title.trim() : '';
    const body = typeof input.body === 'string' ? input.body.trim() : '';
    if (title.length < 1 || title.length > 200 || body.length < 1 || body.length > 20000) {
      return send(res, 400, { status: 400, code: 'VALIDATION_FAILED' });
    }
    const { rows } = await pool.query<Record<string, unknown>>(
      `WITH p AS (INSERT INTO posts (author_id, title, body) VALUES ($1, $2, $3) RETURNING *)
       SELECT ${POST_COLUMNS} FROM p JOIN user_mapping u ON u.id = p.author_id`,
      [userId, title, body],
    );
    return send(res, 201, post(rows[0]), { location: `/v1/posts/${String(rows[0].id)}` });
  }
  const comments = /^\/v1\/posts\/([0-9a-f-]{36})\/comments$/.exec(url.pathname);
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
      return send(res, 404, { status: 404, code: 'NOT_FOUND' });
    }
    const live = rows.filter((r) => r.id !== null);
    return send(res, 200, { items: live.slice(0, limit).map(comment), nextCursor: cursorOf('comments', live, limit) });
  }
  return send(res, 404, { status: 404, code: 'NOT_FOUND' });
}

async function main(): Promise<void> {
  const jwks = (await (await fetch(env.COGNITO_JWKS_URI ?? '')).json()) as { keys: Array<{ kid: string } & Record<string, unknown>> };
  for (const jwk of jwks.keys) {
    keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
  }
  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 503, { status: 503, code: 'SERVICE_UNAVAILABLE' }));
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(env.PORT ?? 3001), '127.0.0.1');
  process.once('SIGTERM', () => {
    server.close();
    void pool.end().then(() => process.exit(0));
  });
}

void main();
