import { Pool, PoolClient } from 'pg';
import { FailFastClient } from '../../src/database/database-options';
import { isDatabaseUnavailable } from '../../src/common/database-errors';
import { copyTemplateDatabase, DatabaseCopy } from '../support/database-copy';
import { proxyDatabase, TcpProxy } from '../support/tcp-proxy';

/** Short, so the test waits for it a few times; production uses QUERY_TIMEOUT_MS. */
const SILENT_AFTER_MS = 400;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The client's socket, to tell whether FailFastClient destroyed it. */
const streamOf = (client: PoolClient): { destroyed: boolean } =>
  (client as unknown as { connection: { stream: { destroyed: boolean } } }).connection.stream;

/**
 * FailFastClient against the real database behind a TCP proxy that can strand its connections
 * (open, carrying nothing, as after a failover that left the old server silent).
 */
describe('FailFastClient: a connection that goes silent while a query waits', () => {
  let db: DatabaseCopy;
  let proxy: TcpProxy;
  let proxiedUrl: string;
  let pool: Pool;

  beforeAll(async () => {
    db = await copyTemplateDatabase('fail-fast-client');
    ({ proxy, url: proxiedUrl } = await proxyDatabase(db.url));
  });
  beforeEach(() => {
    pool = new Pool({
      connectionString: proxiedUrl,
      max: 2,
      Client: FailFastClient,
      silentAfterMillis: SILENT_AFTER_MS,
    } as ConstructorParameters<typeof Pool>[0]);
    // A discarded connection's error reaches the pool too; the query's caller is told.
    pool.on('error', () => undefined);
  });
  afterEach(() => pool.end());
  afterAll(async () => {
    await proxy?.stop();
    await db?.drop();
  });

  it('fails the query as "database unavailable", destroys the connection, and the pool opens a new one', async () => {
    const client = await pool.connect();
    await client.query('SELECT 1');
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    proxy.strandOpenConnections();
    const started = Date.now();
    const failure = await client.query('SELECT 1').then(
      () => null,
      (error: Error) => error,
    );
    expect(failure?.message).toBe('Query read timeout');
    expect(isDatabaseUnavailable(failure)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(SILENT_AFTER_MS - 50);
    expect(streamOf(client).destroyed).toBe(true);
    expect(errors.map((e) => e.message)).toEqual(['Query read timeout']);
    client.release(errors[0]);
    expect(pool.totalCount).toBe(0);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('a statement that says nothing for longer than the bound fails too (as pg_sleep does)', async () => {
    await expect(pool.query(`SELECT pg_sleep(${(SILENT_AFTER_MS * 2) / 1000})`)).rejects.toThrow('Query read timeout');
    // One that answers within the bound is served.
    await expect(pool.query(`SELECT pg_sleep(${SILENT_AFTER_MS / 4 / 1000})`)).resolves.toMatchObject({ rowCount: 1 });
  });

  it('leaves a connection alone that owes nothing: idle in the pool, or between a transaction’s statements', async () => {
    const client = await pool.connect();
    try {
      await client.query('SELECT 1');
      await sleep(SILENT_AFTER_MS * 2.5);
      await client.query('BEGIN');
      await client.query('SELECT 1');
      await sleep(SILENT_AFTER_MS * 2.5);
      await expect(client.query('SELECT 2 AS two')).resolves.toMatchObject({ rows: [{ two: 2 }] });
      await client.query('COMMIT');
      expect(streamOf(client).destroyed).toBe(false);
    } finally {
      client.release();
    }
  });
});
