import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Module, ValidationPipe } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { performance } from 'node:perf_hooks';
import vm from 'node:vm';
import { REDIS_CACHE_CLIENT } from '../src/redis-cache.constants.js';
import type { RedisCacheModuleOptions } from '../src/redis-cache.types.js';
import { RedisCacheModule, RedisCacheService } from '../src/index.js';
import { InvalidationBus } from '../src/invalidation/invalidation-bus.js';
import { RedisGateway } from '../src/resilience/redis-gateway.js';
import type { RedisClient } from '../src/storage/redis-client.factory.js';
import { FaultProxy } from '../src/testing/fault-proxy.js';
import { Fixture, ItemsController, untilReady } from './support/items-fixture.js';
import { commandCounts, TestRedisServer } from '../src/testing/redis-server.js';

/**
 * RELIABILITY.md §4, availability scenarios 1, 2, 5 and 6, at module level on the items fixture: Redis absent at
 * boot, frozen at boot, flapping, and latency / blackhole / reset injected by a TCP proxy (test/support/fault-proxy.ts).
 * Every redis-server here is the test's own, on a free port. L1 is off, so every read goes to Redis.
 */
const PREFIX = `faults${process.pid}:`;
/** The cache's per-operation deadline (D in RELIABILITY.md §4). */
const DEADLINE_MS = 100;
/** What a request may cost beyond the deadline here (the handler is instant; the machine is shared and busy). */
const MARGIN_MS = 400;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The real process: jest gives each test file a copy of `process` whose listeners the host never calls, so an
 * `unhandledRejection` listener registered on the copy would see nothing. vm.runInThisContext runs in the host's
 * context, whose global is the real one.
 */
const hostProcess = vm.runInThisContext('process') as NodeJS.Process;

const faultOptions = (url: string, prefix: string): RedisCacheModuleOptions => ({
  url,
  prefix,
  opTimeoutMs: DEADLINE_MS,
  l1: { maxEntries: 0 },
});

/** The items fixture (test/support/items-fixture.ts) without waiting for its Redis client: these tests boot without one. */
async function bootItems(options: RedisCacheModuleOptions) {
  @Module({
    imports: [RedisCacheModule.forRoot({ ...options, isGlobal: true })],
    controllers: [ItemsController],
    providers: [Fixture],
  })
  class FaultsFixtureModule {}
  const moduleRef = await Test.createTestingModule({ imports: [FaultsFixtureModule] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }));
  await app.init();
  const server = app.getHttpAdapter().getInstance();
  await server.ready();
  const cache = app.get(RedisCacheService);
  // The counters and circuit these scenarios watch, read through the public API.
  const store = {
    backend: cache.stats().backend,
    get counters() {
      return cache.stats().totals;
    },
    get circuit() {
      return { state: cache.status().circuit };
    },
  };
  if (store.backend !== 'redis') {
    await app.close();
    throw new Error(`the cache backend is ${store.backend}, not redis`);
  }
  console.log(
    `cache backend: ${store.backend} at ${options.url} (deadline ${options.opTimeoutMs} ms, L1 off)`,
  );
  return {
    app,
    server,
    store,
    fixture: app.get(Fixture),
    client: app.get<RedisClient>(REDIS_CACHE_CLIENT),
    // Private, but its listeners are part of what must not grow.
    subscriber: (app.get(InvalidationBus) as unknown as { subscriber: RedisClient }).subscriber,
  };
}
type App = Awaited<ReturnType<typeof bootItems>>;

interface Sample {
  url: string;
  status: number;
  cache: string | undefined;
  ms: number;
  /** This request's Redis read ran into the deadline (sequential requests only). */
  timedOut: boolean;
  /** This request skipped Redis because the circuit was open (sequential requests only). */
  skipped: boolean;
}

async function get(t: App, url: string): Promise<Sample> {
  const { timeouts, circuitSkips } = t.store.counters;
  const started = performance.now();
  const response = await t.server.inject({ method: 'GET', url });
  const ms = performance.now() - started;
  return {
    url,
    status: response.statusCode,
    cache: response.headers['x-cache'] as string | undefined,
    ms,
    timedOut: t.store.counters.timeouts > timeouts,
    skipped: t.store.counters.circuitSkips > circuitSkips,
  };
}

/** A write; it invalidates `/items/{id}` and the lists (so id 2 leaves the `/items/1` that recovery checks read alone). */
async function write(t: App, id: number, name: string): Promise<Sample> {
  const url = `/items/${id}`;
  const started = performance.now();
  const response = await t.server.inject({ method: 'PATCH', url, payload: { name } });
  const ms = performance.now() - started;
  return {
    url: `PATCH ${url}`,
    status: response.statusCode,
    cache: undefined,
    ms,
    timedOut: false,
    skipped: false,
  };
}

let unique = 0;
/** Half on a cached key, half on keys never cached (so each one really asks Redis). */
const mixedUrl = (i: number) => (i % 2 === 0 ? '/items/1' : `/items/search?q=never-${unique++}`);

/** Sequential requests for `durationMs`, `gapMs` apart. */
async function drive(t: App, durationMs: number, gapMs = 10, urlFor = mixedUrl): Promise<Sample[]> {
  const samples: Sample[] = [];
  const until = performance.now() + durationMs;
  for (let i = 0; performance.now() < until; i++) {
    samples.push(await get(t, urlFor(i)));
    await sleep(gapMs);
  }
  return samples;
}

/** Requests `url` every 25 ms until it is answered from Redis; the time is counted from `since`. */
async function untilHit(t: App, since: number, limitMs = 8_000, url = '/items/1') {
  let last: Sample | undefined;
  let requests = 0;
  while (performance.now() - since < limitMs) {
    last = await get(t, url);
    requests++;
    if (last.cache === 'HIT') break;
    await sleep(25);
  }
  return { hit: last?.cache === 'HIT', afterMs: performance.now() - since, requests };
}

function figures(samples: Sample[]) {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const p50 = sorted.length ? sorted[Math.ceil(sorted.length / 2) - 1] : NaN;
  const max = sorted.length ? sorted[sorted.length - 1] : NaN;
  return {
    n: sorted.length,
    p50,
    max,
    text: `n=${sorted.length} p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`,
  };
}

const statusesOf = (samples: Sample[]) => [...new Set(samples.map((s) => s.status))];
const cacheHeadersOf = (samples: Sample[]) => [...new Set(samples.map((s) => s.cache))];

/** Unhandled rejections on the real process while a test runs; each test asserts there were none. */
let rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);
beforeEach(() => {
  rejections = [];
  hostProcess.on('unhandledRejection', onRejection);
});
afterEach(() => {
  hostProcess.off('unhandledRejection', onRejection);
  expect(rejections).toEqual([]);
});

describe('Redis absent or frozen at boot (RELIABILITY §4 #1, #2)', () => {
  it('#1 absent: boots without waiting, answers 200 BYPASS, and L2 hits resume within 2 s of Redis starting', async () => {
    const redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    await redis.kill(); // its port is now known and nothing listens on it
    let t: App | undefined;
    try {
      const bootStarted = performance.now();
      t = await bootItems(faultOptions(redis.url, `${PREFIX}absent:`));
      const bootMs = performance.now() - bootStarted;
      expect(t.client.isReady).toBe(false);

      const writes = [await write(t, 2, 'absent1'), await write(t, 2, 'absent2')];
      const absent = await drive(t, 1_500);
      const during = figures(absent);
      console.log(
        `#1 Redis absent at boot: boot ${bootMs.toFixed(0)} ms; requests while absent ${during.text}; ` +
          `statuses ${statusesOf(absent).join(',')}; X-Cache ${cacheHeadersOf(absent).join(',')}; ` +
          `circuit ${t.store.circuit.state}, skips ${t.store.counters.circuitSkips}; writes ${figures(writes).text}`,
      );
      expect(bootMs).toBeLessThan(3_000);
      expect(statusesOf([...absent, ...writes])).toEqual([200]);
      expect(figures(writes).max).toBeLessThan(DEADLINE_MS + MARGIN_MS);
      expect(cacheHeadersOf(absent)).toEqual(['BYPASS']);
      expect(during.max).toBeLessThan(DEADLINE_MS + MARGIN_MS);

      let readyAt = NaN;
      t.client.once('ready', () => (readyAt = performance.now()));
      const launchStarted = performance.now();
      await redis.launch();
      const upAt = performance.now();
      const recovery = await untilHit(t, launchStarted);
      console.log(
        `#1 Redis started: X-Cache HIT ${recovery.afterMs.toFixed(0)} ms after its launch began ` +
          `(${(recovery.afterMs - (upAt - launchStarted)).toFixed(0)} ms after it answered PING; ` +
          `${recovery.requests} requests); the app's client was ready ${(readyAt - upAt).toFixed(0)} ms after PING; ` +
          `circuit ${t.store.circuit.state}`,
      );
      expect(recovery.hit).toBe(true);
      expect(recovery.afterMs).toBeLessThan(2_000);
      expect(t.store.circuit.state).toBe('closed');
    } finally {
      await t?.app.close();
      await redis.stop();
    }
  });

  it('#2 frozen: boots without waiting, no request waits past the deadline, hits resume after SIGCONT', async () => {
    const redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    redis.freeze();
    let t: App | undefined;
    try {
      const bootStarted = performance.now();
      t = await bootItems(faultOptions(redis.url, `${PREFIX}frozen:`));
      const bootMs = performance.now() - bootStarted;

      const writes = [await write(t, 2, 'frozen1'), await write(t, 2, 'frozen2')];
      const frozen = await drive(t, 1_500);
      const during = figures(frozen);
      console.log(
        `#2 Redis frozen at boot: boot ${bootMs.toFixed(0)} ms; requests while frozen ${during.text}; ` +
          `statuses ${statusesOf(frozen).join(',')}; X-Cache ${cacheHeadersOf(frozen).join(',')}; ` +
          `timeouts ${t.store.counters.timeouts}, circuit ${t.store.circuit.state}; writes ${figures(writes).text}`,
      );
      expect(bootMs).toBeLessThan(3_000);
      expect(statusesOf([...frozen, ...writes])).toEqual([200]);
      expect(figures(writes).max).toBeLessThan(DEADLINE_MS + MARGIN_MS);
      expect(cacheHeadersOf(frozen)).toEqual(['BYPASS']);
      expect(during.max).toBeLessThan(DEADLINE_MS + MARGIN_MS);

      const thawedAt = performance.now();
      redis.thaw();
      const recovery = await untilHit(t, thawedAt);
      console.log(
        `#2 SIGCONT: X-Cache HIT after ${recovery.afterMs.toFixed(0)} ms (${recovery.requests} requests), ` +
          `circuit ${t.store.circuit.state}`,
      );
      expect(recovery.hit).toBe(true);
      expect(recovery.afterMs).toBeLessThan(3_000);
    } finally {
      redis.thaw();
      await t?.app.close();
      await redis.stop();
    }
  });
});

describe('latency, blackhole and reset through a TCP proxy (RELIABILITY §4 #6)', () => {
  let redis: TestRedisServer;
  let proxy: FaultProxy;
  let t: App;

  beforeAll(async () => {
    redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    proxy = await FaultProxy.start(redis.port);
    // As the app's ACL user, through the proxy.
    t = await bootItems(
      faultOptions(redis.url.replace(`:${redis.port}`, `:${proxy.port}`), `${PREFIX}proxy:`),
    );
    await untilReady(t.client);
    expect((await get(t, '/items/1')).cache).toBe('MISS');
    expect((await get(t, '/items/1')).cache).toBe('HIT');
  });

  afterAll(async () => {
    await t?.app.close();
    await proxy?.close();
    await redis?.stop();
  });

  /**
   * Injects a fault with the circuit closed; requests until it opens; then 1.5 s of requests with it open, while
   * counting the reads that reached Redis (through the harness's own connection, not the proxy).
   */
  async function faultPhase(name: string, inject: () => void) {
    expect(t.store.circuit.state).toBe('closed');
    expect((await get(t, '/items/1')).cache).toBe('HIT');
    inject();
    const opening: Sample[] = [];
    for (let i = 0; t.store.circuit.state !== 'open' && i < 30; i++) opening.push(await get(t, mixedUrl(i)));
    expect(t.store.circuit.state).toBe('open');

    await sleep(400); // reads sent before it opened may still be on their way (latency)
    const admin = await redis.client();
    await admin.configResetStat();
    const skipsBefore = t.store.counters.circuitSkips;
    const open = await drive(t, 1_500);
    await sleep(400);
    const mgets = (await commandCounts(admin)).mget ?? 0;
    const probes = open.filter((s) => s.timedOut || !s.skipped).length;
    const skips = t.store.counters.circuitSkips - skipsBefore;
    const fast = figures(open.filter((s) => s.skipped));
    console.log(
      `#6 ${name}: until open ${figures(opening).text}; while open ${figures(open).text} ` +
        `(skipped Redis: ${fast.text}); ${skips} circuit skips, ${probes} probes, ` +
        `${mgets} MGET reached Redis; proxy resets ${proxy.stats.resets}`,
    );
    for (const s of [...opening, ...open]) {
      expect(s.status).toBe(200);
      expect(s.cache).toBe('BYPASS');
      expect(s.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    }
    expect(skips).toBeGreaterThanOrEqual(open.length - probes);
    expect(skips).toBeGreaterThan(10);
    expect(probes).toBeLessThanOrEqual(3); // one per 1 s cool-down
    expect(mgets).toBeLessThanOrEqual(probes);
    expect(fast.p50).toBeLessThan(DEADLINE_MS / 2);
    expect(t.store.circuit.state).toBe('open');
    return { opening, open, mgets };
  }

  async function heal(name: string) {
    const since = performance.now();
    proxy.pass();
    const recovery = await untilHit(t, since);
    console.log(
      `#6 ${name} -> pass: circuit ${t.store.circuit.state}, X-Cache HIT after ${recovery.afterMs.toFixed(0)} ms ` +
        `(${recovery.requests} requests)`,
    );
    expect(recovery.hit).toBe(true);
    expect(recovery.afterMs).toBeLessThan(5_000);
    expect(t.store.circuit.state).toBe('closed');
  }

  it('latency above the deadline: requests end at the deadline, the circuit opens, skips, probes and closes', async () => {
    const { opening, mgets } = await faultPhase('latency 300 ms', () => proxy.latency(300));
    // The fault was real: the reads that opened the circuit waited for the deadline, and the probes reached Redis.
    expect(figures(opening).p50).toBeGreaterThanOrEqual(DEADLINE_MS * 0.9);
    expect(opening.filter((s) => s.timedOut).length).toBeGreaterThanOrEqual(5);
    expect(mgets).toBeGreaterThanOrEqual(1);
    await heal('latency');
  });

  it('blackhole: the same', async () => {
    const { opening } = await faultPhase('blackhole', () => proxy.blackhole());
    expect(figures(opening).p50).toBeGreaterThanOrEqual(DEADLINE_MS * 0.9);
    expect(opening.filter((s) => s.timedOut).length).toBeGreaterThanOrEqual(5);
    await heal('blackhole');
  });

  it('blackhole under writes: a write answers 200 within its deadlines, and no stale read follows recovery', async () => {
    expect(t.store.circuit.state).toBe('closed');
    expect((await get(t, '/items/1')).cache).toBe('HIT');
    proxy.blackhole();
    const writes: Sample[] = [];
    for (let i = 0; i < 3; i++) writes.push(await write(t, 1, `bh${i}`));
    const reads = await drive(t, 300);
    console.log(
      `#6 blackhole, writes: ${figures(writes).text} (bump and fallback share one deadline); ` +
        `reads after them ${figures(reads).text}, X-Cache ${cacheHeadersOf(reads).join(',')}; circuit ${t.store.circuit.state}`,
    );
    expect(statusesOf([...writes, ...reads])).toEqual([200]);
    expect(cacheHeadersOf(reads)).toEqual(['BYPASS']);
    expect(figures(writes).max).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    await heal('blackhole under writes');
    expect((await t.server.inject({ method: 'GET', url: '/items/1' })).json()).toEqual({
      id: 1,
      name: 'bh2',
    });
  });

  it('reset: requests stay 200 and fast', async () => {
    const resetsBefore = proxy.stats.resets;
    const { opening } = await faultPhase('reset', () => proxy.reset());
    expect(proxy.stats.resets - resetsBefore).toBeGreaterThanOrEqual(2); // the app's client and its subscriber
    expect(figures(opening).max).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(figures(opening).p50).toBeLessThan(DEADLINE_MS / 2);
    await heal('reset');
  });
});

describe('flapping Redis (RELIABILITY §4 #5, bounded)', () => {
  it('kill/relaunch every 500 ms for 6 s under 200 req/s: 0 non-200, no unhandled rejection, nothing grows', async () => {
    // Control: the listener on the real process does see an unhandled rejection (then it is handled).
    const control = Promise.reject(new Error('control'));
    await sleep(20);
    expect(rejections).toHaveLength(1);
    control.catch(() => undefined);
    await sleep(20);
    rejections = [];

    const redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    let t: App | undefined;
    try {
      t = await bootItems(faultOptions(redis.url, `${PREFIX}flap:`));
      await untilReady(t.client);
      for (let i = 0; i < 50 && !t.app.get(InvalidationBus).healthy; i++) await sleep(20);
      expect((await get(t, '/items/1')).cache).toBe('MISS');
      const app = t;
      const listeners = () => ({
        client: Object.fromEntries(
          app.client.eventNames().map((e) => [String(e), app.client.listenerCount(e)]),
        ),
        subscriber: Object.fromEntries(
          app.subscriber.eventNames().map((e) => [String(e), app.subscriber.listenerCount(e)]),
        ),
      });
      const resources = () => {
        const counts: Record<string, number> = {};
        for (const kind of hostProcess.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
        return counts;
      };
      const listenersBefore = listeners();
      const resourcesBefore = resources();

      let flapping = true;
      let kills = 0;
      const flap = (async () => {
        try {
          const until = performance.now() + 6_000;
          while (performance.now() < until) {
            const cycle = performance.now();
            await redis.kill();
            kills++;
            await sleep(250);
            await redis.launch();
            await sleep(Math.max(0, cycle + 500 - performance.now()));
          }
        } finally {
          flapping = false;
        }
      })();

      // Fixed rate, 200 req/s: GETs of a cached key, of keys never cached, and a write now and then.
      const results: { kind: string; status: number; ms: number }[] = [];
      const pending: Promise<void>[] = [];
      const one = async (i: number) => {
        const started = performance.now();
        const write = i % 20 === 19;
        const response = write
          ? await app.server.inject({ method: 'PATCH', url: '/items/1', payload: { name: `flap${i}` } })
          : await app.server.inject({ method: 'GET', url: mixedUrl(i) });
        results.push({
          kind: write ? 'PATCH' : 'GET',
          status: response.statusCode,
          ms: performance.now() - started,
        });
      };
      const loadStarted = performance.now();
      let sent = 0;
      while (flapping) {
        for (const due = Math.floor((performance.now() - loadStarted) / 5); sent < due; sent++)
          pending.push(one(sent));
        await sleep(5);
      }
      await flap;
      await Promise.all(pending);
      const loadSeconds = (performance.now() - loadStarted) / 1000;

      const recovery = await untilHit(t, performance.now());
      const listenersAfter = listeners();
      const resourcesAfter = resources();
      const connections = String(await (await redis.client()).sendCommand(['CLIENT', 'LIST']))
        .split('\n')
        .filter((line) => line.startsWith('id=')).length;
      const non200 = results.filter((r) => r.status !== 200).length;
      const over = (kind: string) => results.filter((r) => r.kind === kind && r.ms > DEADLINE_MS).length;
      const maxOf = (kind: string) => Math.max(...results.filter((r) => r.kind === kind).map((r) => r.ms));
      const times = results.map((r) => r.ms).sort((a, b) => a - b);
      console.log(
        `#5 flapping: ${kills} kills in ${loadSeconds.toFixed(1)} s; ${results.length} requests ` +
          `(${(results.length / loadSeconds).toFixed(0)}/s), ${non200} non-200, p50 ` +
          `${times[Math.ceil(times.length / 2) - 1].toFixed(1)} ms, p99 ` +
          `${times[Math.ceil(times.length * 0.99) - 1].toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms ` +
          `(GET max ${maxOf('GET').toFixed(1)} ms, ${over('GET')} over ${DEADLINE_MS} ms; PATCH max ` +
          `${maxOf('PATCH').toFixed(1)} ms, ${over('PATCH')} over ${DEADLINE_MS} ms); ` +
          `HIT ${recovery.afterMs.toFixed(0)} ms after the last relaunch; unhandled rejections ${rejections.length}; ` +
          `listeners ${JSON.stringify(listenersBefore)} -> ${JSON.stringify(listenersAfter)}; ` +
          `resources ${JSON.stringify(resourcesBefore)} -> ${JSON.stringify(resourcesAfter)}; ` +
          `Redis connections after: ${connections}`,
      );
      expect(kills).toBeGreaterThanOrEqual(8);
      expect(results.length).toBeGreaterThan(600);
      expect(non200).toBe(0);
      expect(rejections).toEqual([]);
      expect(listenersAfter).toEqual(listenersBefore);
      expect(recovery.hit).toBe(true);
      // The app's client, its subscriber and the harness's own connection: no client left behind by a reconnect.
      expect(connections).toBeLessThanOrEqual(3);
      expect(resourcesAfter.TCPSocketWrap ?? 0).toBeLessThanOrEqual((resourcesBefore.TCPSocketWrap ?? 0) + 1);
      expect(resourcesAfter.Timeout ?? 0).toBeLessThanOrEqual((resourcesBefore.Timeout ?? 0) + 5);
    } finally {
      await t?.app.close();
      await redis.stop();
    }
  });
});

describe('a CPU-bound instance with a healthy Redis', () => {
  it('keeps its circuit closed and its hits: deadlines that came due while its own loop was busy are not Redis failures', async () => {
    const redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    let t: App | undefined;
    try {
      t = await bootItems(faultOptions(redis.url, `${PREFIX}busy:`));
      await untilReady(t.client);
      expect((await get(t, '/items/1')).cache).toBe('MISS');
      // Another request's CPU work, twice the deadline, starting right after each Redis read went out: Redis
      // answers in well under a millisecond, but nothing reads the socket until the burn ends.
      const gateway = t.app.get(RedisGateway);
      const read = gateway.read.bind(gateway);
      gateway.read = (operation) => {
        const reading = read(operation);
        setImmediate(() => {
          const until = performance.now() + 2 * DEADLINE_MS;
          while (performance.now() < until);
        });
        return reading;
      };
      const samples: Sample[] = [];
      const before = t.store.counters;
      for (let i = 0; i < 12; i++) samples.push(await get(t, '/items/1'));
      console.log(
        `CPU-bound instance: ${samples.length} hits under ${2 * DEADLINE_MS} ms burns, X-Cache ${cacheHeadersOf(samples)}, ` +
          `timeouts +${t.store.counters.timeouts - before.timeouts}, circuit ${t.store.circuit.state}`,
      );
      expect(statusesOf(samples)).toEqual([200]);
      expect(t.store.circuit.state).toBe('closed');
      expect(t.store.counters.circuitSkips).toBe(before.circuitSkips);
      expect(cacheHeadersOf(samples)).toEqual(['HIT']);
    } finally {
      await t?.app.close();
      await redis.stop();
    }
  });
});
