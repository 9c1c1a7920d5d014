// What the multi-process suites share: one HTTP call with its timing and cache header, a registered user's token,
// and a seeded scratch database with a connection of the test's own (never through a fault proxy).
import { expect } from '@jest/globals';
import pg from 'pg';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../../src/database/database.connection.js';
import { runMigrations } from '../../src/database/migrate.js';
import { seedDatabase } from '../../src/database/seed.js';
import type { SpawnedApp } from './spawn-app.js';
import { createScratchDatabase } from './test-database.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Answer {
  status: number;
  cache: string | null;
  retryAfter: string | null;
  text: string;
  ms: number;
}

export async function call(
  app: SpawnedApp,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${app.baseUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return {
    status: response.status,
    cache: response.headers.get('x-cache'),
    retryAfter: response.headers.get('retry-after'),
    text: await response.text(),
    ms: performance.now() - started,
  };
}

/**
 * Statements an instance's handlers sent to the database, from its debug log (one `query:` line each), leaving out
 * the cache's invalidation outbox, which every instance's relay polls in the background.
 */
export function handlerQueries(app: SpawnedApp): number {
  return app
    .output()
    .split('\n')
    .filter((line) => line.includes('"msg":"query: ') && !line.includes('cache_invalidation_outbox')).length;
}

export async function register(app: SpawnedApp, name: string): Promise<string> {
  const email = `${name}.${Math.random().toString(36).slice(2, 8)}@example.com`;
  const answer = await call(app, 'POST', '/api/auth/register', undefined, {
    email,
    password: 'correct horse',
    name,
  });
  expect(answer.status).toBe(201);
  return JSON.parse(answer.text).accessToken;
}

/** A scratch database, migrated and seeded, and clients of the test's own on it and on the server. */
export async function seededDatabase(label: string) {
  const scratch = await createScratchDatabase(label);
  const database = await openDatabase({
    url: scratch.url,
    pgliteDir: '',
    statementTimeoutMs: 10_000,
    poolMax: 2,
  });
  await runMigrations(database);
  await seedDatabase(database.db, { users: 20, jobs: 200, posts: 60, seed: 11 });
  await database.close();
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  const own = new pg.Client({ connectionString: scratch.url });
  await own.connect();
  return {
    scratch,
    admin,
    own,
    async close() {
      await own.end();
      await admin.end();
      await scratch.drop();
    },
  };
}
