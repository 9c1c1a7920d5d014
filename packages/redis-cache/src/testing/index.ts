export { FaultProxy, type FaultMode } from './fault-proxy.js';
export { freePort } from './free-port.js';
export { commandCounts, TestRedisServer, type TestRedisOptions } from './redis-server.js';
export { makeTlsFiles, type TlsFiles } from './tls-certs.js';
