import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { RedisCacheService } from '../src/index.js';
import { InvalidationBus, subscriberName } from '../src/invalidation/invalidation-bus.js';
import { L1Tier, ownedBytes } from '../src/tiers/l1-tier.js';
import {
  itemsCacheOptions,
  ROUND_TRIP_VALUES,
  startItemsFixture,
  type ItemsFixture,
} from './support/items-fixture.js';
import { commandCounts, TestRedisServer } from '../src/testing/redis-server.js';

const PREFIX = `l1test${process.pid}:`;
const L1_TTL_MS = 1_500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Redis reads of entries and generations since the last CONFIG RESETSTAT (PINGs of the bus excluded). */
async function entryReads(redis: TestRedisServer): Promise<number> {
  const counts = await commandCounts(await redis.client());
  return (counts.mget ?? 0) + (counts.get ?? 0);
}

async function untilBusHealthy(t: ItemsFixture): Promise<void> {
  const bus = t.app.get(InvalidationBus);
  for (let i = 0; i < 300 && !bus.healthy; i++) await sleep(10);
  expect(bus.healthy).toBe(true);
}

/**
 * L1 at module level: two instances of the fixture app in this process, on one redis-server, sharing one "database"
 * (the fixture's items map), as two API processes share PostgreSQL. test/multi-instance.e2e-spec.ts runs the real
 * app as separate processes.
 */
describe('L1 tier and invalidation bus on a real redis-server', () => {
  let redis: TestRedisServer;
  let a: ItemsFixture;
  let b: ItemsFixture;

  beforeAll(async () => {
    redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    const options = itemsCacheOptions(redis, PREFIX, { l1: { maxEntries: 1_000, ttlMs: L1_TTL_MS } });
    [a, b] = await Promise.all([startItemsFixture(options), startItemsFixture(options)]);
    b.fixture.items = a.fixture.items;
    await Promise.all([untilBusHealthy(a), untilBusHealthy(b)]);
  });

  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await redis?.stop();
  });

  it('answers an L1 hit without any Redis round trip', async () => {
    expect((await a.http().get('/items/1')).headers['x-cache']).toBe('MISS');
    await (await redis.client()).configResetStat();
    const cache = a.app.get(RedisCacheService);
    const before = cache.stats().totals.l1Hits;
    for (let i = 0; i < 20; i++) {
      const hit = await a.http().get('/items/1');
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.body).toEqual({ id: 1, name: 'one' });
    }
    expect(await entryReads(redis)).toBe(0);
    expect(cache.stats().totals.l1Hits - before).toBe(20);
  });

  it('fills L1 from an L2 hit with the remaining TTL, not the route TTL', async () => {
    a.fixture.items.set(7, { id: 7, name: 'seven' });
    const filledAt = performance.now();
    expect((await a.http().get('/items/brief/7')).headers['x-cache']).toBe('MISS');
    const pttl = await (await redis.client()).pTTL(`${PREFIX}c:items:brief:7`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(2_000);

    await sleep(1_200 - (performance.now() - filledAt));
    await (await redis.client()).configResetStat();
    expect((await b.http().get('/items/brief/7')).headers['x-cache']).toBe('HIT'); // L2
    expect(await entryReads(redis)).toBe(1);
    expect((await b.http().get('/items/brief/7')).headers['x-cache']).toBe('HIT'); // L1
    expect(await entryReads(redis)).toBe(1);

    // Filled with the route's 2 s, B's L1 entry would live until ~3.2 s; with the remaining TTL it ends at ~2 s.
    await sleep(2_300 - (performance.now() - filledAt));
    expect((await b.http().get('/items/brief/7')).headers['x-cache']).toBe('MISS');
  });

  it('never serves B an entry older than a write that finished on A (200 rounds, the bus only)', async () => {
    let stale = 0;
    for (let round = 0; round < 200; round++) {
      const id = 100 + (round % 5);
      a.fixture.items.set(id, { id, name: `v${round}` });
      await a
        .http()
        .patch(`/items/${id}`)
        .send({ name: `v${round}` });
      const warm = await b.http().get(`/items/${id}`);
      if (round >= 5) expect(['HIT', 'MISS']).toContain(warm.headers['x-cache']);
      await sleep(1);
      expect((await b.http().get(`/items/${id}`)).headers['x-cache']).toBe('HIT');
      await a
        .http()
        .patch(`/items/${id}`)
        .send({ name: `w${round}` });
      const read = await b.http().get(`/items/${id}`);
      if (read.body.name !== `w${round}`) stale++;
    }
    expect(stale).toBe(0);
  });

  it('round-trips values exactly through both tiers: dates, null, 0, false, empty string (as text), unicode, 400 KB', async () => {
    for (const [kind, value] of Object.entries(ROUND_TRIP_VALUES)) {
      const miss = await a.http().get(`/items/values/${kind}`);
      expect(miss.headers['x-cache']).toBe('MISS');
      // A string result is sent as text, as Nest sends it uncached; everything else as JSON.
      if (typeof value === 'string') expect(miss.text).toBe(value);
      else expect(JSON.parse(miss.text)).toEqual(JSON.parse(JSON.stringify(value)));
      await sleep(20);
      const fromL1 = await a.http().get(`/items/values/${kind}`);
      const fromL2 = await b.http().get(`/items/values/${kind}`);
      for (const hit of [fromL1, fromL2]) {
        expect(hit.headers['x-cache']).toBe('HIT');
        expect(hit.text).toBe(miss.text);
        expect(hit.headers['etag']).toBe(miss.headers['etag']);
        expect(hit.headers['content-type']).toBe(miss.headers['content-type']);
      }
    }
  });

  it('measures how long a bump takes to reach the other instance (p50, p99, max under background reads)', async () => {
    const busB = b.app.get(InvalidationBus);
    const cacheA = a.app.get(RedisCacheService);
    let background = true;
    const load = (async () => {
      for (let i = 0; background; i++)
        await Promise.all([a.http().get('/items?page=1'), b.http().get(`/items/${i % 50}`)]);
    })();
    const lags: number[] = [];
    let appliedBeforeWriterReturned = 0;
    try {
      for (let round = 0; round < 200; round++) {
        const before = busB.ledger.snapshot();
        const started = performance.now();
        let writerReturned = false;
        const bump = cacheA.invalidate('items:list:').then(() => (writerReturned = true));
        while (busB.ledger.snapshot() === before && performance.now() - started < 2_000)
          await new Promise((resolve) => setImmediate(resolve));
        lags.push(performance.now() - started);
        if (!writerReturned) appliedBeforeWriterReturned++;
        await bump;
      }
    } finally {
      background = false;
      await load;
    }
    const sorted = [...lags].sort((x, y) => x - y);
    const at = (p: number) => sorted[Math.ceil((p / 100) * sorted.length) - 1].toFixed(2);
    console.log(
      `bump on A -> applied on B: p50 ${at(50)} ms, p99 ${at(99)} ms, max ${sorted.at(-1)!.toFixed(2)} ms ` +
        `(from the start of A's bump; applied before A's bump returned in ${appliedBeforeWriterReturned} of 200)`,
    );
    expect(sorted.at(-1)!).toBeLessThan(1_000);
  });

  it('vouches for entries older than CACHE_L1_TTL through the bus', async () => {
    a.fixture.items.set(8, { id: 8, name: 'eight' });
    expect((await b.http().get('/items/8')).headers['x-cache']).toBe('MISS');
    await sleep(L1_TTL_MS + 100);
    await (await redis.client()).configResetStat();
    expect((await b.http().get('/items/8')).headers['x-cache']).toBe('HIT');
    expect(await entryReads(redis)).toBe(0);
  });

  it('distrusts L1 after the subscriber reconnects, even young entries, until they are re-read', async () => {
    a.fixture.items.set(9, { id: 9, name: 'before' });
    expect((await b.http().get('/items/9')).headers['x-cache']).toBe('MISS');
    const filledAt = performance.now();
    expect((await b.http().get('/items/9')).headers['x-cache']).toBe('HIT');

    // Kill B's subscriber connection, and while it is away, invalidate without it hearing (a lost message).
    const admin = await redis.client();
    const name = subscriberName(PREFIX, b.app.get(InvalidationBus).origin);
    const subscriber = String(await admin.sendCommand(['CLIENT', 'LIST']))
      .split('\n')
      .find((line) => line.includes(` name=${name} `));
    const id = subscriber?.match(/^id=(\d+)/)?.[1];
    expect(id).toBeDefined();
    expect(await admin.sendCommand(['CLIENT', 'KILL', 'ID', id!])).toBe(1);
    a.fixture.items.set(9, { id: 9, name: 'after' });
    await admin.incr(`${PREFIX}g:items:one:9:`);

    // node-redis reconnects by itself and re-subscribes; wait for the new connection, then for its first PONG.
    for (let i = 0; i < 300; i++) {
      const lines = String(await admin.sendCommand(['CLIENT', 'LIST'])).split('\n');
      if (lines.some((line) => line.includes(` name=${name} `) && !line.startsWith(`id=${id} `))) break;
      await sleep(5);
    }
    await untilBusHealthy(b);
    // Still younger than CACHE_L1_TTL: only the reconnect tells B that it may have missed something.
    expect(performance.now() - filledAt).toBeLessThan(L1_TTL_MS);
    const read = await b.http().get('/items/9');
    expect(read.body.name).toBe('after');
    expect(read.headers['x-cache']).toBe('MISS');
  });

  it('runs the handler once for 500 concurrent cold requests of one key, and shares its error too', async () => {
    a.fixture.items.set(11, { id: 11, name: 'eleven' });
    let release!: () => void;
    a.fixture.gate = new Promise<void>((resolve) => (release = resolve));
    const readsBefore = a.fixture.reads;
    const server = a.app.getHttpAdapter().getInstance();
    const pending = Array.from({ length: 500 }, () => server.inject({ method: 'GET', url: '/items/11' }));
    await sleep(200);
    release();
    const responses = await Promise.all(pending);
    a.fixture.gate = undefined;
    expect(a.fixture.reads - readsBefore).toBe(1);
    expect(new Set(responses.map((r) => r.statusCode))).toEqual(new Set([200]));
    expect(new Set(responses.map((r) => r.body))).toEqual(new Set(['{"id":11,"name":"eleven"}']));

    // An error is shared with those who joined, and not kept: the next request runs the handler again.
    a.fixture.gate = new Promise<void>((resolve) => (release = resolve));
    const failing = Array.from({ length: 50 }, () => server.inject({ method: 'GET', url: '/items/404404' }));
    await sleep(100);
    release();
    const failed = await Promise.all(failing);
    a.fixture.gate = undefined;
    expect(new Set(failed.map((r) => r.statusCode))).toEqual(new Set([404]));
    const afterErrors = a.fixture.reads;
    expect((await server.inject({ method: 'GET', url: '/items/404404' })).statusCode).toBe(404);
    expect(a.fixture.reads - afterErrors).toBe(1);
  });

  it('keeps L1 and Redis within their bounds over 20,000 distinct keys requested over HTTP', async () => {
    // A Redis of its own, configured as in production (maxmemory, allkeys-lru), small enough to fill.
    const bounded = await TestRedisServer.start(['--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-lru'], {
      appUser: { prefix: PREFIX },
    });
    const t = await startItemsFixture(
      itemsCacheOptions(bounded, `${PREFIX}bound:`, { l1: { maxEntries: 5_000, maxBytes: 1024 * 1024 } }),
    );
    try {
      const l1 = t.app.get(L1Tier);
      const server = t.app.getHttpAdapter().getInstance();
      for (let i = 0; i < 20_000; i += 100) {
        const batch = Array.from({ length: 100 }, (_, j) =>
          server.inject({ method: 'GET', url: `/items/search?q=${'k'.repeat(200)}${i + j}` }),
        );
        for (const response of await Promise.all(batch)) expect(response.statusCode).toBe(200);
        expect(l1.entries).toBeLessThanOrEqual(5_000);
        expect(l1.bytes).toBeLessThanOrEqual(1024 * 1024);
      }
      const memory = await (await bounded.client()).info('memory');
      const used = Number(/used_memory:(\d+)/.exec(memory)?.[1]);
      const evicted = Number(/evicted_keys:(\d+)/.exec(await (await bounded.client()).info('stats'))?.[1]);
      console.log(
        `20,000 distinct keys over HTTP: L1 ${l1.entries} entries, ${l1.bytes} bytes (max 1 MiB); ` +
          `Redis used_memory ${(used / 2 ** 20).toFixed(1)} MiB (maxmemory 4 MiB), ${evicted} keys evicted`,
      );
      expect(l1.entries).toBeGreaterThan(100);
      expect(used).toBeLessThan(5 * 2 ** 20);
      expect(evicted).toBeGreaterThan(0);
    } finally {
      await t.app.close();
      await bounded.stop();
    }
  });
});

describe('L1 memory bound', () => {
  it('holds 1,000,000 inserts of 8 KB values within CACHE_L1_MAX_BYTES (entries, bytes and RSS)', async () => {
    const redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    const maxBytes = 64 * 1024 * 1024;
    const t = await startItemsFixture(
      itemsCacheOptions(redis, `${PREFIX}rss:`, { l1: { maxEntries: 1_000_000, maxBytes } }),
    );
    try {
      const l1 = t.app.get(L1Tier);
      const bus = t.app.get(InvalidationBus);
      const value = Buffer.alloc(8 * 1024, 'x');
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      const started = performance.now();
      for (let i = 0; i < 1_000_000; i++) {
        const location = { entryKey: `${PREFIX}rss:c:items:one:${i}`, generationKeys: [`${PREFIX}rss:g:`] };
        l1.set(
          location,
          {
            etag: '"e"',
            contentType: 'application/json',
            body: ownedBytes(value),
            generations: ['1'],
            verifiedAt: performance.now(),
            snapshot: bus.ledger.snapshot(),
            freshUntil: Date.now() + 60_000,
            storedAt: Date.now(),
          },
          60_000,
        );
        if (i % 50_000 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
      console.log(
        `L1 after 1,000,000 inserts of 8 KB in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
          `${l1.entries} entries, ${mib(l1.bytes)} MiB accounted (max ${mib(maxBytes)} MiB); ` +
          `RSS ${mib(rssBefore)} -> peak ${mib(rssPeak)} MiB`,
      );
      expect(l1.bytes).toBeLessThanOrEqual(maxBytes);
      expect(l1.entries).toBeLessThanOrEqual(Math.ceil(maxBytes / (8 * 1024)));
      expect(l1.entries).toBeGreaterThan(maxBytes / (16 * 1024));
      // 8 GB went through the tier; the process grew by about the bound, plus garbage not yet collected.
      expect(rssPeak - rssBefore).toBeLessThan(3 * maxBytes + 128 * 2 ** 20);
    } finally {
      await t.app.close();
      await redis.stop();
    }
  });
});

describe('enabled: false', () => {
  it('passes every request through without touching Redis, fast path included', async () => {
    const redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    const t = await startItemsFixture(
      itemsCacheOptions(redis, `${PREFIX}off:`, { enabled: false, fastHits: true, l1: {} }),
    );
    try {
      await (await redis.client()).configResetStat();
      for (let i = 0; i < 5; i++) {
        const response = await t.http().get('/items/1');
        expect(response.status).toBe(200);
        expect(response.headers['x-cache']).toBeUndefined();
      }
      expect(await entryReads(redis)).toBe(0);
      expect(t.fixture.reads).toBe(5);
    } finally {
      await t.app.close();
      await redis.stop();
    }
  });
});

describe('circuit breaker around Redis', () => {
  it('opens on a frozen Redis so requests stop waiting for the deadline, and closes once Redis answers again', async () => {
    const redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    const t = await startItemsFixture(
      itemsCacheOptions(redis, `${PREFIX}circuit:`, { opTimeoutMs: 100, l1: { maxEntries: 0 } }),
    );
    const cache = t.app.get(RedisCacheService);
    try {
      expect((await t.http().get('/items/1')).headers['x-cache']).toBe('MISS');
      redis.freeze();
      const timings: number[] = [];
      for (let i = 0; i < 10; i++) {
        const started = performance.now();
        const response = await t.http().get('/items/1');
        timings.push(performance.now() - started);
        expect(response.status).toBe(200);
        expect(response.headers['x-cache']).toBe('BYPASS');
      }
      console.log(`frozen Redis, request times (ms): ${timings.map((ms) => ms.toFixed(0)).join(' ')}`);
      expect(cache.status().circuit).toBe('open');
      // The first five wait for the 100 ms deadline; once open, a request costs no Redis call at all.
      expect(Math.max(...timings.slice(0, 5))).toBeLessThan(1_000);
      expect(Math.max(...timings.slice(6))).toBeLessThan(50);
      expect(cache.stats().totals.circuitSkips).toBeGreaterThanOrEqual(4);

      redis.thaw();
      let status: string | undefined;
      for (let i = 0; i < 100 && status !== 'HIT'; i++) {
        await sleep(50);
        status = String((await t.http().get('/items/1')).headers['x-cache']);
      }
      expect(status).toBe('HIT');
      expect(cache.status().circuit).toBe('closed');
    } finally {
      redis.thaw();
      await t.app.close();
      await redis.stop();
    }
  });
});
