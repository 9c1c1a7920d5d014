import { Logger } from '@nestjs/common';
import { CacheConfigurationError } from '../errors.js';
import type { RedisCacheModuleOptions, RedisTopologyKind } from '../redis-cache.types.js';
import { performance } from 'node:perf_hooks';
import { keySpaceFor } from '../keys/key-space.js';
import { FailureLog } from '../resilience/failure-log.js';
import {
  connectionToNode,
  connectUntilUp,
  createClusterClient,
  destroyCluster,
  onlineReplicas,
  slotMaster,
  type RedisCluster,
  type SlotMaster,
} from './cluster-client.js';
import { createRedisClient, type RedisClient } from './redis-client.factory.js';
import { createSentinelClient, watchSentinelReplicas } from './sentinel-client.js';

/** Which topology the options name; start-up fails when they name more than one. */
export function topologyOf(options: RedisCacheModuleOptions): RedisTopologyKind {
  const named = [
    options.url ? 'url' : undefined,
    options.sentinel ? 'sentinel' : undefined,
    options.cluster ? 'cluster' : undefined,
  ].filter(Boolean);
  if (named.length > 1)
    throw new CacheConfigurationError(
      `RedisCacheModule options ${named.join(' and ')} are exclusive: give one Redis topology (url, sentinel or cluster)`,
    );
  if (options.cluster && /[{}]/.test(options.prefix))
    throw new CacheConfigurationError(
      'RedisCacheModule option prefix must not contain { or } on Redis Cluster (they would change the hash tag)',
    );
  if (options.sentinel) {
    const { sentinels, masterName } = options.sentinel;
    if (!masterName || sentinels.length === 0)
      throw new CacheConfigurationError(
        'RedisCacheModule option sentinel needs masterName and at least one sentinel',
      );
  }
  if (options.url) return 'standalone';
  if (options.sentinel) return 'sentinel';
  return options.cluster ? 'cluster' : 'memory';
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
  /** Cluster: the command client as node-redis's cluster type, for what only it offers (the slot map, routing). */
  cluster: RedisCluster | undefined;
  /**
   * Replicas the sentinels list as up, and those of them they report in sync (link ok), or those of the counters'
   * shard on Cluster, as last read (1 until then).
   */
  private replicas = { up: 1, inSync: 1 };
  /** Cluster: the master of the slot every counter and the bus channel live in, as the slot map last said. */
  private counterMaster: SlotMaster | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly closers: (() => void)[] = [];
  private readonly listeners: ((changed: boolean) => void)[] = [];
  private master: { host: string; port: number } | undefined;

  /** Cluster: a key in the slot of every counter (the root generation), to route by and to find that slot's master. */
  private readonly counterKey: string;

  private constructor(
    readonly kind: RedisTopologyKind,
    readonly client: RedisClient | undefined,
    private readonly options: RedisCacheModuleOptions,
  ) {
    this.counterKey = keySpaceFor(options).rootGeneration;
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearInterval(timer);
    for (const close of this.closers) close();
    // A cluster client is destroyed whatever `isOpen` says: between two connect attempts, or while it rediscovers,
    // it reports closed and may still hold node connections that reconnect forever (and keep the process alive).
    if (this.cluster) {
      destroyCluster(this.cluster);
      if (this.writerCluster) destroyCluster(this.writerCluster);
    } else if (this.writer && this.writer !== this.client && this.writer.isOpen) void this.writer.destroy();
  }

  static create(options: RedisCacheModuleOptions): RedisTopology {
    const kind = topologyOf(options);
    const failures = new FailureLog(new Logger('RedisCache'));
    const report = (error: Error) => failures.report('connection', `Redis connection: ${error.message}`);
    if (kind === 'memory') return new RedisTopology(kind, undefined, options);
    if (kind === 'cluster') return RedisTopology.createCluster(options, report);
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
      topology.closers.push(
        watchSentinelReplicas(
          options.sentinel!,
          options.tlsCaFile,
          (replicas) => (topology.replicas = replicas),
        ),
      );
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

  /**
   * Cluster: a command client for reads and fills, and a writer of its own for invalidations (their WAIT would
   * otherwise hold up the counters' reads on the shard's one connection). Neither connects until the seed nodes
   * answer, and both keep trying in the background: start-up never waits, and until the slot map is loaded the
   * cache is bypassed (the client refuses commands at once).
   */
  private static createCluster(
    options: RedisCacheModuleOptions,
    report: (error: Error) => void,
  ): RedisTopology {
    const cluster = createClusterClient(options.cluster!, options.tlsCaFile);
    const writer = cluster.duplicate();
    const topology = new RedisTopology('cluster', cluster as unknown as RedisClient, options);
    topology.cluster = cluster;
    topology.writerCluster = writer;
    topology.writer = writer as unknown as RedisClient;
    for (const client of [cluster, writer]) {
      client.on('error', report);
      // The counters' master dropping a connection may be its death: distrust before the promoted replica (which
      // may lack the last bumps) can answer a read. The slot map alone says so too late (on the next MOVED).
      for (const event of ['node-error', 'node-reconnecting', 'node-disconnect'])
        client.on(event, (node: unknown) => topology.suspectCounterMaster(node as SlotMaster | undefined));
      topology.closers.push(connectUntilUp(client, report));
    }
    topology.watchCounterShard();
    return topology;
  }

  /** The cluster writer, for commands routed to the counters' master (PING and WAIT after a bump). */
  private writerCluster: RedisCluster | undefined;

  /**
   * Every half second, who masters the counters' slot (a change is a failover: unknown history, as on Sentinel)
   * and how many replicas that shard has online (what a bump waits for).
   */
  private watchCounterShard(): void {
    const counterKey = this.counterKey;
    const timer = setInterval(() => {
      const master = slotMaster(this.cluster!, counterKey);
      if (master) {
        const previous = this.counterMaster;
        this.counterMaster = master;
        const changed =
          previous !== undefined && (previous.host !== master.host || previous.port !== master.port);
        if (changed) this.failovers++;
        if (changed || previous === undefined) for (const listener of this.listeners) listener(changed);
      }
      if (this.writerCluster?.isReady)
        onlineReplicas(this.writerCluster, counterKey).then(
          (replicas) => (this.replicas = { up: replicas, inSync: replicas }),
          () => undefined,
        );
    }, 500);
    timer.unref();
    this.timers.push(timer);
  }

  private lastSuspicion = -Infinity;

  /**
   * A connection to the counters' master failed: treated like a master change (listeners called with `changed`),
   * at most once a second. Counted as a failover only when the slot map later names another master.
   */
  private suspectCounterMaster(node: SlotMaster | undefined): void {
    const master = this.counterMaster;
    if (!node || !master || node.host !== master.host || node.port !== master.port) return;
    const now = performance.now();
    if (now - this.lastSuspicion < 1_000) return;
    this.lastSuspicion = now;
    for (const listener of this.listeners) listener(true);
  }

  /** Cluster: a command sent on the writer's connection to the counters' master (after the MULTI of a bump). */
  toCounterMaster(args: string[]): Promise<unknown> {
    return this.writerCluster!.sendCommand(this.counterKey, false, args);
  }

  /** Cluster: masters with a ready connection, out of those the slot map names. */
  get masters(): { up: number; known: number } | undefined {
    if (!this.cluster) return undefined;
    const masters = this.cluster.isReady ? this.cluster.masters : [];
    return { up: masters.filter((m) => m.client?.isReady).length, known: masters.length };
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
    if (this.kind === 'cluster') {
      const master = this.counterMaster;
      return master
        ? connectionToNode(this.options.cluster!, master, { tlsCaFile: this.options.tlsCaFile, name })
        : undefined;
    }
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
   * Replicas every invalidation waits for (WAIT), so that a failover cannot roll a bump back: one, as long as one
   * is up (any of them could be promoted).
   */
  get durableReplicas(): number {
    return this.kind === 'sentinel' || this.kind === 'cluster' ? Math.min(1, this.replicas.up) : 0;
  }

  /**
   * Acknowledgements a bump needs, else it fails: one while a replica is known in sync. The sentinels refresh a
   * replica's link every 10 s, so one they report broken is still waited for (it acknowledges if it does sync, as
   * a resynced replica reported broken for 20 s did) but not required (an old master listed before it replicates
   * would otherwise fail every bump for seconds after each failover).
   */
  get requiredAcks(): number {
    return Math.min(this.durableReplicas, this.replicas.inSync);
  }
}
