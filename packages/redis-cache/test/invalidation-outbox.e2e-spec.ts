// The invalidation outbox (ARCHITECTURE.md §11): a write whose instance cannot reach Redis records its
// invalidation durably before it resolves, and another instance's relay applies it, so that the other instance
// stops serving the old value within a notification, not after the entry's TTL. The outbox is a shared in-memory
// one here (the app's suite runs the PostgreSQL one); Redis is real and the writer reaches it through a fault proxy.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { FaultProxy } from '../src/testing/fault-proxy.js';
import { TestRedisServer } from '../src/testing/index.js';
import { MemoryOutbox } from './support/memory-outbox.js';
import { sleep, startNamedFixture, type NamedFixture } from './support/named-fixture.js';

const PREFIX = `outbox${process.pid}:`;

describe('the invalidation outbox, with the writer cut off from a real redis-server', () => {
  let redis: TestRedisServer;
  let proxy: FaultProxy;
  let outbox: MemoryOutbox;
  let writer: NamedFixture;
  let reader: NamedFixture;

  beforeAll(async () => {
    redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    proxy = await FaultProxy.start(redis.port);
    outbox = new MemoryOutbox();
    const throughProxy = redis.url.replace(`:${redis.port}`, `:${proxy.port}`);
    writer = await startNamedFixture(undefined, { prefix: PREFIX, url: throughProxy, outbox });
    for (let i = 0; i < 200 && writer.cache.status().redis !== 'up'; i++) await sleep(10);
    reader = await startNamedFixture(redis, { prefix: PREFIX, outbox });
  });

  afterAll(async () => {
    await writer?.close();
    await reader?.close();
    await proxy?.close();
    await redis?.stop();
  });

  it('the reader stops answering the old value within a notification of the write; the outbox drains', async () => {
    const onWriter = writer.cache.namespace<string>('jobs', { ttl: '10m' });
    const onReader = reader.cache.namespace<string>('jobs', { ttl: '10m' });
    await onReader.set('list', 'old');
    expect(await onReader.get('list')).toBe('old');

    proxy.blackhole();
    const started = performance.now();
    await onWriter.invalidate(''); // Redis does not answer: the bump, then its fallback, fail; then the outbox
    const resolvedMs = performance.now() - started;
    let staleReads = 0;
    let firstFreshMs: number | undefined;
    for (let i = 0; i < 100 && firstFreshMs === undefined; i++) {
      if ((await onReader.get('list')) === 'old') staleReads++;
      else firstFreshMs = performance.now() - started - resolvedMs;
      await sleep(5);
    }
    console.log(
      `outbox: the cut-off writer's invalidate resolved after ${Math.round(resolvedMs)} ms; the reader stopped ` +
        `serving the old value ${Math.round(firstFreshMs ?? -1)} ms later (${staleReads} stale reads meanwhile)`,
    );
    expect(firstFreshMs).toBeDefined();
    expect(firstFreshMs!).toBeLessThan(200);
    expect(writer.cache.stats().outbox).toMatchObject({ recorded: 1, recordFailures: 0 });
    expect(reader.cache.stats().outbox?.applied).toBe(1);
    expect(outbox.size).toBe(0);
    proxy.pass();
  });

  it('an invalidation that neither Redis nor the outbox took is handed to the outbox at shutdown', async () => {
    const leaving = await startNamedFixture(undefined, {
      prefix: PREFIX,
      url: redis.url.replace(`:${redis.port}`, `:${proxy.port}`),
      outbox,
    });
    for (let i = 0; i < 200 && leaving.cache.status().redis !== 'up'; i++) await sleep(10);
    const onReader = reader.cache.namespace<string>('handover', { ttl: '10m' });
    await onReader.set('k', 'old');
    proxy.blackhole();
    outbox.failing = true;
    await leaving.cache.namespace<string>('handover', { ttl: '10m' }).invalidate('');
    expect(leaving.cache.stats().outbox?.recordFailures).toBe(1);
    expect(await onReader.get('k')).toBe('old'); // nobody knows of it but the leaving instance
    outbox.failing = false; // the database is back; Redis is still out of reach for the leaving instance
    await leaving.close(); // SIGTERM: Nest's shutdown hooks
    proxy.pass();
    const started = performance.now();
    while ((await onReader.get('k')) === 'old' && performance.now() - started < 2_000) await sleep(10);
    expect(await onReader.get('k')).toBeUndefined();
    expect(outbox.size).toBe(0);
  });

  it('without a notification the poll applies it within a second', async () => {
    const onWriter = writer.cache.namespace<string>('polled', { ttl: '10m' });
    const onReader = reader.cache.namespace<string>('polled', { ttl: '10m' });
    await onReader.set('k', 'old');
    // Record behind the relays' backs, as an instance whose notification was lost would.
    proxy.blackhole();
    const recorded = outbox.record.bind(outbox);
    outbox.record = (keys) => outbox.recordSilently(keys);
    try {
      await onWriter.invalidate('');
    } finally {
      outbox.record = recorded;
      proxy.pass();
    }
    const started = performance.now();
    while ((await onReader.get('k')) === 'old' && performance.now() - started < 2_000) await sleep(20);
    expect(await onReader.get('k')).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1_300);
  });
});
