import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Module, Param, Scope } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Cached, InvalidatesCache, RedisCacheModule, RedisCacheService } from '../src/index.js';
import { commandCounts, TestRedisServer } from '../src/testing/index.js';
import { sleep, startNamedFixture, type NamedFixture } from './support/named-fixture.js';

interface Viewer {
  id: number;
  name: string;
}

@Injectable()
class ScoresService {
  calls = 0;
  version = 1;

  @Cached('10m', 'scores:{0}:{1.id}')
  async score(jobId: number, viewer: Viewer): Promise<{ jobId: number; viewer: number; version: number }> {
    this.calls++;
    await sleep(5);
    return { jobId, viewer: viewer.id, version: this.version };
  }

  @InvalidatesCache('scores:{0}:')
  async rescore(jobId: number): Promise<number> {
    this.version++;
    return jobId;
  }

  /** A logger argument that must not be part of the key, declared as such. */
  @Cached('1m', 'labels:{0}', { ignore: [1], namespace: 'labels' })
  async label(id: number, _log: (line: string) => void): Promise<string> {
    this.calls++;
    return `label ${id}`;
  }

  /** Undecorated: untouched. */
  async plain(id: number): Promise<number> {
    this.calls++;
    return id;
  }
}

describe('@Cached and @InvalidatesCache on provider methods', () => {
  let redis: TestRedisServer;
  let t: NamedFixture;
  let scores: ScoresService;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    t = await startNamedFixture(redis, { prefix: 'methods:' }, [ScoresService]);
    scores = t.moduleRef.get(ScoresService);
  });

  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('runs the method once for equal arguments, again for a different one, and keys on the path it names', async () => {
    const before = scores.calls;
    const first = await scores.score(7, { id: 1, name: 'ann' });
    expect(await scores.score(7, { id: 1, name: 'ann (renamed)' })).toEqual(first);
    expect(scores.calls - before).toBe(1);
    await scores.score(7, { id: 2, name: 'bob' });
    await scores.score(8, { id: 1, name: 'ann' });
    expect(scores.calls - before).toBe(3);
    const keys = await (await redis.client()).keys('methods:n:ScoresService.score:*');
    expect(keys.sort()).toEqual([
      'methods:n:ScoresService.score:scores:7:1',
      'methods:n:ScoresService.score:scores:7:2',
      'methods:n:ScoresService.score:scores:8:1',
    ]);
  });

  it('@InvalidatesCache on another method makes the next call run again, for the prefix it names only', async () => {
    await scores.score(9, { id: 1, name: 'ann' });
    await scores.score(10, { id: 1, name: 'ann' });
    const before = scores.calls;
    await scores.rescore(9);
    expect((await scores.score(9, { id: 1, name: 'ann' })).version).toBe(scores.version);
    await scores.score(10, { id: 1, name: 'ann' });
    expect(scores.calls - before).toBe(1);
  });

  it('is covered by invalidations from code too, and by clear() of its namespace', async () => {
    await scores.score(11, { id: 1, name: 'ann' });
    await t.cache.invalidate('scores:11:');
    const before = scores.calls;
    await scores.score(11, { id: 1, name: 'ann' });
    expect(scores.calls - before).toBe(1);
    await t.cache.namespace('ScoresService.score', { ttl: '1m' }).clear();
    await scores.score(11, { id: 1, name: 'ann' });
    expect(scores.calls - before).toBe(2);
  });

  it('joins the invalidations made in one tick into one bump and one announcement', async () => {
    for (const job of [12, 13, 14]) await scores.score(job, { id: 1, name: 'ann' });
    const client = await redis.client();
    await client.configResetStat();
    await Promise.all([scores.rescore(12), scores.rescore(13), t.cache.invalidate('scores:14:')]);
    const commands = await commandCounts(client);
    expect({ exec: commands.exec, publish: commands.publish }).toEqual({ exec: 1, publish: 1 });
    const before = scores.calls;
    for (const job of [12, 13, 14]) await scores.score(job, { id: 1, name: 'ann' });
    expect(scores.calls - before).toBe(3);
    // Apart, they are apart.
    await client.configResetStat();
    await scores.rescore(12);
    await scores.rescore(13);
    expect((await commandCounts(client)).exec).toBe(2);
  });

  it('shares one run among concurrent callers, keeps `this`, and leaves undecorated methods alone', async () => {
    const before = scores.calls;
    const results = await Promise.all(
      Array.from({ length: 200 }, () => scores.score(12, { id: 3, name: 'cy' })),
    );
    expect(scores.calls - before).toBe(1);
    expect(new Set(results.map((result) => result.viewer))).toEqual(new Set([3]));
    await scores.plain(1);
    await scores.plain(1);
    expect(scores.calls - before).toBe(3);
    expect(await scores.label(5, () => undefined)).toBe('label 5');
    expect(await scores.label(5, (line) => void line)).toBe('label 5');
    expect(scores.calls - before).toBe(4);
  });

  it('counts per decorated method, under its namespace', () => {
    const stats = t.cache.stats().namespaces;
    expect(stats['ScoresService.score'].hits).toBeGreaterThan(0);
    expect(stats['ScoresService.score'].misses).toBeGreaterThan(0);
    expect(stats.labels).toMatchObject({ hits: 1, misses: 1, sets: 1 });
  });
});

describe('start-up refuses wrong declarations on provider methods, naming class and method', () => {
  const cases: [string, () => unknown, string, string][] = [
    [
      'a method that is not async',
      () => {
        @Injectable()
        class SyncService {
          @Cached('1m', 'sync:{0}')
          get(id: number) {
            return id;
          }
        }
        return SyncService;
      },
      'E_CACHE_CONFIG',
      "@Cached on SyncService.get: only the resolved value of a promise is cached; declare it 'async get(...)'",
    ],
    [
      'a placeholder that names no argument',
      () => {
        @Injectable()
        class NamedService {
          @Cached('1m', 'x:{id}')
          async get(id: number) {
            return id;
          }
        }
        return NamedService;
      },
      'E_KEY_PATTERN',
      "@Cached on NamedService.get: {id} in 'x:{id}' is not an argument",
    ],
    [
      'an argument position the method does not have',
      () => {
        @Injectable()
        class PositionService {
          @Cached('1m', 'x:{0}:{2}')
          async get(a: number, b: number) {
            return a + b;
          }
        }
        return PositionService;
      },
      'E_KEY_PATTERN',
      'names argument 2, but the method takes 2',
    ],
    [
      'an argument the key leaves out',
      () => {
        @Injectable()
        class LossyService {
          @Cached('1m', 'x:{0}')
          async get(a: number, b: number) {
            return a + b;
          }
        }
        return LossyService;
      },
      'E_KEY_PATTERN',
      "@Cached on LossyService.get: 'x:{0}' leaves out argument 1, so calls differing there would share a value. " +
        "Write 'x:{0}:{1}', or declare @Cached(ttl, pattern, { ignore: [1] })",
    ],
    [
      '{tenant} without a tenant resolver',
      () => {
        @Injectable()
        class TenantService {
          @Cached('1m', 'x:{tenant}:{0}')
          async get(a: number) {
            return a;
          }
        }
        return TenantService;
      },
      'E_KEY_PATTERN',
      "{tenant} in 'x:{tenant}:{0}' needs the module's tenantResolver",
    ],
    [
      'a request-scoped provider',
      () => {
        @Injectable({ scope: Scope.REQUEST })
        class ScopedService {
          @Cached('1m', 'x:{0}')
          async get(a: number) {
            return a;
          }
        }
        return ScopedService;
      },
      'E_CACHE_CONFIG',
      '@Cached/@InvalidatesCache on ScopedService.get: the provider is request-scoped',
    ],
  ];

  it.each(cases)('%s', async (_label, declare, code, message) => {
    const provider = declare() as never;
    await expect(startNamedFixture(undefined, { prefix: 'wrong:' }, [provider])).rejects.toMatchObject({
      code,
      message: expect.stringContaining(message),
    });
  });
});

describe('{tenant} on provider methods comes from the request being served (AsyncLocalStorage)', () => {
  @Injectable()
  class ProfileService {
    calls = 0;

    @Cached('1m', 'profiles:{tenant}:{0}')
    async profile(id: string): Promise<string> {
      this.calls++;
      await sleep(2);
      return `profile ${id}`;
    }
  }

  @Controller('profiles')
  class ProfilesController {
    constructor(private readonly profiles: ProfileService) {}

    @Get(':id')
    async get(@Param('id') id: string) {
      return { profile: await this.profiles.profile(id) };
    }
  }

  let redis: TestRedisServer;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    @Module({
      imports: [
        RedisCacheModule.forRoot({
          url: redis.url,
          prefix: 'tenants:',
          isGlobal: true,
          tenantResolver: (req) => req.headers['x-tenant'] as string | undefined,
        }),
      ],
      controllers: [ProfilesController],
      providers: [ProfileService],
    })
    class TenantModule {}
    const moduleRef = await Test.createTestingModule({ imports: [TenantModule] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const cache = app.get(RedisCacheService);
    for (let i = 0; i < 200 && cache.status().redis !== 'up'; i++) await sleep(10);
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('keeps tenants apart, and serves each tenant its own cached value', async () => {
    const http = () => request(app.getHttpServer());
    const profiles = app.get(ProfileService);
    await http().get('/profiles/1').set('x-tenant', 'acme');
    await http().get('/profiles/1').set('x-tenant', 'acme');
    await http().get('/profiles/1').set('x-tenant', 'globex');
    expect(profiles.calls).toBe(2);
    // Entries only: a fill's lease (`tenants:l:...`) is released in the background and may still be there.
    const keys = (await (await redis.client()).keys('tenants:*n:ProfileService.profile:*'))
      .filter((key) => !key.startsWith('tenants:l:'))
      .sort();
    expect(keys).toEqual([
      'tenants:t:acme:n:ProfileService.profile:profiles:acme:1',
      'tenants:t:globex:n:ProfileService.profile:profiles:globex:1',
    ]);
  });
});
