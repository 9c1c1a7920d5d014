import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnApp, type SpawnedApp } from './support/spawn-app.js';

const anyDate = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

/**
 * A new user's first session, against the built app started as `npm start` starts it: no DATABASE_URL, no
 * REDIS_URL, an empty embedded database directory. Every step asserts the JSON the frontend would receive.
 */
describe('walkthrough: the built app on an empty embedded database', () => {
  let app: SpawnedApp;
  let dataDir: string;

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const response = await fetch(`${app.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'jobboard-walk-'));
    app = await spawnApp({ PGLITE_DIR: join(dataDir, 'pglite'), LOG_LEVEL: 'info' }, { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('seeds the empty embedded database at start, so the first GET /api/jobs shows data', async () => {
    expect(app.output()).toContain('empty embedded database seeded');
    const jobs = await call('GET', '/api/jobs');
    expect(jobs.status).toBe(200);
    expect(jobs.body.items.length).toBe(20);
    expect(jobs.body.total).toBeGreaterThan(20);
  });

  it('walks through registering, posting, following, filtering, updating and deleting', async () => {
    const alice = await call('POST', '/api/auth/register', {
      email: 'Alice@Example.com',
      password: 'alice-password',
      name: 'Alice Walker',
    });
    expect(alice).toMatchObject({ status: 201 });
    expect(alice.body).toEqual({
      user: {
        id: expect.any(Number),
        name: 'Alice Walker',
        bio: null,
        createdAt: anyDate,
        followersCount: 0,
        followingCount: 0,
        isFollowing: false,
        email: 'alice@example.com',
      },
      accessToken: expect.any(String),
    });
    const bob = await call('POST', '/api/auth/register', {
      email: 'bob@example.com',
      password: 'bob-password',
      name: 'Bob',
    });
    expect(bob.status).toBe(201);
    const aliceId: number = alice.body.user.id;
    const bobId: number = bob.body.user.id;

    const login = await call('POST', '/api/auth/login', {
      email: 'ALICE@example.com',
      password: 'alice-password',
    });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ accessToken: expect.any(String) });
    const aliceToken: string = login.body.accessToken;
    const bobToken: string = bob.body.accessToken;

    const me = await call('GET', '/api/auth/me', undefined, aliceToken);
    expect(me.body).toEqual(alice.body.user);

    const job = await call(
      'POST',
      '/api/jobs',
      {
        title: 'Walkthrough Engineer',
        company: 'Walk Co',
        location: 'Reykjavik',
        category: 'Engineering',
        type: 'full-time',
        description: 'Walk the whole API.',
        salaryMin: 60000,
        salaryMax: 80000,
      },
      aliceToken,
    );
    expect(job.status).toBe(201);
    expect(job.body).toEqual({
      id: expect.any(Number),
      title: 'Walkthrough Engineer',
      company: 'Walk Co',
      location: 'Reykjavik',
      category: 'Engineering',
      type: 'full-time',
      status: 'active',
      description: 'Walk the whole API.',
      salaryMin: 60000,
      salaryMax: 80000,
      postedBy: aliceId,
      createdAt: anyDate,
      updatedAt: anyDate,
    });

    const filtered = await call('GET', '/api/jobs?location=Reykjavik&type=full-time&search=walkthrough');
    expect(filtered.body).toEqual({ items: [job.body], total: 1, skip: 0, limit: 20 });

    const post = await call('POST', '/api/posts', { content: 'Bob here, hiring soon.' }, bobToken);
    expect(post.status).toBe(201);
    expect(post.body).toEqual({
      id: expect.any(Number),
      content: 'Bob here, hiring soon.',
      authorId: bobId,
      author: { id: bobId, name: 'Bob' },
      createdAt: anyDate,
      updatedAt: anyDate,
    });

    expect((await call('GET', '/api/posts?following=true', undefined, aliceToken)).body).toEqual({
      items: [],
      total: 0,
      skip: 0,
      limit: 20,
    });
    expect((await call('POST', `/api/users/${bobId}/follow`, undefined, aliceToken)).status).toBe(204);
    expect((await call('GET', '/api/posts?following=true', undefined, aliceToken)).body).toEqual({
      items: [post.body],
      total: 1,
      skip: 0,
      limit: 20,
    });

    const bobSeenByAlice = await call('GET', `/api/users/${bobId}`, undefined, aliceToken);
    expect(bobSeenByAlice.body).toEqual({
      id: bobId,
      name: 'Bob',
      bio: null,
      createdAt: anyDate,
      followersCount: 1,
      followingCount: 0,
      isFollowing: true,
    });
    const usersForAlice = await call('GET', '/api/users/list?search=bob', undefined, aliceToken);
    expect(usersForAlice.body.items.find((u: { id: number }) => u.id === bobId)).toEqual(bobSeenByAlice.body);

    const updated = await call(
      'PATCH',
      `/api/jobs/${job.body.id}`,
      { status: 'closed', salaryMax: 90000 },
      aliceToken,
    );
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ ...job.body, status: 'closed', salaryMax: 90000, updatedAt: anyDate });
    expect((await call('PATCH', `/api/jobs/${job.body.id}`, { title: 'Mine now' }, bobToken)).status).toBe(
      403,
    );
    expect((await call('GET', '/api/jobs?location=Reykjavik')).body.total).toBe(0);

    const editedPost = await call(
      'PATCH',
      `/api/posts/${post.body.id}`,
      { content: 'Hiring now!' },
      bobToken,
    );
    expect(editedPost.body).toEqual({ ...post.body, content: 'Hiring now!', updatedAt: anyDate });

    expect((await call('DELETE', `/api/posts/${post.body.id}`, undefined, bobToken)).status).toBe(204);
    expect((await call('GET', `/api/posts/user/${bobId}`)).body).toEqual({
      items: [],
      total: 0,
      skip: 0,
      limit: 20,
    });
    expect((await call('DELETE', `/api/jobs/${job.body.id}`, undefined, aliceToken)).status).toBe(204);
    expect((await call('GET', `/api/jobs/${job.body.id}`)).body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: `Job ${job.body.id} not found`,
    });
    expect((await call('DELETE', `/api/users/${bobId}/follow`, undefined, aliceToken)).status).toBe(204);
    expect((await call('GET', `/api/users/${bobId}`)).body.followersCount).toBe(0);
  });

  it('stops on SIGTERM with exit code 0, having written one JSON log line per request, with no secrets', async () => {
    // Log lines are buffered and flushed on exit, so the log is complete once the process has stopped.
    expect(await app.stop()).toEqual({ code: 0, signal: null, killed: false });
    const requestLines = app
      .output()
      .split('\n')
      .filter((line) => line.includes('"request completed"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(requestLines.length).toBeGreaterThan(15);
    for (const line of requestLines) {
      expect(line).toMatchObject({
        method: expect.any(String),
        statusCode: expect.any(Number),
        reqId: expect.any(String),
      });
    }
    expect(app.output()).not.toMatch(/alice-password|bob-password|eyJhbGciOi/);
  });
});
