import type { ClusterConnectionOptions, SentinelConnectionOptions } from '@jobboard/redis-cache';
import { parseDurationMs } from './duration.util.js';
import { EnvironmentVariables } from './env.schema.js';
import { maskUrl } from './mask-url.util.js';

/** A development-only signing key: production refuses to start without JWT_SECRET (see env.schema.ts). */
const DEVELOPMENT_JWT_SECRET = 'development-only-jwt-secret-do-not-use-in-production';

/**
 * The typed, validated configuration of the service. It is the DI token too: inject `AppConfig` anywhere.
 * Nothing outside `src/config` reads `process.env`.
 */
export class AppConfig {
  readonly nodeEnv: EnvironmentVariables['NODE_ENV'];
  readonly port: number;
  readonly host: string;
  readonly logLevel: EnvironmentVariables['LOG_LEVEL'];
  readonly database: {
    readonly url: string | undefined;
    readonly pgliteDir: string;
    readonly migrateOnStart: boolean;
    readonly seedOnEmpty: boolean;
    readonly statementTimeoutMs: number;
    readonly poolMax: number;
  };
  readonly redis: {
    readonly url: string | undefined;
    readonly tlsCaFile: string | undefined;
    /** Sentinel, when REDIS_SENTINELS is set (instead of REDIS_URL). */
    readonly sentinel: SentinelConnectionOptions | undefined;
    /** Cluster seed nodes, when REDIS_CLUSTER_NODES is set (instead of REDIS_URL). */
    readonly cluster: ClusterConnectionOptions | undefined;
  };
  readonly cache: {
    readonly prefix: string;
    readonly defaultTtlMs: number;
    readonly l1MaxEntries: number;
    readonly l1MaxBytes: number;
    readonly l1TtlMs: number;
    readonly opTimeoutMs: number;
    readonly enabled: boolean;
    readonly graceMs: number;
    readonly softTimeoutMs: number;
  };
  readonly auth: {
    readonly jwtSecret: string;
    readonly jwtExpiresInSeconds: number;
    readonly adminToken: string | undefined;
    readonly rateLimitMax: number;
    readonly rateLimitWindowMs: number;
  };
  readonly http: {
    readonly bodyLimit: number;
    readonly requestTimeoutMs: number;
    readonly corsOrigins: string[];
    readonly trustProxy: boolean | number | string[];
  };
  readonly seed: { readonly users: number; readonly jobs: number; readonly posts: number };
  readonly shutdown: { readonly drainDelayMs: number; readonly timeoutMs: number };

  constructor(env: EnvironmentVariables) {
    this.nodeEnv = env.NODE_ENV;
    this.port = env.PORT;
    this.host = env.HOST;
    this.logLevel = env.LOG_LEVEL;
    this.database = {
      url: env.DATABASE_URL,
      pgliteDir: env.PGLITE_DIR,
      migrateOnStart: env.MIGRATE_ON_START,
      seedOnEmpty: env.SEED_ON_EMPTY,
      statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
      poolMax: env.DB_POOL_MAX,
    };
    this.redis = {
      url: env.REDIS_URL,
      tlsCaFile: env.REDIS_TLS_CA_FILE,
      sentinel: env.REDIS_SENTINELS
        ? {
            sentinels: env.REDIS_SENTINELS.split(',').map((address) => {
              const [host, port] = address.split(':');
              return { host, port: Number(port) };
            }),
            masterName: env.REDIS_SENTINEL_MASTER!,
            username: env.REDIS_USERNAME,
            password: env.REDIS_PASSWORD,
            sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
            tls: env.REDIS_TLS_CA_FILE !== undefined,
          }
        : undefined,
      cluster: env.REDIS_CLUSTER_NODES ? { nodes: env.REDIS_CLUSTER_NODES.split(',') } : undefined,
    };
    this.cache = {
      prefix: env.CACHE_PREFIX.endsWith(':') ? env.CACHE_PREFIX : `${env.CACHE_PREFIX}:`,
      defaultTtlMs: parseDurationMs(env.CACHE_DEFAULT_TTL)!,
      l1MaxEntries: env.CACHE_L1_MAX_ENTRIES,
      l1MaxBytes: env.CACHE_L1_MAX_BYTES,
      l1TtlMs: parseDurationMs(env.CACHE_L1_TTL)!,
      opTimeoutMs: env.CACHE_OP_TIMEOUT_MS,
      enabled: env.CACHE_ENABLED,
      graceMs: parseDurationMs(env.CACHE_GRACE)!,
      softTimeoutMs: parseDurationMs(env.CACHE_SOFT_TIMEOUT)!,
    };
    this.auth = {
      jwtSecret: env.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET,
      jwtExpiresInSeconds: Math.max(1, Math.floor(parseDurationMs(env.JWT_EXPIRES_IN)! / 1_000)),
      adminToken: env.ADMIN_TOKEN,
      rateLimitMax: env.AUTH_RATE_LIMIT_MAX,
      rateLimitWindowMs: parseDurationMs(env.AUTH_RATE_LIMIT_WINDOW)!,
    };
    this.http = {
      bodyLimit: env.BODY_LIMIT,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      corsOrigins: env.CORS_ORIGINS.split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
    };
    this.seed = { users: env.SEED_USERS, jobs: env.SEED_JOBS, posts: env.SEED_POSTS };
    this.shutdown = { drainDelayMs: env.SHUTDOWN_DRAIN_MS, timeoutMs: env.SHUTDOWN_TIMEOUT_MS };
  }

  get isProduction(): boolean {
    return this.nodeEnv === 'production';
  }

  get usesDevelopmentJwtSecret(): boolean {
    return this.auth.jwtSecret === DEVELOPMENT_JWT_SECRET;
  }

  /** A printable summary with every secret masked, for the startup log. */
  describe(): Record<string, unknown> {
    return {
      nodeEnv: this.nodeEnv,
      port: this.port,
      database: this.database.url ? maskUrl(this.database.url) : `pglite:${this.database.pgliteDir}`,
      redis: this.redis.url
        ? maskUrl(this.redis.url)
        : this.redis.cluster
          ? `cluster via ${this.redis.cluster.nodes.map((node) => maskUrl(node)).join(',')}`
          : this.redis.sentinel
            ? `sentinel ${this.redis.sentinel.masterName} via ${this.redis.sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`
            : 'disabled (memory only)',
      cachePrefix: this.cache.prefix,
      cacheEnabled: this.cache.enabled,
      adminToken: this.auth.adminToken ? 'set' : 'unset (admin endpoints answer 401)',
      jwtSecret: this.usesDevelopmentJwtSecret ? 'development default' : 'set',
      bodyLimit: this.http.bodyLimit,
      requestTimeoutMs: this.http.requestTimeoutMs,
      corsOrigins: this.http.corsOrigins,
    };
  }
}

function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((part) => part.trim());
}
