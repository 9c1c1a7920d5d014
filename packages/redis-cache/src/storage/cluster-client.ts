import { createCluster, type RedisClusterType } from '@redis/client';
import calculateSlot from 'cluster-key-slot';
import { readFileSync } from 'node:fs';
import { CacheConfigurationError } from '../errors.js';
import type { ClusterConnectionOptions } from '../redis-cache.types.js';
import {
  createRedisClient,
  failFastConnection,
  reconnectDelayMs,
  type RedisClient,
} from './redis-client.factory.js';

/** node-redis's cluster client, RESP2 like every other connection of the module. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type RedisCluster = RedisClusterType<{}, {}, {}, 2, {}>;

/** The node holding one slot's master role, as the client's slot map says. */
export interface SlotMaster {
  host: string;
  port: number;
}

/**
 * The seed nodes' credentials and scheme, which every other node shares (the client reaches the nodes it discovers
 * with them). The URLs must agree on them: a cluster with one password per node is not a cluster we can follow.
 */
export function clusterCredentials(options: ClusterConnectionOptions): {
  username?: string;
  password?: string;
  tls: boolean;
} {
  if (options.nodes.length === 0)
    throw new CacheConfigurationError('RedisCacheModule option cluster needs at least one seed node URL');
  const parsed = options.nodes.map((node) => {
    let url: URL;
    try {
      url = new URL(node);
    } catch {
      throw new CacheConfigurationError('RedisCacheModule option cluster.nodes holds an invalid URL');
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
      throw new CacheConfigurationError(
        'RedisCacheModule option cluster.nodes must be redis:// or rediss:// URLs',
      );
    return {
      username: decodeURIComponent(url.username) || undefined,
      password: decodeURIComponent(url.password) || undefined,
      tls: url.protocol === 'rediss:',
    };
  });
  const [first] = parsed;
  if (
    parsed.some((p) => p.username !== first.username || p.password !== first.password || p.tls !== first.tls)
  )
    throw new CacheConfigurationError(
      'RedisCacheModule option cluster.nodes must use the same scheme and credentials on every node',
    );
  return first;
}

/**
 * node-redis's cluster client with the fail-fast settings of the standalone one (RELIABILITY.md §1) on every node
 * connection: commands go to masters only (`useReplicas` off: a replica can trail a bump), and the client follows
 * MOVED and re-reads the slot map when a node fails (node-redis 6).
 */
export function createClusterClient(options: ClusterConnectionOptions, tlsCaFile?: string): RedisCluster {
  const { username, password, tls } = clusterCredentials(options);
  const ca = tlsCaFile ? readFileSync(tlsCaFile) : undefined;
  return createCluster({
    rootNodes: options.nodes.map((url) => ({ url })),
    RESP: 2,
    useReplicas: false,
    defaults: failFastConnection({ username, password, tls, ca }),
  }) as unknown as RedisCluster;
}

/**
 * node-redis's cluster client gives up for good when no seed answers its first connect: try again with backoff
 * until one does. Returns what stops trying (at shutdown).
 */
export function connectUntilUp(cluster: RedisCluster, report: (error: Error) => void): () => void {
  let attempts = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = () => {
    if (stopped) return;
    cluster.connect().catch((error: Error) => {
      report(error);
      timer = setTimeout(attempt, reconnectDelayMs(attempts++));
      timer.unref();
    });
  };
  attempt();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** How long after a destroy a rediscovery still in flight may bring node connections back (its connect attempts). */
const RESURRECTION_WATCH_MS = 30_000;

/**
 * Destroys a cluster client for good. node-redis 6.3.1's `destroy()` does not stop a slot-map rediscovery already
 * in flight (after a MOVED, or 5 s into a node's reconnecting): when it finishes it connects the nodes it found
 * again, and they reconnect forever, keeping the process alive. So the node connections are watched for a while
 * and destroyed again if they come back. The watch is unref'd: it never keeps the process alive on its own.
 */
export function destroyCluster(cluster: RedisCluster): void {
  cluster.destroy();
  const hasNodeClients = () => cluster.masters.some((node) => node.client !== undefined);
  const started = performance.now();
  const watch = setInterval(() => {
    if (hasNodeClients()) cluster.destroy();
    if (performance.now() - started > RESURRECTION_WATCH_MS) clearInterval(watch);
  }, 100);
  watch.unref();
}

/** A plain connection to one node of the cluster (the bus subscriber), with the seed nodes' credentials. */
export function connectionToNode(
  options: ClusterConnectionOptions,
  node: SlotMaster,
  settings: { tlsCaFile?: string; name: string },
): RedisClient {
  const { username, password, tls } = clusterCredentials(options);
  return createRedisClient(`${tls ? 'rediss' : 'redis'}://${node.host}:${node.port}`, {
    tlsCaFile: settings.tlsCaFile,
    username,
    password,
    name: settings.name,
  });
}

/** The master of `key`'s slot in the client's slot map; undefined before the map is loaded. */
export function slotMaster(cluster: RedisCluster, key: string): SlotMaster | undefined {
  if (!cluster.isReady) return undefined;
  const master = cluster.slots[calculateSlot(key)]?.master;
  return master ? { host: master.host, port: master.port } : undefined;
}

/**
 * Replicas of `key`'s shard that are online (`CLUSTER SHARDS`, asked of the shard's master; the app's ACL user may
 * not run INFO): those a failover could promote, so those a bump must reach.
 */
export async function onlineReplicas(cluster: RedisCluster, key: string): Promise<number> {
  const slot = calculateSlot(key);
  const shards = (await cluster.sendCommand(key, true, ['CLUSTER', 'SHARDS'])) as unknown[][];
  for (const shard of shards) {
    const fields = pairs(shard);
    const ranges = fields.slots as number[];
    let serves = false;
    for (let i = 0; i < ranges.length; i += 2) if (slot >= ranges[i] && slot <= ranges[i + 1]) serves = true;
    if (!serves) continue;
    return (fields.nodes as unknown[][])
      .map((node) => pairs(node))
      .filter((node) => node.role === 'replica' && node.health === 'online').length;
  }
  return 0;
}

function pairs(list: unknown[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (let i = 0; i + 1 < list.length; i += 2) record[String(list[i])] = list[i + 1];
  return record;
}
