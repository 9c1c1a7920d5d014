import { HttpException, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { InvalidTtlError } from '../errors.js';
import { ttlToMs } from '../keys/ttl.util.js';
import { CacheCounters, type StatsSink } from '../observability/cache-counters.js';
import { CacheEvents } from '../observability/cache-events.js';
import type { FailSafeOptions, StaleReason } from '../redis-cache.types.js';

/** Fail-safe settings resolved to milliseconds (0: off). */
export interface FailSafePolicy {
  graceMs: number;
  staleWhileRevalidate: boolean;
  softTimeoutMs: number;
  hardTimeoutMs: number;
  backoffMs: number;
}

export const NO_FAIL_SAFE: FailSafePolicy = {
  graceMs: 0,
  staleWhileRevalidate: false,
  softTimeoutMs: 0,
  hardTimeoutMs: 0,
  backoffMs: 10_000,
};

/**
 * Settings over a base policy (the module's defaults, or a namespace's), checked and in milliseconds; `where` names
 * the declaration in errors.
 */
export function failSafePolicy(
  options: FailSafeOptions | undefined,
  base: FailSafePolicy,
  where: string,
): FailSafePolicy {
  const ms = (name: Exclude<keyof FailSafeOptions, 'staleWhileRevalidate'>, inherited: number): number => {
    const value = options?.[name];
    if (value === undefined) return inherited;
    if (value === 0) return 0;
    try {
      return ttlToMs(value);
    } catch (error) {
      throw new InvalidTtlError(`${where}: ${name}: ${(error as Error).message}`);
    }
  };
  return {
    graceMs: ms('grace', base.graceMs),
    staleWhileRevalidate: options?.staleWhileRevalidate ?? base.staleWhileRevalidate,
    softTimeoutMs: ms('softTimeout', base.softTimeoutMs),
    hardTimeoutMs: ms('hardTimeout', base.hardTimeoutMs),
    backoffMs: ms('graceBackoff', base.backoffMs),
  };
}

/** How a fresh answer went, for a caller that waits for it at most some time. */
export type Outcome<T> =
  { state: 'done'; value: T } | { state: 'failed'; error: unknown } | { state: 'late' };

/**
 * Errors a stale answer must not hide: the client's own (a 4xx says the request is wrong, or the thing is gone),
 * as opposed to the server's trouble (a 5xx, a thrown database error, a timeout).
 */
export function isClientError(error: unknown): boolean {
  return error instanceof HttpException && error.getStatus() < 500;
}

/**
 * The fail-safe's state (ARCHITECTURE.md §11): which keys are in back-off after a failure, which are refreshing in
 * the background, and the accounting of stale answers. The decisions themselves are the callers' (the HTTP
 * interceptor, named caches), which know what a fresh answer is.
 */
@Injectable()
export class FailSafe {
  private readonly backoff = new LRUCache<string, number>({ max: 10_000 });
  private readonly refreshing = new Set<string>();
  private readonly logger = new Logger('RedisCache');

  constructor(
    private readonly counters: CacheCounters,
    private readonly events: CacheEvents,
  ) {}

  /** Whether a failure of this key was seen less than `graceBackoff` ago: answer graced, do not try again. */
  inBackoff(key: string): boolean {
    const until = this.backoff.get(key);
    return until !== undefined && Date.now() < until;
  }

  backOff(key: string, policy: FailSafePolicy): void {
    if (policy.backoffMs > 0) this.backoff.set(key, Date.now() + policy.backoffMs, { ttl: policy.backoffMs });
  }

  /** Waits for `work` at most `timeoutMs` (0: as long as it takes); the work goes on either way. */
  async within<T>(work: Promise<T>, timeoutMs: number): Promise<Outcome<T>> {
    const settled = work.then(
      (value): Outcome<T> => ({ state: 'done', value }),
      (error: unknown): Outcome<T> => ({ state: 'failed', error }),
    );
    if (timeoutMs <= 0) return settled;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Outcome<T>>((resolve) => {
      timer = setTimeout(() => resolve({ state: 'late' }), timeoutMs);
    });
    try {
      return await Promise.race([settled, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Lets work that outlived its caller finish: counted as a refresh, and a failure puts the key in back-off (and is
   * logged at most once per key kind of failure, never thrown).
   */
  finishInBackground(key: string, work: Promise<unknown>, policy: FailSafePolicy): void {
    this.counters.countTotal('refreshes');
    work.catch((error: unknown) => {
      this.counters.countTotal('refreshFailures');
      this.backOff(key, policy);
      if (!isClientError(error))
        this.logger.debug?.(`background refresh failed: ${(error as Error).message}`);
    });
  }

  /** Starts `refresh` unless one is already running for `key` in this process (stale-while-revalidate). */
  refreshOnce(key: string, refresh: () => Promise<unknown>, policy: FailSafePolicy): void {
    if (this.refreshing.has(key) || this.inBackoff(key)) return;
    this.refreshing.add(key);
    const work = Promise.resolve()
      .then(refresh)
      .finally(() => this.refreshing.delete(key));
    this.finishInBackground(key, work, policy);
  }

  /** Accounts for a stale answer: the counters of its route or namespace, and the `stale-served` event. */
  served(stats: StatsSink, name: string, reason: StaleReason): void {
    stats.record('staleServed');
    if (this.events.has('stale-served')) this.events.emit('stale-served', { name, reason });
  }
}
