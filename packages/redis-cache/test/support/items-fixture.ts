// The cache module's test fixture: a small "items" API whose state tests change and whose reads they count.
import {
  Body,
  ConflictException,
  Controller,
  Get,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Patch,
  Post,
  Query,
  ValidationPipe,
} from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import request from 'supertest';
import { REDIS_CACHE_CLIENT } from '../../src/redis-cache.constants.js';
import type { RedisCacheModuleOptions } from '../../src/redis-cache.types.js';
import type { RedisClient } from '../../src/storage/redis-client.factory.js';
import { Cached, InvalidatesCache, RedisCacheModule } from '../../src/index.js';
import type { TestRedisServer } from '../../src/testing/redis-server.js';

class IdParams {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  id: number;
}

export class PageQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  page: number = 0;
}

class SearchQuery {
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  q?: string;
}

class WriteBody {
  @IsString()
  name: string;

  @IsOptional()
  @IsIn(['yes'])
  fail?: string;
}

class ValueParams {
  @IsIn(['scalars', 'unicode', 'large', 'array', 'null', 'zero', 'false', 'empty'])
  kind: string;
}

/** Values whose JSON must survive the cache byte for byte (RELIABILITY.md §4 #15). */
export const ROUND_TRIP_VALUES: Record<string, unknown> = {
  scalars: {
    date: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
    nothing: null,
    zero: 0,
    no: false,
    empty: '',
    neg: -0.5,
  },
  unicode: { text: 'Zoë 北京 🚀 \u2028\u2029 \u0000 "quoted" \\ back', emoji: '👩‍👩‍👧‍👦' },
  large: { blob: 'é🚀x'.repeat(100_000) },
  array: [1, 'two', { three: [3] }, null, true],
  null: null,
  zero: 0,
  false: false,
  empty: '',
};

/** The fixture's "database": plain state that tests change and whose reads they count. */
@Injectable()
export class Fixture {
  items = new Map<number, { id: number; name: string }>([[1, { id: 1, name: 'one' }]]);
  reads = 0;
  /** When set, GET /items/:id waits for it after reading (to stage the stale-set race). */
  gate: Promise<void> | undefined;
  readStarted: (() => void) | undefined;
}

@Controller('items')
export class ItemsController {
  constructor(private readonly fixture: Fixture) {}

  @Get()
  @Cached('1m', 'items:list:{page}')
  list(@Query() query: PageQuery) {
    this.fixture.reads++;
    return { page: query.page, items: [...this.fixture.items.values()] };
  }

  @Get('search')
  @Cached(30, 'items:search:{q}')
  search(@Query() query: SearchQuery) {
    this.fixture.reads++;
    return { q: query.q ?? null };
  }

  @Get('values/:kind')
  @Cached(30, 'items:values:{kind}')
  value(@Param() { kind }: ValueParams) {
    this.fixture.reads++;
    return ROUND_TRIP_VALUES[kind];
  }

  /** A short TTL, for tests of expiry. */
  @Get('brief/:id')
  @Cached('2s', 'items:brief:{id}')
  brief(@Param() { id }: IdParams) {
    this.fixture.reads++;
    return { ...this.fixture.items.get(id), brief: true };
  }

  @Get(':id')
  @Cached(30, 'items:one:{id}')
  async one(@Param() { id }: IdParams) {
    this.fixture.reads++;
    const item = this.fixture.items.get(id);
    this.fixture.readStarted?.();
    if (this.fixture.gate) await this.fixture.gate;
    if (!item) throw new NotFoundException();
    return { ...item };
  }

  @Post()
  @InvalidatesCache('items:list:')
  create(@Body() body: WriteBody) {
    if (body.fail) throw new ConflictException('refused');
    const id = this.fixture.items.size + 1;
    this.fixture.items.set(id, { id, name: body.name });
    return this.fixture.items.get(id);
  }

  @Patch(':id')
  @InvalidatesCache('items:list:', 'items:one:{id}')
  update(@Param() { id }: IdParams, @Body() body: WriteBody) {
    if (body.fail) throw new ConflictException('refused');
    this.fixture.items.set(id, { id, name: body.name });
    return this.fixture.items.get(id);
  }
}

/** Options of the fixture's cache on `redis`: the tenant comes from `x-tenant`; L1 is off unless `overrides` say. */
export const itemsCacheOptions = (
  redis: TestRedisServer,
  prefix: string,
  overrides: Partial<RedisCacheModuleOptions> = {},
): RedisCacheModuleOptions => ({
  url: redis.url,
  prefix,
  opTimeoutMs: 500,
  l1: { maxEntries: 0 },
  tenantResolver: (req: FastifyRequest) => req.headers['x-tenant'] as string | undefined,
  ...overrides,
});

export type ItemsFixture = Awaited<ReturnType<typeof startItemsFixture>>;

/** The items API on the cache module, as an app of its own, started once its Redis client is connected. */
export async function startItemsFixture(
  options: RedisCacheModuleOptions,
  configure: (
    builder: ReturnType<typeof Test.createTestingModule>,
  ) => ReturnType<typeof Test.createTestingModule> = (b) => b,
) {
  @Module({
    imports: [RedisCacheModule.forRoot({ ...options, isGlobal: true })],
    controllers: [ItemsController],
    providers: [Fixture],
  })
  class FixtureModule {}
  const moduleRef = await configure(Test.createTestingModule({ imports: [FixtureModule] })).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }));
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  await untilReady(app.get<RedisClient>(REDIS_CACHE_CLIENT));
  return { app, fixture: app.get(Fixture), http: () => request(app.getHttpServer()) };
}

/** Start-up does not wait for Redis (requests meanwhile bypass the cache); these tests start once it is connected. */
export async function untilReady(client: RedisClient): Promise<void> {
  for (let i = 0; i < 200 && !client.isReady; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!client.isReady) throw new Error('the cache client did not connect');
}
