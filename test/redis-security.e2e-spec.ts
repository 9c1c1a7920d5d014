import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { TestRedisServer } from '@jobboard/redis-cache/testing';
import {
  runAppExpectingExit,
  spawnApp,
  startAppCluster,
  freePort,
  type SpawnedApp,
} from './support/spawn-app.js';
import { makeTlsFiles, type TlsFiles } from '@jobboard/redis-cache/testing';

/** A secret that must never appear in a log line, a health body or an error body, whatever goes wrong. */
const CANARY = 'CANARY-9f3e';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The real app, embedded PGlite in memory, debug logs: the most it will ever print. */
const appEnv = (env: Record<string, string>) => ({
  PGLITE_DIR: 'memory://',
  LOG_LEVEL: 'debug',
  CACHE_OP_TIMEOUT_MS: '150',
  ...env,
});

interface Answer {
  status: number;
  cache: string | null;
  text: string;
}

async function get(app: SpawnedApp, path: string): Promise<Answer> {
  const response = await fetch(app.baseUrl + path);
  return { status: response.status, cache: response.headers.get('x-cache'), text: await response.text() };
}

/** Until the app answers from its cache (its Redis client connected), or `attempts` run out; the last answer. */
async function untilCacheAnswers(app: SpawnedApp, path: string, attempts = 100): Promise<Answer> {
  let answer = await get(app, path);
  for (let i = 0; i < attempts && answer.cache === 'BYPASS'; i++) {
    await sleep(30);
    answer = await get(app, path);
  }
  return answer;
}

/** Everything an operator or a client could see: the logs so far, and the bodies of health, data and error routes. */
async function everythingVisible(app: SpawnedApp): Promise<string> {
  const bodies = await Promise.all(
    ['/health', '/health/ready', '/api/jobs?limit=2', '/api/jobs/99999999', '/api/nope'].map(
      async (path) => (await get(app, path)).text,
    ),
  );
  await sleep(1_200); // logs are flushed every second
  return [app.output(), ...bodies].join('\n');
}

/** 200s from the database (BYPASS), then from L1 (HIT, capped at CACHE_L1_TTL), and nothing written to Redis. */
async function expectServedWithoutRedis(
  app: SpawnedApp,
  redis: TestRedisServer,
  prefix: string,
): Promise<void> {
  const first = await get(app, '/api/jobs?limit=3');
  expect(first.status).toBe(200);
  expect(first.cache).toBe('BYPASS');
  for (let i = 0; i < 4; i++) {
    const answer = await get(app, '/api/jobs?limit=3');
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(first.text);
    expect(['HIT', 'BYPASS']).toContain(answer.cache);
  }
  const admin = await redis.client();
  const written: string[] = [];
  for await (const keys of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) written.push(...keys);
  expect(written).toEqual([]);
}

const redisErrorLines = (output: string) =>
  output.split('\n').filter((line) => /"level":(40|50)/.test(line) && /redis|cache/i.test(line));

/**
 * RELIABILITY.md §4 scenarios 8, 9, 10 and 20 with the real app as a process: TLS with the right and a wrong CA, a
 * wrong password, an ACL user limited to the app's prefix and channel, and a credential canary in every failure.
 */
describe('Redis credentials, TLS and ACL', () => {
  let tls: TlsFiles;
  const apps: SpawnedApp[] = [];
  const servers: TestRedisServer[] = [];

  beforeAll(() => {
    tls = makeTlsFiles();
  });

  afterAll(async () => {
    for (const app of apps) await app.stop();
    for (const server of servers) await server.stop();
    tls?.remove();
  });

  async function started(env: Record<string, string>): Promise<SpawnedApp> {
    const app = await spawnApp(appEnv(env), { timeoutMs: 60_000 });
    apps.push(app);
    return app;
  }

  it('caches over rediss:// with REDIS_TLS_CA_FILE; with a CA that did not sign the server, serves from the database', async () => {
    const redis = await TestRedisServer.start([], { tls });
    servers.push(redis);
    const trusted = await started({
      REDIS_URL: redis.url,
      REDIS_TLS_CA_FILE: tls.caFile,
      CACHE_PREFIX: 'tls:',
    });
    expect((await untilCacheAnswers(trusted, '/api/jobs?limit=3')).cache).toBe('MISS');
    await sleep(50);
    expect((await get(trusted, '/api/jobs?limit=3')).cache).toBe('HIT');
    const stored: string[] = [];
    for await (const keys of (await redis.client()).scanIterator({ MATCH: 'tls:c:jobs:list:*', COUNT: 1000 }))
      stored.push(...keys);
    expect(stored).toHaveLength(1);

    const untrusted = await started({
      REDIS_URL: redis.url.replace('rediss://', `rediss://:${CANARY}@`),
      REDIS_TLS_CA_FILE: tls.otherCaFile,
      CACHE_PREFIX: 'tls2:',
    });
    await sleep(1_000);
    await expectServedWithoutRedis(untrusted, redis, 'tls2:');
    const visible = await everythingVisible(untrusted);
    console.log(
      `TLS with a wrong CA: ${redisErrorLines(visible).length} Redis error line(s), e.g. ${redisErrorLines(visible)[0]}`,
    );
    expect(redisErrorLines(visible).length).toBeGreaterThan(0);
    expect(visible).not.toContain(CANARY);
  });

  it('keeps serving with a wrong password, says so generically, and never prints the password', async () => {
    const redis = await TestRedisServer.start(['--requirepass', 'right-admin-password'], {
      adminPassword: 'right-admin-password',
    });
    servers.push(redis);
    const app = await started({
      REDIS_URL: redis.url.replace('redis://', `redis://:${CANARY}@`),
      CACHE_PREFIX: 'pw:',
    });
    await sleep(1_000);
    await expectServedWithoutRedis(app, redis, 'pw:');
    const visible = await everythingVisible(app);
    console.log(
      `wrong password: ${redisErrorLines(visible).length} Redis error line(s), e.g. ${redisErrorLines(visible)[0]}`,
    );
    expect(redisErrorLines(visible).length).toBeGreaterThan(0);
    expect(visible).not.toContain(CANARY);
  });

  it('survives a password rotation: reported down while the password is wrong, recovers without a restart', async () => {
    const password = `${CANARY}-first`;
    const redis = await TestRedisServer.start(['--requirepass', password], { adminPassword: password });
    servers.push(redis);
    const app = await started({
      REDIS_URL: redis.url.replace('redis://', `redis://:${password}@`),
      CACHE_PREFIX: 'rot:',
    });
    expect((await untilCacheAnswers(app, '/api/jobs?limit=4')).cache).toBe('MISS');

    // Rotate on the server only, and drop the app's connections: they come back with the old password.
    const admin = await redis.client();
    await admin.configSet('requirepass', 'rotated-password');
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await sleep(500);
    for (let i = 0; i < 3; i++) {
      const answer = await get(app, `/api/jobs?limit=5&skip=${i}`);
      expect(answer.status).toBe(200);
      expect(answer.cache).toBe('BYPASS');
    }

    // Rotate back (as an operator would by updating the app's secret and the server together): recovery.
    await admin.configSet('requirepass', password);
    const recoveredFrom = performance.now();
    // A fresh key each time: L1 would answer a repeated one (HIT) from the database fills of the outage.
    let recovered = await get(app, '/api/jobs?limit=6&skip=100');
    for (let i = 101; i < 300 && recovered.cache !== 'MISS'; i++) {
      await sleep(25);
      recovered = await get(app, `/api/jobs?limit=6&skip=${i}`);
    }
    console.log(
      `password rotation: cache back ${(performance.now() - recoveredFrom).toFixed(0)} ms after the fix`,
    );
    expect(recovered.cache).toBe('MISS');
    const visible = await everythingVisible(app);
    // One line per outage window: the dropped connection opens it; the WRONGPASS retries fall inside it.
    expect(redisErrorLines(visible).length).toBeGreaterThan(0);
    expect(visible).not.toContain(CANARY);
  });

  it('never prints the password when Redis is absent at boot, or when REDIS_URL is malformed', async () => {
    const port = await freePort();
    const app = await started({
      REDIS_URL: `redis://app:${CANARY}@127.0.0.1:${port}`,
      CACHE_PREFIX: 'absent:',
    });
    await sleep(1_000);
    expect((await get(app, '/api/jobs?limit=3')).cache).toBe('BYPASS');
    const visible = await everythingVisible(app);
    expect(redisErrorLines(visible).length).toBeGreaterThan(0);
    expect(visible).not.toContain(CANARY);

    for (const url of [
      `redis//:${CANARY}@127.0.0.1:6379`,
      `http://:${CANARY}@127.0.0.1:6379`,
      `${CANARY}@127.0.0.1`,
    ]) {
      const refused = await runAppExpectingExit(appEnv({ REDIS_URL: url }));
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain('REDIS_URL');
      expect(refused.output).not.toContain(CANARY);
    }
  });

  it('works as an ACL user limited to the app prefix and channel, across two instances, with no denial logged', async () => {
    const redis = await TestRedisServer.start(
      [
        '--user',
        'default',
        'on',
        '>admin-password',
        '~*',
        '&*',
        '+@all',
        '--user',
        'app',
        'on',
        `>${CANARY}`,
        '~acl:*',
        '&acl:*',
        '+@all',
        '-@dangerous',
      ],
      { adminPassword: 'admin-password' },
    );
    servers.push(redis);
    const cluster = await startAppCluster(
      2,
      appEnv({ REDIS_URL: redis.url.replace('redis://', `redis://app:${CANARY}@`), CACHE_PREFIX: 'acl:' }),
      { timeoutMs: 60_000 },
    );
    apps.push(...cluster.instances);
    const [a, b] = cluster.instances;
    // Each instance has its own embedded database here; what is shown is that every cache command the app sends
    // (MGET, MULTI/SET/INCR, PUBLISH, SUBSCRIBE, PING, CLIENT SETNAME) is allowed, and A's fill serves B.
    expect((await untilCacheAnswers(a, '/api/jobs/stats/overview')).cache).toBe('MISS');
    await sleep(50);
    expect((await untilCacheAnswers(b, '/api/jobs/stats/overview')).cache).toBe('HIT');
    const admin = await redis.client();
    expect(await admin.exists('acl:c:jobs:stats:overview')).toBe(1);
    const subscribed = String(await admin.sendCommand(['CLIENT', 'LIST']))
      .split('\n')
      .filter((line) => line.includes(' user=app ') && / sub=1 /.test(line));
    expect(subscribed).toHaveLength(2);
    // A write: generation bump and PUBLISH in one MULTI, under the same user.
    const registered = await fetch(`${a.baseUrl}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'acl.writer@example.com',
        password: 'correct horse battery',
        name: 'ACL',
      }),
    });
    expect(registered.status).toBe(201);
    expect(await admin.get('acl:g:users:list:')).not.toBeNull();
    expect(await admin.sendCommand(['ACL', 'LOG'])).toEqual([]);
    const visible = await everythingVisible(b);
    expect(visible).not.toContain(CANARY);
    expect(visible).not.toMatch(/NOPERM/);
  });
});
