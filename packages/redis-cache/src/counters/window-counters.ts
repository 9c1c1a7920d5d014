import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { CacheConfigurationError } from '../errors.js';
import { KeySpace } from '../keys/key-space.js';
import { ttlToMs, type Ttl } from '../keys/ttl.util.js';
import { CircuitOpen, RedisGateway } from '../resilience/redis-gateway.js';

/** What one counted event found: how many the window holds now, and when it starts again from zero. */
export interface WindowCount {
  /** Events counted in the current window, this one included. */
  count: number;
  /** Milliseconds until the window ends and the count starts again from zero. */
  resetInMs: number;
  /** `fleet`: counted in Redis, shared by every instance; `process`: in this process only (no Redis, or it is away). */
  scope: 'fleet' | 'process';
}

/** Longest caller key: an address, an account id or a route and a tenant, never a document. */
export const MAX_WINDOW_KEY_LENGTH = 512;
/** Windows remembered in process memory while Redis is away: the least recently counted go first. */
const LOCAL_WINDOWS = 100_000;

// One round trip, atomic: the first event of a window sets its expiry, and a counter left without one (written by
// something else) gets it too, so that no counter outlives its window.
const COUNT_SCRIPT = `local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

interface LocalWindow {
  count: number;
  endsAt: number;
}

/**
 * Fixed-window counters for rate limits and quotas: in Redis when it is configured and answers (one script, under
 * the gateway's deadline and circuit, so every instance counts into the same window and a restart forgets nothing),
 * in process memory otherwise. Falling back per event keeps a limit in force during an outage, per instance.
 */
@Injectable()
export class WindowCounters {
  private readonly local = new LRUCache<string, LocalWindow>({ max: LOCAL_WINDOWS });

  constructor(
    private readonly gateway: RedisGateway,
    private readonly keys: KeySpace,
  ) {}

  async count(key: string, window: Ttl, tenant: string | undefined): Promise<WindowCount> {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_WINDOW_KEY_LENGTH)
      throw new CacheConfigurationError(
        `countInWindow() takes a key of 1-${MAX_WINDOW_KEY_LENGTH} characters, got ${describeKey(key)}`,
      );
    const windowMs = ttlToMs(window);
    const physicalKey = this.keys.windowCounter(tenant, key);
    const client = this.gateway.client;
    if (client) {
      try {
        const [count, resetInMs] = (await this.gateway.read(() =>
          client.eval(COUNT_SCRIPT, { keys: [physicalKey], arguments: [String(windowMs)] }),
        )) as [number, number];
        return { count, resetInMs, scope: 'fleet' };
      } catch (error) {
        if (!(error instanceof CircuitOpen)) this.gateway.report('window count', error);
      }
    }
    return this.countLocally(physicalKey, windowMs);
  }

  private countLocally(physicalKey: string, windowMs: number): WindowCount {
    const now = Date.now();
    let window = this.local.get(physicalKey);
    if (!window || window.endsAt <= now) {
      window = { count: 0, endsAt: now + windowMs };
      this.local.set(physicalKey, window);
    }
    window.count++;
    return { count: window.count, resetInMs: window.endsAt - now, scope: 'process' };
  }
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? `${key.length} characters` : `a ${typeof key}`;
}
