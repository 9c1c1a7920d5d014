// TLS on Redis Cluster and Sentinel (ARCHITECTURE.md §10: "TLS and the ACL user work on every topology"): every
// node serves TLS only (the cluster bus, replication and the sentinels too), the app connects as its ACL user
// trusting the test CA. Two instances cache, hit and invalidate each other over it; a client trusting another CA
// never connects, and serves every call without an error and without Redis.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RedisCacheModuleOptions } from '../src/index.js';
import { makeTlsFiles, TestRedisCluster, TestRedisSentinel, type TlsFiles } from '../src/testing/index.js';
import { sleep, startNamedFixture, type NamedFixture } from './support/named-fixture.js';
import { sentinelOptions } from './support/sentinel-options.js';

/** MISS on A, HIT on B (computed once), a delete on A recomputed on B: cache and bus both work. */
async function expectCoherentPair(a: NamedFixture, b: NamedFixture): Promise<void> {
  const onA = a.cache.namespace<string>('tls', { ttl: '1m' });
  const onB = b.cache.namespace<string>('tls', { ttl: '1m' });
  let computes = 0;
  expect(await onA.wrap('k', async () => `v${++computes}`)).toBe('v1');
  expect(await onB.wrap('k', async () => `v${++computes}`)).toBe('v1');
  expect(computes).toBe(1);
  await onA.delete('k');
  expect(await onB.wrap('k', async () => `v${++computes}`)).toBe('v2');
  expect(await onA.wrap('k', async () => `v${++computes}`)).toBe('v2');
}

/**
 * With an untrusted CA: every call answers (from the function, or the in-process tier where the topology keeps one
 * while Redis is away), health says Redis is down, and nothing reached Redis.
 */
async function expectServedWithoutRedis(
  fixture: NamedFixture,
  keysInRedis: (pattern: string) => Promise<number>,
  prefix: string,
): Promise<void> {
  const handle = fixture.cache.namespace<string>('tls-untrusted', { ttl: '1m' });
  for (let i = 0; i < 3; i++) expect(await handle.wrap('k', async () => 'computed')).toBe('computed');
  expect((await fixture.cache.health(300)).redis).toBe('down');
  expect(await keysInRedis(`${prefix}*tls-untrusted*`)).toBe(0);
  expect(await keysInRedis(`${prefix}*tls:*`)).toBeGreaterThan(0); // the trusted instances' keys: the pattern finds keys
}

async function countKeys(client: Awaited<ReturnType<TestRedisCluster['admin']>>, pattern: string) {
  let count = 0;
  for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: 1_000 })) count += keys.length;
  return count;
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await sleep(20);
  }
  throw new Error(`${what} did not happen`);
}

describe('TLS on every topology', () => {
  let tls: TlsFiles;

  beforeAll(() => {
    tls = makeTlsFiles();
  });

  afterAll(() => tls?.remove());

  describe('Redis Cluster over TLS', () => {
    const prefix = `tlscluster${process.pid}:`;
    let cluster: TestRedisCluster;
    let options: RedisCacheModuleOptions;
    const fixtures: NamedFixture[] = [];

    beforeAll(async () => {
      cluster = await TestRedisCluster.start({ appUser: { prefix }, tls });
      options = { prefix, cluster: { nodes: cluster.seedUrls.slice(0, 2) }, tlsCaFile: tls.caFile };
    }, 60_000);

    afterAll(async () => {
      for (const fixture of fixtures) await fixture.close();
      await cluster?.stop();
    });

    it('caches, hits and invalidates across two instances on rediss:// seeds, as the ACL user', async () => {
      expect(cluster.seedUrls[0]).toMatch(/^rediss:\/\/app:/);
      const [a, b] = [
        await startNamedFixture(undefined, options),
        await startNamedFixture(undefined, options),
      ];
      fixtures.push(a, b);
      for (const fixture of [a, b])
        await until(async () => {
          const health = await fixture.cache.health(300);
          return health.redis === 'up' && health.mastersUp === 3 && health.mastersKnown === 3;
        }, 'reaching the 3 masters over TLS');
      await sleep(700); // both subscribers in place on the counters' master
      expect(await a.cache.health(300)).toMatchObject({ topology: 'cluster', redis: 'up', mastersUp: 3 });
      await expectCoherentPair(a, b);
    });

    it('with a CA that did not sign the nodes, serves every call without Redis and says it is down', async () => {
      const untrusted = await startNamedFixture(undefined, { ...options, tlsCaFile: tls.otherCaFile });
      fixtures.push(untrusted);
      await sleep(500);
      const keysInRedis = async (pattern: string) => {
        let count = 0;
        for (const { port } of await cluster.masters())
          count += await countKeys(await cluster.admin(port), pattern);
        return count;
      };
      await expectServedWithoutRedis(untrusted, keysInRedis, prefix);
    });
  });

  describe('Redis Sentinel over TLS', () => {
    const prefix = `tlssentinel${process.pid}:`;
    let group: TestRedisSentinel;
    let options: RedisCacheModuleOptions;
    const fixtures: NamedFixture[] = [];

    beforeAll(async () => {
      group = await TestRedisSentinel.start({ prefix, tls });
      options = sentinelOptions(group, prefix);
    }, 60_000);

    afterAll(async () => {
      for (const fixture of fixtures) await fixture.close();
      await group?.stop();
    });

    it('caches, hits and invalidates across two instances through TLS sentinels, as the ACL user', async () => {
      const [a, b] = [
        await startNamedFixture(undefined, options),
        await startNamedFixture(undefined, options),
      ];
      fixtures.push(a, b);
      for (const fixture of [a, b])
        await until(async () => fixture.cache.status().redis === 'up', 'reaching the master over TLS');
      await sleep(500); // both subscribers in place
      expect(await a.cache.health(300)).toMatchObject({
        topology: 'sentinel',
        redis: 'up',
        master: `127.0.0.1:${await group.masterPort()}`,
      });
      await expectCoherentPair(a, b);
    });

    it('with a CA that did not sign the nodes, serves every call without Redis and says it is down', async () => {
      const untrusted = await startNamedFixture(undefined, { ...options, tlsCaFile: tls.otherCaFile });
      fixtures.push(untrusted);
      await sleep(500);
      const keysInRedis = async (pattern: string) => {
        const admin = await group.admin(await group.masterPort());
        try {
          return await countKeys(admin, pattern);
        } finally {
          admin.destroy();
        }
      };
      await expectServedWithoutRedis(untrusted, keysInRedis, prefix);
    });
  });
});
