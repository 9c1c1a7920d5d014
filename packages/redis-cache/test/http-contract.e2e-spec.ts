import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestRedisServer } from '../src/testing/index.js';
import { startContractApp, type ContractApp, type PlatformName } from './support/contract-app.js';
import { CONTRACT, REDIS_KILLED } from './support/http-contract.js';

const CASES: [PlatformName, string | undefined][] = [
  ['fastify', undefined],
  ['fastify', 'api'],
  ['express', undefined],
  ['express', 'api'],
];

describe.each(CASES)('HTTP contract on %s, global prefix %p', (platform, globalPrefix) => {
  let redis: TestRedisServer;
  let t: ContractApp;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    t = await startContractApp({ platform, globalPrefix, redis, keyPrefix: `contract${process.pid}:` });
  });

  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it.each(CONTRACT.map((check) => [check.name, check] as const))('%s', async (_name, check) => {
    await check.run(t);
  });

  it(REDIS_KILLED.name, async () => {
    await REDIS_KILLED.run(t);
  });
});

describe('fast hits on Fastify (option fastHits)', () => {
  let redis: TestRedisServer;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it.each([undefined, 'api', 'v1/api'])(
    'answers hits before Nest pipeline under global prefix %p, and guarded routes never',
    async (globalPrefix) => {
      const t = await startContractApp({
        platform: 'fastify',
        globalPrefix,
        redis,
        keyPrefix: `fast${process.pid}:`,
      });
      try {
        await t.http().get(t.url('/notes?page=4'));
        const runs = t.store.pipelineRuns;
        for (let i = 0; i < 5; i++)
          expect((await t.http().get(t.url('/notes?page=4'))).headers['x-cache']).toBe('HIT');
        expect(t.store.pipelineRuns).toBe(runs);
        await t.http().get(t.url('/notes/mine')).set('Authorization', 'Bearer alice');
        const guarded = t.store.pipelineRuns;
        const hit = await t.http().get(t.url('/notes/mine')).set('Authorization', 'Bearer alice');
        expect(hit.headers['x-cache']).toBe('HIT');
        expect(t.store.pipelineRuns).toBe(guarded + 1);
      } finally {
        await t.close();
      }
    },
  );

  it('is refused at start-up on Express, saying what to do', async () => {
    const { Module } = await import('@nestjs/common');
    const { Test } = await import('@nestjs/testing');
    const { ExpressAdapter } = await import('@nestjs/platform-express');
    const { RedisCacheModule } = await import('../src/index.js');
    @Module({ imports: [RedisCacheModule.forRoot({ prefix: 'x:', fastHits: true })] })
    class FastOnExpress {}
    const moduleRef = await Test.createTestingModule({ imports: [FastOnExpress] }).compile();
    const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    await expect(app.init()).rejects.toMatchObject({
      code: 'E_PLATFORM',
      message: expect.stringContaining('Remove fastHits'),
    });
    await app.close();
  });
});
