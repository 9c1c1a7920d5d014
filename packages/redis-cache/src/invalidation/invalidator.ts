import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { CacheCounters } from '../observability/cache-counters.js';
import { DeadlineExceeded } from '../resilience/deadline.js';
import { RedisGateway } from '../resilience/redis-gateway.js';
import { ENTRY_STORE, type EntryStore } from '../storage/entry-store.js';
import { L1Tier } from '../tiers/l1-tier.js';
import { afterCommit } from './after-commit.js';
import { GENERATION_COUNTERS, type GenerationCounters } from './generation-counters.js';
import { InvalidationBus } from './invalidation-bus.js';
import { OutboxRelay } from './outbox-relay.js';

/** Generation counters outlive any entry: at least a day, refreshed on every fill and bump. */
export const MIN_GENERATION_TTL_MS = 86_400_000;

/**
 * Makes entries unreachable: a generation bump per prefix (O(1) whatever the number of keys), announced to every
 * instance's L1 in the same round trip and applied to this process's ledger once Redis took it. A bump that Redis
 * refuses removes the counters instead (readers bypass until they are re-created from the clock); when neither
 * works, this instance bypasses those prefixes and retries until Redis takes the bump. Never throws.
 */
@Injectable()
export class Invalidator implements OnModuleDestroy, BeforeApplicationShutdown {
  /** Set at start-up to twice the longest entry TTL (at least a day). */
  generationTtlMs = MIN_GENERATION_TTL_MS;
  private readonly logger = new Logger('RedisCache');
  /** Prefixes whose bump failed everywhere: keys under them bypass the cache here until a retry succeeds. */
  private readonly pendingBumps = new Set<string>();
  /** Pending bumps the outbox could not store either: handed over to it at shutdown if still pending then. */
  private readonly unrecorded = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** The invalidations asked for in this tick, made together once it ends. */
  private batch: { keys: Set<string>; done: Promise<void> } | undefined;

  constructor(
    @Inject(GENERATION_COUNTERS) private readonly generations: GenerationCounters,
    @Inject(ENTRY_STORE) private readonly entries: EntryStore,
    private readonly gateway: RedisGateway,
    private readonly bus: InvalidationBus,
    private readonly l1: L1Tier,
    private readonly counters: CacheCounters,
    private readonly relay: OutboxRelay,
  ) {}

  /** Whether an entry has a bump this instance could not make yet (it bypasses the cache meanwhile). */
  isPending(location: { generationKeys: readonly string[] }): boolean {
    return this.pendingBumps.size > 0 && location.generationKeys.some((key) => this.pendingBumps.has(key));
  }

  /**
   * Bumps the counters under the deadline and announces it; resolves once every instance can know of it. Inside
   * {@link runAfterCommit}, queued until the transaction committed.
   */
  invalidate(generationKeys: string[]): Promise<void> {
    if (generationKeys.length === 0) return Promise.resolve();
    return afterCommit(generationKeys, () => this.invalidateWithinTick(generationKeys));
  }

  /**
   * Joins the invalidations asked for in the same tick (a write that invalidates several prefixes through several
   * calls) into one bump, one announcement and, when Redis is away, one outbox record: what one call with all of
   * them would have done. Each caller resolves when that one is made.
   */
  private invalidateWithinTick(generationKeys: string[]): Promise<void> {
    if (!this.batch) {
      const keys = new Set<string>();
      this.batch = {
        keys,
        done: new Promise<void>((resolve) =>
          process.nextTick(() => {
            this.batch = undefined;
            resolve(this.invalidateNow([...keys]));
          }),
        ),
      };
    }
    for (const key of generationKeys) this.batch.keys.add(key);
    return this.batch.done;
  }

  private async invalidateNow(generationKeys: string[]): Promise<void> {
    this.counters.countTotal('invalidations');
    try {
      await this.bumpOrRemove(generationKeys);
    } finally {
      // After Redis, not before: a read between the two would otherwise refill L1 from the old generation.
      this.bus.ledger.bump(generationKeys);
    }
  }

  /**
   * Deletes entries by physical prefix with SCAN + UNLINK, for prefixes no @InvalidatesCache declared (their keys
   * carry no counter of theirs). Slow on a large keyspace; never on a request's path of its own accord. Unlike a
   * bump it has no fallback, so a failure rejects: the caller must know the entries may still be there.
   */
  async deleteByScan(physicalPrefix: string): Promise<number> {
    const removed = await this.entries.deleteByPrefix(physicalPrefix);
    this.l1.deleteByPrefix(physicalPrefix);
    const client = this.gateway.client;
    if (client) {
      const message = this.bus.entriesMessage(physicalPrefix);
      await this.gateway.write(() => this.bus.publish(client, message));
    }
    return removed;
  }

  onModuleDestroy(): void {
    clearTimeout(this.retryTimer);
  }

  /** A shutting-down instance flushes its pending bumps to Redis, or else hands them over to the outbox. */
  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.retryTimer);
    if (this.pendingBumps.size === 0) return;
    try {
      await this.gateway.write(() => this.generations.bump([...this.pendingBumps], this.generationTtlMs));
      this.pendingBumps.clear();
      this.unrecorded.clear();
      return;
    } catch (error) {
      this.fail('invalidation flush at shutdown', error);
    }
    if (this.unrecorded.size > 0 && (await this.relay.record([...this.unrecorded]))) this.unrecorded.clear();
    if (this.unrecorded.size > 0)
      this.logger.error(
        `shutting down with ${this.unrecorded.size} invalidation(s) neither in Redis nor in the outbox: ` +
          'entries under them may be served until their TTL',
      );
  }

  private async bumpOrRemove(generationKeys: string[]): Promise<void> {
    // One budget for the bump and its fallback: a write waits at most the deadline for Redis, as a read does.
    const deadline = performance.now() + this.gateway.deadlineMs;
    try {
      await this.gateway.write(() => this.generations.bump(generationKeys, this.generationTtlMs));
      return;
    } catch (error) {
      this.fail('invalidation', error);
    }
    const remainingMs = deadline - performance.now();
    try {
      if (remainingMs < 1) throw new DeadlineExceeded(this.gateway.deadlineMs);
      await this.gateway.write(() => this.generations.remove(generationKeys), remainingMs);
      return;
    } catch (error) {
      this.fail('invalidation fallback', error);
    }
    for (const key of generationKeys) this.pendingBumps.add(key);
    this.scheduleRetry();
    // Durable before the write's response: any instance that reaches Redis applies it, even if this one dies.
    if (!(await this.relay.record(generationKeys)))
      for (const key of generationKeys) this.unrecorded.add(key);
  }

  /**
   * After a master change (Sentinel), nothing the old master vouched for is trusted: a bump it acknowledged may not
   * have reached the replica that took over. From this call on, keys under `generationKeys` (the root generation:
   * every entry) bypass the cache here until a bump of them succeeded on the new master; L1 forgets them at once.
   */
  distrust(generationKeys: string[]): void {
    for (const key of generationKeys) this.pendingBumps.add(key);
    this.bus.ledger.bump(generationKeys);
    this.scheduleRetry(50);
  }

  private scheduleRetry(delayMs = 500): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retry();
    }, delayMs);
    this.retryTimer.unref();
  }

  private async retry(): Promise<void> {
    const bumps = [...this.pendingBumps];
    try {
      await this.gateway.write(() => this.generations.bump(bumps, this.generationTtlMs));
      for (const key of bumps) {
        this.pendingBumps.delete(key);
        this.unrecorded.delete(key);
      }
      this.logger.log(`deferred invalidation of ${bumps.length} prefix(es) applied`);
    } catch (error) {
      this.fail('deferred invalidation', error);
      this.scheduleRetry();
    }
  }

  private fail(operation: string, error: unknown): void {
    this.counters.countTotal('l2Errors');
    this.gateway.report(operation, error);
  }
}
