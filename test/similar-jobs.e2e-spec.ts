import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisCacheService } from '@jobboard/redis-cache';
import { TestRedisServer } from '@jobboard/redis-cache/testing';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../src/database/database.connection.js';
import { runMigrations } from '../src/database/migrate.js';
import { seedDatabase } from '../src/database/seed.js';
import { ApiClient } from './support/api-client.js';
import { spawnApp, type SpawnedApp } from './support/spawn-app.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { createScratchDatabase, type ScratchDatabase } from './support/test-database.js';

const PREFIX = `similar${process.pid}:`;

const job = (title: string, description: string) => ({
  title,
  company: 'Fixture Ltd',
  location: 'Berlin',
  category: 'Engineering',
  type: 'full-time',
  description,
});

describe('GET /api/jobs/:id/similar, computed and cached in JobsService', () => {
  let redis: TestRedisServer;
  let t: TestApp;
  let api: ApiClient;
  let token: string;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    redis = await TestRedisServer.start([], { appUser: { prefix: PREFIX } });
    t = await startTestApp('postgres', { REDIS_URL: redis.url, CACHE_PREFIX: PREFIX });
    const cache = t.app.get(RedisCacheService);
    for (let i = 0; i < 200 && cache.status().redis !== 'up'; i++)
      await new Promise((r) => setTimeout(r, 10));
    api = new ApiClient(t.app);
    ({ token } = await api.register('Similar Poster'));
    const fixture: [string, string, string][] = [
      ['source', 'Senior Rust Engineer', 'Build distributed storage in Rust with a small team.'],
      ['twin', 'Senior Rust Engineer', 'Build distributed storage in Rust with a small team, remote.'],
      ['close', 'Rust Engineer', 'Build storage systems in Rust.'],
      ['far', 'Senior Rust Developer', 'Maintain a web shop written in PHP.'],
      ['unrelated', 'Accountant', 'Keep the books and file the taxes.'],
      ['closed', 'Senior Rust Engineer', 'Build distributed storage in Rust with a small team.'],
    ];
    for (const [name, title, description] of fixture) {
      const created = await api.post('/api/jobs', job(title, description), token);
      expect(created.status).toBe(201);
      ids[name] = created.body.id;
    }
    expect((await api.patch(`/api/jobs/${ids.closed}`, { status: 'closed' }, token)).status).toBe(200);
  });

  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  /** pg_trgm's own scores for the pairs, computed here independently of the endpoint's query. */
  async function expectedOrder(source: number, limit: number): Promise<{ id: number; similarity: number }[]> {
    const rows = (await t.database.db.execute(sql`
      WITH candidates AS (
        SELECT j.id, j.created_at, j.description, similarity(j.title, s.title) AS title_score
        FROM jobs j, jobs s
        WHERE s.id = ${source} AND j.id <> s.id AND j.status = 'active' AND j.title % s.title
        ORDER BY title_score DESC, j.id DESC LIMIT 50)
      SELECT c.id, (2 * c.title_score + similarity(c.description, s.description)) / 3 AS score
      FROM candidates c, jobs s WHERE s.id = ${source}
      ORDER BY score DESC, c.created_at DESC, c.id DESC
      LIMIT ${limit}`)) as unknown as
      { rows?: { id: unknown; score: unknown }[] } | { id: unknown; score: unknown }[];
    const list = Array.isArray(rows) ? rows : (rows.rows ?? []);
    return list.map((row) => ({
      id: Number(row.id),
      similarity: Math.round(Number(row.score) * 1000) / 1000,
    }));
  }

  it('answers active jobs, most similar first, never the job itself or a closed one', async () => {
    const answer = await api.get(`/api/jobs/${ids.source}/similar`);
    expect(answer.status).toBe(200);
    expect(answer.body.limit).toBe(5);
    const got = answer.body.items.map((item: { id: number; similarity: number }) => ({
      id: item.id,
      similarity: item.similarity,
    }));
    expect(got).toEqual(await expectedOrder(ids.source, 5));
    expect(got[0].id).toBe(ids.twin);
    expect(got.map((item: { id: number }) => item.id)).not.toContain(ids.source);
    expect(got.map((item: { id: number }) => item.id)).not.toContain(ids.closed);
    expect(got.map((item: { id: number }) => item.id)).not.toContain(ids.unrelated);
    const scores = got.map((item: { similarity: number }) => item.similarity);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(answer.body.items[0]).toMatchObject({ title: 'Senior Rust Engineer', status: 'active' });
    expect(typeof answer.body.items[0].createdAt).toBe('string');
  });

  it('honours limit (1..20, 5 by default), 400 outside it, and 404 for an unknown job', async () => {
    const one = await api.get(`/api/jobs/${ids.source}/similar?limit=1`);
    expect(one.body.items).toHaveLength(1);
    for (const query of ['?limit=0', '?limit=21', '?limit=x', '?junk=1'])
      expect((await api.get(`/api/jobs/${ids.source}/similar${query}`)).status).toBe(400);
    expect((await api.get('/api/jobs/2000000000/similar')).status).toBe(404);
    expect((await api.get('/api/jobs/0/similar')).status).toBe(400);
  });

  it('is cached in the service (namespace JobsService.similar), not on the route, and a job write refreshes it', async () => {
    const first = await api.get(`/api/jobs/${ids.close}/similar`);
    expect(first.headers['x-cache']).toBeUndefined();
    const cache = t.app.get(RedisCacheService);
    const hitsBefore = cache.stats().namespaces['JobsService.similar'].hits;
    const second = await api.get(`/api/jobs/${ids.close}/similar`);
    expect(second.text).toBe(first.text);
    expect(cache.stats().namespaces['JobsService.similar'].hits).toBe(hitsBefore + 1);
    const keys = await (await redis.client()).keys(`${PREFIX}n:JobsService.similar:*`);
    expect(keys).toContain(`${PREFIX}n:JobsService.similar:jobs:similar:${ids.close}:5`);

    const renamed = await api.patch(`/api/jobs/${ids.unrelated}`, { title: 'Rust Engineer' }, token);
    expect(renamed.status).toBe(200);
    const after = await api.get(`/api/jobs/${ids.close}/similar`);
    expect(after.body.items.map((item: { id: number }) => item.id)).toContain(ids.unrelated);
    expect(
      after.body.items.map((item: { id: number; similarity: number }) => ({
        id: item.id,
        similarity: item.similarity,
      })),
    ).toEqual(await expectedOrder(ids.close, 5));
  });
});

describe('GET /api/jobs/:id/similar in a running process: one SQL statement for two identical requests', () => {
  let scratch: ScratchDatabase;
  let redis: TestRedisServer;
  let app: SpawnedApp;

  beforeAll(async () => {
    scratch = await createScratchDatabase('similar');
    const database = await openDatabase({
      url: scratch.url,
      pgliteDir: '',
      statementTimeoutMs: 10_000,
      poolMax: 2,
    });
    await runMigrations(database);
    await seedDatabase(database.db, { users: 20, jobs: 300, posts: 10, seed: 3 });
    await database.close();
    redis = await TestRedisServer.start();
    app = await spawnApp({
      DATABASE_URL: scratch.url,
      REDIS_URL: redis.url,
      CACHE_PREFIX: `similarproc${process.pid}:`,
      LOG_LEVEL: 'debug',
      MIGRATE_ON_START: 'false',
      NODE_ENV: 'test',
    });
  });

  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
    await scratch?.drop();
  });

  it('queries the database once, then serves the cached value', async () => {
    const statements = () =>
      app
        .output()
        .split('\n')
        .filter((line) => line.includes('similarity(')).length;
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // the log is flushed every second
    const before = statements();
    const answers = [];
    for (let i = 0; i < 2; i++) answers.push(await fetch(`${app.baseUrl}/api/jobs/7/similar?limit=4`));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    const [a, b] = await Promise.all(answers.map((answer) => answer.text()));
    expect(b).toBe(a);
    expect(JSON.parse(a).items.length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(statements() - before).toBe(1);
  });
});
