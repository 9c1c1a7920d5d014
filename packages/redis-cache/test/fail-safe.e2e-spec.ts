import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  HttpException,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Post,
  ValidationPipe,
  type INestApplication,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { performance } from 'node:perf_hooks';
import request from 'supertest';
import { Cached, InvalidatesCache, RedisCacheModule, RedisCacheService } from '../src/index.js';
import { TestRedisServer } from '../src/testing/index.js';
import { sleep } from './support/named-fixture.js';

type Mode = 'ok' | 'throw' | 'slow' | '503' | '404';

/** The "database" behind the fixture: what the next handler run does, and how many runs there were. */
@Injectable()
class Backend {
  mode: Mode = 'ok';
  version = 1;
  calls = 0;
  slowMs = 1_000;

  async answer(id: string) {
    this.calls++;
    if (this.mode === 'throw') throw new Error('database unavailable');
    if (this.mode === '503') throw new HttpException('upstream down', 503);
    if (this.mode === '404') throw new NotFoundException();
    if (this.mode === 'slow') await sleep(this.slowMs);
    return { id, version: this.version };
  }
}

@Controller('pages')
class PagesController {
  constructor(private readonly backend: Backend) {}

  @Get('graced/:id')
  @Cached('400ms', 'pages:graced:{id}', { grace: '1h', softTimeout: '150ms', graceBackoff: '1500ms' })
  graced(@Param('id') id: string) {
    return this.backend.answer(id);
  }

  @Get('swr/:id')
  @Cached('400ms', 'pages:swr:{id}', { grace: '1h', staleWhileRevalidate: true })
  swr(@Param('id') id: string) {
    return this.backend.answer(id);
  }

  @Get('hard/:id')
  @Cached('400ms', 'pages:hard:{id}', { hardTimeout: '200ms' })
  hard(@Param('id') id: string) {
    return this.backend.answer(id);
  }

  @Post('graced/:id')
  @InvalidatesCache('pages:graced:{id}')
  write(@Param('id') id: string) {
    this.backend.version++;
    return { id };
  }
}

describe.each(['fastify', 'express'] as const)('fail-safe on %s (ARCHITECTURE.md §11)', (platform) => {
  let redis: TestRedisServer;
  let app: INestApplication;
  let backend: Backend;
  const http = () => request(app.getHttpServer());
  /** A key of its own per test, filled, then past its TTL (graced). */
  let n = 0;
  async function gracedKey(route = 'graced') {
    backend.mode = 'ok';
    const id = `k${++n}`;
    const miss = await http().get(`/pages/${route}/${id}`);
    expect(miss.headers['x-cache']).toBe('MISS');
    await sleep(500); // past the 400 ms TTL
    return { id, miss };
  }

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    @Module({
      imports: [
        RedisCacheModule.forRoot({ url: redis.url, prefix: `failsafe-${platform}:`, isGlobal: true }),
      ],
      controllers: [PagesController],
      providers: [Backend],
    })
    class FailSafeModule {}
    const moduleRef = await Test.createTestingModule({ imports: [FailSafeModule] }).compile();
    app = moduleRef.createNestApplication(
      platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(),
      {
        logger: false,
      },
    );
    app.useGlobalPipes(new ValidationPipe({ transform: true }));
    await app.init();
    if (platform === 'fastify')
      await (app.getHttpAdapter().getInstance() as { ready(): Promise<void> }).ready();
    const cache = app.get(RedisCacheService);
    for (let i = 0; i < 200 && cache.status().redis !== 'up'; i++) await sleep(10);
    backend = app.get(Backend);
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('keeps an entry for ttl + grace in Redis, fresh for ttl only', async () => {
    const { id } = await gracedKey();
    const key = `failsafe-${platform}:c:pages:graced:${id}`;
    const ttl = await (await redis.client()).pTTL(key);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_400);
    backend.version = 7;
    const refreshed = await http().get(`/pages/graced/${id}`);
    expect(refreshed.headers['x-cache']).toBe('MISS');
    expect(refreshed.body.version).toBe(7);
  });

  it('answers the graced entry when the handler throws: STALE, its bytes and ETag, an Age; then backs off', async () => {
    const { id, miss } = await gracedKey();
    backend.mode = 'throw';
    const calls = backend.calls;
    const stale = await http().get(`/pages/graced/${id}`);
    expect(stale.status).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.text).toBe(miss.text);
    expect(stale.headers.etag).toBe(miss.headers.etag);
    expect(Number(stale.headers.age)).toBeGreaterThanOrEqual(0);
    expect(backend.calls).toBe(calls + 1);
    // Within graceBackoff: answered at once, the handler not run.
    for (let i = 0; i < 5; i++)
      expect((await http().get(`/pages/graced/${id}`)).headers['x-cache']).toBe('STALE');
    expect(backend.calls).toBe(calls + 1);
    const notModified = await http().get(`/pages/graced/${id}`).set('If-None-Match', miss.headers.etag);
    expect(notModified.status).toBe(304);
    // After the back-off, one more try; the database is back: fresh again.
    await sleep(1_600);
    backend.mode = 'ok';
    const fresh = await http().get(`/pages/graced/${id}`);
    expect(fresh.headers['x-cache']).toBe('MISS');
    expect(app.get(RedisCacheService).stats().totals.staleServed).toBeGreaterThanOrEqual(6);
  });

  it('answers STALE for a thrown 5xx too, but never for a 4xx', async () => {
    const { id } = await gracedKey();
    backend.mode = '503';
    expect((await http().get(`/pages/graced/${id}`)).headers['x-cache']).toBe('STALE');
    const other = await gracedKey();
    backend.mode = '404';
    expect((await http().get(`/pages/graced/${other.id}`)).status).toBe(404);
  });

  it('answers STALE within softTimeout when the handler is slow; the handler finishes and fills the cache', async () => {
    const { id, miss } = await gracedKey();
    backend.mode = 'slow';
    backend.version = 40;
    const started = performance.now();
    const stale = await http().get(`/pages/graced/${id}`);
    const elapsed = performance.now() - started;
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.text).toBe(miss.text);
    expect(elapsed).toBeLessThan(150 + 100 + 100);
    await sleep(backend.slowMs + 100);
    backend.mode = 'ok';
    const hit = await http().get(`/pages/graced/${id}`);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.body.version).toBe(40);
  });

  it('never answers an invalidated entry, not even as a fallback', async () => {
    const { id } = await gracedKey();
    expect((await http().post(`/pages/graced/${id}`)).status).toBe(201);
    backend.mode = 'throw';
    expect((await http().get(`/pages/graced/${id}`)).status).toBe(500);
  });

  it('stale-while-revalidate: answers the graced entry at once, one background refresh brings the fresh one', async () => {
    const { id, miss } = await gracedKey('swr');
    backend.mode = 'slow';
    backend.slowMs = 300;
    backend.version = 90;
    const calls = backend.calls;
    const answers = await Promise.all(Array.from({ length: 10 }, () => http().get(`/pages/swr/${id}`)));
    expect(
      answers.every((answer) => answer.headers['x-cache'] === 'STALE' && answer.text === miss.text),
    ).toBe(true);
    await sleep(400);
    expect(backend.calls).toBe(calls + 1);
    const fresh = await http().get(`/pages/swr/${id}`);
    expect(fresh.headers['x-cache']).toBe('HIT');
    expect(fresh.body.version).toBe(90);
    backend.slowMs = 1_000;
  });

  it('hardTimeout without a graced entry: 503 after it, and the late answer still fills the cache', async () => {
    backend.mode = 'slow';
    backend.version = 123;
    const started = performance.now();
    const late = await http().get('/pages/hard/h1');
    expect(late.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(200 + 200);
    await sleep(backend.slowMs);
    backend.mode = 'ok';
    const hit = await http().get('/pages/hard/h1');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.body.version).toBe(123);
  });

  it('with Redis away, the graced copy in L1 stands in', async () => {
    const { id, miss } = await gracedKey(); // the fill left a copy in this instance's L1, now graced
    await redis.kill();
    try {
      backend.mode = 'throw';
      const stale = await http().get(`/pages/graced/${id}`);
      expect(stale.headers['x-cache']).toBe('STALE');
      expect(stale.text).toBe(miss.text);
    } finally {
      await redis.launch();
    }
  });
});
