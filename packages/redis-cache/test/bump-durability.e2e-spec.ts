// What a bump on a replicated Redis waits for and what it requires (RedisGenerationCounters against real servers):
// it waits (WAIT) for a replica that is up, and fails only when one known to be in sync did not acknowledge it in
// time. A replica the sentinels list up but not in sync (an old master before it replicates, or one whose link they
// have not refreshed yet) is waited for, not required: it acknowledges if it does replicate.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { NotReplicated, RedisGenerationCounters } from '../src/invalidation/generation-counters.js';
import type { RedisClient } from '../src/storage/redis-client.factory.js';
import { TestRedisServer } from '../src/testing/index.js';

const TIMEOUT_MS = 200;

describe('a bump on a replicated Redis', () => {
  let alone: TestRedisServer;
  let master: TestRedisServer;
  let replica: TestRedisServer;

  beforeAll(async () => {
    alone = await TestRedisServer.start();
    master = await TestRedisServer.start();
    replica = await TestRedisServer.start(['--replicaof', '127.0.0.1', String(master.port)]);
    const admin = await replica.client();
    for (let i = 0; i < 100 && !(await admin.info('replication')).includes('master_link_status:up'); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
  });

  afterAll(async () => {
    for (const server of [replica, master, alone]) await server?.stop();
  });

  async function bumpOn(server: TestRedisServer, required: number): Promise<{ ms: number; error?: unknown }> {
    const client = (await server.client()) as unknown as RedisClient;
    const counters = new RedisGenerationCounters(client, () => ['bump:channel', 'bumped'], {
      replicas: () => 1,
      required: () => required,
      timeoutMs: TIMEOUT_MS,
    });
    const started = performance.now();
    try {
      await counters.bump(['bump:g:jobs:'], 60_000);
      return { ms: performance.now() - started };
    } catch (error) {
      return { ms: performance.now() - started, error };
    }
  }

  it('fails when a replica known in sync did not acknowledge it in time', async () => {
    const { ms, error } = await bumpOn(alone, 1);
    expect(error).toBeInstanceOf(NotReplicated);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS / 2 - 5); // WAIT gets half the write's deadline
    expect(ms).toBeLessThan(TIMEOUT_MS); // so the bump fails as not replicated, within its deadline
  });

  it('waits for a replica not known in sync, and succeeds without its acknowledgement', async () => {
    const { ms, error } = await bumpOn(alone, 0);
    expect(error).toBeUndefined();
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS / 2 - 5); // it did wait
    expect(ms).toBeLessThan(TIMEOUT_MS);
  });

  it('succeeds at once when a replica acknowledges, whether or not it was known in sync', async () => {
    for (const required of [0, 1]) {
      const { ms, error } = await bumpOn(master, required);
      expect(error).toBeUndefined();
      expect(ms).toBeLessThan(TIMEOUT_MS / 4);
    }
  });
});
