// The app on Redis Cluster (ARCHITECTURE.md §10): two processes on one PostgreSQL and a cluster of the test's own
// (3 masters, 3 replicas, the app's ACL user on every node), configured with REDIS_CLUSTER_NODES as deployed.
// Coherence as on one server, entries on several masters, then kill -9 of the counters' master under a fixed-rate
// load.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestRedisCluster } from '@jobboard/redis-cache/testing';
import { performance } from 'node:perf_hooks';
import { call, register, seededDatabase, sleep, type Answer } from './support/app-client.js';
import { startAppCluster, type AppCluster, type SpawnedApp } from './support/spawn-app.js';

const ADMIN_TOKEN = 'admin-token-of-the-cluster-suite';

describe('two app instances on Redis Cluster', () => {
  let db: Awaited<ReturnType<typeof seededDatabase>>;
  let redis: TestRedisCluster;
  let cluster: AppCluster;
  let prefix: string;
  let a: SpawnedApp;
  let b: SpawnedApp;
  let token: string;

  beforeAll(async () => {
    prefix = `clusterapp${process.pid}:`;
    db = await seededDatabase('cluster');
    redis = await TestRedisCluster.start({ appUser: { prefix } });
    cluster = await startAppCluster(2, {
      DATABASE_URL: db.scratch.url,
      REDIS_CLUSTER_NODES: redis.seedUrls.slice(0, 3).join(','),
      CACHE_PREFIX: prefix,
      MIGRATE_ON_START: 'false',
      NODE_ENV: 'test',
      AUTH_RATE_LIMIT_MAX: '100000',
      ADMIN_TOKEN,
    });
    [a, b] = cluster.instances;
    token = await register(a, 'cluster');
    await sleep(1_000); // both subscribers in place
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await redis?.stop();
    await db?.close();
  });

  const health = async (app: SpawnedApp) => JSON.parse((await call(app, 'GET', '/health/cache')).text);

  it('reports the topology and its masters; MISS then HIT across the instances; entries on several masters', async () => {
    expect((await health(a)).details.cache).toMatchObject({
      topology: 'cluster',
      redis: 'up',
      mastersUp: 3,
      mastersKnown: 3,
    });
    expect((await call(a, 'GET', '/api/jobs/7')).cache).toBe('MISS');
    await sleep(20);
    expect((await call(b, 'GET', '/api/jobs/7')).cache).toBe('HIT');
    for (let id = 1; id <= 20; id++) await call(a, 'GET', `/api/jobs/${id}`);
    await call(a, 'GET', '/api/jobs?limit=5');
    await call(a, 'GET', '/api/users/1');
    await sleep(50);
    const perMaster: number[] = [];
    for (const { port } of await redis.masters()) {
      let count = 0;
      for await (const keys of (await redis.admin(port)).scanIterator({
        MATCH: `${prefix}c:*`,
        COUNT: 1_000,
      }))
        count += keys.length;
      perMaster.push(count);
    }
    console.log(`cluster: entries per master ${perMaster.join('/')}`);
    expect(perMaster.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('a write on A, then a read on B right after A answered: 0 stale in 200 rounds (item, list, similar)', async () => {
    const created = await call(a, 'POST', '/api/jobs', token, {
      title: 'round 0',
      company: 'Cluster GmbH',
      location: 'Leipzig',
      category: 'Engineering',
      type: 'contract',
      description: 'Read after write across instances, on Redis Cluster.',
    });
    expect(created.status).toBe(201);
    const id = JSON.parse(created.text).id as number;
    let stale = 0;
    for (let round = 1; round <= 200; round++) {
      await call(b, 'GET', `/api/jobs/${id}`); // B has it cached
      if (round % 20 === 0) await call(b, 'GET', `/api/jobs/${id}/similar`);
      const title = `round ${round}`;
      expect((await call(a, 'PATCH', `/api/jobs/${id}`, token, { title })).status).toBe(200);
      if (JSON.parse((await call(b, 'GET', `/api/jobs/${id}`)).text).title !== title) stale++;
    }
    console.log(`cluster: 200 rounds of write on A, read on B: ${stale} stale`);
    expect(stale).toBe(0);
  }, 60_000);

  it('kill -9 of the counters’ master under 200 req/s (half on cold keys): no 5xx, hits again within 20 s', async () => {
    const answers: (Answer & { at: number; path: string })[] = [];
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    let failoverAt = 0;
    let promotedAt = 0;
    // Every generation counter and the bus live in one slot (the prefix's hash tag): its master is the worst to lose.
    const counterKey = `${prefix}{${prefix.slice(0, -1)}}g:`;
    const owner = await redis.masterOf(counterKey);
    const failover = (async () => {
      await sleep(2_000);
      failoverAt = performance.now() - started;
      await redis.kill(owner);
      await redis.untilNewMasterOf(counterKey, owner);
      promotedAt = performance.now() - started;
    })();
    // An open loop: one request every 5 ms whatever the answers do, for 14 s (2,800 requests).
    for (let i = 0; i < 2_800; i++) {
      const due = started + i * 5;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const path = i % 2 === 0 ? `/api/jobs/${1 + (i % 10)}` : `/api/jobs?skip=${i}&limit=3`;
      const at = performance.now() - started;
      inFlight.push(
        call([a, b][i % 2], 'GET', path).then((answer) => void answers.push({ ...answer, at, path })),
      );
    }
    await Promise.all(inFlight);
    await failover;
    const statuses = new Map<number, number>();
    for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    const worst = Math.max(...answers.map((answer) => answer.ms));
    const hitsAfter = answers
      .filter((x) => x.at > promotedAt && x.cache === 'HIT')
      .sort((x, y) => x.at - y.at);
    const firstHitMs = hitsAfter.length > 0 ? hitsAfter[0].at - promotedAt : Infinity;
    const rate = answers.length / ((performance.now() - started) / 1000);
    // Hits on the hot keys in the last 3 s, well after both instances followed the new master and re-verified.
    const late = answers.filter((x) => x.at > 11_000 && x.path.startsWith('/api/jobs/'));
    const lateHitPercent = Math.round((100 * late.filter((x) => x.cache === 'HIT').length) / late.length);
    const failovers = await Promise.all(
      [a, b].map(
        async (app) =>
          JSON.parse((await call(app, 'GET', '/cache/stats', ADMIN_TOKEN)).text).topology.failovers,
      ),
    );
    console.log(
      `cluster kill -9 of the counters' master under load: ${answers.length} requests (${Math.round(rate)}/s offered 200/s), statuses ` +
        `${JSON.stringify(Object.fromEntries(statuses))}, worst ${Math.round(worst)} ms; promoted ` +
        `${Math.round(promotedAt - failoverAt)} ms after the kill; first HIT ${Math.round(firstHitMs)} ms after; ` +
        `hot-key hits in the last 3 s ${lateHitPercent}%; failovers seen ${failovers}`,
    );
    expect(failovers).toEqual([1, 1]);
    expect((await call(a, 'GET', '/metrics')).text).toMatch(/^cache_redis_failovers_total 1$/m);
    expect(lateHitPercent).toBeGreaterThan(50);
    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);
    expect(firstHitMs).toBeLessThan(20_000);
    // The database path (a few ms) plus the Redis deadline per call on the request's path, with room for the
    // CPU of 2,800 requests on two cores.
    expect(worst).toBeLessThan(2_000);
    expect((await health(a)).details.cache).toMatchObject({ redis: 'up', mastersUp: 3, mastersKnown: 3 });
  }, 60_000);
});
