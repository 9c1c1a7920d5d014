import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Query, UseGuards, type CanActivate } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { REDIS_CACHE_CLIENT } from '../src/redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../src/redis-cache.module-definition.js';
import type { RedisClient } from '../src/storage/redis-client.factory.js';
import { Cached, RedisCacheModule, RedisCacheService } from '../src/index.js';
import { TieredCache } from '../src/tiers/tiered-cache.js';
import { commandCounts, TestRedisServer } from '../src/testing/redis-server.js';
import {
  Fixture,
  ItemsController,
  itemsCacheOptions,
  PageQuery,
  startItemsFixture,
  untilReady,
} from './support/items-fixture.js';

const PREFIX = `cachetest${process.pid}:`;

const cacheOptions = (redis: TestRedisServer) => itemsCacheOptions(redis, PREFIX);
/** The Redis tier's contract: L1 is off here, so every read reaches Redis (test/cache-l1.e2e-spec.ts covers L1). */
const startFixture = (redis: TestRedisServer, configure?: Parameters<typeof startItemsFixture>[1]) =>
  startItemsFixture(cacheOptions(redis), configure);

/** Polls EXISTS (not SCAN, which would show up in the command statistics) until a fill has landed. */
async function untilExists(redis: TestRedisServer, key: string): Promise<void> {
  const client = await redis.client();
  for (let i = 0; i < 100 && (await client.exists(key)) === 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  expect(await client.exists(key)).toBe(1);
}

/** Fills are not awaited by readers: wait until the entry for a logical key exists in Redis. */
async function entryKeys(redis: TestRedisServer, pattern: string, expected = 1): Promise<string[]> {
  const client = await redis.client();
  for (let i = 0; i < 100; i++) {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) keys.push(...batch);
    if (keys.length >= expected) return keys;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no key matching ${pattern}`);
}

describe('RedisCacheModule on a real redis-server', () => {
  let redis: TestRedisServer;

  beforeAll(async () => {
    redis = await TestRedisServer.start(['--enable-debug-command', 'local'], { appUser: { prefix: PREFIX } });
  });

  afterAll(async () => {
    await redis?.stop();
  });

  describe('read and write paths', () => {
    let t: Awaited<ReturnType<typeof startFixture>>;

    beforeAll(async () => {
      t = await startFixture(redis);
    });

    afterAll(async () => {
      await t?.app.close();
    });

    it('answers MISS then HIT with identical bytes, an ETag, and a 304 for If-None-Match', async () => {
      const miss = await t.http().get('/items?page=3');
      expect(miss.status).toBe(200);
      expect(miss.headers['x-cache']).toBe('MISS');
      await entryKeys(redis, `${PREFIX}c:items:list:3`);
      const reads = t.fixture.reads;
      const hit = await t.http().get('/items?page=3');
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.text).toBe(miss.text);
      expect(hit.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(hit.headers.etag).toBe(miss.headers.etag);
      expect(t.fixture.reads).toBe(reads);
      const notModified = await t.http().get('/items?page=3').set('If-None-Match', hit.headers.etag);
      expect(notModified.status).toBe(304);
      expect(notModified.text).toBe('');
      expect(notModified.headers.etag).toBe(hit.headers.etag);
      expect((await t.http().get('/items?page=3').set('If-None-Match', '"other"')).status).toBe(200);
    });

    it('validates before the lookup: an invalid request is the same 400 cold or warm, and `?page=0` equals no page', async () => {
      expect((await t.http().get('/items?page=-1')).status).toBe(400);
      expect((await t.http().get('/items?junk=1')).status).toBe(400);
      await t.http().get('/items');
      await entryKeys(redis, `${PREFIX}c:items:list:0`);
      expect((await t.http().get('/items?page=0')).headers['x-cache']).toBe('HIT');
      expect((await t.http().get('/items?page=-1')).status).toBe(400);
    });

    it('writes every entry with the TTL of its route (PTTL in (0, ttl])', async () => {
      await t.http().get('/items/1');
      const [itemKey] = await entryKeys(redis, `${PREFIX}c:items:one:1`);
      const [listKey] = await entryKeys(redis, `${PREFIX}c:items:list:3`);
      const client = await redis.client();
      const itemTtl = await client.pTTL(itemKey);
      const listTtl = await client.pTTL(listKey);
      expect(itemTtl).toBeGreaterThan(0);
      expect(itemTtl).toBeLessThanOrEqual(30_000);
      expect(listTtl).toBeGreaterThan(30_000);
      expect(listTtl).toBeLessThanOrEqual(60_000);
      const everyKey = await entryKeys(redis, `${PREFIX}*`);
      for (const key of everyKey) expect(await client.pTTL(key)).toBeGreaterThan(0);
    });

    it('invalidates after a successful write, before its response, and not after a failed one', async () => {
      await t.http().get('/items?page=9');
      await entryKeys(redis, `${PREFIX}c:items:list:9`);
      expect((await t.http().get('/items?page=9')).headers['x-cache']).toBe('HIT');

      const refused = await t.http().post('/items').send({ name: 'nope', fail: 'yes' });
      expect(refused.status).toBe(409);
      expect((await t.http().get('/items?page=9')).headers['x-cache']).toBe('HIT');

      const created = await t.http().post('/items').send({ name: 'fresh' });
      expect(created.status).toBe(201);
      const after = await t.http().get('/items?page=9');
      expect(after.headers['x-cache']).toBe('MISS');
      expect(after.body.items.map((i: { name: string }) => i.name)).toContain('fresh');
    });

    it('invalidates only what a write covers: an item prefix leaves other items cached', async () => {
      t.fixture.items.set(2, { id: 2, name: 'two' });
      await t.http().get('/items/1');
      await t.http().get('/items/2');
      await entryKeys(redis, `${PREFIX}c:items:one:2`);
      expect((await t.http().patch('/items/1').send({ name: 'uno' })).status).toBe(200);
      const one = await t.http().get('/items/1');
      expect(one.headers['x-cache']).toBe('MISS');
      expect(one.body.name).toBe('uno');
      expect((await t.http().get('/items/2')).headers['x-cache']).toBe('HIT');
    });

    it('never caches an error', async () => {
      expect((await t.http().get('/items/999')).status).toBe(404);
      expect((await t.http().get('/items/999')).status).toBe(404);
      const client = await redis.client();
      expect(await client.exists(`${PREFIX}c:items:one:999`)).toBe(0);
    });

    it.each([[':', '*', 'a:b', 'a*', '[x]', '{q}', '?', ' ', '\t', '~', '%3A', '', 'ü', '😀', 'a\\b']])(
      'keeps hostile values apart: each value gets its own key and its own answer',
      async (...values) => {
        for (const round of [1, 2]) {
          for (const q of values) {
            const response = await t.http().get('/items/search').query({ q });
            expect(response.status).toBe(200);
            expect(response.body.q).toBe(q);
            if (round === 2) expect(response.headers['x-cache']).toBe('HIT');
          }
          if (round === 1) await entryKeys(redis, `${PREFIX}c:items:search:*`, values.length);
        }
        const keys = await entryKeys(redis, `${PREFIX}c:items:search:*`, values.length);
        for (const key of keys)
          expect(key.slice(PREFIX.length)).toMatch(/^c:items:search:[A-Za-z0-9_.%~-]*$/);
        const absent = await t.http().get('/items/search');
        expect(absent.body.q).toBeNull();
      },
    );

    it('hashes the tail of a long key and keeps its head readable', async () => {
      const q = 'x'.repeat(10_000);
      const first = await t.http().get('/items/search').query({ q });
      expect(first.body.q).toBe(q);
      const [key] = await entryKeys(redis, `${PREFIX}c:items:search:xxxx*#*`);
      expect(key.length).toBeLessThan(PREFIX.length + 2 + 200);
      expect(
        (
          await t
            .http()
            .get('/items/search')
            .query({ q: `${q}y` })
        ).body.q,
      ).toBe(`${q}y`);
      expect((await t.http().get('/items/search').query({ q })).headers['x-cache']).toBe('HIT');
    });

    it('isolates tenants: same key, separate entries; invalidating one tenant leaves the other cached', async () => {
      const asTenant = (tenant: string) => t.http().get('/items?page=5').set('x-tenant', tenant);
      await asTenant('a*');
      await asTenant('ab');
      await entryKeys(redis, `${PREFIX}t:*:c:items:list:5`, 2);
      expect((await asTenant('a*')).headers['x-cache']).toBe('HIT');
      expect((await asTenant('ab')).headers['x-cache']).toBe('HIT');
      expect(
        (await t.http().post('/items').set('x-tenant', 'a*').send({ name: 'tenant write' })).status,
      ).toBe(201);
      expect((await asTenant('a*')).headers['x-cache']).toBe('MISS');
      expect((await asTenant('ab')).headers['x-cache']).toBe('HIT');
    });

    it('exposes invalidate() and clear() on RedisCacheService', async () => {
      const cache = t.app.get(RedisCacheService);
      await t.http().get('/items?page=7');
      await t.http().get('/items/1');
      await entryKeys(redis, `${PREFIX}c:items:list:7`);
      await entryKeys(redis, `${PREFIX}c:items:one:1`);
      await cache.invalidate('items:list:');
      expect((await t.http().get('/items?page=7')).headers['x-cache']).toBe('MISS');
      expect((await t.http().get('/items/1')).headers['x-cache']).toBe('HIT');
      await cache.clear();
      expect((await t.http().get('/items/1')).headers['x-cache']).toBe('MISS');
    });
  });

  describe('the stale-set race (RELIABILITY.md §3)', () => {
    /**
     * Reader A misses and reads v1; writer B stores v2 and invalidates; only then does A's fill of v1 land. The next
     * read must not serve v1.
     */
    async function stageRace(t: Awaited<ReturnType<typeof startFixture>>) {
      t.fixture.items.set(1, { id: 1, name: 'v1' });
      // Removed directly, not invalidated: the negative control ignores generations, so only absence makes a miss.
      await (await redis.client()).del(`${PREFIX}c:items:one:1`);
      let release!: () => void;
      t.fixture.gate = new Promise((resolve) => (release = resolve));
      const readStarted = new Promise<void>((resolve) => (t.fixture.readStarted = resolve));
      const reader = t
        .http()
        .get('/items/1')
        .then((response) => response);
      await readStarted;
      t.fixture.gate = undefined;
      t.fixture.readStarted = undefined;
      const write = await t.http().patch('/items/1').send({ name: 'v2' });
      expect(write.status).toBe(200);
      release();
      const raced = await reader;
      expect(raced.body.name).toBe('v1');
      await untilExists(redis, `${PREFIX}c:items:one:1`);
      return t.http().get('/items/1');
    }

    it('serves the new value after the write, although the racing fill stored the old one', async () => {
      const t = await startFixture(redis);
      try {
        const after = await stageRace(t);
        expect(after.body.name).toBe('v2');
        expect(after.headers['x-cache']).toBe('MISS');
      } finally {
        await t.app.close();
      }
    });

    it('negative control: with only the generation check turned off, the same sequence serves the stale value', async () => {
      class GenerationBlindStore extends TieredCache {
        protected override isFresh(): boolean {
          return true;
        }
      }
      const t = await startFixture(redis, (builder) =>
        builder.overrideProvider(TieredCache).useClass(GenerationBlindStore),
      );
      try {
        const after = await stageRace(t);
        expect(after.headers['x-cache']).toBe('HIT');
        expect(after.body.name).toBe('v1');
      } finally {
        await t.app.close();
      }
    });
  });

  describe('generation counters under trouble (TESTING.md)', () => {
    let t: Awaited<ReturnType<typeof startFixture>>;

    beforeAll(async () => {
      t = await startFixture(redis);
    });

    afterAll(async () => {
      const client = await redis.client();
      await client.configSet({ maxmemory: '0', 'maxmemory-policy': 'noeviction' });
      await t?.app.close();
    });

    it('treats a counter deleted mid-run as unknown history: the next read misses, never serves the old entry', async () => {
      t.fixture.items.set(3, { id: 3, name: 'before' });
      await t.http().get('/items/3');
      await untilExists(redis, `${PREFIX}c:items:one:3`);
      expect((await t.http().get('/items/3')).headers['x-cache']).toBe('HIT');
      const client = await redis.client();
      expect(await client.del(`${PREFIX}g:`)).toBe(1);
      t.fixture.items.set(3, { id: 3, name: 'after' });
      const next = await t.http().get('/items/3');
      expect(next.headers['x-cache']).toBe('MISS');
      expect(next.body.name).toBe('after');
    });

    it('keeps hitting what is cached while Redis refuses writes for lack of memory; new keys are served, 0 5xx', async () => {
      t.fixture.items.set(5, { id: 5, name: 'five' });
      await t.http().get('/items/5');
      await untilExists(redis, `${PREFIX}c:items:one:5`);
      const client = await redis.client();
      await client.configSet({ maxmemory: '1', 'maxmemory-policy': 'noeviction' });
      try {
        const errorsBefore = t.app.get(RedisCacheService).stats().totals.l2Errors;
        for (let i = 0; i < 5; i++) {
          const cached = await t.http().get('/items/5');
          expect(cached.status).toBe(200);
          expect(cached.headers['x-cache']).toBe('HIT');
          const fresh = await t.http().get(`/items/search?q=oom${i}`);
          expect(fresh.status).toBe(200);
          expect(['MISS', 'BYPASS']).toContain(fresh.headers['x-cache']);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await client.exists(`${PREFIX}c:items:search:oom0`)).toBe(0);
        console.log(
          `Redis out of memory: ${t.app.get(RedisCacheService).stats().totals.l2Errors - errorsBefore} refused writes counted`,
        );
      } finally {
        await client.configSet({ maxmemory: '0' });
      }
    });

    it('serves nothing older than a write that Redis refused for lack of memory, then recovers', async () => {
      t.fixture.items.set(4, { id: 4, name: 'old' });
      await t.http().get('/items/4');
      await untilExists(redis, `${PREFIX}c:items:one:4`);
      expect((await t.http().get('/items/4')).headers['x-cache']).toBe('HIT');

      const client = await redis.client();
      await client.configSet({ maxmemory: '1', 'maxmemory-policy': 'noeviction' });
      const write = await t.http().patch('/items/4').send({ name: 'new' });
      expect(write.status).toBe(200);
      for (let i = 0; i < 3; i++) {
        const read = await t.http().get('/items/4');
        expect(read.status).toBe(200);
        expect(read.body.name).toBe('new');
        expect(read.headers['x-cache']).toBe('BYPASS');
      }

      await client.configSet({ maxmemory: '0' });
      const recovered = await t.http().get('/items/4');
      expect(recovered.body.name).toBe('new');
      expect(recovered.headers['x-cache']).toBe('MISS');
      await untilExists(redis, `${PREFIX}c:items:one:4`);
      expect((await t.http().get('/items/4')).headers['x-cache']).toBe('HIT');
    });
  });

  describe('invalidation cost', () => {
    let t: Awaited<ReturnType<typeof startFixture>>;

    beforeAll(async () => {
      t = await startFixture(redis);
    });

    afterAll(async () => {
      await t?.app.close();
      const client = await redis.client();
      await client.flushDb();
    });

    async function timeInvalidation(): Promise<number> {
      await t.http().get('/items?page=4');
      await untilExists(redis, `${PREFIX}c:items:list:4`);
      expect((await t.http().get('/items?page=4')).headers['x-cache']).toBe('HIT');
      const cache = t.app.get(RedisCacheService);
      const samples: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        await cache.invalidate('items:list:');
        samples.push(performance.now() - started);
      }
      expect((await t.http().get('/items?page=4')).headers['x-cache']).toBe('MISS');
      return samples.sort((a, b) => a - b)[10];
    }

    it('costs the same with 10 and with 1,000,000 keys under the prefix, and sends no SCAN, KEYS or FLUSH', async () => {
      const client = await redis.client();
      await client.sendCommand(['DEBUG', 'POPULATE', '10', `${PREFIX}c:items:list:bulk:`, '64']);
      await client.configResetStat();
      const withTen = await timeInvalidation();
      await client.sendCommand(['DEBUG', 'POPULATE', '1000000', `${PREFIX}c:items:list:bulk:`, '64']);
      expect(await client.dbSize()).toBeGreaterThanOrEqual(1_000_000);
      const withMillion = await timeInvalidation();
      const commands = await commandCounts(client);
      console.log(
        `invalidate('items:list:') median of 20: ${withTen.toFixed(3)} ms with 10 keys, ` +
          `${withMillion.toFixed(3)} ms with 1,000,000 keys under the prefix`,
      );
      for (const name of ['scan', 'keys', 'flushdb', 'flushall']) expect(commands[name] ?? 0).toBe(0);
      // Both are one round trip; allow generous noise but not growth with the keyspace (SCAN would take seconds).
      expect(withMillion).toBeLessThan(Math.max(5 * withTen, 20));
    });
  });

  describe('configuration', () => {
    it('works with forRootAsync too, and keeps isGlobal out of the options', async () => {
      @Module({
        imports: [
          RedisCacheModule.forRootAsync({
            isGlobal: true,
            useFactory: async () => cacheOptions(redis),
          }),
        ],
        controllers: [ItemsController],
        providers: [Fixture],
      })
      class AsyncModule {}
      const app = await NestFactory.create<NestFastifyApplication>(AsyncModule, new FastifyAdapter(), {
        logger: false,
      });
      await app.init();
      await app.getHttpAdapter().getInstance().ready();
      try {
        const options = app.get(REDIS_CACHE_OPTIONS) as Record<string, unknown>;
        expect(options).not.toHaveProperty('isGlobal');
        expect(options.prefix).toBe(PREFIX);
        expect(app.get(RedisCacheService).stats().backend).toBe('redis');
        await untilReady(app.get<RedisClient>(REDIS_CACHE_CLIENT));
        const first = await request(app.getHttpServer()).get('/items?page=11');
        expect(first.headers['x-cache']).toBe('MISS');
      } finally {
        await app.close();
      }
    });

    class AlwaysGuard implements CanActivate {
      canActivate() {
        return true;
      }
    }

    it.each([
      ['an unknown placeholder', () => Cached(30, 'bad:{nope}:{page}'), /BadController\.handler.*\{nope\}/],
      [
        'a TTL that is not a duration',
        () => Cached('5 minutes' as never, 'bad:{page}'),
        /BadController\.handler.*invalid TTL/,
      ],
      ['a zero TTL', () => Cached(0, 'bad:{page}'), /BadController\.handler.*invalid TTL/],
      ['a malformed pattern', () => Cached(30, 'bad:{page}:a b'), /BadController\.handler.*invalid segment/],
      [
        'a query field left out of the key',
        () => Cached(30, 'bad:list'),
        /BadController\.handler.*leaves out \{page\}/,
      ],
      [
        'a per-request scope on a key without the viewer',
        () => Cached(30, 'bad:{page}', { scope: () => 'public' }),
        /BadController\.handler.*must contain \{user\.id\}/,
      ],
      [
        'an unknown scope',
        () => Cached(30, 'bad:{page}:{user.id}', { scope: 'everyone' as 'public' }),
        /BadController\.handler.*scope must be/,
      ],
    ])('refuses to start with %s, naming the handler', async (_case, decorator, message) => {
      @Controller('bad')
      class BadController {
        @Get()
        @decorator()
        handler(@Query() query: PageQuery) {
          return query;
        }
      }
      @Module({
        imports: [RedisCacheModule.forRoot({ prefix: PREFIX })],
        controllers: [BadController],
      })
      class BadModule {}
      const app = await NestFactory.create(BadModule, new FastifyAdapter(), {
        logger: false,
        abortOnError: false,
      });
      await expect(app.init()).rejects.toThrow(message);
      await app.close();
    });

    it('refuses a cached route behind a guard whose key ignores the viewer, unless declared public', async () => {
      @Controller('guarded')
      class GuardedController {
        @Get()
        @UseGuards(AlwaysGuard)
        @Cached(30, 'guarded:{page}')
        handler(@Query() query: PageQuery) {
          return query;
        }

        @Get('public')
        @UseGuards(AlwaysGuard)
        @Cached(30, 'guarded:public:{page}', { scope: 'public' })
        open(@Query() query: PageQuery) {
          return query;
        }
      }
      @Module({ imports: [RedisCacheModule.forRoot({ prefix: PREFIX })], controllers: [GuardedController] })
      class GuardedModule {}
      const app = await NestFactory.create(GuardedModule, new FastifyAdapter(), {
        logger: false,
        abortOnError: false,
      });
      await expect(app.init()).rejects.toThrow(/GuardedController\.handler.*\{user\.id\}/);
      await app.close();
    });
  });
});
