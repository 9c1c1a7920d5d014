import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { RedisCacheService } from '@jobboard/redis-cache';
import { commandCounts, TestRedisServer } from '@jobboard/redis-cache/testing';
import { seedDatabase } from '../src/database/seed.js';
import { maskUrl } from '../src/config/mask-url.util.js';
import { ApiClient } from './support/api-client.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const PREFIX = `e2e${process.pid}:`;
const ADMIN_TOKEN = 'admin-token-for-the-cache-e2e-suite';

/** The API with its cache on a redis-server of this suite's own and PostgreSQL. */
describe('cached API on Redis and PostgreSQL', () => {
  let redis: TestRedisServer;
  let t: TestApp;
  let api: ApiClient;
  let ada: { id: number; token: string };
  let bob: { id: number; token: string };

  /** GETs twice and checks MISS then HIT with the same bytes; returns the first response. */
  const missThenHit = async (path: string, token?: string) => {
    const first = await api.get(path, token);
    expect(first.status).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    await untilStored();
    const second = await api.get(path, token);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.text).toBe(first.text);
    return first;
  };

  /** Fills are not awaited by the reader; give the one just issued time to land. */
  const untilStored = () => new Promise((resolve) => setTimeout(resolve, 30));

  beforeAll(async () => {
    redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    t = await startTestApp('postgres', {
      REDIS_URL: redis.url,
      CACHE_PREFIX: PREFIX,
      CACHE_OP_TIMEOUT_MS: '150',
      ADMIN_TOKEN,
    });
    const cache = t.app.get(RedisCacheService);
    for (let i = 0; i < 200 && cache.status().redis !== 'up'; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(t.app.get(RedisCacheService).stats().backend).toBe('redis');
    console.log(`cache e2e: Redis ${maskUrl(redis.url)}, ${t.database.location}`);
    api = new ApiClient(t.app);
    await seedDatabase(t.database.db, { users: 20, jobs: 80, posts: 60, seed: 5 });
    ada = await api.register('Ada Cache');
    bob = await api.register('Bob Cache');
  });

  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('answers MISS then HIT with identical bytes on every cached route', async () => {
    const job = (await api.get('/api/jobs?limit=1')).body.items[0];
    const paths: [string, string?][] = [
      ['/api/jobs?skip=5&limit=7&location=Berlin'],
      ['/api/jobs/stats/overview'],
      [`/api/jobs/${job.id}`],
      ['/api/users/list?limit=5'],
      ['/api/users/list?limit=5', ada.token],
      [`/api/users/${bob.id}`],
      [`/api/users/${bob.id}`, ada.token],
      ['/api/posts?limit=5'],
      ['/api/posts?following=true', ada.token],
      [`/api/posts/user/${bob.id}`],
    ];
    for (const [path, token] of paths) await missThenHit(path, token);
  });

  it('keys on validated values: ?limit=20 and no limit share one entry; junk parameters are 400 and store nothing', async () => {
    await missThenHit('/api/jobs?category=Legal');
    expect((await api.get('/api/jobs?category=Legal&limit=20&skip=0')).headers['x-cache']).toBe('HIT');
    expect((await api.get('/api/jobs?category=Legal&utm=1')).status).toBe(400);
    const client = await redis.client();
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${PREFIX}*utm*`, COUNT: 1000 }))
      keys.push(...batch);
    expect(keys).toEqual([]);
  });

  it('leaves nothing in Redis that outlives the route TTL for 20,000 lookups of ids that do not exist', async () => {
    const client = await redis.client();
    const keysNow = async () => {
      const keys = new Set<string>();
      for await (const batch of client.scanIterator({ MATCH: `${PREFIX}*`, COUNT: 1000 }))
        for (const key of batch) keys.add(key);
      return keys;
    };
    const before = await keysNow();
    const fastify = t.app.getHttpAdapter().getInstance();
    const LOOKUPS = 20_000;
    for (let i = 0; i < LOOKUPS; i += 100) {
      const batch = Array.from({ length: 100 }, (_, j) =>
        fastify.inject({ method: 'GET', url: `/api/jobs/${1_000_000_000 + i + j}` }),
      );
      for (const response of await Promise.all(batch)) expect(response.statusCode).toBe(404);
    }
    const added = [...(await keysNow())].filter((key) => !before.has(key));
    const ttls = await Promise.all(added.map((key) => client.pTTL(key)));
    console.log(
      `${LOOKUPS} lookups of unknown jobs: ${added.length} new keys, longest TTL ${Math.max(0, ...ttls)} ms`,
    );
    // The bound: one counter per distinct id looked up plus the route's shared ones, each gone within the route's
    // TTL (120 s); a 404 is never stored, so nothing extends them.
    expect(added.length).toBeLessThanOrEqual(LOOKUPS + 3);
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(120_000);
    }
    expect((await api.get('/api/jobs?limit=1')).status).toBe(200);
  });

  it('stores readable keys fresh for the TTL of their route, kept for the grace beyond it', async () => {
    await missThenHit('/api/posts/user/1?limit=3');
    const client = await redis.client();
    const ttlOf = async (pattern: string) => {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${PREFIX}c:${pattern}`, COUNT: 1000 }))
        keys.push(...batch);
      expect(keys.length).toBeGreaterThan(0);
      return Math.max(...(await Promise.all(keys.map((key) => client.pTTL(key)))));
    };
    const ranges: [string, number][] = [
      ['jobs:list:*', 120_000],
      ['jobs:stats:*', 300_000],
      ['jobs:item:*', 120_000],
      ['users:list:*', 180_000],
      ['users:item:*', 180_000],
      ['posts:list:*', 30_000],
      ['posts:user:*', 30_000],
    ];
    // Redis keeps each entry for its TTL plus the grace (CACHE_GRACE, 1 h by default); the frame says how long it
    // is fresh: exactly the route's TTL.
    const GRACE_MS = 3_600_000;
    for (const [pattern, ttl] of ranges) {
      const pttl = await ttlOf(pattern);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(ttl + GRACE_MS);
      expect(pttl).toBeGreaterThan(ttl + GRACE_MS - 60_000);
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${PREFIX}c:${pattern}`, COUNT: 1000 }))
        keys.push(...batch);
      const [freshUntil, graceUntil, storedAt] = (await client.get(keys[0]))!
        .split('\n')[1]
        .split(' ')
        .map(Number);
      expect({ pattern, fresh: freshUntil - storedAt, grace: graceUntil - freshUntil }).toEqual({
        pattern,
        fresh: ttl,
        grace: GRACE_MS,
      });
    }
  });

  it('marks per-viewer responses private and varying by Authorization, public ones no-cache', async () => {
    const perViewer = await api.get('/api/users/list?limit=2', ada.token);
    expect(perViewer.headers['cache-control']).toBe('private, no-cache');
    expect(perViewer.headers.vary).toMatch(/Authorization/);
    const shared = await api.get('/api/jobs?limit=2');
    expect(shared.headers['cache-control']).toBe('no-cache');
  });

  it('after a job write, every affected list misses and shows it; posts and users stay cached; no SCAN or KEYS', async () => {
    await t.app.get(RedisCacheService).clear();
    await missThenHit('/api/jobs?location=Oslo&limit=100');
    await missThenHit('/api/jobs/stats/overview');
    await missThenHit('/api/posts?limit=4');
    await missThenHit('/api/users/list?limit=4');
    const before = (await api.get('/api/jobs/stats/overview')).body;

    const client = await redis.client();
    await client.configResetStat();
    const created = await api.post(
      '/api/jobs',
      {
        title: 'Cache Engineer',
        company: 'Gen Co',
        location: 'Oslo',
        category: 'DevOps',
        type: 'contract',
        description: 'x',
      },
      ada.token,
    );
    expect(created.status).toBe(201);
    const commands = await commandCounts(client);
    for (const name of ['scan', 'keys', 'flushdb', 'flushall']) expect(commands[name] ?? 0).toBe(0);

    const list = await api.get('/api/jobs?location=Oslo&limit=100');
    expect(list.headers['x-cache']).toBe('MISS');
    expect(list.body.items[0].id).toBe(created.body.id);
    const stats = await api.get('/api/jobs/stats/overview');
    expect(stats.headers['x-cache']).toBe('MISS');
    expect(stats.body.total).toBe(before.total + 1);
    expect((await api.get('/api/posts?limit=4')).headers['x-cache']).toBe('HIT');
    expect((await api.get('/api/users/list?limit=4')).headers['x-cache']).toBe('HIT');

    await missThenHit(`/api/jobs/${created.body.id}`);
    const patched = await api.patch(`/api/jobs/${created.body.id}`, { title: 'Renamed' }, ada.token);
    expect(patched.status).toBe(200);
    const item = await api.get(`/api/jobs/${created.body.id}`);
    expect(item.headers['x-cache']).toBe('MISS');
    expect(item.body.title).toBe('Renamed');
    expect((await api.get('/api/jobs?location=Oslo&limit=100')).body.items[0].title).toBe('Renamed');

    await untilStored();
    // A refused write invalidates nothing.
    expect((await api.patch(`/api/jobs/${created.body.id}`, { title: 'Nope' }, bob.token)).status).toBe(403);
    expect((await api.get(`/api/jobs/${created.body.id}`)).headers['x-cache']).toBe('HIT');

    expect((await api.delete(`/api/jobs/${created.body.id}`, ada.token)).status).toBe(204);
    expect((await api.get(`/api/jobs/${created.body.id}`)).status).toBe(404);
    expect(
      (await api.get('/api/jobs?location=Oslo&limit=100')).body.items.map((j: { id: number }) => j.id),
    ).not.toContain(created.body.id);
  });

  it('invalidates only the lists a job was or is in: its filters before and after a write, not every list', async () => {
    const ids = (response: { body: { items: { id: number }[] } }) => response.body.items.map((j) => j.id);
    const created = await api.post(
      '/api/jobs',
      {
        title: 'Fjord Pilot',
        company: 'Narrow Co',
        location: 'Tromso',
        category: 'Aviation',
        type: 'contract',
        description: 'x',
      },
      ada.token,
    );
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    const lists = {
      tromso: '/api/jobs?location=Tromso&limit=100',
      bergen: '/api/jobs?location=Bergen&limit=100',
      aviationContracts: '/api/jobs?category=Aviation&type=contract&limit=100',
      searchInTromso: '/api/jobs?search=Fjord&location=Tromso',
      everything: '/api/jobs?limit=100',
      closed: '/api/jobs?status=closed&limit=100',
      elsewhere: '/api/jobs?location=Stavanger&limit=100',
      otherCategory: '/api/jobs?category=Legal&limit=5',
    };
    for (const path of Object.values(lists)) await missThenHit(path);
    expect(ids(await api.get(lists.tromso))).toContain(id);

    expect((await api.patch(`/api/jobs/${id}`, { location: 'Bergen' }, ada.token)).status).toBe(200);
    const after = Object.fromEntries(
      await Promise.all(
        Object.entries(lists).map(async ([name, path]) => [name, await api.get(path)] as const),
      ),
    );
    const outcome = (name: keyof typeof lists) => after[name].headers['x-cache'];
    for (const name of ['tromso', 'bergen', 'aviationContracts', 'searchInTromso', 'everything'] as const)
      expect([name, outcome(name)]).toEqual([name, 'MISS']);
    for (const name of ['closed', 'elsewhere', 'otherCategory'] as const)
      expect([name, outcome(name)]).toEqual([name, 'HIT']);
    expect(ids(after.tromso)).not.toContain(id);
    expect(ids(after.searchInTromso)).not.toContain(id);
    expect(ids(after.bergen)).toContain(id);
    expect(after.aviationContracts.body.items.find((j: { id: number }) => j.id === id).location).toBe(
      'Bergen',
    );

    await untilStored();
    expect((await api.patch(`/api/jobs/${id}`, { status: 'closed' }, ada.token)).status).toBe(200);
    const closed = await api.get(lists.closed);
    expect(closed.headers['x-cache']).toBe('MISS');
    expect(ids(closed)).toContain(id);
    expect(ids(await api.get(lists.bergen))).not.toContain(id);
    expect((await api.get(lists.elsewhere)).headers['x-cache']).toBe('HIT');

    await untilStored();
    expect((await api.delete(`/api/jobs/${id}`, ada.token)).status).toBe(204);
    expect(ids(await api.get(lists.closed))).not.toContain(id);
    expect((await api.get(lists.otherCategory)).headers['x-cache']).toBe('HIT');
  });

  it("never shows one viewer's isFollowing to another, and a follow refreshes counts, lists and the feed", async () => {
    await t.app.get(RedisCacheService).clear();
    const listPath = '/api/users/list?search=Bob%20Cache';
    await missThenHit(listPath, ada.token);
    await missThenHit(listPath, bob.token);
    await missThenHit(listPath);
    await missThenHit(`/api/users/${bob.id}`, ada.token);
    await missThenHit('/api/posts?following=true', ada.token);
    await missThenHit('/api/posts?following=true', bob.token);
    await missThenHit('/api/posts?limit=3');

    expect((await api.post(`/api/users/${bob.id}/follow`, undefined, ada.token)).status).toBe(204);
    // Only the follower's own following feed changes; the public feed and other viewers' feeds stay cached.
    expect((await api.get('/api/posts?following=true', ada.token)).headers['x-cache']).toBe('MISS');
    expect((await api.get('/api/posts?following=true', bob.token)).headers['x-cache']).toBe('HIT');
    expect((await api.get('/api/posts?limit=3')).headers['x-cache']).toBe('HIT');
    const forAda = await api.get(listPath, ada.token);
    expect(forAda.headers['x-cache']).toBe('MISS');
    expect(forAda.body.items[0]).toMatchObject({ id: bob.id, isFollowing: true, followersCount: 1 });
    for (const viewer of [bob.token, undefined]) {
      const other = await api.get(listPath, viewer);
      expect(other.body.items[0]).toMatchObject({ id: bob.id, isFollowing: false, followersCount: 1 });
    }
    expect((await api.get(`/api/users/${bob.id}`, ada.token)).body).toMatchObject({
      isFollowing: true,
      followersCount: 1,
    });
    expect((await api.get(`/api/users/${ada.id}`, ada.token)).body.followingCount).toBe(1);

    const post = await api.post('/api/posts', { content: 'cached feed check' }, bob.token);
    const feed = await api.get('/api/posts?following=true', ada.token);
    expect(feed.headers['x-cache']).toBe('MISS');
    expect(feed.body.items[0].id).toBe(post.body.id);
    expect((await api.get(`/api/posts/user/${bob.id}`)).body.items[0].id).toBe(post.body.id);
    await api.delete(`/api/users/${bob.id}/follow`, ada.token);
  });

  it("a post refreshes the public feed and its author's followers' following feeds, not other viewers'", async () => {
    const carol = await api.register('Carol Cache');
    expect((await api.post(`/api/users/${bob.id}/follow`, undefined, ada.token)).status).toBe(204);
    const feeds = {
      public: ['/api/posts?limit=5'],
      ada: ['/api/posts?following=true&limit=5', ada.token],
      carol: ['/api/posts?following=true&limit=5', carol.token],
      bobs: [`/api/posts/user/${bob.id}?limit=5`],
    } as const;
    const read = (name: keyof typeof feeds) => api.get(feeds[name][0], feeds[name][1]);
    const firstId = async (name: keyof typeof feeds) => (await read(name)).body.items[0]?.id;
    for (const name of Object.keys(feeds) as (keyof typeof feeds)[])
      await missThenHit(feeds[name][0], feeds[name][1]);

    const post = await api.post('/api/posts', { content: 'for my followers' }, bob.token);
    expect(post.status).toBe(201);
    for (const name of ['public', 'ada', 'bobs'] as const) {
      const answer = await read(name);
      expect([name, answer.headers['x-cache'], answer.body.items[0].id]).toEqual([
        name,
        'MISS',
        post.body.id,
      ]);
    }
    expect((await read('carol')).headers['x-cache']).toBe('HIT');

    await untilStored();
    expect((await api.patch(`/api/posts/${post.body.id}`, { content: 'edited' }, bob.token)).status).toBe(
      200,
    );
    expect((await read('ada')).body.items[0].content).toBe('edited');
    expect((await read('carol')).headers['x-cache']).toBe('HIT');
    await untilStored();
    expect((await api.delete(`/api/posts/${post.body.id}`, bob.token)).status).toBe(204);
    for (const name of ['public', 'ada', 'bobs'] as const) expect(await firstId(name)).not.toBe(post.body.id);
    await api.delete(`/api/users/${bob.id}/follow`, ada.token);
  });

  it('guards /cache/stats and /cache/clear with ADMIN_TOKEN (RELIABILITY.md §4 #19)', async () => {
    const server = t.app.getHttpAdapter().getInstance();
    for (const authorization of [
      undefined,
      '',
      `Bearer ${ADMIN_TOKEN.slice(0, -1)}x`, // same length
      `Bearer ${ADMIN_TOKEN}x`,
      'Bearer ',
      `Basic ${ADMIN_TOKEN}`,
      ADMIN_TOKEN,
    ]) {
      const headers = authorization === undefined ? {} : { authorization };
      expect((await server.inject({ method: 'GET', url: '/cache/stats', headers })).statusCode).toBe(401);
      expect((await server.inject({ method: 'POST', url: '/cache/clear', headers })).statusCode).toBe(401);
    }
    const stats = await server.inject({
      method: 'GET',
      url: '/cache/stats',
      headers: { authorization: `bearer ${ADMIN_TOKEN}` },
    });
    expect(stats.statusCode).toBe(200);
    expect(stats.json()).toMatchObject({
      backend: 'redis',
      circuit: { state: 'closed' },
      totals: { hits: expect.any(Number) },
    });
    // Numbers by route prefix only: no physical key, no rendered value, no cached content.
    for (const secret of [PREFIX, 'Berlin', 'Ada', 'Bob', '~', '%']) expect(stats.body).not.toContain(secret);
    for (const label of Object.keys(stats.json().prefixes)) expect(label).toMatch(/^[a-z]+(:[a-z]+)*$/);
  });

  it('misses once on every cached route after POST /cache/clear, then hits again', async () => {
    const job = (await api.get('/api/jobs?limit=1')).body.items[0];
    const paths: [string, string?][] = [
      ['/api/jobs?limit=9'],
      ['/api/jobs/stats/overview'],
      [`/api/jobs/${job.id}`],
      ['/api/users/list?limit=9', ada.token],
      [`/api/users/${bob.id}`, ada.token],
      ['/api/posts?limit=9'],
      [`/api/posts/user/${bob.id}`],
    ];
    for (const [path, token] of paths) {
      await api.get(path, token);
      await untilStored();
      expect((await api.get(path, token)).headers['x-cache']).toBe('HIT');
    }
    const server = t.app.getHttpAdapter().getInstance();
    const cleared = await server.inject({
      method: 'POST',
      url: '/cache/clear',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(cleared.statusCode).toBe(204);
    for (const [path, token] of paths) await missThenHit(path, token);
  });

  it('reports the cache at /health/cache: redis up, a PING time, the circuit and the hit rate', async () => {
    const response = await api.get('/health/cache');
    expect(response.status).toBe(200);
    expect(response.body.details.cache).toMatchObject({
      status: 'up',
      backend: 'redis',
      redis: 'up',
      latencyMs: expect.any(Number),
      circuit: 'closed',
      hits: expect.any(Number),
      misses: expect.any(Number),
      hitRatePercent: expect.any(Number),
      l1Entries: expect.any(Number),
    });
  });

  it('moves the counters of /cache/stats and /metrics exactly as a scripted sequence predicts', async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const server = t.app.getHttpAdapter().getInstance();
    const snapshot = async () => {
      const stats = (await server.inject({ method: 'GET', url: '/cache/stats', headers: auth })).json();
      const metrics = (await server.inject({ method: 'GET', url: '/metrics' })).body;
      const metric = (result: string) =>
        Number(
          new RegExp(`^cache_requests_total\\{prefix="jobs:item",result="${result}"\\} (\\d+)$`, 'm').exec(
            metrics,
          )?.[1] ?? 0,
        );
      const item = stats.prefixes['jobs:item'] ?? {};
      return {
        stats: {
          hits: item.hits ?? 0,
          l1Hits: item.l1Hits ?? 0,
          l2Hits: item.l2Hits ?? 0,
          misses: item.misses ?? 0,
        },
        metrics: { hit_l1: metric('hit_l1'), hit_l2: metric('hit_l2'), miss: metric('miss') },
      };
    };
    const job = (await api.get('/api/jobs?limit=1&skip=17')).body.items[0];
    const before = await snapshot();
    // Script: a cold read (miss), two warm reads (L1), an invalidation, one more miss, one more L1 hit.
    expect((await api.get(`/api/jobs/${job.id}`)).headers['x-cache']).toBe('MISS');
    await untilStored();
    expect((await api.get(`/api/jobs/${job.id}`)).headers['x-cache']).toBe('HIT');
    expect((await api.get(`/api/jobs/${job.id}`)).headers['x-cache']).toBe('HIT');
    await t.app.get(RedisCacheService).invalidate(`jobs:item:${job.id}`);
    expect((await api.get(`/api/jobs/${job.id}`)).headers['x-cache']).toBe('MISS');
    expect((await api.get(`/api/jobs/${job.id}`)).headers['x-cache']).toBe('HIT');
    const after = await snapshot();
    expect({
      hits: after.stats.hits - before.stats.hits,
      l1Hits: after.stats.l1Hits - before.stats.l1Hits,
      l2Hits: after.stats.l2Hits - before.stats.l2Hits,
      misses: after.stats.misses - before.stats.misses,
    }).toEqual({ hits: 3, l1Hits: 3, l2Hits: 0, misses: 2 });
    expect({
      hit_l1: after.metrics.hit_l1 - before.metrics.hit_l1,
      hit_l2: after.metrics.hit_l2 - before.metrics.hit_l2,
      miss: after.metrics.miss - before.metrics.miss,
    }).toEqual({ hit_l1: 3, hit_l2: 0, miss: 2 });
  });

  it('serves /metrics in a format promtool accepts, labelled by route prefix, never by key', async () => {
    await api.get('/api/jobs?limit=13'); // at least one Redis call and one request observed
    const response = await api.get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.text;
    for (const name of [
      'cache_requests_total',
      'cache_l2_duration_seconds_bucket',
      'cache_circuit_state',
      'http_request_duration_seconds_bucket',
    ])
      expect(text).toContain(name);
    expect(text).not.toContain(PREFIX);
    expect(text).not.toMatch(/nodejs_active_\w+_total/);
    const promtool =
      process.env.PROMTOOL ?? (spawnSync('promtool', ['--version']).status === 0 ? 'promtool' : undefined);
    if (promtool) {
      const checked = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      console.log(`promtool check metrics: exit ${checked.status} ${checked.stdout}${checked.stderr}`.trim());
      expect(checked.status).toBe(0);
    } else {
      // No promtool here (.ci/run installs it): the exposition format's line grammar, checked line by line.
      console.log('promtool not installed: checking the text format line by line');
      for (const line of text.split('\n').filter(Boolean))
        expect(line).toMatch(
          /^(# (HELP|TYPE) [a-zA-Z_:][\w:]* .+|[a-zA-Z_:][\w:]*(\{([a-zA-Z_]\w*="(\\.|[^"\\])*",?)*\})? (-?[\d.e+-]+|[Nn][Aa][Nn]|[+-]Inf))$/,
        );
    }
  });

  it('keeps answering every endpoint correctly within the deadline while Redis is dead (L1 or the database); then resumes', async () => {
    const job = (await api.get('/api/jobs?limit=1')).body.items[0];
    // Frozen first: the health check still answers in well under a second, saying Redis is down.
    redis.freeze();
    try {
      const started = performance.now();
      const frozen = await api.get('/health/cache');
      const tookMs = performance.now() - started;
      console.log(`/health/cache with Redis frozen: ${tookMs.toFixed(0)} ms`);
      expect(frozen.status).toBe(200);
      expect(frozen.body.details.cache).toMatchObject({ redis: 'down', latencyMs: null });
      expect(tookMs).toBeLessThan(1_000);
    } finally {
      redis.thaw();
    }
    await redis.kill();
    const reads = [
      '/api/jobs?limit=5',
      '/api/jobs/stats/overview',
      `/api/jobs/${job.id}`,
      '/api/users/list?limit=5',
      `/api/users/${bob.id}`,
      '/api/posts?limit=5',
      `/api/posts/user/${bob.id}`,
      '/api/jobs?limit=4&location=Nowhere',
    ];
    for (const path of reads) {
      const started = performance.now();
      const response = await api.get(path, ada.token);
      expect(response.status).toBe(200);
      // HIT: an L1 entry verified less than CACHE_L1_TTL ago; BYPASS: the database.
      expect(['HIT', 'BYPASS']).toContain(response.headers['x-cache']);
      expect(performance.now() - started).toBeLessThan(1_000);
    }
    const ready = await api.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.cache).toMatchObject({ status: 'up', backend: 'memory', redis: 'down' });
    const cacheHealth = await api.get('/health/cache');
    expect(cacheHealth.status).toBe(200);
    expect(cacheHealth.body.details.cache).toMatchObject({
      backend: 'memory',
      redis: 'down',
      latencyMs: null,
    });
    // Never cached before, so it can only come from the database.
    expect((await api.get('/api/jobs?limit=3&location=Nowhere')).headers['x-cache']).toBe('BYPASS');
    const created = await api.post('/api/posts', { content: 'written while Redis is dead' }, ada.token);
    expect(created.status).toBe(201);
    expect((await api.get('/api/posts?limit=1', ada.token)).body.items[0].id).toBe(created.body.id);
    expect((await api.patch(`/api/jobs/${job.id}`, { title: 'x' }, bob.token)).status).toBe(403);
    expect((await api.post(`/api/users/${bob.id}/follow`, undefined, ada.token)).status).toBe(204);
    expect((await api.delete(`/api/users/${bob.id}/follow`, ada.token)).status).toBe(204);

    await redis.launch();
    // A MISS means Redis answered the read; the fill then lands in Redis and the next read is a HIT.
    let status = '';
    for (let i = 0; i < 100 && status !== 'MISS'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = String((await api.get('/api/jobs?limit=2&location=Nowhere')).headers['x-cache']);
    }
    expect(status).toBe('MISS');
    await untilStored();
    const client = await redis.client();
    const stored: string[] = [];
    for await (const batch of client.scanIterator({
      MATCH: `${PREFIX}c:jobs:list:active:Nowhere:*:0:2`,
      COUNT: 1000,
    }))
      stored.push(...batch);
    expect(stored).toHaveLength(1);
    expect((await api.get('/api/jobs?limit=2&location=Nowhere')).headers['x-cache']).toBe('HIT');
    expect((await api.get('/health/ready')).body.details.cache).toEqual({
      status: 'up',
      backend: 'redis',
      redis: 'up',
      circuit: 'closed',
    });
  });
});
