// The test helpers for replicated topologies (@jobboard/redis-cache/testing): a 3-master + 3-replica Redis
// Cluster and a 1 + 1 + 3 Sentinel group from redis-server, with a master killed or failed over.
import { afterAll, describe, expect, it } from '@jest/globals';
import { TestRedisCluster, TestRedisSentinel } from '../src/testing/index.js';

describe('TestRedisCluster', () => {
  let cluster: TestRedisCluster | undefined;
  afterAll(async () => cluster?.stop());

  it('starts 3 masters with their replicas, serves every slot, and promotes a replica when a master is killed', async () => {
    cluster = await TestRedisCluster.start({ appUser: { prefix: 'harness:' } });
    const masters = await cluster.masters();
    expect(masters).toHaveLength(3);
    expect(cluster.seedUrls).toHaveLength(6);
    const owner = await cluster.masterOf('harness:some-key');
    const started = Date.now();
    await cluster.kill(owner);
    await cluster.untilHealthy();
    const promoted = await cluster.masterOf('harness:some-key');
    console.log(
      `cluster harness: master ${owner} killed, ${promoted} serves its slots after ${Date.now() - started} ms`,
    );
    expect(promoted).not.toBe(owner);
    expect(await cluster.masters()).toHaveLength(3);
  }, 60_000);
});

describe('TestRedisSentinel', () => {
  let group: TestRedisSentinel | undefined;
  afterAll(async () => group?.stop());

  it('starts a master, a replica and three sentinels, and fails over on request', async () => {
    group = await TestRedisSentinel.start({ prefix: 'harness:' });
    expect(group.sentinelAddresses).toHaveLength(3);
    const before = await group.masterPort();
    const started = Date.now();
    const after = await group.failover();
    console.log(`sentinel harness: failover ${before} -> ${after} in ${Date.now() - started} ms`);
    expect(after).not.toBe(before);
  }, 60_000);
});
