import type { RedisCacheModuleOptions } from '../../src/index.js';
import type { TestRedisSentinel } from '../../src/testing/index.js';

/** The module's options for a test's Sentinel group, as the app's ACL user (TLS when the group serves it). */
export function sentinelOptions(group: TestRedisSentinel, prefix: string): RedisCacheModuleOptions {
  return {
    prefix,
    ...(group.tls ? { tlsCaFile: group.tls.caFile } : {}),
    sentinel: {
      sentinels: group.sentinelAddresses.map((address) => ({
        host: '127.0.0.1',
        port: Number(address.split(':')[1]),
      })),
      masterName: group.masterName,
      username: group.username,
      password: group.password,
      sentinelPassword: group.sentinelPassword,
      ...(group.tls ? { tls: true } : {}),
    },
  };
}
