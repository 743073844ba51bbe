import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * An HTTP proxy in front of cognito-local that can answer chosen operations the way Cognito
 * does when it throttles (400 TooManyRequestsException), so the real SDK's retry and our
 * mapping are exercised over real HTTP.
 */
export class CognitoFaultProxy {
  private server: Server | null = null;
  private readonly throttled = new Map<string, number>();
  private readonly delayed = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<ServerResponse>();
  private hanging = false;
  private port = 0;
  readonly calls = new Map<string, number>();
  url = '';

  constructor(private readonly upstream: string) {}

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      if (this.hanging) {
        // A black hole: the connection is accepted, the request read, and nothing ever answered.
        this.held.add(res);
        req.resume();
        return;
      }
      void this.handle(req).then(
        ({ status, headers, body }) => res.writeHead(status, headers).end(body),
        () => res.destroy(),
      );
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this.url;
  }

  /** The identity provider is unreachable: open connections are reset, new ones refused. */
  async refuse(): Promise<void> {
    this.hanging = false;
    await this.stop();
    this.server = null;
  }

  /** The identity provider accepts connections and never answers (a network black hole). */
  hang(): void {
    this.hanging = true;
  }

  /** Back to forwarding on the same address; requests held by `hang()` are cut. */
  async restore(): Promise<void> {
    this.hanging = false;
    for (const res of this.held) {
      res.destroy();
    }
    this.held.clear();
    if (this.server === null) {
      await this.start(this.port);
    }
  }

  /** The next `times` calls of `operation` (e.g. 'AdminDisableUser') are throttled. */
  throttle(operation: string, times = Number.POSITIVE_INFINITY): void {
    this.throttled.set(operation, times);
  }

  /** Every call of `operation` reaches cognito-local only after `ms` (a slow identity provider). */
  delay(operation: string, ms: number): void {
    this.delayed.set(operation, ms);
  }

  /** Resolves once `operation` has been called `times` times in all (it may still be in flight). */
  async called(operation: string, times = 1): Promise<void> {
    while ((this.calls.get(operation) ?? 0) < times) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  reset(): void {
    this.throttled.clear();
    this.delayed.clear();
    this.calls.clear();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    this.sockets.clear();
    this.held.clear();
    await new Promise((resolve) => (this.server === null ? resolve(undefined) : this.server.close(resolve)));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    const operation =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    const remaining = this.throttled.get(operation) ?? 0;
    if (remaining > 0) {
      this.throttled.set(operation, remaining - 1);
      return {
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'TooManyRequestsException' },
        body: Buffer.from(JSON.stringify({ __type: 'TooManyRequestsException', message: 'Rate exceeded' })),
      };
    }
    const delay = this.delayed.get(operation) ?? 0;
    if (delay > 0) {
      await new Promise((r) => setTimeout(r, delay));
    }
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && key !== 'host' && key !== 'content-length') {
        headers[key] = value;
      }
    }
    const upstream = await fetch(`${this.upstream}${req.url ?? '/'}`, {
      method: req.method,
      headers,
      body: req.method === 'GET' ? undefined : body,
    });
    return {
      status: upstream.status,
      headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' },
      body: Buffer.from(await upstream.arrayBuffer()),
    };
  }
}
