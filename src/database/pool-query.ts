import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { Statement } from './statement';

/**
 * Runs one statement on TypeORM's own pg pool (the same connections, pool wait, statement
 * timeout, and FailFastClient dropping a connection that stopped answering) and returns its rows
 * and affected-row count. For the reads and single-statement writes every request makes: a
 * TypeORM QueryRunner would be created and BeforeQuery/AfterQuery broadcast for each call,
 * garbage the hot path does not need (we register no subscribers and log no queries). Errors are
 * pg's own (DatabaseError), which the problem-details filter maps as it maps TypeORM's wrapped
 * ones (QueryFailedError). A statement with a name is prepared: parsed and planned once per
 * connection.
 *
 * Written with pg's callbacks and one promise, as `pool.query` is, not as an async function
 * awaiting `pool.connect()` and then `client.query()`: under the list's load that version left
 * about 1 MB of each scavenge's survivors to the old generation (the rows, kept until a
 * mark-compact) where this one leaves about 0.1 MB, with FailFastClient's one timer per connection
 * (docs/performance-results.md). Unlike `pool.query`, a query that fails (a unique violation, a
 * statement timeout) returns its connection to the pool; only a connection error discards it.
 */
export function poolQuery<Row>(
  dataSource: DataSource,
  statement: Statement<Row, readonly unknown[]>,
  params: readonly unknown[],
): Promise<{ rows: Row[]; rowCount: number }> {
  const pool = (dataSource.driver as PostgresDriver).master as Pool;
  return new Promise((resolve, reject) => {
    pool.connect((connectError, client, release) => {
      if (client === undefined) {
        reject(connectError ?? new Error('Client has encountered a connection error'));
        return;
      }
      // As TypeORM's query runner does: a connection that fails while checked out is released with
      // its error, so the pool discards it (and the error is not an unhandled 'error' event).
      let released = false;
      const releaseOnce = (error?: Error): void => {
        if (!released) {
          released = true;
          release(error);
        }
      };
      client.once('error', releaseOnce);
      const finish = (error: Error | null, rows: Row[], rowCount: number | null): void => {
        client.removeListener('error', releaseOnce);
        releaseOnce();
        if (error === null) {
          resolve({ rows, rowCount: rowCount ?? 0 });
        } else {
          reject(error);
        }
      };
      try {
        client.query<Row & object>({ text: statement.text, values: params as unknown[], name: statement.name }, (error, result) =>
          // pg calls back with an Error, or null and the result.
          error ? finish(error, [], null) : finish(null, result.rows, result.rowCount),
        );
      } catch (error) {
        finish(error as Error, [], null);
      }
    });
  });
}
