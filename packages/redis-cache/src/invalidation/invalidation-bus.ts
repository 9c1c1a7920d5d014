import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DEFAULT_L1_TTL_MS, DEFAULT_OP_TIMEOUT_MS } from '../redis-cache.constants.js';
import { RedisTopology } from '../storage/redis-topology.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import { withDeadline } from '../resilience/deadline.js';
import { FailureLog } from '../resilience/failure-log.js';
import { InvalidationLedger } from './invalidation-ledger.js';
import { KeySpace } from '../keys/key-space.js';
import type { RedisClient } from '../storage/redis-client.factory.js';

/** What one instance tells the others: generation counters it bumped, or entries it deleted by physical prefix. */
export type InvalidationMessage =
  { origin: string; generations: string[] } | { origin: string; entries: string };

/** Parses a message from the channel; anything malformed (the channel is shared) is ignored. */
export function parseInvalidationMessage(raw: string): InvalidationMessage | undefined {
  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const { origin, generations, entries } = message as Record<string, unknown>;
  if (typeof origin !== 'string') return undefined;
  if (Array.isArray(generations) && generations.every((key) => typeof key === 'string'))
    return { origin, generations: generations as string[] };
  if (typeof entries === 'string' && entries.length > 0) return { origin, entries };
  return undefined;
}

/** `CLIENT SETNAME` of the subscriber connection: the cache prefix and this process, without spaces. */
export function subscriberName(prefix: string, origin: string): string {
  return `${prefix.replace(/[^\w.:-]/g, '_')}subscriber:${origin.slice(0, 8)}`;
}

/**
 * Keeps every instance's L1 coherent (ARCHITECTURE.md §5, Tiers). Writers publish their generation bumps on one
 * channel per cache prefix, in the same MULTI as the bump; each instance applies them to its
 * {@link InvalidationLedger}, which L1 and single-flight consult. A dedicated subscriber connection receives them;
 * it reconnects by itself (node-redis re-subscribes before it reports ready).
 *
 * What the subscriber cannot tell is what it missed: messages published while it was disconnected are lost, and a
 * frozen or cut-off connection may look healthy for a while. So it is probed with PING every heartbeat (a PONG
 * proves that every message published before the PING was delivered first, as replies are ordered), and L1 trusts
 * an entry beyond `CACHE_L1_TTL` only if it was verified during the current subscription and the last PONG is
 * recent. When a subscription starts (at boot, or after a reconnect), everything verified before it is dropped
 * from the ledger's point of view and re-read from Redis: the instance cannot know which messages it missed.
 * While the subscriber is down, entries are served only for `CACHE_L1_TTL` after they were verified.
 */
@Injectable()
export class InvalidationBus implements OnModuleInit, OnApplicationShutdown {
  readonly ledger = new InvalidationLedger();
  /** This process, so that a log line or a message can say where it came from. */
  readonly origin = randomUUID();
  readonly channel: string;
  private subscriber: RedisClient | undefined;
  private readonly subscriberName: string;
  private readonly heartbeatMs: number;
  private readonly silenceLimitMs: number;
  private readonly deadlineMs: number;
  private readonly logger = new Logger('RedisCache');
  private readonly failures = new FailureLog(this.logger);
  private readonly entryDeletionListeners: ((physicalPrefix: string) => void)[] = [];
  private readonly listener = (raw: string) => this.receive(raw);
  private subscribed = false;
  /** When the current subscription was known to be in place (performance.now()); undefined while it is not. */
  private sessionStart: number | undefined;
  /** When the last PING answered by the subscriber was sent: every message published before then has arrived. */
  private confirmedAt = -Infinity;
  private heartbeat: NodeJS.Timeout | undefined;
  private probing = false;
  private stopped = false;

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) options: RedisCacheModuleOptions,
    private readonly topology: RedisTopology,
    keys: KeySpace,
  ) {
    this.channel = keys.channel;
    const l1TtlMs = options.l1?.ttlMs ?? DEFAULT_L1_TTL_MS;
    this.silenceLimitMs = l1TtlMs;
    this.heartbeatMs = Math.min(1_000, Math.max(100, Math.floor(l1TtlMs / 4)));
    this.deadlineMs = Math.max(options.opTimeoutMs ?? DEFAULT_OP_TIMEOUT_MS, 500);
    // Named, so that operators (and tests) can tell it apart in CLIENT LIST.
    this.subscriberName = subscriberName(keys.prefix, this.origin);
  }

  onModuleInit(): void {
    if (!this.topology.client) return;
    // A new master (Sentinel) has its own history: a new subscription there, and nothing trusted from before it.
    this.topology.onMaster((changed) => (changed ? this.dropSubscriber() : this.attachSubscriber()));
    this.attachSubscriber();
    this.heartbeat = setInterval(() => void this.probe(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.heartbeat);
    if (this.subscriber?.isOpen) this.subscriber.destroy();
  }

  /** A subscriber connection to the current master (once it is known, on Sentinel), connecting in the background. */
  private attachSubscriber(): void {
    if (this.subscriber || this.stopped) return;
    const subscriber = this.topology.connectionToMaster(this.subscriberName);
    if (!subscriber) return;
    this.subscriber = subscriber;
    void this.probe();
    this.subscribed = false;
    subscriber.on('error', (error: Error) => {
      this.lost();
      this.failures.report('subscriber', `Redis subscriber connection: ${error.message}`);
    });
    subscriber.on('reconnecting', () => this.lost());
    subscriber.on('end', () => this.lost());
    subscriber.on('ready', () => void this.probe());
    subscriber
      .connect()
      .catch((error: Error) =>
        this.failures.report('subscriber', `Redis subscriber connection: ${error.message}`),
      );
  }

  private dropSubscriber(): void {
    this.lost();
    const old = this.subscriber;
    this.subscriber = undefined;
    if (old?.isOpen) old.destroy();
    this.attachSubscriber();
  }

  /** The message announcing bumps of these counters, published by the writer in the MULTI of the bump. */
  generationsMessage(generationKeys: string[]): string {
    return JSON.stringify({ origin: this.origin, generations: generationKeys } satisfies InvalidationMessage);
  }

  entriesMessage(physicalPrefix: string): string {
    return JSON.stringify({ origin: this.origin, entries: physicalPrefix } satisfies InvalidationMessage);
  }

  /** Publishes a message on the channel (a shard channel on Cluster) through `client`. */
  publish(client: RedisClient, message: string): Promise<number> {
    return this.topology.kind === 'cluster'
      ? client.sPublish(this.channel, message)
      : client.publish(this.channel, message);
  }

  onEntriesDeleted(listener: (physicalPrefix: string) => void): void {
    this.entryDeletionListeners.push(listener);
  }

  /**
   * Whether an L1 entry verified at `verifiedAt` (performance.now()) can be served without asking Redis: the
   * subscription has been in place since then, and was confirmed less than `CACHE_L1_TTL` ago, so any bump since
   * then has reached the ledger (or, if the connection died unnoticed, is at most that old).
   */
  coversSince(verifiedAt: number, now: number): boolean {
    return (
      this.sessionStart !== undefined &&
      verifiedAt >= this.sessionStart &&
      now - this.confirmedAt < this.silenceLimitMs
    );
  }

  /** For health and stats: whether the subscription is in place and confirmed recently. */
  get healthy(): boolean {
    return this.sessionStart !== undefined && performance.now() - this.confirmedAt < this.silenceLimitMs;
  }

  /** Applies a message; exposed for tests of malformed input. */
  receive(raw: string): void {
    const message = parseInvalidationMessage(raw);
    if (!message) return;
    if ('generations' in message) this.ledger.bump(message.generations);
    else for (const listener of this.entryDeletionListeners) listener(message.entries);
  }

  private lost(): void {
    this.sessionStart = undefined;
  }

  /** Subscribes if needed, then PINGs through the subscriber: a PONG confirms delivery up to the moment it was sent. */
  private async probe(): Promise<void> {
    this.attachSubscriber();
    const subscriber = this.subscriber;
    if (!subscriber || this.probing || this.stopped || !subscriber.isReady) return;
    this.probing = true;
    const sentAt = performance.now();
    try {
      if (!this.subscribed) {
        // On Cluster a shard channel, in the counters' slot: its subscribers sit on the master that runs the bumps.
        const subscribing =
          this.topology.kind === 'cluster'
            ? subscriber.sSubscribe(this.channel, this.listener)
            : subscriber.subscribe(this.channel, this.listener);
        await withDeadline(subscribing, this.deadlineMs);
        this.subscribed = true;
      }
      await withDeadline(subscriber.ping(), this.deadlineMs);
      if (subscriber !== this.subscriber) return; // replaced meanwhile (a master change)
      this.confirmedAt = sentAt;
      if (this.sessionStart === undefined) {
        // Only from this PONG on is the subscription known to be in place (SUBSCRIBE was answered before it).
        // Whatever was published while it was not is lost: nothing verified or started before now is trusted.
        this.ledger.bumpAll();
        this.sessionStart = performance.now();
      }
    } catch (error) {
      this.failures.report('subscriber', `Redis subscriber probe failed: ${(error as Error).message}`);
    } finally {
      this.probing = false;
    }
  }
}
