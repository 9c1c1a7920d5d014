export { FaultProxy, type FaultMode } from './fault-proxy.js';
export { freePort } from './free-port.js';
export { TestRedisCluster, type ClusterNode, type TestClusterOptions } from './redis-cluster.js';
export { TEST_SENTINEL_MASTER, TestRedisSentinel } from './redis-sentinel.js';
export { commandCounts, TestRedisServer, type TestRedisOptions } from './redis-server.js';
export { makeTlsFiles, type TlsFiles } from './tls-certs.js';
