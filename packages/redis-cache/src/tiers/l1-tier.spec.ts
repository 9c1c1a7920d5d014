import { describe, expect, it } from '@jest/globals';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import { InvalidationBus, parseInvalidationMessage } from '../invalidation/invalidation-bus.js';
import { KeySpace } from '../keys/key-space.js';
import { RedisTopology } from '../storage/redis-topology.js';
import { L1Tier, ownedBytes, type L1Entry } from './l1-tier.js';

const keys = new KeySpace('unit:');
const location = { entryKey: 'unit:c:jobs:item:1', generationKeys: ['unit:g:', 'unit:g:jobs:item:1:'] };

/** A tier whose bus has no connection: nothing vouches for entries, so only the CACHE_L1_TTL rule serves them. */
function tier(l1: RedisCacheModuleOptions['l1'] = {}, url: string | null = 'redis://127.0.0.1:1') {
  const options: RedisCacheModuleOptions = { prefix: 'unit:', url: url ?? undefined, l1 };
  const bus = new InvalidationBus(options, RedisTopology.create({ prefix: 'unit:' }), keys);
  return { bus, l1: new L1Tier(options, bus) };
}

function entry(bus: InvalidationBus, overrides: Partial<L1Entry> = {}): L1Entry {
  return {
    etag: '"e"',
    contentType: 'application/json',
    body: Buffer.from('{"id":1}'),
    generations: ['100', '7'],
    verifiedAt: performance.now(),
    snapshot: bus.ledger.snapshot(),
    freshUntil: Date.now() + 60_000,
    storedAt: Date.now(),
    ...overrides,
  };
}

describe('L1Tier', () => {
  it('serves an entry verified less than CACHE_L1_TTL ago, and not after', () => {
    const { bus, l1 } = tier({ ttlMs: 1_000 });
    // A whole number of milliseconds: (t + 1000) - t is not exactly 1000 for every fractional t.
    const stored = entry(bus, { verifiedAt: Math.floor(performance.now()) });
    l1.set(location, stored, 60_000);
    expect(l1.get(location, stored.verifiedAt + 999)).toBe(stored);
    // Older than CACHE_L1_TTL with no bus vouching for it: the caller must go to Redis.
    expect(l1.get(location, stored.verifiedAt + 1_000)).toBeUndefined();
  });

  it('drops an entry once one of its prefixes is invalidated after it was verified', () => {
    const { bus, l1 } = tier();
    l1.set(location, entry(bus), 60_000);
    bus.ledger.bump(['unit:g:jobs:list:']);
    expect(l1.get(location)).toBeDefined();
    bus.ledger.bump(['unit:g:jobs:item:1:']);
    expect(l1.get(location)).toBeUndefined();
    expect(l1.entries).toBe(0);
  });

  it('never stores a fill that an invalidation overtook (the stale-set race, in process)', () => {
    const { bus, l1 } = tier();
    const startedBeforeWrite = entry(bus);
    bus.ledger.bump(['unit:g:']);
    l1.set(location, startedBeforeWrite, 60_000);
    expect(l1.entries).toBe(0);
  });

  it('caps entries Redis never verified at CACHE_L1_TTL', async () => {
    const { bus, l1 } = tier({ ttlMs: 100 });
    l1.set(location, entry(bus, { generations: null }), 60_000);
    expect(l1.get(location)).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(l1.get(location)).toBeUndefined();
  });

  it('stays within maxEntries and maxBytes', () => {
    const { bus, l1 } = tier({ maxEntries: 50, maxBytes: 64 * 1024 });
    for (let i = 0; i < 1_000; i++) {
      l1.set(
        { ...location, entryKey: `unit:c:k:${i}` },
        entry(bus, { body: Buffer.alloc(i % 2 ? 100 : 4_000) }),
        60_000,
      );
      expect(l1.entries).toBeLessThanOrEqual(50);
      expect(l1.bytes).toBeLessThanOrEqual(64 * 1024);
    }
    expect(l1.entries).toBeGreaterThan(0);
  });

  it('deletes by physical prefix (whole segments as rendered), for ad-hoc invalidations from other instances', () => {
    const { bus, l1 } = tier();
    for (const key of ['unit:c:jobs:item:1', 'unit:c:jobs:item:12', 'unit:c:users:item:1'])
      l1.set({ ...location, entryKey: key }, entry(bus), 60_000);
    bus.receive(bus.entriesMessage('unit:c:jobs:item:1'));
    expect(l1.entries).toBe(1);
  });

  it.each<[string, RedisCacheModuleOptions['l1'], string | null]>([
    ['maxEntries 0', { maxEntries: 0 }, 'redis://127.0.0.1:1'],
    ['maxBytes 0', { maxBytes: 0 }, 'redis://127.0.0.1:1'],
    ['ttlMs 0', { ttlMs: 0 }, 'redis://127.0.0.1:1'],
    ['no Redis (the memory store is the only tier)', {}, null],
  ])('is off with %s', (_label, options, url) => {
    const { bus, l1 } = tier(options, url);
    expect(l1.enabled).toBe(false);
    l1.set(location, entry(bus), 60_000);
    expect(l1.get(location)).toBeUndefined();
  });

  it('copies bytes into memory of their own, so a slice never pins a larger buffer', () => {
    const big = Buffer.from('x'.repeat(10_000));
    const owned = ownedBytes(big.subarray(10, 20));
    expect(owned.toString()).toBe('xxxxxxxxxx');
    expect(owned.buffer.byteLength).toBe(10);
    expect(ownedBytes('é🚀').toString()).toBe('é🚀');
  });
});

describe('invalidation messages', () => {
  it('applies generation bumps from another instance to the ledger', () => {
    const { bus } = tier();
    const snapshot = bus.ledger.snapshot();
    bus.receive(JSON.stringify({ origin: 'other', generations: ['unit:g:jobs:list:'] }));
    expect(bus.ledger.isCurrent(['unit:g:jobs:list:'], snapshot)).toBe(false);
    expect(bus.ledger.isCurrent(['unit:g:users:list:'], snapshot)).toBe(true);
  });

  it('round-trips what a writer publishes', () => {
    const { bus } = tier();
    expect(parseInvalidationMessage(bus.generationsMessage(['a', 'b:c d']))).toEqual({
      origin: bus.origin,
      generations: ['a', 'b:c d'],
    });
    expect(parseInvalidationMessage(bus.entriesMessage('unit:c:x:'))).toEqual({
      origin: bus.origin,
      entries: 'unit:c:x:',
    });
  });

  it.each<[string]>([
    ['not json'],
    ['null'],
    ['42'],
    ['[]'],
    ['{}'],
    ['{"generations":["a"]}'],
    ['{"origin":1,"generations":["a"]}'],
    ['{"origin":"o","generations":"a"}'],
    ['{"origin":"o","generations":[1]}'],
    ['{"origin":"o","entries":""}'],
    ['{"origin":"o","entries":7}'],
    ['{"origin":"o","__proto__":{"generations":["a"]}}'],
  ])('ignores a malformed message: %s', (raw) => {
    expect(parseInvalidationMessage(raw)).toBeUndefined();
    const { bus } = tier();
    const snapshot = bus.ledger.snapshot();
    expect(() => bus.receive(raw)).not.toThrow();
    expect(bus.ledger.snapshot()).toBe(snapshot);
  });
});
