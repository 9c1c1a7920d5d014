import { createSentinel } from '@redis/client';
import { readFileSync } from 'node:fs';
import type { SentinelConnectionOptions } from '../redis-cache.types.js';
import { reconnectDelayMs, type RedisClient } from './redis-client.factory.js';

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
