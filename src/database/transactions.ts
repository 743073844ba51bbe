import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { DataSource, QueryResult, QueryRunner } from 'typeorm';
import { poolQuery } from './pool-query';
import type { Statement } from './statement';

/** The connection the current piece of work runs its statements on, when not the pool. */
interface Scope {
  runner: QueryRunner;
  /** A transaction (`run`), or a session outside any transaction (`onOwnConnection`). */
  inTransaction: boolean;
}

/**
 * The one way code outside src/database reaches the database (eslint.config.mjs refuses
 * `DataSource`, `EntityManager`, `QueryRunner` and raw `.query` calls elsewhere). A repository
 * declares each statement once (`statement<Row, Params>(sql)`, src/database/statement.ts) and runs
 * it with `rows()` or `execute()`; a service whose writes must commit together wraps them in
 * `run()`. Neither passes a connection around: the current transaction (or session) is carried by
 * AsyncLocalStorage, so a caller (Idempotency.once) and the repositories below it write
 * in one transaction. Outside both, a statement goes straight to the pool, since a single
 * statement is atomic by itself (no BEGIN and COMMIT round trips, no QueryRunner).
 */
@Injectable()
export class Transactions {
  private readonly current = new AsyncLocalStorage<Scope>();

  constructor(private readonly dataSource: DataSource) {}

  /** The statement's rows (a SELECT, or a write with RETURNING). */
  async rows<Row, Params extends readonly unknown[]>(statement: Statement<Row, Params>, params: NoInfer<Params>): Promise<Row[]> {
    return (await this.send(statement, params)).rows;
  }

  /**
   * The statement's rows and its affected-row count (an UPDATE or DELETE; the row count for
   * others). Errors are pg's own on the pool, TypeORM's QueryFailedError (wrapping pg's) on a
   * transaction's or session's connection; the problem-details filter maps both.
   */
  execute<Row, Params extends readonly unknown[]>(
    statement: Statement<Row, Params>,
    params: NoInfer<Params>,
  ): Promise<{ rows: Row[]; rowCount: number }> {
    return this.send(statement, params);
  }

  /**
   * Runs `work` in a transaction: the surrounding one when there is one (it commits or rolls back
   * with it), else a new one that commits when `work` resolves and rolls back when it throws.
   * Statements `work` runs (through any repository) are the transaction's.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.current.getStore()?.inTransaction === true) {
      return work();
    }
    return this.dataSource.transaction((manager) =>
      this.current.run({ runner: manager.queryRunner as QueryRunner, inTransaction: true }, work),
    );
  }

  /**
   * Runs `work` on a connection of its own, outside any transaction, for state that lives as long
   * as a session (an advisory lock, a temporary table): the statements `work` runs are that
   * session's, except inside a `run()`, which opens its transaction on a pooled connection as
   * anywhere else. The connection goes back to the pool after.
   */
  async onOwnConnection<T>(work: () => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      return await this.current.run({ runner, inTransaction: false }, work);
    } finally {
      await runner.release();
    }
  }

  /** On the current transaction's or session's connection, else straight on the pool. */
  private async send<Row>(
    statement: Statement<Row, readonly unknown[]>,
    params: readonly unknown[],
  ): Promise<{ rows: Row[]; rowCount: number }> {
    const scope = this.current.getStore();
    if (scope === undefined) {
      return poolQuery(this.dataSource, statement, params);
    }
    const result: QueryResult = await scope.runner.query(statement.text, params as unknown[], true);
    return { rows: (result.records ?? []) as Row[], rowCount: result.affected ?? 0 };
  }
}
