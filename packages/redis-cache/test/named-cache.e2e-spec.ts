import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { TieredCache } from '../src/tiers/tiered-cache.js';
import { commandCounts, TestRedisServer } from '../src/testing/index.js';
import type { NamedCache } from '../src/index.js';
import fc from 'fast-check';
import { latch, sleep, startNamedFixture, type NamedFixture } from './support/named-fixture.js';
import { NamedPeer } from './support/named-peer.js';
import { sameValue } from './support/same-value.js';
import { structuredValue } from './support/structured-values.js';

const PREFIX = `named${process.pid}:`;

/** Commands Redis ran for `work`, apart from the bus heartbeat and the harness's own. */
async function commandsDuring(redis: TestRedisServer, work: () => Promise<unknown>) {
  const client = await redis.client();
  await client.configResetStat();
  await work();
  const counts = await commandCounts(client);
  for (const name of ['ping', 'config|resetstat', 'info']) delete counts[name];
  return counts;
}

describe('named caches on a real redis-server', () => {
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

  describe.each([
    ['without a tenant', undefined],
    ['for tenant "school-42"', 'school-42'],
  ])('every method, %s', (_label, tenant) => {
    let scores: NamedCache<{ score: number; at: Date }>;
    let onB: NamedCache<{ score: number; at: Date }>;

    beforeAll(() => {
      scores = a.cache.namespace('scores', { ttl: '30m', tenant });
      onB = b.cache.namespace('scores', { ttl: '30m', tenant });
    });

    it('get misses, set then get returns the value with its types, on this instance and the other', async () => {
      expect(await scores.get('user:1:job:2')).toBeUndefined();
      const value = { score: 0.93, at: new Date('2026-01-02T03:04:05Z') };
      await scores.set('user:1:job:2', value);
      expect(await scores.get('user:1:job:2')).toEqual(value);
      expect(await onB.get('user:1:job:2')).toEqual(value);
      // Types survive (checked by tag: V8's deserialiser builds objects of Node's realm, not jest's).
      expect(Object.prototype.toString.call((await onB.get('user:1:job:2'))?.at)).toBe('[object Date]');
      const key = `${PREFIX}${tenant ? `t:${tenant}:` : ''}n:scores:user:1:job:2`;
      const ttl = await (await redis.client()).pTTL(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30 * 60_000);
    });

    it('delete removes the value everywhere, L1 of the other instance included', async () => {
      await scores.set('user:1:job:3', { score: 1, at: new Date(0) });
      expect(await onB.get('user:1:job:3')).toBeDefined();
      expect(await onB.get('user:1:job:3')).toBeDefined(); // now in B's L1
      await scores.delete('user:1:job:3');
      expect(await scores.get('user:1:job:3')).toBeUndefined();
      expect(await onB.get('user:1:job:3')).toBeUndefined();
    });

    it('getMany and setMany take one Redis command each, in the order asked', async () => {
      const keys = ['m:1', 'm:2', 'm:3', 'm:4', 'm:5'];
      await scores.set('m:0', { score: 0, at: new Date(0) }); // the namespace's counters exist
      const sets = await commandsDuring(redis, () =>
        scores.setMany(keys.map((key, i) => [key, { score: i, at: new Date(i) }] as const)),
      );
      // One round trip: the script; what it runs inside is counted by Redis as GET, SET and PEXPIRE.
      expect(sets.evalsha).toBe(1);
      expect(
        Object.keys(sets).filter((name) => !['evalsha', 'get', 'set', 'pexpire'].includes(name)),
      ).toEqual([]);
      const fresh = b.cache.namespace<{ score: number; at: Date }>('scores', { ttl: '30m', tenant });
      const gets = await commandsDuring(redis, () => fresh.getMany(['m:9', ...keys]));
      expect(gets).toEqual({ mget: 1 });
      const values = await fresh.getMany(['m:9', ...keys]);
      expect(values.map((value) => value?.score)).toEqual([undefined, 0, 1, 2, 3, 4]);
    });

    it('invalidate(prefix) removes what starts with its segments, and nothing else; clear() removes all', async () => {
      await scores.setMany([
        ['user:7:job:1', { score: 1, at: new Date(0) }],
        ['user:7:job:2', { score: 2, at: new Date(0) }],
        ['user:70:job:1', { score: 3, at: new Date(0) }],
      ]);
      const bumps = await commandsDuring(redis, () => scores.invalidate('user:7:'));
      expect(Object.keys(bumps)).not.toContain('scan');
      expect(await onB.get('user:7:job:1')).toBeUndefined();
      expect(await scores.get('user:7:job:2')).toBeUndefined();
      expect((await onB.get('user:70:job:1'))?.score).toBe(3);
      await scores.clear();
      expect(await onB.get('user:70:job:1')).toBeUndefined();
    });

    it('wrap computes once for 500 concurrent callers, stores it, and gives each caller its own copy', async () => {
      let calls = 0;
      const compute = async () => {
        calls++;
        await sleep(20);
        return { score: 42, at: new Date(42) };
      };
      const results = await Promise.all(Array.from({ length: 500 }, () => scores.wrap('hot', compute)));
      expect(calls).toBe(1);
      expect(new Set(results.map((result) => result.score))).toEqual(new Set([42]));
      expect(results[0]).not.toBe(results[1]);
      expect(await onB.wrap('hot', compute)).toEqual({ score: 42, at: new Date(42) });
      expect(calls).toBe(1);
    });

    it('a compute that throws is shared with those waiting, never stored, and retried by the next caller', async () => {
      let calls = 0;
      const failing = async () => {
        calls++;
        await sleep(10);
        throw new Error('model unavailable');
      };
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => scores.wrap('flaky', failing)),
      );
      expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
      expect(calls).toBe(1);
      expect(await scores.get('flaky')).toBeUndefined();
      expect(await scores.wrap('flaky', async () => ({ score: 1, at: new Date(1) }))).toEqual({
        score: 1,
        at: new Date(1),
      });
    });
  });

  it('keeps tenants apart: same key, different values; clearing one leaves the other', async () => {
    const forA = a.cache.namespace<string>('answers', { ttl: '2h', tenant: 'a*' });
    const forAb = a.cache.namespace<string>('answers', { ttl: '2h', tenant: 'ab' });
    await forA.set('prompt', 'for a*');
    await forAb.set('prompt', 'for ab');
    expect(await forA.get('prompt')).toBe('for a*');
    expect(await forAb.get('prompt')).toBe('for ab');
    await forA.clear();
    expect(await forA.get('prompt')).toBeUndefined();
    expect(await forAb.get('prompt')).toBe('for ab');
  });

  it('reads an entry of another codec, or a corrupted one, as a miss, never a wrong value or a throw', async () => {
    // A reader without L1, so that each read sees what is in Redis now.
    const reader = await startNamedFixture(redis, { prefix: PREFIX, l1: { maxEntries: 0 } });
    try {
      const structured = a.cache.namespace<unknown>('mixed', { ttl: '1m' });
      const json = reader.cache.namespace<unknown>('mixed', { ttl: '1m', codec: 'json' });
      await structured.set('k', new Map([[1, 'one']]));
      expect(await json.get('k')).toBeUndefined();
      expect(await json.getMany(['k'])).toEqual([undefined]);
      const client = await redis.client();
      const key = `${PREFIX}n:mixed:k`;
      const frame = (await client.get(key))!;
      const head = frame.split('\n')[0];
      const expires = Date.now() + 60_000;
      for (const corrupted of [
        frame.slice(0, -3),
        'junk',
        `${head}\n${expires}\n\nv1;structured;1;deflate\nnot deflate`,
        `${head}\n${expires}\n\nv1;structured;1;raw\n\u0001\u0002`,
        `${head}\n${expires}\n\nv0;structured;1;raw\n${frame.slice(frame.lastIndexOf('\n') + 1)}`,
      ]) {
        await client.set(key, corrupted, { PX: 60_000 });
        const fresh = reader.cache.namespace<unknown>('mixed', { ttl: '1m' });
        await expect(fresh.get('k')).resolves.toBeUndefined();
        await expect(fresh.getMany(['k'])).resolves.toEqual([undefined]);
      }
      expect(reader.cache.stats().namespaces.mixed.errors).toBeGreaterThan(0);
    } finally {
      await reader.close();
    }
  });

  it.each([
    ['raw', Infinity],
    ['compressed', 0],
  ])(
    'round-trips every structured value with its types, from L1 and from Redis (%s)',
    async (label, compressAbove) => {
      const reader = await startNamedFixture(redis, { prefix: PREFIX, l1: { maxEntries: 0 } });
      try {
        const writer = a.cache.namespace<unknown>(`roundtrip-${label}`, { ttl: '1m', compressAbove });
        const fromRedis = reader.cache.namespace<unknown>(`roundtrip-${label}`, { ttl: '1m', compressAbove });
        let key = 0;
        await fc.assert(
          fc.asyncProperty(structuredValue, async (value) => {
            const k = `v:${key++}`;
            await writer.set(k, value);
            const [l1, l2] = [await writer.get(k), await fromRedis.get(k)];
            expect(sameValue(l1, value)).toBe(true);
            expect(sameValue(l2, value)).toBe(true);
            const wrapped = await fromRedis.wrap(`w:${k}`, () => value);
            expect(sameValue(wrapped, value)).toBe(true);
            expect(sameValue(await writer.get(`w:${k}`), value)).toBe(true);
          }),
          { numRuns: 60 },
        );
        const tags = await (await redis.client()).get(`${PREFIX}n:roundtrip-${label}:v:0`);
        expect(tags?.split('\n')[3]).toMatch(/^v1;structured;1;(raw|deflate)$/);
      } finally {
        await reader.close();
      }
    },
  );

  it('counts hits, misses, sets, deletes and the hit rate per namespace', async () => {
    const counted = a.cache.namespace<number>('counted', { ttl: '1m' });
    await counted.get('x');
    await counted.set('x', 1);
    await counted.get('x');
    await counted.get('x');
    await counted.delete('x');
    expect(a.cache.stats().namespaces.counted).toMatchObject({
      hits: 2,
      misses: 1,
      sets: 1,
      deletes: 1,
      errors: 0,
      hitRatePercent: 66.7,
    });
  });

  it('refuses namespace names that are not names, and keys that are empty or huge', async () => {
    expect(() => a.cache.namespace('has space', { ttl: '1m' })).toThrow(
      expect.objectContaining({ code: 'E_CACHE_CONFIG' }),
    );
    expect(() => a.cache.namespace('ok', { ttl: 'forever' as never })).toThrow(
      expect.objectContaining({ code: 'E_TTL' }),
    );
    const ok = a.cache.namespace<number>('ok', { ttl: '1m' });
    await expect(ok.get('')).rejects.toMatchObject({ code: 'E_KEY_PATTERN' });
    await expect(ok.set('x'.repeat(9_000), 1)).rejects.toMatchObject({ code: 'E_KEY_PATTERN' });
    await expect(ok.invalidate('a:b:c:d')).rejects.toMatchObject({ code: 'E_KEY_PATTERN' });
  });
});

describe('wrap with a grace (fail-safe, ARCHITECTURE.md §11)', () => {
  let redis: TestRedisServer;
  let t: NamedFixture;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    t = await startNamedFixture(redis, { prefix: 'graced:' });
  });

  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const graced = () =>
    t.cache.namespace<{ v: number }>('answers', {
      ttl: '300ms',
      grace: '1h',
      softTimeout: '100ms',
      graceBackoff: '1s',
    });

  it('answers the graced value when compute throws, and not for a 4xx', async () => {
    const cache = graced();
    expect(await cache.wrap('a', async () => ({ v: 1 }))).toEqual({ v: 1 });
    await sleep(350);
    expect(await cache.get('a')).toBeUndefined(); // get answers fresh values only
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('model unavailable');
    };
    expect(await cache.wrap('a', failing)).toEqual({ v: 1 });
    expect(await cache.wrap('a', failing)).toEqual({ v: 1 }); // in back-off: compute not run
    expect(calls).toBe(1);
    expect(t.cache.stats().namespaces.answers.staleServed).toBe(2);
    await cache.wrap('b', async () => ({ v: 2 }));
    await sleep(350);
    const { NotFoundException } = await import('@nestjs/common');
    await expect(
      cache.wrap('b', async () => {
        throw new NotFoundException();
      }),
    ).rejects.toBeInstanceOf(NotFoundException);
  });

  it('answers the graced value within softTimeout when compute is slow; the late value is stored', async () => {
    const cache = graced();
    await cache.wrap('slow', async () => ({ v: 1 }));
    await sleep(350);
    const started = performance.now();
    const answer = await cache.wrap('slow', async () => (await sleep(400), { v: 2 }));
    expect(answer).toEqual({ v: 1 });
    expect(performance.now() - started).toBeLessThan(100 + 100);
    await sleep(450);
    expect(await cache.get('slow')).toEqual({ v: 2 });
  });

  it('rejects with E_TIMEOUT past hardTimeout when no graced value can stand in', async () => {
    const cache = t.cache.namespace<number>('hard', { ttl: '1m', hardTimeout: '100ms' });
    await expect(cache.wrap('x', async () => (await sleep(300), 1))).rejects.toMatchObject({
      code: 'E_TIMEOUT',
    });
    await sleep(300);
    expect(await cache.get('x')).toBe(1);
  });
});

describe('the stale-set race on wrap (RELIABILITY.md §3), staged with latches', () => {
  let redis: TestRedisServer;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  /** A computes the old value; B invalidates while A computes; A stores. Then: what does a fresh reader get? */
  async function stageRace(t: NamedFixture, reader: NamedFixture, write: 'invalidate' | 'delete') {
    const mine = t.cache.namespace<string>('race', { ttl: '1m' });
    const key = 'x:1';
    const computing = latch();
    const release = latch();
    const wrapped = mine.wrap(key, async () => {
      computing.open();
      await release.promise;
      return 'old';
    });
    await computing.promise;
    // The write happens on the reader's instance: this one learns of it through Redis and the bus only.
    const writer = reader.cache.namespace<string>('race', { ttl: '1m' });
    if (write === 'invalidate') await writer.invalidate('x:');
    else await writer.delete(key);
    release.open();
    expect(await wrapped).toBe('old'); // the caller gets what it computed...
    await sleep(50); // ...and the fill has landed, if it was going to
    return writer.get(key);
  }

  it.each(['invalidate', 'delete'] as const)(
    'a value computed across a finished %s is never served',
    async (write) => {
      const t = await startNamedFixture(redis, { prefix: `race${write}:` });
      const reader = await startNamedFixture(redis, { prefix: `race${write}:` });
      try {
        expect(await stageRace(t, reader, write)).toBeUndefined();
        expect(await t.cache.namespace<string>('race', { ttl: '1m' }).get('x')).toBeUndefined();
      } finally {
        await t.close();
        await reader.close();
      }
    },
  );

  it('negative control: with only the generation check turned off, the same sequence serves the stale value', async () => {
    class GenerationBlindTiers extends TieredCache {
      protected override isFresh(): boolean {
        return true;
      }
    }
    const overrides = [{ provide: TieredCache, useClass: GenerationBlindTiers }];
    const t = await startNamedFixture(redis, { prefix: 'raceblind:' }, [], overrides);
    const reader = await startNamedFixture(redis, { prefix: 'raceblind:' }, [], overrides);
    try {
      expect(await stageRace(t, reader, 'invalidate')).toBe('old');
    } finally {
      await t.close();
      await reader.close();
    }
  });
});

describe('named caches when Redis is in trouble: no throw, within the deadline, nothing older than a delete', () => {
  let redis: TestRedisServer;
  let t: NamedFixture;
  /** The other instance runs in an OS process of its own. */
  let peer: NamedPeer;
  let cache: NamedCache<string>;
  const DEADLINE_MS = 150;
  const L1_TTL_MS = 300;

  beforeAll(async () => {
    redis = await TestRedisServer.start(['--maxmemory', '0']);
    // L1_TTL_MS bounds what another instance may serve from memory while Redis (and so the bus) is away.
    const options = { url: redis.url, prefix: 'faults:', opTimeoutMs: DEADLINE_MS, l1: { ttlMs: L1_TTL_MS } };
    t = await startNamedFixture(redis, options);
    peer = await NamedPeer.start(options);
    cache = t.cache.namespace<string>('faulty', { ttl: '1m' });
  });

  afterAll(async () => {
    await peer?.stop();
    await t?.close();
    await redis?.stop();
  });

  /** Waits until both instances read Redis again (connected, circuit closed after a probe). */
  async function settle() {
    for (let i = 0; i < 200; i++) {
      await cache.get('probe');
      await peer.get('faulty', 'probe');
      const states = [t.cache.status(), await peer.status()];
      if (states.every((s) => s.redis === 'up' && s.circuit === 'closed')) return;
      await sleep(50);
    }
    throw new Error('the cache did not recover');
  }

  beforeEach(async () => {
    await settle();
  });

  /** Runs every method once; each must settle (never reject) within `limitMs`. */
  async function everyMethodWithin(limitMs: number) {
    const timings: Record<string, number> = {};
    const calls: [string, () => Promise<unknown>][] = [
      ['get', () => cache.get('k')],
      ['set', () => cache.set('k', 'v')],
      ['getMany', () => cache.getMany(['k', 'j'])],
      [
        'setMany',
        () =>
          cache.setMany([
            ['k', 'v'],
            ['j', 'w'],
          ]),
      ],
      ['wrap', () => cache.wrap('w', async () => (await sleep(20), 'computed'))],
      ['delete', () => cache.delete('k')],
      ['invalidate', () => cache.invalidate('k')],
      ['clear', () => cache.clear()],
    ];
    for (const [name, call] of calls) {
      const started = performance.now();
      await call();
      timings[name] = Math.round(performance.now() - started);
    }
    for (const [name, ms] of Object.entries(timings))
      expect({ name, within: ms <= limitMs }).toEqual({ name, within: true });
    return timings;
  }

  it('frozen (SIGSTOP): every call settles within the deadline plus compute; a delete made meanwhile holds in both processes once Redis answers and L1_TTL passed', async () => {
    await cache.set('gone', 'old');
    expect(await peer.get('faulty', 'gone')).toBe('old');
    redis.freeze();
    try {
      const timings = await everyMethodWithin(2 * DEADLINE_MS + 20 + 100);
      console.log(`named cache, Redis frozen: ms per call ${JSON.stringify(timings)}`);
      await cache.delete('gone');
      expect(await cache.get('gone')).toBeUndefined();
    } finally {
      redis.thaw();
    }
    // The writer bypasses the key at once; the peer may serve its L1 copy for at most L1_TTL_MS (the documented
    // bound while the bus is away), and Redis has the delete once the queued or deferred bump landed.
    await sleep(L1_TTL_MS + 700);
    for (let i = 0; i < 50; i++) {
      expect(await cache.get('gone')).toBeUndefined();
      expect(await peer.get('faulty', 'gone')).toBeUndefined();
      await sleep(20);
    }
  });

  it('out of memory (noeviction): reads still hit, writes are refused without a throw, a delete is final at once', async () => {
    const admin = await redis.client();
    await cache.set('kept', 'value');
    await cache.set('oom-gone', 'old');
    expect(await peer.get('faulty', 'oom-gone')).toBe('old');
    await admin.configSet({ maxmemory: '1', 'maxmemory-policy': 'noeviction' });
    try {
      await expect(cache.set('refused', 'x')).resolves.toBeUndefined();
      await expect(cache.wrap('refused-too', async () => 'computed')).resolves.toBe('computed');
      expect(await peer.get('faulty', 'kept')).toBe('value');
      expect(await peer.get('faulty', 'refused')).toBeUndefined();
      // INCR is refused, so the delete bucket's counter is removed instead (UNLINK works out of memory).
      await cache.delete('oom-gone');
      expect(await cache.get('oom-gone')).toBeUndefined();
      expect(await peer.get('faulty', 'oom-gone')).toBeUndefined();
    } finally {
      await admin.configSet({ maxmemory: '0' });
    }
    expect(await peer.get('faulty', 'oom-gone')).toBeUndefined();
  });

  it('killed: every call settles at once, and the cache works again after the restart', async () => {
    await redis.kill();
    const timings = await everyMethodWithin(DEADLINE_MS + 20 + 100);
    console.log(`named cache, Redis killed: ms per call ${JSON.stringify(timings)}`);
    await redis.launch();
    for (let i = 0; i < 300 && t.cache.status().redis !== 'up'; i++) await sleep(10);
    await sleep(600); // the circuit's probe
    await cache.set('after', 'restart');
    for (let i = 0; i < 100 && (await peer.get('faulty', 'after')) === undefined; i++) await sleep(50);
    expect(await peer.get('faulty', 'after')).toBe('restart');
  });
});
