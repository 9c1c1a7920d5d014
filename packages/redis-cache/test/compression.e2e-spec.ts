// Bytes on the wire: responses over compressAbove are stored gzip-compressed once; a client that accepts gzip gets
// the stored bytes, any other the plain ones, each representation with its own ETag. Read with fastify.inject, which
// hands back the bytes as sent (supertest would decompress them).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gunzipSync } from 'node:zlib';
import { TestRedisServer } from '../src/testing/index.js';
import { startContractApp, type ContractApp } from './support/contract-app.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  bytes: Buffer;
}

async function get(t: ContractApp, path: string, headers: Record<string, string> = {}, method = 'GET') {
  const fastify = t.app.getHttpAdapter().getInstance() as {
    inject(options: object): Promise<{ statusCode: number; headers: Answer['headers']; rawPayload: Buffer }>;
  };
  const response = await fastify.inject({ method, url: t.url(path), headers });
  return { status: response.statusCode, headers: response.headers, bytes: response.rawPayload } as Answer;
}

const GZIP = { 'accept-encoding': 'gzip, deflate, br' };
const varyOf = (answer: Answer) => String(answer.headers.vary ?? '');
const plainText = (answer: Answer) =>
  (answer.headers['content-encoding'] === 'gzip' ? gunzipSync(answer.bytes) : answer.bytes).toString('utf8');

describe('compressed entries on Fastify', () => {
  let redis: TestRedisServer;
  let t: ContractApp;
  const prefix = `gzip${process.pid}:`;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    t = await startContractApp({ platform: 'fastify', redis, keyPrefix: prefix });
  });

  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('stores a large answer compressed once and sends those bytes to gzip clients, miss and hit alike', async () => {
    const miss = await get(t, '/notes/long?page=1', GZIP);
    const hit = await get(t, '/notes/long?page=1', GZIP);
    expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    for (const answer of [miss, hit]) {
      expect(answer.status).toBe(200);
      expect(answer.headers['content-encoding']).toBe('gzip');
      expect(varyOf(answer)).toMatch(/Accept-Encoding/);
      expect(answer.headers.etag).toMatch(/^"[\w-]+-gzip"$/);
      expect(Number(answer.headers['content-length'])).toBe(answer.bytes.length);
    }
    expect(hit.bytes.equals(miss.bytes)).toBe(true);
    expect(hit.headers.etag).toBe(miss.headers.etag);

    const plain = await get(t, '/notes/long?page=1');
    expect(plain.headers['x-cache']).toBe('HIT');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(varyOf(plain)).toMatch(/Accept-Encoding/);
    expect(JSON.parse(plain.bytes.toString('utf8')).lines).toHaveLength(80);
    expect(plainText(hit)).toBe(plain.bytes.toString('utf8'));
    expect(hit.headers.etag).toBe(String(plain.headers.etag).replace(/"$/, '-gzip"'));
    console.log(`compressed answer: ${hit.bytes.length} of ${plain.bytes.length} bytes`);
    expect(hit.bytes.length).toBeLessThan(plain.bytes.length * 0.4);

    // Redis holds the compressed frame: what is stored is what gzip clients get, plus four header lines.
    const stored = await (await redis.client()).strLen(`${prefix}c:notes:long:1`);
    expect(stored).toBeLessThan(hit.bytes.length + 200);
  });

  it.each([
    ['gzip;q=0', false],
    ['identity', false],
    ['br', false],
    ['*', true],
    ['br;q=1, *;q=0.1', true],
    ['GZIP;q=0.5', true],
    ['*, gzip;q=0', false],
  ])('Accept-Encoding %p: compressed %p', async (acceptEncoding, compressed) => {
    await get(t, '/notes/long?page=2', GZIP);
    const answer = await get(t, '/notes/long?page=2', { 'accept-encoding': acceptEncoding });
    expect(answer.headers['x-cache']).toBe('HIT');
    expect(answer.headers['content-encoding'] === 'gzip').toBe(compressed);
    expect(JSON.parse(plainText(answer)).page).toBe(2);
  });

  it('revalidates each representation by its own ETag, and HEAD describes the compressed one', async () => {
    const zipped = await get(t, '/notes/long?page=3', GZIP);
    const plain = await get(t, '/notes/long?page=3');
    const zippedTag = String(zipped.headers.etag);
    const plainTag = String(plain.headers.etag);
    expect(zippedTag).not.toBe(plainTag);

    const same = await get(t, '/notes/long?page=3', { ...GZIP, 'if-none-match': zippedTag });
    expect(same.status).toBe(304);
    expect(same.bytes.length).toBe(0);
    expect(same.headers.etag).toBe(zippedTag);
    // Holding the plain bytes but now accepting gzip: another representation, sent whole.
    const other = await get(t, '/notes/long?page=3', { ...GZIP, 'if-none-match': plainTag });
    expect(other.status).toBe(200);
    expect(other.bytes.equals(zipped.bytes)).toBe(true);
    expect((await get(t, '/notes/long?page=3', { 'if-none-match': plainTag })).status).toBe(304);

    const head = await get(t, '/notes/long?page=3', GZIP, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-encoding']).toBe('gzip');
    expect(head.headers.etag).toBe(zippedTag);
    expect(head.bytes.length).toBe(0);
  });

  it('per-viewer answers too (hits through the guard and the interceptor), each viewer its own bytes', async () => {
    const alice = { ...GZIP, authorization: 'Bearer alice' };
    await get(t, '/notes/long/mine', alice);
    const hit = await get(t, '/notes/long/mine', alice);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['content-encoding']).toBe('gzip');
    expect(varyOf(hit)).toMatch(/Authorization/);
    expect(varyOf(hit)).toMatch(/Accept-Encoding/);
    expect(JSON.parse(plainText(hit)).viewer).toBe('alice');
    const bob = await get(t, '/notes/long/mine', { authorization: 'Bearer bob' });
    expect(bob.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(plainText(bob)).viewer).toBe('bob');
  });

  it('leaves small answers plain, and another instance sends the stored bytes from Redis as they are', async () => {
    await get(t, '/notes/1', GZIP);
    const small = await get(t, '/notes/1', GZIP);
    expect(small.headers['x-cache']).toBe('HIT');
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(varyOf(small)).toMatch(/Accept-Encoding/);

    const other = await startContractApp({ platform: 'fastify', redis, keyPrefix: prefix });
    try {
      const first = await get(t, '/notes/long?page=4', GZIP);
      const fromRedis = await get(other, '/notes/long?page=4', GZIP);
      expect(fromRedis.headers['x-cache']).toBe('HIT');
      expect(fromRedis.bytes.equals(first.bytes)).toBe(true);
      const plainFromRedis = await get(other, '/notes/long?page=5');
      expect(plainFromRedis.headers['x-cache']).toBe('MISS');
      const plainHit = await get(t, '/notes/long?page=5');
      expect(plainHit.headers['content-encoding']).toBeUndefined();
      expect(plainHit.bytes.equals(plainFromRedis.bytes)).toBe(true);
    } finally {
      await other.close();
    }
  });
});

describe('compressAbove: false, and Express', () => {
  let redis: TestRedisServer;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('with compressAbove: false nothing is compressed and answers do not vary by Accept-Encoding', async () => {
    const t = await startContractApp({
      platform: 'fastify',
      redis,
      keyPrefix: `nogzip${process.pid}:`,
      cacheOptions: { compressAbove: false },
    });
    try {
      await get(t, '/notes/long?page=1', GZIP);
      const hit = await get(t, '/notes/long?page=1', GZIP);
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.headers['content-encoding']).toBeUndefined();
      expect(varyOf(hit)).not.toMatch(/Accept-Encoding/);
    } finally {
      await t.close();
    }
  });

  it('Express sends the plain bytes (its adapter cannot pass compressed ones through Nest)', async () => {
    const t = await startContractApp({ platform: 'express', redis, keyPrefix: `expressgzip${process.pid}:` });
    try {
      await t.http().get(t.url('/notes/long?page=1')).set('Accept-Encoding', 'gzip');
      const hit = await t.http().get(t.url('/notes/long?page=1')).set('Accept-Encoding', 'gzip');
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.headers['content-encoding']).toBeUndefined();
      expect(hit.body.lines).toHaveLength(80);
    } finally {
      await t.close();
    }
  });
});
