// A cache module without HTTP, for the programmatic API: named caches and decorated provider methods.
import { Module, type Provider, type Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { RedisCacheModule, RedisCacheService, type RedisCacheModuleOptions } from '../../src/index.js';
import type { TestRedisServer } from '../../src/testing/index.js';

export interface NamedFixture {
  moduleRef: TestingModule;
  cache: RedisCacheService;
  close(): Promise<void>;
}

/** The module on `redis` (or memory only without it), started once its Redis client is connected. */
export async function startNamedFixture(
  redis: TestRedisServer | undefined,
  options: Partial<RedisCacheModuleOptions> & { prefix: string },
  providers: Provider[] = [],
  overrides: (
    | { provide: Type; useClass: Type }
    | { provide: unknown; useFactory: (...args: never[]) => unknown; inject?: (Type | symbol)[] }
  )[] = [],
): Promise<NamedFixture> {
  @Module({
    imports: [RedisCacheModule.forRoot({ url: redis?.url, opTimeoutMs: 150, ...options })],
    providers,
  })
  class NamedFixtureModule {}
  let builder = Test.createTestingModule({ imports: [NamedFixtureModule] });
  for (const override of overrides)
    builder =
      'useClass' in override
        ? builder.overrideProvider(override.provide).useClass(override.useClass)
        : builder
            .overrideProvider(override.provide)
            .useFactory({ factory: override.useFactory, inject: override.inject ?? [] });
  const moduleRef = await builder.compile();
  moduleRef.useLogger(false);
  try {
    await moduleRef.init();
  } catch (error) {
    await moduleRef.close();
    throw error;
  }
  const cache = moduleRef.get(RedisCacheService);
  if (redis) {
    for (let i = 0; i < 200 && cache.status().redis !== 'up'; i++)
      await new Promise((r) => setTimeout(r, 10));
    if (cache.status().redis !== 'up') throw new Error('the cache did not connect to Redis');
  }
  return { moduleRef, cache, close: () => moduleRef.close() };
}

/** A promise and its resolver, to stage interleavings. */
export function latch<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
