import { createServer, IncomingMessage, Server } from 'node:http';

/**
 * An HTTP proxy in front of cognito-local that can answer chosen operations the way Cognito
 * does when it throttles (400 TooManyRequestsException), so the real SDK's retry and our
 * mapping are exercised over real HTTP.
 */
export class CognitoFaultProxy {
  private server: Server | null = null;
  private readonly throttled = new Map<string, number>();
  readonly calls = new Map<string, number>();
  url = '';

  constructor(private readonly upstream: string) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, headers, body }) => res.writeHead(status, headers).end(body));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    return this.url;
  }

  /** The next `times` calls of `operation` (e.g. 'AdminDisableUser') are throttled. */
  throttle(operation: string, times = Number.POSITIVE_INFINITY): void {
    this.throttled.set(operation, times);
  }

  reset(): void {
    this.throttled.clear();
    this.calls.clear();
  }

  async stop(): Promise<void> {
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
