import { LRUCache } from 'lru-cache';
import type { RedisClient } from '../storage/redis-client.factory.js';

/**
 * Generation counters, one per invalidation prefix. A counter never goes back: a missing one (expired, evicted, or
 * deliberately removed after a failed bump) is re-created from the clock in microseconds, which is above any value
 * an earlier counter reached by increments, never from 0.
 */
export interface GenerationCounters {
  /** Current values; `null` for a missing counter (the caller bypasses the cache for keys it covers). */
  read(keys: string[]): Promise<(string | null)[]>;
  /**
   * Creates missing counters (SET NX; existing ones are left alone) and returns the values now in place. Safe to
   * fill under: a re-created counter is above any value the old one reached, so older entries stay unreachable.
   */
  ensure(keys: string[], ttlMs: number): Promise<string[]>;
  /** Moves every counter forward, creating missing ones first, and refreshes their TTL. */
  bump(keys: string[], ttlMs: number): Promise<void>;
  /** Removes counters: the fallback when a bump is refused (UNLINK still works when Redis is out of memory). */
  remove(keys: string[]): Promise<void>;
  /** Refreshes the TTL of counters in use, so they outlive the entries that depend on them. */
  touch(keys: string[], ttlMs: number): Promise<void>;
}

/** DI token of the configured {@link GenerationCounters}. */
export const GENERATION_COUNTERS = Symbol('redis_cache:generation_counters');

export const generationSeed = () => String(Date.now() * 1_000);

/** A bump the master took but no replica confirmed in time: a failover could still roll it back. */
export class NotReplicated extends Error {}

/** The channel and message that tell other instances about a bump or removal of these counters. */
export type Announcement = (keys: string[]) => [channel: string, message: string];

/**
 * Counters in Redis. Every bump and removal is published in the same round trip, so that the write also reaches
 * every instance's L1 (PUBLISH is allowed when Redis is out of memory, like UNLINK).
 */
export class RedisGenerationCounters implements GenerationCounters {
  constructor(
    private readonly client: RedisClient,
    private readonly announce: Announcement,
    /**
     * Replicated topologies: every bump and removal waits (WAIT) for `replicas`, at most half `timeoutMs`, so that a
     * master dying right after acknowledging it cannot roll it back; fewer acknowledgements than `required` (by
     * default `replicas`) fail it.
     */
    private readonly durability: { replicas: () => number; required?: () => number; timeoutMs: number } = {
      replicas: () => 0,
      timeoutMs: 0,
    },
    /**
     * Redis Cluster: the announcement is an SPUBLISH (a shard channel in the counters' slot, which MULTI accepts
     * and which reaches the subscribers on that shard's master), and the PING or WAIT behind it must go to that
     * master's connection, where the MULTI went: `toCounterMaster` sends it there.
     */
    private readonly cluster?: { toCounterMaster: (args: string[]) => Promise<unknown> },
  ) {}

  private announceIn(multi: ReturnType<RedisClient['multi']>, keys: string[]) {
    const [channel, message] = this.announce(keys);
    return this.cluster ? multi.sPublish(channel, message) : multi.publish(channel, message);
  }

  /**
   * node-redis honours `disableOfflineQueue` for single commands only: a MULTI or a pipeline sent while the
   * connection is down waits for the reconnect. Fail those at once instead, as a single command would.
   */
  private connected(): RedisClient {
    if (!this.client.isReady) throw new Error('Redis connection is not ready');
    return this.client;
  }

  async read(keys: string[]) {
    return keys.length === 0 ? [] : this.client.mGet(keys);
  }

  async ensure(keys: string[], ttlMs: number) {
    if (keys.length === 0) return [];
    const multi = this.connected().multi();
    for (const key of keys) multi.set(key, generationSeed(), { NX: true, PX: ttlMs });
    multi.mGet(keys);
    const replies = await multi.exec();
    const values = replies.at(-1) as unknown as (string | null)[];
    if (values.some((value) => value === null))
      throw new Error('generation counter vanished while being created');
    return values as string[];
  }

  async bump(keys: string[], ttlMs: number) {
    if (keys.length === 0) return;
    const multi = this.connected().multi();
    for (const key of keys) {
      multi.set(key, generationSeed(), { NX: true, PX: ttlMs });
      multi.incr(key);
      multi.pExpire(key, ttlMs);
    }
    this.announceIn(multi, keys);
    await multi.exec();
    await this.untilAnnounced();
  }

  /**
   * Redis writes pending replies newest first, so the writer can get the EXEC reply (and answer its client, who
   * may then ask another instance) before the message is written to the other instances' subscriber sockets. A
   * second round trip returns only after Redis has flushed that earlier batch: from then on every subscriber has the
   * message in its socket. One extra round trip per write; reads are unaffected.
   */
  private async untilAnnounced(): Promise<void> {
    const { timeoutMs } = this.durability;
    const replicas = this.durability.replicas();
    // Half the write's deadline: the MULTI before it and the WAIT must both fit in it, or a replica that does not
    // acknowledge (required or not) turns every bump into a deadline miss, counted against the circuit.
    const waitMs = Math.max(1, Math.floor(timeoutMs / 2));
    if (replicas === 0) {
      await (this.cluster ? this.cluster.toCounterMaster(['PING']) : this.client.ping());
      return;
    }
    // WAIT answers after the earlier replies were flushed, like the PING, and once a replica has the write.
    const acknowledged = Number(
      this.cluster
        ? await this.cluster.toCounterMaster(['WAIT', String(replicas), String(waitMs)])
        : await this.client.wait(replicas, waitMs),
    );
    const required = Math.min(replicas, this.durability.required?.() ?? replicas);
    if (acknowledged < required)
      throw new NotReplicated(`a bump reached ${acknowledged} of ${required} replica(s) within ${waitMs} ms`);
  }

  async remove(keys: string[]) {
    // A pipeline, not MULTI: out of memory, Redis refuses to queue any command inside a transaction.
    if (keys.length > 0 && this.cluster) {
      // node-redis sends a cluster pipeline where its slot map says and does not follow MOVED (a failover): plain
      // commands do, and sent together they still travel in order on the one connection to the counters' master.
      const [channel, message] = this.announce(keys);
      await Promise.all([this.connected().unlink(keys), this.client.sPublish(channel, message)]);
    } else if (keys.length > 0)
      await this.announceIn(this.connected().multi().unlink(keys), keys).execAsPipeline();
    await this.untilAnnounced();
  }

  async touch(keys: string[], ttlMs: number) {
    if (keys.length === 0) return;
    if (this.cluster) {
      await Promise.all(keys.map((key) => this.connected().pExpire(key, ttlMs)));
      return;
    }
    const multi = this.connected().multi();
    for (const key of keys) multi.pExpire(key, ttlMs);
    await multi.execAsPipeline();
  }
}

/** The same semantics in process memory, for `REDIS_URL` unset. */
export class MemoryGenerationCounters implements GenerationCounters {
  private readonly counters = new LRUCache<string, bigint>({ max: 100_000, ttlAutopurge: false });

  async read(keys: string[]) {
    return keys.map((key) => this.counters.get(key)?.toString() ?? null);
  }

  async ensure(keys: string[], ttlMs: number) {
    return keys.map((key) => {
      const value = this.counters.get(key) ?? BigInt(generationSeed());
      this.counters.set(key, value, { ttl: ttlMs });
      return value.toString();
    });
  }

  async bump(keys: string[], ttlMs: number) {
    for (const key of keys) {
      const current = this.counters.get(key) ?? BigInt(generationSeed());
      this.counters.set(key, current + 1n, { ttl: ttlMs });
    }
  }

  async remove(keys: string[]) {
    for (const key of keys) this.counters.delete(key);
  }

  async touch(keys: string[], ttlMs: number) {
    for (const key of keys) {
      const value = this.counters.get(key);
      if (value !== undefined) this.counters.set(key, value, { ttl: ttlMs });
    }
  }
}
