import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { DEFAULT_OP_TIMEOUT_MS, REDIS_CACHE_CLIENT } from '../redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { L2Outcome, RedisCacheModuleOptions, RedisState } from '../redis-cache.types.js';
import { CacheEvents } from '../observability/cache-events.js';
import type { RedisClient } from '../storage/redis-client.factory.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { DeadlineExceeded, withDeadline } from './deadline.js';
import { FailureLog } from './failure-log.js';

/** Rejection of a read skipped because the circuit is open: it cost nothing. */
export class CircuitOpen extends Error {}

/**
 * The one wrapper around every Redis call (HOUSE-STYLE practice 7): deadlines, the circuit breaker, the
 * once-per-window failure log and the `l2-call` event. Reads on a request's path are skipped while the circuit is
 * open; writes (fills, invalidations) are always attempted and reported to it. Nothing here ever hangs past its
 * deadline, whatever Redis does (RELIABILITY.md §1: node-redis timeouts do not cover a frozen server).
 */
@Injectable()
export class RedisGateway implements OnApplicationShutdown {
  /** One budget for the Redis reads on a request's path, and for a write's invalidation. */
  readonly deadlineMs: number;
  /** Opens after repeated failures or deadline misses; reads then skip Redis until a probe passes. */
  readonly circuit: CircuitBreaker;
  private readonly failures = new FailureLog(new Logger('RedisCache'));

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) options: RedisCacheModuleOptions,
    @Inject(REDIS_CACHE_CLIENT) readonly client: RedisClient | undefined,
    private readonly events: CacheEvents,
  ) {
    this.deadlineMs = options.opTimeoutMs ?? DEFAULT_OP_TIMEOUT_MS;
    this.circuit = new CircuitBreaker({ onStateChange: (state) => events.emit('circuit', { state }) });
    // A reconnected client is worth a probe now rather than after the rest of the cool-down.
    client?.on('ready', () => this.circuit.probeNow());
  }

  /** `up` while the client is connected, `down` while it is not, `disabled` without Redis. */
  get state(): RedisState {
    if (!this.client) return 'disabled';
    return this.client.isReady ? 'up' : 'down';
  }

  /**
   * Runs a read under the deadline, unless the circuit is open (then it costs nothing and rejects with
   * {@link CircuitOpen}), and reports the outcome to the circuit. Takes a function, so that a skipped read never
   * even builds its command.
   */
  async read<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.circuit.allow()) {
      this.observe(0, 'skipped');
      throw new CircuitOpen();
    }
    return this.attempt(operation, this.deadlineMs);
  }

  /** Runs a write under `deadlineMs`, whatever the circuit says (a write must not be skipped), and reports it. */
  write<T>(operation: () => Promise<T>, deadlineMs = this.deadlineMs): Promise<T> {
    return this.attempt(operation, deadlineMs);
  }

  /**
   * Runs work off any request's path (a fill) under the deadline, without reporting to the circuit: refused writes
   * (Redis out of memory refuses SET but still answers reads) must not make reads skip Redis. Never rejects
   * (it resolves once the work settled); a failure is logged once per window and passed to `onFailure`.
   */
  background(operation: string, work: () => Promise<unknown>, onFailure: () => void): Promise<void> {
    return withDeadline(work(), this.deadlineMs).then(
      () => undefined,
      (error: unknown) => {
        onFailure();
        this.report(operation, error);
      },
    );
  }

  /** Round-trip time of a PING under `deadlineMs`, or null when Redis is absent, disconnected or too slow. */
  async ping(deadlineMs: number): Promise<number | null> {
    if (!this.client?.isReady) return null;
    const started = performance.now();
    try {
      await withDeadline(this.client.ping(), deadlineMs);
      return Math.round((performance.now() - started) * 100) / 100;
    } catch {
      return null;
    }
  }

  /** Logs a failed operation at most once per window per kind, with what was suppressed meanwhile. */
  report(operation: string, error: unknown): void {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.failures.report(operation, `cache ${operation} failed (${detail}); serving uncached`);
  }

  /** A warning of one kind, at most once per window. */
  warn(kind: string, message: string): void {
    this.failures.report(kind, message);
  }

  onApplicationShutdown(): void {
    if (this.client?.isOpen) this.client.destroy();
  }

  private async attempt<T>(operation: () => Promise<T>, deadlineMs: number): Promise<T> {
    const started = performance.now();
    try {
      const result = await withDeadline(operation(), deadlineMs);
      this.circuit.success();
      this.observe(performance.now() - started, 'ok');
      return result;
    } catch (error) {
      // A miss while this process's own loop was busy says nothing about Redis: opening the circuit would take
      // the cache away from an instance that is already short of CPU.
      if (!(error instanceof DeadlineExceeded && error.loopBusy)) this.circuit.failure();
      this.observe(performance.now() - started, error instanceof DeadlineExceeded ? 'timeout' : 'error');
      throw error;
    }
  }

  private observe(durationMs: number, outcome: L2Outcome): void {
    if (this.events.has('l2-call')) this.events.emit('l2-call', { durationMs, outcome });
  }
}
