import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedisCacheService } from '@jobboard/redis-cache';
import { TestRedisServer } from '@jobboard/redis-cache/testing';
import request from 'supertest';
import { AppModule } from '../src/app.module.js';
import { BooksStore } from '../src/books.store.js';

const PREFIX = `books${process.pid}:`;

describe('the books example on Express, cached by @jobboard/redis-cache on a real redis-server', () => {
  let redis: TestRedisServer;
  let app: INestApplication;
  let store: BooksStore;
  const http = () => request(app.getHttpServer());
  const as = (reader: string) => ({ Authorization: `Bearer ${reader}` });

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    app = await NestFactory.create(AppModule.forRoot({ redisUrl: redis.url, cachePrefix: PREFIX }), {
      logger: false,
    });
    app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }));
    await app.init();
    expect(app.getHttpAdapter().getType()).toBe('express');
    const cache = app.get(RedisCacheService);
    for (let i = 0; i < 200 && cache.status().redis !== 'up'; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(cache.status()).toEqual({ backend: 'redis', redis: 'up', circuit: 'closed' });
    store = app.get(BooksStore);
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('answers MISS, then HIT with the same bytes and ETag without querying, and 304 for that ETag', async () => {
    const miss = await http().get('/books?author=Italo%20Calvino');
    expect(miss.status).toBe(200);
    expect(miss.headers['x-cache']).toBe('MISS');
    const queries = store.queries;
    const hit = await http().get('/books?author=Italo%20Calvino');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.text).toBe(miss.text);
    expect(hit.headers.etag).toBe(miss.headers.etag);
    expect(store.queries).toBe(queries);
    const revalidated = await http()
      .get('/books?author=Italo%20Calvino')
      .set('If-None-Match', hit.headers.etag);
    expect(revalidated.status).toBe(304);
    const client = await redis.client();
    const key = `${PREFIX}c:books:list:Italo%20Calvino`;
    expect(await client.exists(key)).toBe(1);
    const ttl = await client.pTTL(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('a write invalidates what it changed before it answers: the next read misses and shows it', async () => {
    await http().get('/books');
    await http().get('/books/1');
    expect((await http().get('/books')).headers['x-cache']).toBe('HIT');
    const added = await http().post('/books').send({ title: 'Kindred', author: 'Octavia E. Butler' });
    expect(added.status).toBe(201);
    const list = await http().get('/books');
    expect(list.headers['x-cache']).toBe('MISS');
    expect(list.body.items.map((book: { title: string }) => book.title)).toContain('Kindred');
    expect((await http().get('/books/1')).headers['x-cache']).toBe('HIT');

    await http().patch('/books/1').send({ title: 'The Dispossessed' });
    const item = await http().get('/books/1');
    expect(item.headers['x-cache']).toBe('MISS');
    expect(item.body.title).toBe('The Dispossessed');
    expect((await http().get('/books')).headers['x-cache']).toBe('MISS');
  });

  it("keys per reader: one reader's shelf is never another's, and marking a book read refreshes only hers", async () => {
    expect((await http().get('/books/shelf')).status).toBe(401);
    const ann = await http().get('/books/shelf').set(as('ann'));
    const bob = await http().get('/books/shelf').set(as('bob'));
    expect(ann.body).toEqual({ reader: 'ann', items: [] });
    expect(bob.body).toEqual({ reader: 'bob', items: [] });
    expect(ann.headers['cache-control']).toBe('private, no-cache');
    expect(ann.headers.vary).toContain('Authorization');
    expect((await http().get('/books/shelf').set(as('bob'))).headers['x-cache']).toBe('HIT');

    expect((await http().put('/books/2/read').set(as('ann'))).status).toBe(204);
    const annAfter = await http().get('/books/shelf').set(as('ann'));
    expect(annAfter.headers['x-cache']).toBe('MISS');
    expect(annAfter.body.items.map((book: { id: number }) => book.id)).toEqual([2]);
    const bobAfter = await http().get('/books/shelf').set(as('bob'));
    expect(bobAfter.headers['x-cache']).toBe('HIT');
    expect(bobAfter.body).toEqual({ reader: 'bob', items: [] });
  });

  it('gives an invalid request the same 400 cold and warm, and caches 404s never', async () => {
    expect((await http().get('/books?colour=red')).status).toBe(400);
    expect((await http().get('/books/0')).status).toBe(400);
    for (let i = 0; i < 2; i++) {
      const missing = await http().get('/books/999');
      expect(missing.status).toBe(404);
      expect(missing.headers['x-cache']).toBeUndefined();
    }
  });
});
