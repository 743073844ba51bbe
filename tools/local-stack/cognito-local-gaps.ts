import { createServer, request, Server } from 'node:http';

/**
 * The operations cognito-local 5.3.0 lacks (it answers them 500) that `npm run dev` cannot do
 * without: logout-all, password change and password reset end every session with
 * AdminUserGlobalSignOut, so locally they would all answer 503. This proxy answers those calls
 * itself with Cognito's empty success and passes everything else through untouched. What it
 * cannot emulate: old refresh tokens keep refreshing locally (the API still refuses every old
 * access token through its own cut-off). Dev only: tests assert these calls at the SDK boundary.
 */
const ANSWERED = new Set(['AdminUserGlobalSignOut', 'GlobalSignOut']);
const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';

export interface GapProxy {
  endpoint: string;
  stop(): Promise<void>;
}

export function startCognitoGapProxy(upstream: string, port: number): Promise<GapProxy> {
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? '').replace(TARGET_PREFIX, '');
    if (ANSWERED.has(operation)) {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end('{}');
      return;
    }
    const forward = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.once('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        stop: () => new Promise<void>((done) => server.close(() => done())),
      }),
    );
  });
}
