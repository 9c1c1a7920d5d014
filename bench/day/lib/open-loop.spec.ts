import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runOpenLoop } from './open-loop.js';
import { buildUniverse } from './workload.js';

/**
 * A server that answers one request at a time, 50 ms each: offered 40/s it completes 20/s, so the queue grows. An
 * open-model generator keeps sending on schedule and counts each latency from the request's intended start; a
 * closed-loop one (or one that waits for answers before sending) would see about 50 ms per request.
 */
describe('the open-loop generator', () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    let queue = Promise.resolve();
    server = http.createServer((request, response) => {
      queue = queue.then(
        () =>
          new Promise<void>((done) =>
            setTimeout(() => {
              response.writeHead(200, { 'content-type': 'application/json', 'x-cache': 'HIT' }).end('{}');
              done();
            }, 50),
          ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends on schedule however slow the answers, and counts the queue in the latency', async () => {
    const universe = buildUniverse(
      {
        jobIds: [1, 2, 3],
        userIds: [1, 2, 3],
        locations: ['Berlin'],
        categories: ['Design'],
        types: ['contract'],
        ownedJobs: [],
      },
      's'.repeat(32),
      1,
    );
    const result = await runOpenLoop({
      universe,
      targets: [url],
      rate: 40,
      durationS: 1,
      seed: 1,
      step: 1,
      readsOnly: true,
    });
    expect(result.errorCount).toBe(0);
    // Every request was due within the first second; one at a time at 50 ms, the last answers near 2 s.
    expect(result.latency.count).toBe(result.sent);
    expect(result.achievedRate).toBeLessThan(25);
    expect(result.latency.p50).toBeGreaterThan(400);
    expect(result.latency.p99).toBeGreaterThan(800);
    expect(result.xCache.HIT).toBe(result.sent);
  });
});
