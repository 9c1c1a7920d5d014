// The database failing under the app (issue 12, ARCHITECTURE.md §11): refused and dropped connections, an exhausted
// pool, a blackholed or slow server. The shared PostgreSQL server is never stopped or locked as a whole: each
// scenario uses a database of its own, its own settings (ALLOW_CONNECTIONS, pg_terminate_backend, LOCK TABLE in a
// session of the test's), or the fault proxy between the app and it (TESTING.md).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FaultProxy, TestRedisServer } from '@jobboard/redis-cache/testing';
import { call, handlerQueries, register, seededDatabase, sleep, type Answer } from './support/app-client.js';
import { spawnApp, startAppCluster, type AppCluster, type SpawnedApp } from './support/spawn-app.js';

const baseEnv = (databaseUrl: string, redis: TestRedisServer, prefix: string) => ({
  DATABASE_URL: databaseUrl,
  REDIS_URL: redis.url,
  CACHE_PREFIX: prefix,
  MIGRATE_ON_START: 'false',
  NODE_ENV: 'test',
  AUTH_RATE_LIMIT_MAX: '100000',
});

describe('the database refuses, drops and runs out of connections: 503 with Retry-After, never 500, then recovery', () => {
  let db: Awaited<ReturnType<typeof seededDatabase>>;
  let redis: TestRedisServer;
  let app: SpawnedApp;
  let token: string;
  const STATEMENT_MS = 1_000;
  const POOL = 3;

  beforeAll(async () => {
    db = await seededDatabase('dbrefuse');
    redis = await TestRedisServer.start();
    app = await spawnApp({
      ...baseEnv(db.scratch.url, redis, `dbrefuse${process.pid}:`),
      DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_MS),
      DB_POOL_MAX: String(POOL),
    });
    token = await register(app, 'writer');
  });

  afterAll(async () => {
    await app?.stop();
    await db?.own.end();
    await db?.admin.end();
    await redis?.stop();
    await db?.scratch.drop();
  });

  const terminateApp = () =>
    db.admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'jobboard-api'`,
      [db.scratch.name],
    );

  /** Every kind of route: a fresh uncached read, a write, an item; each must be 503 (or a cached 200), never 500. */
  async function everyRouteAnswers503(tag: string) {
    const answers = [
      await call(app, 'GET', `/api/jobs?search=${tag}`),
      await call(app, 'GET', `/api/users/list?search=${tag}`),
      await call(app, 'POST', '/api/posts', token, { content: `written during ${tag}` }),
      await call(app, 'GET', '/api/auth/me', token),
    ];
    for (const answer of answers) {
      expect({ tag, status: answer.status }).toEqual({ tag, status: 503 });
      expect(answer.retryAfter).toBe('5');
      expect(JSON.parse(answer.text)).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      expect(answer.ms).toBeLessThan(STATEMENT_MS + 1_500);
    }
    return answers;
  }

  async function recovers(tag: string) {
    for (let i = 0; i < 50; i++) {
      if ((await call(app, 'GET', `/api/jobs?search=${tag}-after`)).status === 200) return;
      await sleep(100);
    }
    throw new Error(`the app did not recover after ${tag}`);
  }

  it('refused connections (ALLOW_CONNECTIONS false, backends terminated): 503 everywhere a query is needed', async () => {
    const cached = await call(app, 'GET', '/api/jobs/1');
    expect(cached.status).toBe(200);
    await db.admin.query(`ALTER DATABASE "${db.scratch.name}" ALLOW_CONNECTIONS false`);
    await terminateApp();
    try {
      await everyRouteAnswers503('refused');
      // A page cached (and fresh) before the outage still answers.
      expect((await call(app, 'GET', '/api/jobs/1')).cache).toBe('HIT');
    } finally {
      await db.admin.query(`ALTER DATABASE "${db.scratch.name}" ALLOW_CONNECTIONS true`);
    }
    await recovers('refused');
  });

  it('a connection dropped mid-query (pg_terminate_backend while it waits on a lock): 503', async () => {
    await db.own.query('BEGIN');
    await db.own.query('LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE');
    try {
      const pending = call(app, 'GET', '/api/jobs?search=dropped');
      await sleep(200);
      await terminateApp();
      const answer = await pending;
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toBe('5');
    } finally {
      await db.own.query('ROLLBACK');
    }
    await recovers('dropped');
  });

  it('an exhausted pool: the wait for a connection is bounded by the statement timeout, and answers 503', async () => {
    await db.own.query('BEGIN');
    await db.own.query('LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE');
    let answers: Answer[];
    try {
      // POOL requests hold every connection, waiting on the lock; the others wait for a connection.
      answers = await Promise.all(
        Array.from({ length: POOL + 3 }, (_, i) => call(app, 'GET', `/api/jobs?search=pool${i}`)),
      );
    } finally {
      await db.own.query('ROLLBACK');
    }
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 503));
    for (const answer of answers) expect(answer.ms).toBeLessThan(STATEMENT_MS + 1_500);
    console.log(`exhausted pool: ${answers.map((answer) => Math.round(answer.ms)).join(', ')} ms`);
    await recovers('pool');
  });

  it('counts the outages in /metrics and logs them once per window, not per request', async () => {
    const metrics = await call(app, 'GET', '/metrics');
    const unavailable = /^database_unavailable_total\{kind="unavailable"\} (\d+)$/m.exec(metrics.text);
    const timeouts = /^database_unavailable_total\{kind="timeout"\} (\d+)$/m.exec(metrics.text);
    expect(Number(unavailable?.[1]) + Number(timeouts?.[1])).toBeGreaterThanOrEqual(8);
    await sleep(1_200); // the log is flushed every second
    const lines = app
      .output()
      .split('\n')
      .filter((line) => line.includes('"context":"Database"') && line.includes('answering 503'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(4);
    expect(app.output()).not.toMatch(/"statusCode":500/);
  });
});

describe('the database blackholed, then slow, behind the fault proxy: graced pages answer STALE', () => {
  let db: Awaited<ReturnType<typeof seededDatabase>>;
  let redis: TestRedisServer;
  let proxy: FaultProxy;
  let app: SpawnedApp;
  let token: string;
  const SOFT_MS = 300;

  beforeAll(async () => {
    db = await seededDatabase('dbproxy');
    redis = await TestRedisServer.start();
    proxy = await FaultProxy.start(5432);
    const proxied = new URL(db.scratch.url);
    proxied.port = String(proxy.port);
    app = await spawnApp({
      ...baseEnv(proxied.toString(), redis, `dbproxy${process.pid}:`),
      // The client-side bound (statement timeout + 1 s) must outlast a query under 2 s of latency each way.
      DB_STATEMENT_TIMEOUT_MS: '5000',
      DB_POOL_MAX: '4',
      CACHE_SOFT_TIMEOUT: `${SOFT_MS}ms`,
      LOG_LEVEL: 'debug',
    });
    token = await register(app, 'poster');
  });

  afterAll(async () => {
    await app?.stop();
    await proxy?.close();
    await db?.own.end();
    await db?.admin.end();
    await redis?.stop();
    await db?.scratch.drop();
  });

  const queriesSoFar = () => handlerQueries(app);

  it('serves the feed STALE with its old body past its TTL, writes 503, readiness as documented, then recovers', async () => {
    const feeds = ['/api/posts?limit=5', '/api/posts?limit=6'];
    await sleep(1_200); // the log is flushed every second
    const beforeFill = queriesSoFar();
    const filled = await Promise.all(feeds.map((path) => call(app, 'GET', path)));
    expect(filled.map((answer) => answer.cache)).toEqual(['MISS', 'MISS']);
    await sleep(1_200);
    const perRun = (queriesSoFar() - beforeFill) / feeds.length; // the statements of one run of the handler
    await sleep(31_000); // past the feed's 30 s TTL: both entries are graced now

    proxy.blackhole();
    const staleAnswers: Answer[] = [];
    const before = queriesSoFar();
    for (let i = 0; i < 12; i++) {
      staleAnswers.push(await call(app, 'GET', feeds[0]));
      await sleep(100);
    }
    for (const answer of staleAnswers) {
      expect(answer.status).toBe(200);
      expect(answer.cache).toBe('STALE');
      expect(answer.text).toBe(filled[0].text);
      expect(answer.ms).toBeLessThan(SOFT_MS + 300);
    }
    await sleep(1_200);
    // One run of the handler for the key: later requests joined it, then the back-off (10 s) answered at once.
    expect(queriesSoFar() - before).toBeLessThanOrEqual(perRun);

    const write = await call(app, 'POST', '/api/posts', token, { content: 'written into a blackhole' });
    expect(write.status).toBe(503);
    expect((await call(app, 'GET', '/health/ready')).status).toBe(503);
    const serving = await call(app, 'GET', '/health/serving');
    expect(serving.status).toBe(200);
    expect(JSON.parse(serving.text).details.database).toMatchObject({ status: 'up', reachable: false });

    proxy.pass();
    // The write left nothing behind, and the feed comes back fresh after one refresh, without a restart.
    let fresh: Answer | undefined;
    for (let i = 0; i < 120 && !(fresh && (fresh.cache === 'MISS' || fresh.cache === 'HIT')); i++) {
      await sleep(250);
      fresh = await call(app, 'GET', feeds[0]);
    }
    expect(fresh?.status).toBe(200);
    expect(['MISS', 'HIT']).toContain(fresh?.cache);
    const { rows } = await db.own.query(
      `SELECT count(*)::int AS n FROM posts WHERE content = 'written into a blackhole'`,
    );
    expect(rows[0].n).toBe(0);
  }, 90_000);

  it('with 2 s of latency, a graced page answers STALE within softTimeout + 100 ms; the late query fills the cache', async () => {
    const path = '/api/posts?limit=6'; // graced since the previous test
    await db.own.query(
      `UPDATE posts SET content = 'edited behind the cache' WHERE id = (SELECT id FROM posts ORDER BY created_at DESC, id DESC LIMIT 1)`,
    );
    proxy.latency(2_000);
    let stale: Answer;
    try {
      stale = await call(app, 'GET', path);
    } finally {
      // The late query is already on its way; lift the latency only after it had time to come back.
      await sleep(5_000);
      proxy.pass();
    }
    console.log(`latency: first answer ${stale.cache} in ${Math.round(stale.ms)} ms, ${stale.status}`);
    expect(stale.cache).toBe('STALE');
    expect(stale.ms).toBeLessThan(SOFT_MS + 100);
    const next = await call(app, 'GET', path);
    expect(next.cache).toBe('HIT');
    expect(next.text).toContain('edited behind the cache');
  }, 30_000);
});

describe('a write, then the database down: invalidated entries are never answered, on two instances', () => {
  let db: Awaited<ReturnType<typeof seededDatabase>>;
  let redis: TestRedisServer;
  let proxy: FaultProxy;
  let cluster: AppCluster;

  beforeAll(async () => {
    db = await seededDatabase('dbwrite');
    redis = await TestRedisServer.start();
    proxy = await FaultProxy.start(5432);
    const proxied = new URL(db.scratch.url);
    proxied.port = String(proxy.port);
    cluster = await startAppCluster(2, {
      ...baseEnv(proxied.toString(), redis, `dbwrite${process.pid}:`),
      DB_STATEMENT_TIMEOUT_MS: '1000',
    });
  });

  afterAll(async () => {
    await cluster?.stop();
    await proxy?.close();
    await db?.own.end();
    await db?.admin.end();
    await redis?.stop();
    await db?.scratch.drop();
  });

  it('0 of 200 reads answer the entry a finished write invalidated', async () => {
    const [a, b] = cluster.instances;
    const token = await register(a, 'author');
    const path = '/api/posts?limit=4';
    const before = await call(a, 'GET', path);
    await call(b, 'GET', path);
    expect((await call(b, 'GET', path)).cache).toBe('HIT');
    const write = await call(a, 'POST', '/api/posts', token, { content: 'the newest post' });
    expect(write.status).toBe(201);
    proxy.blackhole();
    let old = 0;
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => call(i % 2 === 0 ? a : b, 'GET', path)),
      );
      for (const answer of answers) {
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.text === before.text) old++;
      }
    }
    proxy.pass();
    console.log(
      `after a write, database down: ${old} of 200 reads old; statuses ${JSON.stringify([...statuses])}`,
    );
    expect(old).toBe(0);
    expect([...statuses.keys()].every((status) => status === 503 || status === 200)).toBe(true);
  }, 60_000);
});
