// Programmatic invalidations inside a database transaction take effect after it commits, nothing on rollback
// (ARCHITECTURE.md §11). The "database" here is a committed row and a transaction staged with latches, so that a
// reader runs exactly between the invalidation and the commit; the app's suite does the same on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runAfterCommit, type NamedCache } from '../src/index.js';
import { TestRedisServer } from '../src/testing/index.js';
import { latch, startNamedFixture, type NamedFixture } from './support/named-fixture.js';

const PREFIX = `commit${process.pid}:`;

describe('invalidations inside a transaction, on a real redis-server', () => {
  let redis: TestRedisServer;
  let writer: NamedFixture;
  let reader: NamedFixture;

  beforeAll(async () => {
    redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    writer = await startNamedFixture(redis, { prefix: PREFIX });
    reader = await startNamedFixture(redis, { prefix: PREFIX });
  });

  afterAll(async () => {
    await writer?.close();
    await reader?.close();
    await redis?.stop();
  });

  it('a rollback drops them: entries stay readable on every instance', async () => {
    const onWriter = writer.cache.namespace<string>('rollback', { ttl: '1m' });
    const onReader = reader.cache.namespace<string>('rollback', { ttl: '1m' });
    await onWriter.set('k', 'kept');
    const transaction = runAfterCommit(async (deferred) => {
      await onWriter.delete('k');
      await onWriter.invalidate('');
      await writer.cache.clear();
      expect(deferred.size).toBe(3);
      throw new Error('rolled back');
    });
    await expect(transaction).rejects.toThrow('rolled back');
    expect(await onReader.get('k')).toBe('kept');
    expect(await onWriter.get('k')).toBe('kept');
  });

  /**
   * A reader misses between the invalidation and the commit, reads the committed (old) row and fills it; then the
   * transaction commits. Returns what a read after the commit answers.
   */
  async function raceTheCommit(deferToCommit: boolean, key: string) {
    const onWriter = writer.cache.namespace<string>('race', { ttl: '1m' });
    const onReader = reader.cache.namespace<string>('race', { ttl: '1m' });
    let committed = 'old';
    await onWriter.set(key, committed);
    const invalidated = latch();
    const readerDone = latch();
    const body = async () => {
      // UPDATE ... (not visible to others until the commit), then the invalidation, then the reader's turn.
      await onWriter.delete(key);
      invalidated.open();
      await readerDone.promise;
      committed = 'new'; // COMMIT
    };
    const transaction = deferToCommit ? runAfterCommit(body) : body();
    await invalidated.promise;
    expect(await onReader.wrap(key, async () => committed)).toBe('old'); // what the database still says
    await new Promise((resolve) => setTimeout(resolve, 20)); // the reader's fill lands in Redis
    readerDone.open();
    await transaction;
    return onReader.wrap(key, async () => committed);
  }

  it('a commit applies them after it: a reader racing the transaction cannot keep pre-commit data', async () => {
    expect(await raceTheCommit(true, 'deferred')).toBe('new');
  });

  it('negative control: the same invalidation before the commit leaves the stale fill readable', async () => {
    expect(await raceTheCommit(false, 'immediate')).toBe('old');
  });

  it('nested scopes join the outermost, and work outside any transaction is applied at once', async () => {
    const handle: NamedCache<string> = writer.cache.namespace<string>('nested', { ttl: '1m' });
    await handle.set('k', 'v');
    await runAfterCommit(async () => {
      await runAfterCommit(async (inner) => {
        await handle.delete('k');
        expect(inner.size).toBe(1);
      });
      expect(await handle.get('k')).toBe('v'); // the inner "commit" is not the outer one
    });
    expect(await handle.get('k')).toBeUndefined();
    await handle.set('k', 'v2');
    await handle.delete('k');
    expect(await handle.get('k')).toBeUndefined();
  });
});
