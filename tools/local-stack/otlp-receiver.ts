import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One export request as the receiver got it. */
export interface OtlpExport {
  signal: 'traces' | 'metrics' | 'logs';
  contentType: string;
  raw: string;
  /** The parsed body of an `http/json` export; null for `http/protobuf`. */
  json: unknown;
}

export interface OtlpReceiver {
  /** The value for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  exports: OtlpExport[];
  close(): Promise<void>;
}

function read(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/**
 * A small OTLP/HTTP receiver on 127.0.0.1 (what the ADOT or CloudWatch agent sidecar is to the
 * task): accepts `/v1/traces`, `/v1/metrics` and `/v1/logs` in `http/json` or `http/protobuf`
 * and answers success. Also a local sink for measuring the cost of telemetry under load
 * (`keep: false` drops the bodies).
 */
export async function startOtlpReceiver(options: { keep?: boolean } = {}): Promise<OtlpReceiver> {
  const exports: OtlpExport[] = [];
  const server: Server = createServer((request, response) => {
    void read(request).then((body) => {
      const signal = /^\/v1\/(traces|metrics|logs)$/.exec(request.url ?? '')?.[1] as OtlpExport['signal'] | undefined;
      if (request.method !== 'POST' || signal === undefined) {
        response.writeHead(404).end();
        return;
      }
      const contentType = request.headers['content-type'] ?? '';
      const json = contentType.startsWith('application/json');
      if (options.keep !== false) {
        const raw = json ? body.toString('utf8') : body.toString('latin1');
        exports.push({ signal, contentType, raw, json: json ? (JSON.parse(raw) as unknown) : null });
      }
      // An empty Export*ServiceResponse: `{}` in JSON, zero bytes in protobuf.
      response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
