// After-commit invalidation on PostgreSQL (issue 13): the app's TransactionRunner defers the cache's invalidations
// inside `db.transaction` to after the commit and drops them on a rollback. A reader on its own connection runs
// exactly between the invalidation and the commit (latches); the negative control invalidates before the commit
// and shows the stale fill that deferral prevents.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { RedisCacheModule, RedisCacheService, type NamedCache } from '@jobboard/redis-cache';
import { TestRedisServer } from '@jobboard/redis-cache/testing';
import { eq } from 'drizzle-orm';
import { openDatabase } from '../src/database/database.connection.js';
import type { DatabaseConnection } from '../src/database/database.types.js';
import { jobs } from '../src/database/schema.js';
import { TransactionRunner } from '../src/database/transaction-runner.js';
import { seededDatabase } from './support/app-client.js';

function latch() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('invalidations inside a PostgreSQL transaction', () => {
  let db: Awaited<ReturnType<typeof seededDatabase>>;
  let redis: TestRedisServer;
  let connection: DatabaseConnection;
  let moduleRef: TestingModule;
  let titles: NamedCache<string>;
  let runner: TransactionRunner;

  beforeAll(async () => {
    db = await seededDatabase('commit');
    redis = await TestRedisServer.start();
    connection = await openDatabase({
      url: db.scratch.url,
      pgliteDir: '',
      statementTimeoutMs: 5_000,
      poolMax: 4,
    });
    @Module({ imports: [RedisCacheModule.forRoot({ url: redis.url, prefix: `commit${process.pid}:` })] })
    class CacheOnly {}
    moduleRef = await Test.createTestingModule({ imports: [CacheOnly] }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    const cache = moduleRef.get(RedisCacheService);
    for (let i = 0; i < 200 && cache.status().redis !== 'up'; i++)
      await new Promise((r) => setTimeout(r, 10));
    titles = cache.namespace<string>('job-titles', { ttl: '10m' });
    runner = new TransactionRunner(connection);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await connection?.close();
    await redis?.stop();
    await db?.close();
  });

  /** The title as another session sees it (committed rows only), through the cache. */
  const readTitle = (id: number) =>
    titles.wrap(String(id), async () => {
      const { rows } = await db.own.query('SELECT title FROM jobs WHERE id = $1', [id]);
      return rows[0].title as string;
    });

  it('a rollback drops the invalidation: the cached title stays readable', async () => {
    const before = await readTitle(3);
    await expect(
      runner.run(async (tx) => {
        await tx.update(jobs).set({ title: 'rolled back' }).where(eq(jobs.id, 3));
        await titles.delete('3');
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await titles.get('3')).toBe(before);
  });

  /** A reader between the UPDATE's invalidation and its COMMIT; what a read after the commit answers. */
  async function raceTheCommit(id: number, deferred: boolean) {
    await readTitle(id);
    const invalidated = latch();
    const readerDone = latch();
    const title = `committed ${deferred ? 'deferred' : 'early'} ${Math.random()}`;
    const body = async (tx: Pick<DatabaseConnection['db'], 'update'>) => {
      await tx.update(jobs).set({ title }).where(eq(jobs.id, id));
      await titles.delete(String(id));
      invalidated.open();
      await readerDone.promise; // COMMIT only once the reader has read and filled
    };
    const running = deferred ? runner.run(body) : connection.db.transaction(body);
    await invalidated.promise;
    const during = await readTitle(id); // the committed (old) title: a miss fills it, or a hit answers it
    await new Promise((resolve) => setTimeout(resolve, 30)); // its fill lands in Redis
    readerDone.open();
    await running;
    return { during, after: await readTitle(id), title };
  }

  it('a commit applies it after the commit: a reader racing the transaction cannot keep the old title', async () => {
    const { during, after, title } = await raceTheCommit(5, true);
    expect(during).not.toBe(title);
    expect(after).toBe(title);
  });

  it('negative control: invalidating before the commit leaves the old title cached after it', async () => {
    const { during, after, title } = await raceTheCommit(6, false);
    expect(during).not.toBe(title);
    expect(after).toBe(during); // stale: filled from pre-commit rows under the new generation
  });
});
