import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { AppConfig } from './app-config.js';
import { validateEnv } from './validate-env.js';

const config = (env: Record<string, string | undefined> = {}) => new AppConfig(validateEnv(env));

describe('AppConfig', () => {
  describe('with an empty environment', () => {
    const defaults = config();

    it('is a working development configuration', () => {
      expect(defaults.nodeEnv).toBe('development');
      expect(defaults.isProduction).toBe(false);
      expect(defaults.port).toBe(3000);
      expect(defaults.host).toBe('0.0.0.0');
      expect(defaults.logLevel).toBe('info');
    });

    it('uses the embedded database in ./.data/pglite', () => {
      expect(defaults.database).toEqual({
        url: undefined,
        pgliteDir: './.data/pglite',
        migrateOnStart: true,
        seedOnEmpty: true,
        statementTimeoutMs: 5_000,
        poolMax: 10,
      });
    });

    it('caches in memory only, under the jobboard: prefix, with durations in milliseconds', () => {
      expect(defaults.redis).toEqual({ url: undefined, tlsCaFile: undefined });
      expect(defaults.cache).toEqual({
        prefix: 'jobboard:',
        defaultTtlMs: 60_000,
        l1MaxEntries: 10_000,
        l1MaxBytes: 64 * 1024 * 1024,
        l1TtlMs: 5_000,
        opTimeoutMs: 150,
        enabled: true,
        graceMs: 3_600_000,
        softTimeoutMs: 300,
      });
    });

    it('signs tokens for an hour with the development secret and has no admin token', () => {
      expect(defaults.auth.jwtExpiresInSeconds).toBe(3_600);
      expect(defaults.auth.jwtSecret.length).toBeGreaterThanOrEqual(32);
      expect(defaults.usesDevelopmentJwtSecret).toBe(true);
      expect(defaults.auth.adminToken).toBeUndefined();
      expect(defaults.auth.rateLimitMax).toBe(20);
      expect(defaults.auth.rateLimitWindowMs).toBe(60_000);
    });

    it('limits bodies to 100 KiB, allows the local front ends and trusts no proxy', () => {
      expect(defaults.http).toEqual({
        bodyLimit: 102_400,
        requestTimeoutMs: 30_000,
        corsOrigins: ['http://localhost:5173', 'http://localhost:3000'],
        trustProxy: false,
      });
    });
  });

  it('uses a configured JWT_SECRET instead of the development one', () => {
    const secret = 's'.repeat(40);
    const configured = config({ JWT_SECRET: secret });
    expect(configured.auth.jwtSecret).toBe(secret);
    expect(configured.usesDevelopmentJwtSecret).toBe(false);
  });

  it.each([
    ['myapp', 'myapp:'],
    ['myapp:', 'myapp:'],
    ['run-42.test_a', 'run-42.test_a:'],
  ])('turns CACHE_PREFIX=%p into %p (prefixes always end in a separator)', (prefix, expected) => {
    expect(config({ CACHE_PREFIX: prefix }).cache.prefix).toBe(expected);
  });

  it.each<[string, boolean | number | string[]]>([
    ['true', true],
    ['false', false],
    ['2', 2],
    ['0', 0],
    ['127.0.0.1', ['127.0.0.1']],
    ['10.0.0.0/8,127.0.0.1', ['10.0.0.0/8', '127.0.0.1']],
    ['10.0.0.0/8, 127.0.0.1 , ::1', ['10.0.0.0/8', '127.0.0.1', '::1']],
  ])('parses TRUST_PROXY=%p as %p', (value, expected) => {
    expect(config({ TRUST_PROXY: value }).http.trustProxy).toEqual(expected);
  });

  it.each<[string, string, number]>([
    ['CACHE_DEFAULT_TTL', '500ms', 500],
    ['CACHE_DEFAULT_TTL', '30', 30_000],
    ['CACHE_L1_TTL', '0', 0],
    ['CACHE_L1_TTL', '2m', 120_000],
  ])('reads %s=%p as %p ms', (variable, value, expected) => {
    const { cache } = config({ [variable]: value });
    expect(variable === 'CACHE_DEFAULT_TTL' ? cache.defaultTtlMs : cache.l1TtlMs).toBe(expected);
  });

  it.each([
    ['1h', 3_600],
    ['1d', 86_400],
    ['90', 90],
    // JWT expiry is whole seconds; a sub-second value must not become 0 (a token that never expires in some libs).
    ['500ms', 1],
    ['0', 1],
  ])('reads JWT_EXPIRES_IN=%p as %p seconds', (value, expected) => {
    expect(config({ JWT_EXPIRES_IN: value }).auth.jwtExpiresInSeconds).toBe(expected);
  });

  it('splits CORS_ORIGINS on commas and trims each origin', () => {
    expect(config({ CORS_ORIGINS: ' https://a.example , http://b.example:8080 ' }).http.corsOrigins).toEqual([
      'https://a.example',
      'http://b.example:8080',
    ]);
  });

  describe('describe()', () => {
    const secrets = {
      database: 'CANARY-db-password',
      redis: 'CANARY-redis-password',
      jwt: 'CANARY-jwt-secret-0123456789abcdefghij',
      admin: 'CANARY-admin-token-0123',
    };
    const printed = (env: Record<string, string>) => JSON.stringify(config(env).describe());

    it.each([
      [
        'password URLs',
        {
          DATABASE_URL: `postgres://jobs:${secrets.database}@db.internal:5432/jobboard`,
          REDIS_URL: `rediss://default:${secrets.redis}@cache.internal:6380/0`,
        },
      ],
      [
        'token-as-user URLs',
        {
          DATABASE_URL: `postgresql://${secrets.database}@db.internal/jobboard`,
          REDIS_URL: `redis://${secrets.redis}@cache.internal:6379`,
        },
      ],
      [
        'secrets in query strings',
        {
          DATABASE_URL: `postgres://db.internal/jobboard?password=${secrets.database}`,
          REDIS_URL: `redis://:${secrets.redis}@cache.internal:6379?token=${secrets.redis}`,
        },
      ],
    ])('never contains a secret (%s)', (_label, urls) => {
      const output = printed({
        ...urls,
        NODE_ENV: 'production',
        JWT_SECRET: secrets.jwt,
        ADMIN_TOKEN: secrets.admin,
      });
      for (const secret of Object.values(secrets)) expect(output).not.toContain(secret);
      expect(output).not.toContain('CANARY');
    });

    it('on Sentinel: names the master and the sentinels, never the passwords; passes them to the cache', () => {
      const env = {
        REDIS_SENTINELS: 's1.internal:26379,s2.internal:26380',
        REDIS_SENTINEL_MASTER: 'cache',
        REDIS_USERNAME: 'app',
        REDIS_PASSWORD: secrets.redis,
        REDIS_SENTINEL_PASSWORD: `${secrets.redis}-sentinel`,
      };
      const output = printed(env);
      expect(output).toContain('sentinel cache via s1.internal:26379,s2.internal:26380');
      expect(output).not.toContain('CANARY');
      expect(config(env).redis.sentinel).toEqual({
        sentinels: [
          { host: 's1.internal', port: 26379 },
          { host: 's2.internal', port: 26380 },
        ],
        masterName: 'cache',
        username: 'app',
        password: secrets.redis,
        sentinelPassword: `${secrets.redis}-sentinel`,
        tls: false,
      });
    });

    it('on Cluster: names the seed nodes with their passwords masked; passes them to the cache', () => {
      const nodes = `redis://app:${secrets.redis}@n1.internal:7001,redis://app:${secrets.redis}@n2.internal:7002`;
      const output = printed({ REDIS_CLUSTER_NODES: nodes });
      expect(output).toContain(
        'cluster via redis://app:***@n1.internal:7001,redis://app:***@n2.internal:7002',
      );
      expect(output).not.toContain('CANARY');
      expect(config({ REDIS_CLUSTER_NODES: nodes }).redis.cluster).toEqual({ nodes: nodes.split(',') });
    });

    it('still says where it connects and that the secrets are set', () => {
      const summary = config({
        DATABASE_URL: `postgres://jobs:${secrets.database}@db.internal:5432/jobboard`,
        REDIS_URL: `rediss://default:${secrets.redis}@cache.internal:6380`,
        JWT_SECRET: secrets.jwt,
        ADMIN_TOKEN: secrets.admin,
        CACHE_PREFIX: 'run1',
      }).describe();
      expect(summary).toMatchObject({
        database: 'postgres://jobs:***@db.internal:5432/jobboard',
        redis: 'rediss://default:***@cache.internal:6380',
        cachePrefix: 'run1:',
        jwtSecret: 'set',
        adminToken: 'set',
      });
    });

    it('names the embedded database and memory-only cache when no URLs are set', () => {
      expect(config().describe()).toMatchObject({
        database: 'pglite:./.data/pglite',
        redis: 'disabled (memory only)',
        jwtSecret: 'development default',
        port: 3000,
        bodyLimit: 102_400,
        requestTimeoutMs: 30_000,
      });
    });
  });
});
