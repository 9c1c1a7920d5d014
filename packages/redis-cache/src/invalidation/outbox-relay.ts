import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { InvalidationOutbox, OutboxStats, RedisCacheModuleOptions } from '../redis-cache.types.js';
import { FailureLog } from '../resilience/failure-log.js';
import { RedisGateway } from '../resilience/redis-gateway.js';
import { GENERATION_COUNTERS, type GenerationCounters } from './generation-counters.js';

/** The relay looks at the outbox this often without a notification: the bound when notifications are lost. */
export const OUTBOX_POLL_MS = 1_000;
/** A claim a relay did not complete (it died, or Redis failed under it) is taken over after this. */
const CLAIM_MS = 5_000;
const BATCH = 100;
/** How long a write waits for its record to be stored, past the Redis deadline it already spent. */
export const OUTBOX_RECORD_TIMEOUT_MS = 2_000;

/**
 * Applies the invalidations of the outbox (module option `outbox`) to Redis: every instance runs one, so a write
 * whose own instance could not reach Redis is applied by any that can, within a notification (or `OUTBOX_POLL_MS`
 * without one) once Redis answers it. Each batch is claimed, bumped and announced (the same MULTI + PUBLISH as any
 * invalidation, so every L1 hears of it), then completed; a relay that fails leaves its claim to expire.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly stats: OutboxStats = {
    depth: 0,
    oldestAgeMs: null,
    recorded: 0,
    applied: 0,
    lastLagMs: null,
    maxLagMs: null,
    recordFailures: 0,
  };
  /** Set at start-up like the invalidator's: twice the longest entry TTL, at least a day. */
  generationTtlMs = 86_400_000;
  private readonly outbox: InvalidationOutbox | undefined;
  private readonly failures = new FailureLog(new Logger('RedisCache'));
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) options: RedisCacheModuleOptions,
    @Inject(GENERATION_COUNTERS) private readonly generations: GenerationCounters,
    private readonly gateway: RedisGateway,
  ) {
    this.outbox = options.outbox;
  }

  get enabled(): boolean {
    return this.outbox !== undefined;
  }

  /** Stores keys whose bump failed; false when the outbox is missing or failed too (the caller keeps them). */
  async record(generationKeys: string[]): Promise<boolean> {
    if (!this.outbox) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.outbox.record(generationKeys),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('outbox record timed out')), OUTBOX_RECORD_TIMEOUT_MS);
        }),
      ]);
      this.stats.recorded++;
      return true;
    } catch (error) {
      this.stats.recordFailures++;
      this.report('outbox record', error);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.outbox || !this.gateway.client) return;
    try {
      this.unsubscribe = await this.outbox.subscribe?.(() => this.kick());
    } catch (error) {
      this.report('outbox subscribe', error);
    }
    this.schedule(0);
  }

  /** Stops, after a last pass (before the Redis client closes): what it can still apply is applied before it goes. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.outbox && this.gateway.client?.isReady) await this.pass();
    await this.unsubscribe?.().catch(() => undefined);
  }

  /** A notification: look now (once the current pass ended, if one runs). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        const next = this.again ? 0 : OUTBOX_POLL_MS;
        this.again = false;
        this.schedule(next);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** Claims and applies batches until the outbox is empty or Redis fails; then refreshes the depth. */
  private async pass(): Promise<void> {
    const outbox = this.outbox!;
    try {
      // A relay that cannot reach Redis (a partition looks connected) must not hold claims others could apply.
      let claimedAny = false;
      const reachable = await this.reachesRedis();
      if (reachable) {
        for (;;) {
          const records = await outbox.claim(BATCH, CLAIM_MS);
          if (records.length === 0) break;
          claimedAny = true;
          const ids = records.map((record) => record.id);
          const keys = [...new Set(records.flatMap((record) => record.generationKeys))];
          try {
            await this.gateway.write(() => this.generations.bump(keys, this.generationTtlMs));
          } catch (error) {
            await outbox.release(ids);
            throw error;
          }
          await outbox.complete(ids);
          const now = Date.now();
          for (const record of records) this.observeLag(now - record.recordedAt);
          if (records.length < BATCH) break;
        }
      }
      // An empty claim with Redis reachable means nothing waits (but others' claims): no second query for that.
      if (reachable && !claimedAny) {
        this.stats.depth = 0;
        this.stats.oldestAgeMs = null;
        return;
      }
      const { records, oldestAgeMs } = await outbox.depth();
      this.stats.depth = records;
      this.stats.oldestAgeMs = oldestAgeMs;
    } catch (error) {
      this.report('outbox relay', error);
    }
  }

  private async reachesRedis(): Promise<boolean> {
    if (!this.gateway.client?.isReady) return false;
    return (await this.gateway.ping(this.gateway.deadlineMs)) !== null;
  }

  private observeLag(lagMs: number): void {
    this.stats.applied++;
    this.stats.lastLagMs = lagMs;
    this.stats.maxLagMs = Math.max(this.stats.maxLagMs ?? 0, lagMs);
  }

  private report(operation: string, error: unknown): void {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.failures.report(operation, `cache ${operation} failed (${detail})`);
  }
}
