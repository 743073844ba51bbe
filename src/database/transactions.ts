import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type { QueryResultRow } from 'pg';
import { DataSource, EntityManager, QueryResult } from 'typeorm';
import { poolQuery } from './pool-query';

/**
 * The transaction a piece of work runs in, carried by AsyncLocalStorage so that a caller (the
 * idempotency interceptor) and the repositories below it write in one transaction without
 * passing a manager through every signature.
 *
 * The one way code outside src/database reaches the database (eslint.config.mjs refuses
 * `dataSource.query`, `dataSource.transaction`, `createQueryRunner` and `.manager.query` elsewhere):
 * a repository runs a statement with `query()` (rows; straight on the pool outside a transaction)
 * or `execute()` (rows and affected-row count): inside `run()` both are the transaction's,
 * elsewhere the pool's. A service that needs several writes to commit together
 * uses `run()`, so it joins the surrounding transaction when there is one.
 */
@Injectable()
export class Transactions {
  private readonly current = new AsyncLocalStorage<EntityManager>();

  constructor(private readonly dataSource: DataSource) {}

  /** The surrounding transaction's manager, or the pool's outside any transaction. */
  get manager(): EntityManager {
    return this.current.getStore() ?? this.dataSource.manager;
  }

  /**
   * One statement that returns rows (a SELECT, or a write with RETURNING): in the surrounding
   * transaction when there is one, else straight on the pool, since a single statement is atomic
   * by itself (no BEGIN and COMMIT round trips, no QueryRunner).
   */
  query<Row extends QueryResultRow>(
    sql: string,
    params: unknown[],
    /** A prepared statement's name on the pool (see CallerStateRepository); unused in a transaction. */
    name?: string,
  ): Promise<Row[]> {
    const surrounding = this.current.getStore();
    return surrounding !== undefined ? surrounding.query<Row[]>(sql, params) : poolQuery<Row>(this.dataSource, sql, params, name);
  }

  /**
   * One statement, with its rows and its affected-row count (an UPDATE or DELETE; the row count
   * for others): on the surrounding transaction's connection when there is one, else on a pooled
   * one taken for this statement. Errors are TypeORM's (QueryFailedError), as from `manager.query`.
   */
  async execute<Row = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<{ rows: Row[]; rowCount: number }> {
    const surrounding = this.current.getStore()?.queryRunner;
    const runner = surrounding ?? this.dataSource.createQueryRunner();
    try {
      const result: QueryResult = await runner.query(sql, params, true);
      return { rows: (result.records ?? []) as Row[], rowCount: result.affected ?? 0 };
    } finally {
      if (surrounding === undefined) {
        await runner.release();
      }
    }
  }

  /**
   * Runs `work` in a transaction: the surrounding one when there is one (it commits or rolls back
   * with it), else a new one that commits when `work` resolves and rolls back when it throws.
   */
  async run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const surrounding = this.current.getStore();
    if (surrounding !== undefined) {
      return work(surrounding);
    }
    return this.dataSource.transaction((manager) => this.current.run(manager, () => work(manager)));
  }

  /**
   * Runs `work` on a connection of its own, outside any transaction, for state that lives as long
   * as a session (an advisory lock, a temporary table); the connection goes back to the pool after.
   */
  async onOwnConnection<T>(work: (session: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      return await work(runner.manager);
    } finally {
      await runner.release();
    }
  }
}
