// The package adopted the way an externally written app adopts it (TESTING.md, issue 10): query DTOs described for
// OpenAPI and class-transformer only (no class-validator decorators), a global prefix, the app's own pipes (or
// none), a parameter pipe, on Fastify and on Express. Adding @Cached must change no status code and no answer.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  Module,
  Param,
  ParseIntPipe,
  Query,
  ValidationPipe,
  type INestApplication,
  type PipeTransform,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { Type } from 'class-transformer';
import request from 'supertest';
import { Cached, RedisCacheModule, RedisCacheService } from '../src/index.js';
import { TestRedisServer } from '../src/testing/index.js';

class ListPostsQuery {
  @ApiPropertyOptional({ type: Number })
  @Type(() => Number)
  page?: number;

  @ApiPropertyOptional()
  author?: string;

  @ApiPropertyOptional()
  tag?: string;
}

const calls = { list: 0, open: 0, item: 0 };

@Controller('posts')
class PostsController {
  @Get()
  @Cached('1m', 'posts:list:{page}:{author}:{tag}')
  list(@Query() query: ListPostsQuery) {
    calls.list++;
    return { filters: { page: query.page ?? null, author: query.author ?? null, tag: query.tag ?? null } };
  }

  /** A query the app does not describe at all: its fields cannot be known, so requests naming others bypass. */
  @Get('open')
  @Cached('1m', 'posts:open:{page}')
  open(@Query() query: Record<string, string>) {
    calls.open++;
    return { query };
  }

  @Get(':id')
  @Cached(30, 'posts:item:{id}')
  one(@Param('id', ParseIntPipe) id: number) {
    calls.item++;
    return { id, type: typeof id };
  }
}

class OmitsFiltersController {
  @Get()
  @Cached('1m', 'posts:list:{page}')
  list(@Query() query: ListPostsQuery) {
    return query;
  }
}
Controller('lossy')(OmitsFiltersController);

type Platform = 'fastify' | 'express';

async function start(
  platform: Platform,
  redis: TestRedisServer,
  pipe: PipeTransform | undefined,
  controllers = [PostsController],
) {
  @Module({
    imports: [RedisCacheModule.forRoot({ url: redis.url, prefix: `adopt${process.pid}:`, isGlobal: true })],
    controllers,
  })
  class AdoptingModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AdoptingModule] }).compile();
  const app = moduleRef.createNestApplication(
    platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(),
    {
      logger: false,
    },
  );
  app.setGlobalPrefix('api');
  if (pipe) app.useGlobalPipes(pipe);
  try {
    await app.init();
  } catch (error) {
    await app.close();
    throw error;
  }
  if (platform === 'fastify')
    await (app.getHttpAdapter().getInstance() as { ready(): Promise<void> }).ready();
  const cache = app.get(RedisCacheService);
  for (let i = 0; i < 200 && cache.status().redis !== 'up'; i++) await new Promise((r) => setTimeout(r, 10));
  return app;
}

const PIPES: [string, () => PipeTransform | undefined][] = [
  ['no global pipe', () => undefined],
  [
    'ValidationPipe({ transform: true, forbidUnknownValues: false })',
    () => new ValidationPipe({ transform: true, forbidUnknownValues: false }),
  ],
];

describe.each(['fastify', 'express'] as const)('adoption on %s with a global prefix', (platform) => {
  let redis: TestRedisServer;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  describe.each(PIPES)('and %s', (_label, pipe) => {
    let app: INestApplication;
    const http = () => request(app.getHttpServer());

    beforeAll(async () => {
      await (await redis.client()).flushAll();
      app = await start(platform, redis, pipe());
    });

    afterAll(async () => {
      await app?.close();
    });

    it('keys every filter a DTO declares for OpenAPI: ?author and ?tag never get the unfiltered list', async () => {
      const urls = ['/api/posts', '/api/posts?author=x', '/api/posts?tag=y', '/api/posts?author=x&tag=y'];
      const cold = [];
      for (const url of urls) {
        const answer = await http().get(url);
        expect({ url, status: answer.status, xCache: answer.headers['x-cache'] }).toEqual({
          url,
          status: 200,
          xCache: 'MISS',
        });
        cold.push(answer.text);
      }
      expect(new Set(cold).size).toBe(urls.length);
      expect(JSON.parse(cold[3]).filters).toMatchObject({ author: 'x', tag: 'y' });
      const before = calls.list;
      for (const [i, url] of urls.entries()) {
        const warm = await http().get(url);
        expect({ url, xCache: warm.headers['x-cache'], text: warm.text }).toEqual({
          url,
          xCache: 'HIT',
          text: cold[i],
        });
      }
      expect(calls.list).toBe(before);
    });

    it('serves a request naming a parameter the key cannot know uncached, never from another entry', async () => {
      await http().get('/api/posts/open?page=1');
      expect((await http().get('/api/posts/open?page=1')).headers['x-cache']).toBe('HIT');
      const other = await http().get('/api/posts/open?page=1&author=z');
      expect(other.status).toBe(200);
      expect(other.headers['x-cache']).toBe('BYPASS');
      expect(other.body.query).toEqual({ page: '1', author: 'z' });
      expect(app.get(RedisCacheService).stats().totals.unkeyedQueries).toBeGreaterThanOrEqual(1);
    });

    it('runs the parameter pipe the handler runs: the same 400 cold and warm, keys on the parsed number', async () => {
      expect((await http().get('/api/posts/abc')).status).toBe(400);
      const miss = await http().get('/api/posts/5');
      expect(miss.body).toEqual({ id: 5, type: 'number' });
      expect((await http().get('/api/posts/5')).headers['x-cache']).toBe('HIT');
      expect((await http().get('/api/posts/abc')).status).toBe(400);
      expect(await (await redis.client()).exists(`adopt${process.pid}:c:posts:item:5`)).toBe(1);
    });
  });

  it('refuses at start-up a pattern that leaves out a field the DTO declares, and says what to write', async () => {
    await expect(start(platform, redis, undefined, [OmitsFiltersController as never])).rejects.toMatchObject({
      code: 'E_KEY_PATTERN',
      message: expect.stringContaining(
        "@Cached on OmitsFiltersController.list: 'posts:list:{page}' leaves out {author}, {tag}",
      ),
    });
    await expect(start(platform, redis, undefined, [OmitsFiltersController as never])).rejects.toThrow(
      "Write 'posts:list:{page}:{author}:{tag}'",
    );
  });
});
