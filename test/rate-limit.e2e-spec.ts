import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisCacheService } from '@jobboard/redis-cache';
import { TestRedisServer } from '@jobboard/redis-cache/testing';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient, errorText } from './support/api-client.js';
import { startTestApp, type TestApp } from './support/test-app.js';

describe('rate-limited login and register', () => {
  let t: TestApp;
  let api: ApiClient;

  beforeAll(async () => {
    t = await startTestApp('pglite', { AUTH_RATE_LIMIT_MAX: '3', AUTH_RATE_LIMIT_WINDOW: '1m' });
    api = new ApiClient(t.app);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers 429 in the common shape once a client exceeds the window, per route', async () => {
    const attempts = [];
    for (let i = 0; i < 4; i++) {
      attempts.push(
        await api.post('/api/auth/login', { email: 'nobody@example.com', password: 'wrong-password' }),
      );
    }
    expect(attempts.map((r) => r.status)).toEqual([401, 401, 401, 429]);
    expect(errorText(attempts[3].body)).toMatch(/retry/i);
    expect(attempts[3].headers['retry-after']).toBeDefined();

    // Other routes are not limited, and register counts separately from login.
    for (let i = 0; i < 5; i++) expect((await api.get('/api/jobs?limit=1')).status).toBe(200);
    const register = await api.post('/api/auth/register', {
      email: 'rl@example.com',
      password: 'long enough',
      name: 'R',
    });
    expect(register.status).toBe(201);
  });
});

/** The limit as a fleet sees it: two instances on one redis-server, behind one proxy hop (TRUST_PROXY=1). */
describe('the login limit, shared by two instances through Redis', () => {
  const MAX = 4;
  let redis: TestRedisServer;
  let a: TestApp;
  let b: TestApp;
  const env = () => ({
    REDIS_URL: redis.url,
    CACHE_PREFIX: `ratelimit${process.pid}:`,
    AUTH_RATE_LIMIT_MAX: String(MAX),
    AUTH_RATE_LIMIT_WINDOW: '1m',
    TRUST_PROXY: '1',
  });
  const connected = async (t: TestApp) => {
    const cache = t.app.get(RedisCacheService, { strict: false });
    for (let i = 0; i < 200 && cache.status().backend !== 'redis'; i++) await sleep(10);
    expect(cache.status().backend).toBe('redis');
    return t;
  };
  /** One login attempt from `client` (the address the proxy saw), to `t`: its status. */
  const login = async (t: TestApp, client: string) =>
    (
      await new ApiClient(t.app)
        .raw()
        .post('/api/auth/login')
        .set('X-Forwarded-For', client)
        .send({ email: 'nobody@example.com', password: 'wrong-password' })
    ).status;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    a = await connected(await startTestApp('pglite', env()));
    b = await connected(await startTestApp('pglite', env()));
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('counts attempts on either instance into one window per client address, and a restart resets nothing', async () => {
    const statuses = [];
    for (let i = 0; i < MAX + 2; i++) statuses.push(await login(i % 2 ? b : a, '203.0.113.7'));
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    expect(await login(b, '203.0.113.8')).toBe(401); // another client, its own window

    await a.close();
    a = await connected(await startTestApp('pglite', env()));
    expect(await login(a, '203.0.113.7')).toBe(429);
  });

  it('Redis down: each instance limits on its own, answering 401 then 429, never a 5xx or a wait', async () => {
    await redis.kill();
    try {
      const started = performance.now();
      const statuses = [];
      for (let i = 0; i < MAX + 1; i++) statuses.push(await login(a, '203.0.113.9'));
      expect(statuses).toEqual([401, 401, 401, 401, 429]);
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      await redis.launch();
    }
  });
});
