import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { components } from '@jobboard/api-client';
import { mkdirSync, statSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { seedDatabase } from '../src/database/seed.js';
import { ApiClient } from './support/api-client.js';
import { launchChromium, servePage, WireLog } from './support/browser.js';
import { startTestApp, type TestApp } from './support/test-app.js';

type Job = components['schemas']['JobDto'];
type Profile = components['schemas']['UserProfileDto'];

/** What the page's script can see of one answer (page.html's `jobBoard.call`). */
interface Seen<T = unknown> {
  status: number;
  etag: string | null;
  xCache: string | null;
  age: string | null;
  requestId: string | null;
  vary: string | null;
  data: T | null;
  error: { message: string | string[] } | null;
}

const ARTIFACTS = 'test-artifacts/browser';

/**
 * The frontend's view, in Debian's chromium driven by playwright-core: a page on another origin calls the API
 * through the generated typed client. Each check reads the wire (the DevTools protocol, or what the server
 * recorded), not what Playwright or the page report, since those show a revalidated 304 as a 200.
 */
describe('the API from a browser on another origin', () => {
  let t: TestApp;
  let pageServer: Awaited<ReturnType<typeof servePage>>;
  let browser: Browser;
  let page: Page;
  let wire: WireLog;
  let apiOrigin: string;
  let ada: { id: number; token: string };
  let bob: { id: number; token: string };
  let followed: number;
  let adaJob: Job;

  const call = <T>(method: 'GET' | 'PATCH', path: string, options: Record<string, unknown> = {}) =>
    page.evaluate(
      // Runs in the page, where page.html defined jobBoard on the global object.
      ([m, p, o]) =>
        (globalThis as unknown as { jobBoard: { call: (...args: unknown[]) => unknown } }).jobBoard.call(
          m,
          p,
          o,
        ),
      [method, path, options] as const,
    ) as Promise<Seen<T>>;
  const served = (method: string, url: string) =>
    t.answers.filter((answer) => answer.method === method && answer.url === url);

  beforeAll(async () => {
    pageServer = await servePage();
    t = await startTestApp('pglite', { CORS_ORIGINS: pageServer.origin });
    await seedDatabase(t.database.db, { users: 12, jobs: 30, posts: 40, maxFollowsPerUser: 0, seed: 5 });
    await t.app.listen(0, '127.0.0.1');
    apiOrigin = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    const api = new ApiClient(t.app);
    ada = await api.register('Ada Browser');
    bob = await api.register('Bob Browser');
    followed = (await api.get('/api/posts?limit=1')).body.items[0].authorId;
    expect((await api.post(`/api/users/${followed}/follow`, undefined, ada.token)).status).toBe(204);
    const created = await api.post(
      '/api/jobs',
      {
        title: 'Frontend Engineer',
        company: 'Browser Test AG',
        location: 'Remote',
        category: 'Engineering',
        type: 'full-time',
        description: 'Make the page fast.',
      },
      ada.token,
    );
    adaJob = created.body;
    browser = await launchChromium();
    page = await browser.newPage();
    wire = await WireLog.attach(page);
    await page.goto(`${pageServer.origin}/?api=${encodeURIComponent(apiOrigin)}`);
    await page.waitForSelector('body[data-ready="true"]');
  });

  afterAll(async () => {
    await wire?.detach();
    await browser?.close();
    await t?.close();
    await pageServer?.close();
  });

  it('reads ETag, X-Cache and X-Request-Id of a cross-origin answer, and Age is exposed too', async () => {
    const seen = await call<Job>('GET', '/api/jobs/{id}', { params: { path: { id: adaJob.id } } });
    expect(seen).toMatchObject({ status: 200, xCache: 'MISS', data: { id: adaJob.id, title: adaJob.title } });
    expect(seen.etag).toMatch(/^"[\w-]+"$/);
    expect(seen.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const [exchange] = wire.to(`${apiOrigin}/api/jobs/${adaJob.id}`);
    expect(exchange.status).toBe(200);
    expect(exchange.responseHeaders['access-control-allow-origin']).toBe(pageServer.origin);
    expect(exchange.responseHeaders['access-control-expose-headers'].split(/,\s*/)).toEqual(
      expect.arrayContaining(['ETag', 'X-Cache', 'Age', 'X-Request-Id']),
    );
  });

  it('revalidates by itself: the browser sends If-None-Match, the wire carries a 304, the page gets the body', async () => {
    const first = wire.to(`${apiOrigin}/api/jobs/${adaJob.id}`)[0];
    const seen = await call<Job>('GET', '/api/jobs/{id}', { params: { path: { id: adaJob.id } } });
    expect(seen).toMatchObject({ status: 200, data: { id: adaJob.id, title: adaJob.title } });
    const exchanges = wire.to(`${apiOrigin}/api/jobs/${adaJob.id}`);
    expect(exchanges).toHaveLength(2);
    expect(exchanges[1].requestHeaders['if-none-match']).toBe(first.responseHeaders.etag);
    expect(exchanges[1].status).toBe(304);
    expect(served('GET', `/api/jobs/${adaJob.id}`).map((answer) => answer.status)).toEqual([200, 304]);
  });

  it('preflights each URL once, then honours Access-Control-Max-Age', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await call('GET', '/api/auth/me', { token: ada.token, viewer: 'ada' })).status).toBe(200);
      const list = await call('GET', '/api/users/list', {
        params: { query: { limit: 3 } },
        token: ada.token,
        viewer: 'ada',
      });
      expect(list.status).toBe(200);
    }
    const preflights = [served('OPTIONS', '/api/auth/me'), served('OPTIONS', '/api/users/list?limit=3')];
    expect(preflights.map((answers) => answers.length)).toEqual([1, 1]);
    for (const [preflight] of preflights) {
      expect(preflight.status).toBe(204);
      expect(String(preflight.headers['access-control-max-age'])).toBe('600');
    }
    expect(served('GET', '/api/auth/me')).toHaveLength(3);
  });

  it("switches viewers in one browser without ever showing another viewer's answer", async () => {
    const profile = (viewer: string, token?: string) =>
      call<Profile>('GET', '/api/users/{id}', { params: { path: { id: followed } }, token, viewer });
    const feed = (viewer: string, token: string) =>
      call<{ items: { authorId: number }[] }>('GET', '/api/posts', {
        params: { query: { following: true } },
        token,
        viewer,
      });
    const rounds: [string, Seen<Profile>, boolean][] = [];
    for (const round of [1, 2]) {
      rounds.push([`ada #${round}`, await profile('ada', ada.token), true]);
      rounds.push([`bob #${round}`, await profile('bob', bob.token), false]);
      rounds.push([`anonymous #${round}`, await profile('anonymous'), false]);
    }
    for (const [, seen, following] of rounds) {
      expect(seen.status).toBe(200);
      expect(seen.data?.isFollowing).toBe(following);
      expect(seen.data).not.toHaveProperty('email');
    }
    const adaFeed = await feed('ada', ada.token);
    const bobFeed = await feed('bob', bob.token);
    expect(adaFeed.data?.items.length).toBeGreaterThan(0);
    expect(adaFeed.data?.items.every((post) => post.authorId === followed)).toBe(true);
    expect(bobFeed.data?.items).toEqual([]);
    for (const exchange of [
      ...wire.to(`${apiOrigin}/api/users/${followed}`),
      ...wire.to(`${apiOrigin}/api/posts?following=true`),
    ]) {
      if (exchange.status === 304) continue; // a revalidation: the headers that matter came with its 200
      const vary = exchange.responseHeaders.vary.split(/,\s*/).map((name) => name.toLowerCase());
      expect(vary).toEqual(expect.arrayContaining(['origin', 'authorization']));
      expect(exchange.responseHeaders['cache-control']).toBe('private, no-cache');
    }
  });

  it('shows fresh data right after a write, also where the browser revalidates a copy it holds', async () => {
    const item = { path: { id: adaJob.id } };
    const list = { query: { search: 'Frontend' } };
    const listUrl = `${apiOrigin}/api/jobs?search=Frontend`;
    const itemBefore = await call<Job>('GET', '/api/jobs/{id}', { params: item });
    const listBefore = await call<{ items: Job[] }>('GET', '/api/jobs', { params: list });
    expect(listBefore.data?.items.map((job) => job.title)).toEqual(['Frontend Engineer']);
    const edited = await call<Job>('PATCH', '/api/jobs/{id}', {
      params: item,
      body: { title: 'Senior Frontend Engineer' },
      token: ada.token,
      viewer: 'ada',
    });
    expect(edited).toMatchObject({ status: 200, data: { title: 'Senior Frontend Engineer' } });
    // The PATCH made the browser drop its copy of the item's URL (RFC 9111 §4.4), not of the list's: the list is
    // revalidated with the ETag the browser holds, and the server must not confirm it.
    const itemAfter = await call<Job>('GET', '/api/jobs/{id}', { params: item });
    expect(itemAfter).toMatchObject({ status: 200, data: { title: 'Senior Frontend Engineer' } });
    expect(itemAfter.etag).not.toBe(itemBefore.etag);
    const listAfter = await call<{ items: Job[] }>('GET', '/api/jobs', { params: list });
    expect(listAfter.data?.items.map((job) => job.title)).toEqual(['Senior Frontend Engineer']);
    const revalidation = wire.to(listUrl).at(-1);
    expect(revalidation?.requestHeaders['if-none-match']).toBe(listBefore.etag);
    expect(revalidation?.status).toBe(200);
    expect(revalidation?.responseHeaders.etag).not.toBe(listBefore.etag);
  });

  it('leaves a screenshot of the page as an artefact', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/page.png`, fullPage: true });
    expect(statSync(`${ARTIFACTS}/page.png`).size).toBeGreaterThan(10_000);
    expect(await page.locator('#calls tr').count()).toBeGreaterThan(15);
  });
});
