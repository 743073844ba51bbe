import { createServer, Server, Socket, connect } from 'node:net';
import { KEYED_INSERT_STATEMENT } from '../../src/posts/posts.repository';

/** A simple-protocol Query message carrying exactly `COMMIT` (what node-postgres sends for TypeORM). */
const COMMIT_QUERY = Buffer.concat([Buffer.from('Q'), Buffer.from([0, 0, 0, 11]), Buffer.from('COMMIT\0')]);
/**
 * The keyed create's one statement (its prepared name, in its Parse and each Bind): it commits on
 * its own, so losing its answer is losing a commit's answer too.
 */
const KEYED_INSERT = Buffer.from(`${KEYED_INSERT_STATEMENT}\0`);

/**
 * A TCP proxy in front of PostgreSQL, so a test can make the database "go away" (every
 * connection cut, new ones refused), "stop answering" (a black hole: connections stay open or
 * are accepted, and no byte gets through either way) and "come back", without touching the
 * shared server.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private blackholed = false;
  private commitAnswersToLose = 0;
  /** How many commits reached the database with their answer lost (see loseCommitAnswers). */
  commitAnswersLost = 0;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => {
      this.sockets.add(client);
      if (this.blackholed) {
        // Accepted (the kernel would have done the handshake) and never answered.
        client.on('error', () => undefined).on('data', () => undefined);
        client.once('close', () => this.sockets.delete(client));
        return;
      }
      const upstream = connect(this.targetPort, this.targetHost);
      this.sockets.add(upstream);
      const pair = { client, upstream };
      this.pairs.add(pair);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
        this.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
      // Registered after the pipe, so a COMMIT is already on its way to the database when this
      // stops the way back: the database commits, and its answer is never delivered.
      client.on('data', (chunk: Buffer) => {
        if (this.commitAnswersToLose > 0 && (chunk.includes(COMMIT_QUERY) || chunk.includes(KEYED_INSERT))) {
          this.commitAnswersToLose -= 1;
          upstream.unpipe(client);
          upstream.once('data', () => {
            this.commitAnswersLost += 1;
            drop();
          });
          // unpipe() left the stream paused: read the answer so that it can be thrown away.
          upstream.resume();
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : port;
    return this.port;
  }

  /**
   * The next `count` COMMITs (or keyed creates, each its own transaction) reach the database, which commits them; then the connection is cut
   * before the answer gets back, so the application cannot tell that its write was stored.
   */
  loseCommitAnswers(count: number): void {
    this.commitAnswersToLose = count;
  }

  /** The database "dies": open connections are reset and new ones refused. */
  async stop(): Promise<void> {
    this.blackholed = false;
    for (const socket of this.sockets) {
      socket.destroy();
    }
    this.sockets.clear();
    this.pairs.clear();
    await new Promise<void>((resolve) => (this.server === null ? resolve() : this.server.close(() => resolve())));
    this.server = null;
  }

  /**
   * The network drops every packet (a failover whose old address stops answering): open
   * connections stay open with nothing getting through, new ones are accepted and never answered.
   */
  blackhole(): void {
    this.blackholed = true;
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.on('data', () => undefined);
      upstream.on('data', () => undefined);
    }
  }

  /**
   * A failover whose old server vanished without a reset: the connections open now stay open and
   * carry nothing, ever; new connections reach the (new) database as usual.
   */
  strandOpenConnections(): void {
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.on('data', () => undefined);
      upstream.on('data', () => undefined);
    }
    this.pairs.clear();
  }

  /** The database is back on the same address (after a black hole, the old connections are reset). */
  async resume(): Promise<void> {
    if (this.blackholed) {
      await this.stop();
    }
    await this.start(this.port);
  }
}

/** A started proxy in front of the PostgreSQL server of `databaseUrl`, and the URL that reaches it through the proxy. */
export async function proxyDatabase(databaseUrl: string): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(databaseUrl);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const proxied = new URL(databaseUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(await proxy.start());
  return { proxy, url: proxied.toString() };
}
