import type { Pool, PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { Statement } from './statement';

/**
 * Runs one statement on TypeORM's own pg pool (the same connections, pool wait, statement and
 * query timeouts, and FailFastClient dropping a connection that stopped answering) and returns
 * its rows and affected-row count. For the reads and single-statement writes every request makes:
 * a TypeORM QueryRunner would be created and BeforeQuery/AfterQuery broadcast for each call,
 * garbage the hot path does not need (we register no subscribers and log no queries). Errors are
 * pg's own (DatabaseError), which the problem-details filter maps as it maps TypeORM's wrapped
 * ones (QueryFailedError). A statement with a name is prepared: parsed and planned once per
 * connection.
 */
export async function poolQuery<Row>(
  dataSource: DataSource,
  statement: Statement<Row, readonly unknown[]>,
  params: readonly unknown[],
): Promise<{ rows: Row[]; rowCount: number }> {
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
    const result = await client.query({ text: statement.text, values: params as unknown[], name: statement.name });
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
  } finally {
    client.removeListener('error', onError);
    if (!released) {
      client.release();
    }
  }
}
