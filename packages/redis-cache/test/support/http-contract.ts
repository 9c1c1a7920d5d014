// The HTTP contract of a cached route (ARCHITECTURE.md §9.1), as checks that any platform must pass unchanged.
// Each check is a plain function over a running ContractApp, so the same bodies run on every platform and prefix,
// and the negative control can run them against a sabotaged platform and expect failures.
import { expect } from '@jest/globals';
import { FRONTEND_ORIGIN, type ContractApp } from './contract-app.js';

export interface ContractCheck {
  name: string;
  run(t: ContractApp): Promise<void>;
}

const varyTokens = (value: unknown) =>
  String(value ?? '')
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter(Boolean);

export const CONTRACT: ContractCheck[] = [
  {
    name: 'MISS then HIT with the identical bytes, ETag and content type, without running the handler again',
    async run(t) {
      const miss = await t.http().get(t.url('/notes?page=1'));
      expect(miss.status).toBe(200);
      expect(miss.headers['x-cache']).toBe('MISS');
      expect(miss.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(miss.headers.etag).toMatch(/^"[\w-]+"$/);
      const reads = t.store.reads;
      const hit = await t.http().get(t.url('/notes?page=1'));
      expect(hit.status).toBe(200);
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.text).toBe(miss.text);
      expect(hit.headers.etag).toBe(miss.headers.etag);
      expect(hit.headers['content-type']).toBe(miss.headers['content-type']);
      expect(hit.headers['cache-control']).toBe('no-cache');
      expect(t.store.reads).toBe(reads);
    },
  },
  {
    name: 'If-None-Match gives 304 for GET and HEAD: exact, *, a list, weak comparison, even with no-cache',
    async run(t) {
      const url = t.url('/notes/1');
      const first = await t.http().get(url);
      const etag = first.headers.etag as string;
      for (const header of [etag, '*', `"nope", ${etag}`, `W/${etag}`]) {
        for (const method of ['get', 'head'] as const) {
          const answer = await t.http()[method](url).set('If-None-Match', header);
          expect({ header, method, status: answer.status }).toEqual({ header, method, status: 304 });
          expect(answer.text ?? '').toBe('');
          expect(answer.headers.etag).toBe(etag);
        }
      }
      // A browser's hard reload asks the same way; the origin still evaluates the precondition (RFC 9110 §13.2.1).
      const noCache = await t.http().get(url).set('If-None-Match', etag).set('Cache-Control', 'no-cache');
      expect(noCache.status).toBe(304);
      const other = await t.http().get(url).set('If-None-Match', '"other", W/"else"');
      expect(other.status).toBe(200);
      expect(other.text).toBe(first.text);
    },
  },
  {
    name: "HEAD is answered from the cache with GET's headers and no body, and fills it when cold",
    async run(t) {
      const get = await t.http().get(t.url('/notes/2'));
      const reads = t.store.reads;
      const head = await t.http().head(t.url('/notes/2'));
      expect(head.status).toBe(200);
      expect(head.text ?? '').toBe('');
      expect(head.headers['x-cache']).toBe('HIT');
      for (const name of ['etag', 'content-type', 'cache-control'])
        expect({ name, value: head.headers[name] }).toEqual({ name, value: get.headers[name] });
      expect(Number(head.headers['content-length'])).toBe(Buffer.byteLength(get.text));
      expect(t.store.reads).toBe(reads);

      const coldHead = await t.http().head(t.url('/notes?page=5'));
      expect(coldHead.status).toBe(200);
      expect(coldHead.headers['x-cache']).toBe('MISS');
      expect(coldHead.text ?? '').toBe('');
      const warm = await t.http().get(t.url('/notes?page=5'));
      expect(warm.headers['x-cache']).toBe('HIT');
      expect(warm.headers.etag).toBe(coldHead.headers.etag);
      expect(Buffer.byteLength(warm.text)).toBe(Number(coldHead.headers['content-length']));
    },
  },
  {
    name: 'validation comes first: an invalid request is the same 400 cold and warm, and ?page=0 shares no page',
    async run(t) {
      for (const query of ['?page=-1', '?junk=1', '?page=abc']) {
        expect((await t.http().get(t.url(`/notes${query}`))).status).toBe(400);
      }
      await t.http().get(t.url('/notes'));
      expect((await t.http().get(t.url('/notes?page=0'))).headers['x-cache']).toBe('HIT');
      expect((await t.http().get(t.url('/notes?page=-1'))).status).toBe(400);
    },
  },
  {
    name: 'a write invalidates before it answers: the next read misses and shows the new data',
    async run(t) {
      await t.http().get(t.url('/notes?page=2'));
      expect((await t.http().get(t.url('/notes?page=2'))).headers['x-cache']).toBe('HIT');
      await t.http().get(t.url('/notes/1'));
      const write = await t
        .http()
        .patch(t.url('/notes/1'))
        .send({ text: `edited on ${t.platform}` });
      expect(write.status).toBe(200);
      const list = await t.http().get(t.url('/notes?page=2'));
      expect(list.headers['x-cache']).toBe('MISS');
      expect(list.text).toContain(`edited on ${t.platform}`);
      const item = await t.http().get(t.url('/notes/1'));
      expect(item.headers['x-cache']).toBe('MISS');
      expect(item.body.text).toBe(`edited on ${t.platform}`);
    },
  },
  {
    name: 'per-viewer answers never cross viewers, are private, and Vary keeps Origin and adds Authorization',
    async run(t) {
      const as = (viewer?: string) => {
        const call = t.http().get(t.url('/notes/mine')).set('Origin', FRONTEND_ORIGIN);
        return viewer ? call.set('Authorization', `Bearer ${viewer}`) : call;
      };
      const alice = await as('alice');
      const bob = await as('bob');
      const anonymous = await as();
      expect(alice.body.viewer).toBe('alice');
      expect(bob.body.viewer).toBe('bob');
      expect(anonymous.body.viewer).toBeNull();
      for (const [viewer, expected] of [
        ['alice', alice],
        ['bob', bob],
        [undefined, anonymous],
      ] as const) {
        const again = await as(viewer);
        expect(again.headers['x-cache']).toBe('HIT');
        expect(again.text).toBe(expected.text);
        expect(again.headers['cache-control']).toBe('private, no-cache');
        expect(varyTokens(again.headers.vary)).toEqual(expect.arrayContaining(['origin', 'authorization']));
        expect(again.headers['access-control-allow-origin']).toBe(FRONTEND_ORIGIN);
      }
      expect(varyTokens(alice.headers.vary)).toEqual(expect.arrayContaining(['origin', 'authorization']));
      const shared = await t.http().get(t.url('/notes?page=1')).set('Origin', FRONTEND_ORIGIN);
      expect(varyTokens(shared.headers.vary)).toContain('origin');
      expect(varyTokens(shared.headers.vary)).not.toContain('authorization');
    },
  },
  {
    name: "a per-request scope: one entry for every viewer where it says public, the viewer's own elsewhere",
    async run(t) {
      const as = (path: string, viewer?: string) => {
        const call = t.http().get(t.url(path));
        return viewer ? call.set('Authorization', `Bearer ${viewer}`) : call;
      };
      const reads = () => t.store.reads;
      const before = reads();
      const first = await as('/notes/feed', 'alice');
      expect(first.headers['x-cache']).toBe('MISS');
      for (const viewer of ['bob', undefined, 'alice']) {
        const again = await as('/notes/feed', viewer);
        expect(again.headers['x-cache']).toBe('HIT');
        expect(again.text).toBe(first.text);
        expect(again.headers['cache-control']).toBe('private, no-cache');
      }
      expect(reads() - before).toBe(1);
      const alice = await as('/notes/feed?mine=true', 'alice');
      const bob = await as('/notes/feed?mine=true', 'bob');
      expect(bob.headers['x-cache']).toBe('MISS');
      expect(alice.body.items.map((n: { owner: string }) => n.owner)).toEqual(['alice']);
      expect(bob.body.items.map((n: { owner: string }) => n.owner)).toEqual(['bob']);
      expect((await as('/notes/feed?mine=true', 'alice')).text).toBe(alice.text);
      expect((await as('/notes/feed?mine=true', 'bob')).text).toBe(bob.text);
      expect(reads() - before).toBe(3);
    },
  },
  {
    name: 'CORS exposes ETag and X-Cache on cached answers, hits included',
    async run(t) {
      await t.http().get(t.url('/notes?page=3')).set('Origin', FRONTEND_ORIGIN);
      const hit = await t.http().get(t.url('/notes?page=3')).set('Origin', FRONTEND_ORIGIN);
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.headers['access-control-allow-origin']).toBe(FRONTEND_ORIGIN);
      expect(varyTokens(hit.headers['access-control-expose-headers'])).toEqual(
        expect.arrayContaining(['etag', 'x-cache']),
      );
    },
  },
];

/** Last, since it kills the suite's Redis: an outage is a 200 BYPASS from the handler, in well under a second. */
export const REDIS_KILLED: ContractCheck = {
  name: 'Redis killed: a cold key answers 200 BYPASS from the handler in under 1 s',
  async run(t) {
    await t.redis.kill();
    const started = performance.now();
    const answer = await t.http().get(t.url('/notes?page=77'));
    const elapsedMs = performance.now() - started;
    expect(answer.status).toBe(200);
    expect(answer.headers['x-cache']).toBe('BYPASS');
    expect(answer.body.page).toBe(77);
    expect(elapsedMs).toBeLessThan(1_000);
    console.log(`${t.platform}: Redis killed, cold key answered BYPASS in ${elapsedMs.toFixed(1)} ms`);
  },
};
