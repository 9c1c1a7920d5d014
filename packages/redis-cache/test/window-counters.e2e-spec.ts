import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { CacheConfigurationError, InvalidTtlError } from '../src/index.js';
import { TestRedisServer } from '../src/testing/index.js';
import { sleep, startNamedFixture, type NamedFixture } from './support/named-fixture.js';

const PREFIX = `windows${process.pid}:`;

describe('countInWindow on a real redis-server', () => {
  let redis: TestRedisServer;
  let a: NamedFixture;
  let b: NamedFixture;

  beforeAll(async () => {
    redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    a = await startNamedFixture(redis, { prefix: PREFIX });
    b = await startNamedFixture(redis, { prefix: PREFIX });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('two instances count into one window, whose key expires with it', async () => {
    const seen = [];
    for (let i = 0; i < 6; i++)
      seen.push(await (i % 2 === 0 ? a : b).cache.countInWindow('login:10.0.0.7', '1m'));
    expect(seen.map((s) => s.count)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(seen.map((s) => s.scope))).toEqual(new Set(['fleet']));
    for (const { resetInMs } of seen) {
      expect(resetInMs).toBeGreaterThan(55_000);
      expect(resetInMs).toBeLessThanOrEqual(60_000);
    }
    const client = await redis.client();
    const ttl = await client.pTTL(`${PREFIX}w:login%3A10.0.0.7`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('a window that ended starts again from one; keys and tenants are counted apart', async () => {
    expect((await a.cache.countInWindow('short', '300ms')).count).toBe(1);
    expect((await b.cache.countInWindow('short', '300ms')).count).toBe(2);
    await sleep(400);
    expect((await b.cache.countInWindow('short', '300ms')).count).toBe(1);

    expect((await a.cache.countInWindow('quota', '1m', { tenant: 'school-1' })).count).toBe(1);
    expect((await b.cache.countInWindow('quota', '1m', { tenant: 'school-1' })).count).toBe(2);
    expect((await a.cache.countInWindow('quota', '1m', { tenant: 'school-2' })).count).toBe(1);
    expect((await a.cache.countInWindow('quota', '1m')).count).toBe(1);
    // A key that spells another kind's layout stays a window counter.
    expect((await a.cache.countInWindow('x:c:jobs:list:', '1m')).count).toBe(1);
    expect(await (await redis.client()).exists(`${PREFIX}c:jobs:list:`)).toBe(0);
  });

  it('a counter left without an expiry (written by something else) gets the window', async () => {
    const client = await redis.client();
    await client.set(`${PREFIX}w:orphan`, '7');
    expect((await a.cache.countInWindow('orphan', '1m')).count).toBe(8);
    expect(await client.pTTL(`${PREFIX}w:orphan`)).toBeGreaterThan(0);
  });

  it('refuses an empty or over-long key and a bad window, before any Redis call', async () => {
    await expect(a.cache.countInWindow('', '1m')).rejects.toThrow(CacheConfigurationError);
    await expect(a.cache.countInWindow('k'.repeat(513), '1m')).rejects.toThrow(/1-512 characters/);
    await expect(a.cache.countInWindow('k', '0s' as never)).rejects.toThrow(InvalidTtlError);
  });

  it('Redis frozen, then down: counted in process within the deadline, never rejected; shared again once back', async () => {
    const key = 'fault:10.0.0.9';
    expect((await a.cache.countInWindow(key, '1m')).count).toBe(1);
    redis.freeze();
    try {
      const started = performance.now();
      const frozen = await a.cache.countInWindow(key, '1m');
      expect(frozen.scope).toBe('process');
      expect(frozen.count).toBe(1); // this process's own window: a limit still holds, per instance
      expect(performance.now() - started).toBeLessThan(1_000); // the deadline is 150 ms
      expect((await a.cache.countInWindow(key, '1m')).count).toBe(2);
    } finally {
      redis.thaw();
    }
    await redis.kill();
    const down = await Promise.all([1, 2, 3].map(() => a.cache.countInWindow(key, '1m')));
    expect(down.map((d) => d.scope)).toEqual(['process', 'process', 'process']);
    expect(down.map((d) => d.count).sort()).toEqual([3, 4, 5]);

    await redis.launch();
    for (let i = 0; i < 300 && a.cache.status().backend !== 'redis'; i++) {
      await sleep(20);
      await a.cache.countInWindow('probe', '1s'); // traffic lets the circuit's probe through
    }
    expect(a.cache.status().backend).toBe('redis');
    // Redis forgot everything (this server keeps nothing on disk): fleet counting starts again there.
    const back = await a.cache.countInWindow(key, '1m');
    expect(back).toMatchObject({ scope: 'fleet', count: 1 });
    expect((await b.cache.countInWindow(key, '1m')).count).toBe(2);
  });

  it('without Redis, counts in process memory', async () => {
    const memory = await startNamedFixture(undefined, { prefix: PREFIX });
    try {
      expect(await memory.cache.countInWindow('k', '1m')).toMatchObject({ count: 1, scope: 'process' });
      expect(await memory.cache.countInWindow('k', '1m')).toMatchObject({ count: 2, scope: 'process' });
    } finally {
      await memory.close();
    }
  });
});
