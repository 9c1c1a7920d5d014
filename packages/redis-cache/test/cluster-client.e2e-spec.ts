// node-redis 6.3.1's cluster client, against a real cluster: the defects the package works around, each with the
// workaround's test and a control that shows the defect (when it stops showing, the workaround can go).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClusterClient, destroyCluster, type RedisCluster } from '../src/storage/cluster-client.js';
import { TestRedisCluster } from '../src/testing/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nodeClients = (cluster: RedisCluster) =>
  cluster.masters.filter((node) => node.client !== undefined).length;

/** The slot-map rediscovery node-redis runs after a MOVED or a reconnecting node (not part of its typed API). */
const rediscover = (cluster: RedisCluster): Promise<unknown> =>
  (cluster as unknown as { _slots: { rediscover(): Promise<void> } })._slots
    .rediscover()
    .catch(() => undefined);

describe('node-redis cluster client', () => {
  let redis: TestRedisCluster;
  const clients: RedisCluster[] = [];

  beforeAll(async () => {
    redis = await TestRedisCluster.start({ appUser: { prefix: 'client:' } });
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await redis?.stop();
  });

  async function connected(): Promise<RedisCluster> {
    const client = createClusterClient({ nodes: redis.seedUrls.slice(0, 2) });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    await client.set('client:k', '1');
    expect(nodeClients(client)).toBe(3);
    return client;
  }

  it('control: destroy() during a rediscovery leaves node connections that come back and reconnect forever', async () => {
    const client = await connected();
    const inFlight = rediscover(client);
    client.destroy();
    await inFlight;
    await sleep(300);
    expect(nodeClients(client)).toBe(3); // the upstream defect; when this fails, destroyCluster's watch can go
  });

  it('destroyCluster() during a rediscovery leaves no node connection', async () => {
    const client = await connected();
    const inFlight = rediscover(client);
    destroyCluster(client);
    await inFlight;
    await sleep(300);
    expect(nodeClients(client)).toBe(0);
  });
});
