import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HttpPlatform } from '../src/platform/http-platform.js';
import { PlatformHost } from '../src/platform/platform-host.js';
import { TestRedisServer } from '../src/testing/index.js';
import { startContractApp, type PlatformName } from './support/contract-app.js';
import { CONTRACT } from './support/http-contract.js';

/** Ways an adapter can break the contract; the suite must notice each of them. */
const SABOTAGES: { name: string; platforms: PlatformName[]; broken: Partial<HttpPlatform> }[] = [
  {
    name: 're-serialises stored JSON instead of sending the stored bytes',
    platforms: ['fastify', 'express'],
    broken: { payload: (body) => JSON.stringify(JSON.parse(String(body)), null, 1) },
  },
  {
    name: 'replaces Vary instead of appending to it',
    platforms: ['fastify', 'express'],
    broken: {
      getHeader(this: HttpPlatform, response, name) {
        return name === 'vary'
          ? undefined
          : (response as { getHeader(n: string): undefined }).getHeader(name);
      },
    },
  },
  {
    name: "leaves conditional GET to Express's own freshness (no 304 under Cache-Control: no-cache)",
    platforms: ['express'],
    broken: { answerConditionally: () => undefined },
  },
];

describe('negative control: the contract catches a broken adapter', () => {
  let redis: TestRedisServer;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  const cases = SABOTAGES.flatMap((sabotage) =>
    sabotage.platforms.map((platform) => [sabotage, platform] as const),
  );
  it.each(cases.map(([sabotage, platform]) => [sabotage.name, platform, sabotage] as const))(
    '%s (%s)',
    async (_name, platform, sabotage) => {
      class SabotagedPlatformHost extends PlatformHost {
        override get current() {
          const real = super.current;
          return real && { ...real, ...sabotage.broken };
        }
      }
      const t = await startContractApp({
        platform,
        redis,
        keyPrefix: `sabotage${process.pid}${Math.random().toString(36).slice(2, 8)}:`,
        overrides: [{ provide: PlatformHost, useClass: SabotagedPlatformHost }],
      });
      const failed: string[] = [];
      try {
        for (const check of CONTRACT) await check.run(t).catch(() => failed.push(check.name));
      } finally {
        await t.close();
      }
      console.log(
        `sabotage "${sabotage.name}" on ${platform}: caught by ${failed.length} check(s): ${failed.join('; ')}`,
      );
      expect(failed.length).toBeGreaterThan(0);
    },
  );
});
