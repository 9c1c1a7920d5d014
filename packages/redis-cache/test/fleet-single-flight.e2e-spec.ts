// Fleet-wide single-flight (ARCHITECTURE.md §11): concurrent misses of one key on several instances sharing one
// redis-server compute once; a holder that dies, fails or is slower than a waiter's deadline never makes a waiter
// wait past it; a bump during a flight never lets the pre-bump value reach post-bump callers. Instances are modules
// in this process (a shared compute counter) and, for the kill, a peer in another OS process.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { TestRedisServer } from '../src/testing/index.js';
import { sleep, startNamedFixture, type NamedFixture } from './support/named-fixture.js';
import { NamedPeer } from './support/named-peer.js';

const PREFIX = `fleet${process.pid}:`;
const totals = (fixture: NamedFixture) => fixture.cache.stats().totals;

describe('fleet-wide single-flight on a real redis-server', () => {
  let redis: TestRedisServer;
  let instances: NamedFixture[];
  let unleased: NamedFixture[];

  beforeAll(async () => {
    redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    instances = await Promise.all(
      [1, 2, 3].map(() => startNamedFixture(redis, { prefix: PREFIX, fleetSingleFlight: { leaseMs: 600 } })),
    );
    unleased = await Promise.all(
      [1, 2, 3].map(() =>
        startNamedFixture(redis, { prefix: PREFIX, fleetSingleFlight: { enabled: false } }),
      ),
    );
  });

  afterAll(async () => {
    for (const fixture of [...(instances ?? []), ...(unleased ?? [])]) await fixture.close();
    await redis?.stop();
  });

  /** 3 instances x 50 concurrent wraps of one cold key, with a compute of 200 ms: how many computes ran. */
  async function burst(fleet: NamedFixture[], key: string) {
    let computes = 0;
    const handles = fleet.map((fixture) => fixture.cache.namespace<{ n: number }>('burst', { ttl: '1m' }));
    const started = performance.now();
    const values = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        handles[i % 3].wrap(key, async () => {
          computes++;
          await sleep(200);
          return { n: 7 };
        }),
      ),
    );
    return { computes, values, ms: performance.now() - started };
  }

  it('150 concurrent cold misses over 3 instances compute once; without the lease, once per instance', async () => {
    const before = instances.map(totals);
    const leased = await burst(instances, 'cold-1');
    expect(leased.values.every((value) => value.n === 7)).toBe(true);
    expect(leased.computes).toBe(1);
    const after = instances.map(totals);
    const won = after.reduce((sum, t, i) => sum + t.leasesWon - before[i].leasesWon, 0);
    const waited = after.reduce((sum, t, i) => sum + t.leasesWaited - before[i].leasesWaited, 0);
    expect(won).toBe(1);
    expect(waited).toBe(2); // one waiter per other instance: its other callers joined it in process

    // The negative control: the same burst with the lease off runs one compute per process.
    const perProcess = await burst(unleased, 'cold-2');
    expect(perProcess.computes).toBe(3);
    console.log(
      `fleet single-flight: 150 cold misses on 3 instances, ${leased.computes} compute in ${Math.round(leased.ms)} ms ` +
        `(lease off: ${perProcess.computes} computes in ${Math.round(perProcess.ms)} ms)`,
    );
  });

  it('a waiter computes itself once its wait runs out; a holder that fails releases the lease at once', async () => {
    const [a, b] = instances;
    const impatient = await startNamedFixture(redis, { prefix: PREFIX, fleetSingleFlight: { waitMs: 300 } });
    try {
      const onA = a.cache.namespace<string>('slow', { ttl: '1m' });
      // A holds the lease with a compute of 2 s. A caller with a hardTimeout of 250 ms gets its timeout then,
      // not after A's 2 s; an instance whose lease wait is 300 ms computes itself after 300 ms.
      const slow = onA.wrap('k', () => sleep(2_000).then(() => 'from a'));
      await sleep(30);
      let started = performance.now();
      const onB = b.cache.namespace<string>('slow', { ttl: '1m' });
      const bounded = onB.wrap('k', async () => 'from b', { hardTimeout: '250ms' });
      await expect(bounded).rejects.toMatchObject({ code: 'E_TIMEOUT' });
      expect(performance.now() - started).toBeLessThan(600);
      started = performance.now();
      const own = impatient.cache.namespace<string>('slow', { ttl: '1m' });
      await expect(own.wrap('k', async () => 'from c')).resolves.toBe('from c');
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(impatient.cache.stats().totals.leasesExpired).toBe(1);
      await slow;
    } finally {
      await impatient.close();
    }
    const onA = a.cache.namespace<string>('slow', { ttl: '1m' });
    const onB = b.cache.namespace<string>('slow', { ttl: '1m' });

    // A compute that throws releases the lease: the waiter takes over without waiting for the lease to expire.
    const failing = onA.wrap('f', async () => {
      await sleep(150);
      throw new Error('upstream down');
    });
    await sleep(30);
    const takeover = performance.now();
    const value = onB.wrap('f', async () => 'b took over');
    await expect(failing).rejects.toThrow('upstream down');
    await expect(value).resolves.toBe('b took over');
    expect(performance.now() - takeover).toBeLessThan(550); // less than the 600 ms lease
  });

  it('a bump during the flight: callers after it never get the pre-bump value, and do not wait for it', async () => {
    const [a, b] = instances;
    const onA = a.cache.namespace<string>('bumped', { ttl: '1m' });
    const onB = b.cache.namespace<string>('bumped', { ttl: '1m' });
    const preBump = onA.wrap('k', () => sleep(600).then(() => 'pre-bump'));
    await sleep(50);
    await onB.invalidate(''); // the namespace's counter: a new generation for 'k'
    const started = performance.now();
    await expect(onB.wrap('k', async () => 'post-bump')).resolves.toBe('post-bump');
    expect(performance.now() - started).toBeLessThan(400); // a lease of its own, not A's
    await expect(preBump).resolves.toBe('pre-bump');
    await sleep(50);
    // A's late fill was under the old generation: refused on every instance (it may have overwritten B's fill,
    // which costs a recompute, never a stale value).
    expect(await onA.get('k')).not.toBe('pre-bump');
    expect(await onB.get('k')).not.toBe('pre-bump');
  });

  it('stale-while-revalidate on 3 instances: everyone answers stale at once, and one refresh runs for the fleet', async () => {
    let computes = 0;
    const options = { ttl: '200ms', grace: '1m', staleWhileRevalidate: true } as const;
    const handles = instances.map((fixture) => fixture.cache.namespace<string>('swr', options));
    await handles[0].wrap('k', async () => 'first');
    await sleep(250); // graced now, on every instance
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        handles[i % 3].wrap('k', async () => {
          computes++;
          await sleep(200);
          return 'refreshed';
        }),
      ),
    );
    expect(performance.now() - started).toBeLessThan(150); // nobody waited for the refresh
    expect(new Set(answers)).toEqual(new Set(['first']));
    await sleep(400);
    expect(computes).toBe(1);
    // The refreshed value reached every instance (fresh or, past its 200 ms TTL, graced: either way this answer).
    expect(await handles[1].wrap('k', async () => 'not needed')).toBe('refreshed');
  });

  it('the holder SIGKILLed mid-compute: another instance takes over within one lease', async () => {
    const peer = await NamedPeer.start({
      url: redis.url,
      prefix: PREFIX,
      opTimeoutMs: 150,
      fleetSingleFlight: { leaseMs: 600 },
    });
    try {
      await peer.slowWrap('killed', 'k', 10_000, 'never');
      const onA = instances[0].cache.namespace<string>('killed', { ttl: '1m' });
      const started = performance.now();
      const waiting = onA.wrap('k', async () => 'survivor');
      await sleep(100);
      await peer.kill();
      await expect(waiting).resolves.toBe('survivor');
      const ms = performance.now() - started;
      console.log(
        `fleet single-flight: holder killed, survivor computed after ${Math.round(ms)} ms (lease 600 ms)`,
      );
      expect(ms).toBeLessThan(600 + 400);
    } finally {
      await peer.kill();
    }
  });
});
