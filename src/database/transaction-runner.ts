import { runAfterCommit } from '@jobboard/redis-cache';
import { Inject, Injectable } from '@nestjs/common';
import { DATABASE_CONNECTION } from './database.constants.js';
import type { DatabaseConnection, Db } from './database.types.js';

/**
 * Runs work in one database transaction, with the cache's invalidations inside it (`invalidate`, `delete`, `clear`,
 * `@InvalidatesCache` on provider methods) applied after the commit and dropped on a rollback: a bump before the
 * commit would let a concurrent reader fill pre-commit rows under the new generation.
 *
 * ```ts
 * await this.transactions.run(async (tx) => {
 *   await tx.update(jobs).set({ status: 'closed' }).where(eq(jobs.companyId, id));
 *   await this.cache.invalidate('jobs:list:'); // applied once the UPDATE is visible to every reader
 * });
 * ```
 */
@Injectable()
export class TransactionRunner {
  constructor(@Inject(DATABASE_CONNECTION) private readonly database: DatabaseConnection) {}

  run<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    return runAfterCommit(() => this.database.db.transaction((tx) => work(tx as unknown as Db)));
  }
}
