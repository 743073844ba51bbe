import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Runs one statement on TypeORM's own pg pool (the same connections, pool wait, statement and
 * query timeouts, and FailFastClient dropping a connection that stopped answering) and returns
 * its rows. For the reads and single-statement writes every request makes: `dataSource.query()`
 * creates a QueryRunner and broadcasts BeforeQuery/AfterQuery for each call, garbage the hot path
 * does not need (we register no subscribers and log no queries). Errors are pg's own, which the
 * problem-details filter maps as it maps TypeORM's wrapped ones. Transactions still go through
 * `dataSource.transaction`.
 */
export async function poolQuery<Row extends QueryResultRow>(
  dataSource: DataSource,
  sql: string,
  params: unknown[],
  /** A prepared statement's name: parsed and planned once per connection (see CallerStateRepository). */
  name?: string,
): Promise<Row[]> {
  const pool = (dataSource.driver as PostgresDriver).master as Pool;
  const client: PoolClient = await pool.connect();
  // As TypeORM's query runner does: a connection that fails while checked out is released with
  // its error, so the pool discards it (and the error is not an unhandled 'error' event).
  let released = false;
  const onError = (error: Error): void => {
    released = true;
    client.release(error);
  };
  client.once('error', onError);
  try {
    return (await client.query<Row>({ text: sql, values: params, name })).rows;
  } finally {
    client.removeListener('error', onError);
    if (!released) {
      client.release();
    }
  }
}
