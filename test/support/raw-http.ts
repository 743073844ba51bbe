import { Agent, request } from 'node:http';
import { connect } from 'node:net';

export interface RawResult {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  ms: number;
  startedAt: number;
  /** Set when there was no HTTP answer: ECONNREFUSED, ECONNRESET, socket hang up... */
  error?: string;
  /** Whether the request went out on a socket the agent had already used (keep-alive reuse). */
  reusedSocket: boolean;
}

/**
 * One request through a given `node:http` Agent, so a test controls which TCP connection it
 * rides on (a keep-alive agent with maxSockets 1 reuses one connection). Never throws.
 */
export function rawRequest(
  url: string,
  options: { agent?: Agent; method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<RawResult> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    let reusedSocket = false;
    const req = request(url, { agent: options.agent, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
          ms: Date.now() - startedAt,
          startedAt,
          reusedSocket,
        }),
      );
      res.on('error', (e: NodeJS.ErrnoException) =>
        resolve({ status: 0, body: '', headers: {}, ms: Date.now() - startedAt, startedAt, error: e.code ?? e.message, reusedSocket }),
      );
    });
    req.on('socket', () => {
      reusedSocket = req.reusedSocket;
    });
    req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ status: 0, body: '', headers: {}, ms: Date.now() - startedAt, startedAt, error: e.code ?? e.message, reusedSocket }),
    );
    req.end(options.body);
  });
}

/**
 * Writes raw bytes on a fresh TCP connection and returns what came back before the server closed
 * the connection or `timeoutMs` passed: for requests an HTTP client would refuse to send
 * (oversized headers, broken framing, invalid bytes).
 */
export function rawExchange(
  port: number,
  bytes: Buffer | string,
  timeoutMs = 5_000,
): Promise<{ response: string; status: number; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    const finish = (): void => {
      const response = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(response);
      resolve({ response, status: match === null ? 0 : Number(match[1]), closed });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      finish();
    }, timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // One complete response is enough: stop once its body (by Content-Length) is in.
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text);
      if (head >= 0 && length !== null && Buffer.byteLength(text, 'latin1') >= head + 4 + Number(length[1])) {
        clearTimeout(timer);
        socket.destroy();
        finish();
      }
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      finish();
    });
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
}
