import { createSentinel } from '@redis/client';
import { readFileSync } from 'node:fs';
import type { SentinelConnectionOptions } from '../redis-cache.types.js';
import { createRedisClient, reconnectDelayMs, type RedisClient } from './redis-client.factory.js';

/**
 * node-redis's Sentinel client (6.x), with the same fail-fast settings as the standalone one: commands to the
 * master, never to replicas (they can trail a bump); the sentinels are re-read every second.
 */
export function createSentinelClient(options: SentinelConnectionOptions, tlsCaFile?: string): RedisClient {
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

/**
 * Re-reads, every second, the replicas the sentinels know (`SENTINEL REPLICAS`): how many are up (a failover could
 * promote them, so a bump waits for them) and how many of those they report in sync (link ok: a bump needs one of
 * those to acknowledge it). (The app's ACL user may not run INFO or ROLE.) Returns what stops it.
 */
export function watchSentinelReplicas(
  sentinel: SentinelConnectionOptions,
  tlsCaFile: string | undefined,
  onCount: (replicas: { up: number; inSync: number }) => void,
): () => void {
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
            tlsCaFile,
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
        // In sync (link ok) as of the sentinels' last INFO of it, up to 10 s old: an old master the sentinels have
        // not turned into a replica yet is listed up but not in sync, and cannot acknowledge a WAIT.
        const field = (fields: string[], name: string) => fields[fields.indexOf(name) + 1] ?? '';
        const up = replicas.filter((fields) => !/s_down|o_down|disconnected/.test(field(fields, 'flags')));
        onCount({
          up: up.length,
          inSync: up.filter((fields) => field(fields, 'master-link-status') === 'ok').length,
        });
      } catch {
        if (probe?.isOpen) probe.destroy();
        probe = undefined;
      }
    })();
  }, 1_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (probe?.isOpen) probe.destroy();
  };
}
