import { Logger } from '@nestjs/common';
import { createSentinel } from '@redis/client';
import { readFileSync } from 'node:fs';
import { CacheConfigurationError } from '../errors.js';
import type {
  RedisCacheModuleOptions,
  RedisTopologyKind,
  SentinelConnectionOptions,
} from '../redis-cache.types.js';
import { FailureLog } from '../resilience/failure-log.js';
import { createRedisClient, reconnectDelayMs, type RedisClient } from './redis-client.factory.js';

/** Which topology the options name; start-up fails when they name more than one. */
export function topologyOf(options: RedisCacheModuleOptions): RedisTopologyKind {
  const named = [options.url ? 'url' : undefined, options.sentinel ? 'sentinel' : undefined].filter(Boolean);
  if (named.length > 1)
    throw new CacheConfigurationError(
      `RedisCacheModule options ${named.join(' and ')} are exclusive: give one Redis topology (url or sentinel)`,
    );
  if (options.sentinel) {
    const { sentinels, masterName } = options.sentinel;
    if (!masterName || sentinels.length === 0)
      throw new CacheConfigurationError(
        'RedisCacheModule option sentinel needs masterName and at least one sentinel',
      );
  }
  return options.url ? 'standalone' : options.sentinel ? 'sentinel' : 'memory';
}

/**
 * The Redis the module speaks to, whatever its topology: the command client (node-redis's client, or its Sentinel
 * client, which follows the master the sentinels name), how to open another connection to the current master (the
 * bus subscriber, which must see every message the writer's PING vouches for), and master changes as they happen.
 */
export class RedisTopology {
  /** Master changes seen since start (Sentinel); counted for stats and /metrics. */
  failovers = 0;
  /** Where invalidations (bumps, removals) are written: the command client, or one of their own on Sentinel. */
  writer: RedisClient | undefined;
  /** Healthy replicas the sentinels know, as last read (assumed 1 on Sentinel until then). */
  private connectedReplicas = 1;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly closers: (() => void)[] = [];
  private readonly listeners: ((changed: boolean) => void)[] = [];
  private master: { host: string; port: number } | undefined;

  private constructor(
    readonly kind: RedisTopologyKind,
    readonly client: RedisClient | undefined,
    private readonly options: RedisCacheModuleOptions,
  ) {}

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearInterval(timer);
    for (const close of this.closers) close();
    if (this.writer && this.writer !== this.client && this.writer.isOpen) void this.writer.destroy();
  }

  static create(options: RedisCacheModuleOptions): RedisTopology {
    const kind = topologyOf(options);
    const failures = new FailureLog(new Logger('RedisCache'));
    const report = (error: Error) => failures.report('connection', `Redis connection: ${error.message}`);
    if (kind === 'memory') return new RedisTopology(kind, undefined, options);
    const client =
      kind === 'standalone'
        ? createRedisClient(options.url!, { tlsCaFile: options.tlsCaFile })
        : createSentinelClient(options.sentinel!, options.tlsCaFile);
    const topology = new RedisTopology(kind, client, options);
    // Without an 'error' listener a dying connection crashes the process; with one, an outage is one log line.
    client.on('error', report);
    if (kind === 'sentinel') {
      // Invalidations WAIT for a replica; on the one master connection of the command client that would hold up
      // every read behind it while a replica is slow. They get a connection of their own.
      topology.writer = client.duplicate();
      topology.writer.on('error', report);
      topology.writer.connect().catch(report);
      topology.watchReplicas();
    }
    if (kind === 'sentinel') {
      client.on('topology-change', (event: { type: string; node?: { host: string; port: number } }) => {
        if (event.type !== 'MASTER_CHANGE' || !event.node) return;
        const previous = topology.master;
        topology.master = event.node;
        if (previous) topology.failovers++;
        for (const listener of topology.listeners) listener(previous !== undefined);
      });
    }
    topology.writer ??= client;
    // Started, never awaited: the app serves (uncached) while Redis is absent, and the client keeps reconnecting.
    client.connect().catch(report);
    return topology;
  }

  /** `host:port` of the master (Sentinel), never credentials; undefined before it is known, or standalone. */
  get masterAddress(): string | undefined {
    return this.master ? `${this.master.host}:${this.master.port}` : undefined;
  }

  /** Calls `listener` when the master is first known (`changed` false) and after every change (true). */
  onMaster(listener: (changed: boolean) => void): void {
    this.listeners.push(listener);
  }

  /**
   * A plain connection to the current master, for the bus subscriber: on Sentinel a new one is needed after every
   * master change (undefined until the master is known); standalone, a duplicate of the command client.
   */
  connectionToMaster(name: string): RedisClient | undefined {
    if (!this.client) return undefined;
    if (this.kind === 'standalone') return this.client.duplicate({ name });
    if (!this.master) return undefined;
    const sentinel = this.options.sentinel!;
    const scheme = sentinel.tls ? 'rediss' : 'redis';
    const client = createRedisClient(`${scheme}://${this.master.host}:${this.master.port}`, {
      tlsCaFile: this.options.tlsCaFile,
      username: sentinel.username,
      password: sentinel.password,
      name,
    });
    return client;
  }

  /**
   * Replicas every invalidation waits for (WAIT), so that a failover cannot roll a bump back: on Sentinel one, as
   * long as the master has one connected (with none, no replica can be promoted without first resyncing from it).
   */
  get durableReplicas(): number {
    return this.kind === 'sentinel' ? Math.min(1, this.connectedReplicas) : 0;
  }

  /**
   * Re-reads, every second, how many healthy replicas the sentinels know (`SENTINEL REPLICAS`): those are the
   * ones a failover could promote, so those are the ones a bump must reach. (The app's ACL user may not run INFO.)
   */
  private watchReplicas(): void {
    const sentinel = this.options.sentinel!;
    let next = 0;
    let probe: RedisClient | undefined;
    const timer = setInterval(() => {
      void (async () => {
        try {
          if (!probe?.isReady) {
            if (probe?.isOpen) probe.destroy();
            const { host, port } = sentinel.sentinels[next++ % sentinel.sentinels.length];
            const scheme = sentinel.tls ? 'rediss' : 'redis';
            probe = createRedisClient(`${scheme}://${host}:${port}`, {
              tlsCaFile: this.options.tlsCaFile,
              password: sentinel.sentinelPassword,
            });
            probe.on('error', () => undefined);
            await probe.connect();
          }
          const replicas = (await probe.sendCommand([
            'SENTINEL',
            'REPLICAS',
            sentinel.masterName,
          ])) as string[][];
          // Replicating now (link ok): an old master the sentinels have not turned into a replica yet is listed,
          // but holds nothing the new master took since, and cannot acknowledge a WAIT.
          this.connectedReplicas = replicas.filter((fields) => {
            const field = (name: string) => fields[fields.indexOf(name) + 1] ?? '';
            return !/s_down|o_down|disconnected/.test(field('flags')) && field('master-link-status') === 'ok';
          }).length;
        } catch {
          if (probe?.isOpen) probe.destroy();
          probe = undefined;
        }
      })();
    }, 1_000);
    timer.unref();
    this.timers.push(timer);
    this.closers.push(() => {
      if (probe?.isOpen) probe.destroy();
    });
  }
}

/**
 * node-redis's Sentinel client (6.x), with the same fail-fast settings as the standalone one: commands to the
 * master, never to replicas (they can trail a bump); the sentinels are re-read every second.
 */
function createSentinelClient(options: SentinelConnectionOptions, tlsCaFile?: string): RedisClient {
  const ca = tlsCaFile ? readFileSync(tlsCaFile) : undefined;
  const tls = options.tls ? { tls: true as const, ...(ca ? { ca } : {}) } : {};
  const sentinel = createSentinel({
    name: options.masterName,
    sentinelRootNodes: options.sentinels,
    RESP: 2,
    scanInterval: 1_000,
    masterPoolSize: 1,
    nodeClientOptions: {
      username: options.username,
      password: options.password,
      disableOfflineQueue: true,
      commandsQueueMaxLength: 2_000,
      socket: {
        connectTimeout: 1_000,
        reconnectStrategy: (retries: number) => reconnectDelayMs(retries),
        ...tls,
      },
    },
    sentinelClientOptions: {
      password: options.sentinelPassword,
      socket: { connectTimeout: 1_000, ...tls },
    },
  });
  // The Sentinel client offers the commands the stores use with the same signatures (checked by the Sentinel suite).
  return sentinel as unknown as RedisClient;
}
