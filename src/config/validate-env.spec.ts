import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { InvalidEnvironmentError, validateEnv } from './validate-env.js';

/** An env example file of the repository, read as the app would read it as `.env`. */
const exampleEnv = (name: string) =>
  parseEnv(readFileSync(resolve(import.meta.dirname, '../..', name), 'utf8')) as Record<string, string>;

const CANARY = 'CANARY-9f3e';
const JWT_SECRET = 'j'.repeat(32);
const ADMIN_TOKEN = 'a'.repeat(16);

/** Everything the error exposes: what a log line or a crash report could print. */
function captureError(env: Record<string, string | undefined>): InvalidEnvironmentError {
  try {
    validateEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEnvironmentError);
    return error as InvalidEnvironmentError;
  }
  throw new Error(`validateEnv accepted ${Object.keys(env).join(', ')}`);
}

function everythingPrinted(error: InvalidEnvironmentError): string {
  return [error.message, error.stack ?? '', ...error.problems, JSON.stringify(error)].join('\n');
}

describe('validateEnv', () => {
  it('accepts an empty environment (every variable has a development default)', () => {
    expect(() => validateEnv({})).not.toThrow();
  });

  it('ignores variables it does not know (the whole process environment is passed in)', () => {
    expect(() => validateEnv({ PATH: '/usr/bin', HOME: '/root', npm_config_cache: 'x' })).not.toThrow();
  });

  it.each([
    'PORT',
    'DATABASE_URL',
    'REDIS_URL',
    'CACHE_DEFAULT_TTL',
    'BODY_LIMIT',
    'LOG_LEVEL',
    'TRUST_PROXY',
    'MIGRATE_ON_START',
    'CORS_ORIGINS',
    'CACHE_PREFIX',
    'JWT_SECRET',
    'ADMIN_TOKEN',
  ])('treats an empty %s as unset', (variable) => {
    expect(() => validateEnv({ [variable]: '' })).not.toThrow();
    expect(validateEnv({ [variable]: '' })).toEqual(validateEnv({}));
  });

  it('treats an empty PORT as unset rather than as port 0', () => {
    expect(validateEnv({ PORT: '' }).PORT).toBe(3000);
  });

  it('converts numeric and boolean strings to typed values', () => {
    const env = validateEnv({
      PORT: '8080',
      MIGRATE_ON_START: 'false',
      SEED_ON_EMPTY: 'true',
      BODY_LIMIT: '2048',
    });
    expect(env.PORT).toBe(8080);
    expect(env.MIGRATE_ON_START).toBe(false);
    expect(env.SEED_ON_EMPTY).toBe(true);
    expect(env.BODY_LIMIT).toBe(2048);
  });

  it.each<[string, string]>([
    // The rows from the configuration reference, then variants that carry the canary.
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['PORT', CANARY],
    ['HOST', CANARY],
    ['NODE_ENV', `prod-${CANARY}`],
    ['DATABASE_URL', `mysql://u:${CANARY}@h/db`],
    ['DATABASE_URL', `postgres://u:${CANARY}@/db`],
    ['DATABASE_URL', `u:${CANARY}@db.internal:5432/db`],
    ['DATABASE_URL', CANARY],
    ['REDIS_URL', `http://:${CANARY}@h:6379`],
    ['REDIS_URL', `redis://:${CANARY}@h:99999`],
    ['REDIS_URL', `default:${CANARY}@cache.internal:6379`],
    ['REDIS_CLUSTER_NODES', `redis://:${CANARY}@h:6379,http://h:1`],
    ['REDIS_CLUSTER_NODES', `redis://h:6379,${CANARY}`],
    ['REDIS_SENTINELS', `${CANARY}`],
    ['REDIS_SENTINELS', `s1:26379,${CANARY}`],
    ['REDIS_SENTINEL_MASTER', `master ${CANARY}`],
    ['CACHE_DEFAULT_TTL', 'forever'],
    ['CACHE_DEFAULT_TTL', `${CANARY}s`],
    ['CACHE_L1_TTL', '1.5s'],
    ['JWT_EXPIRES_IN', '1w'],
    ['AUTH_RATE_LIMIT_WINDOW', CANARY],
    ['BODY_LIMIT', '1'],
    ['BODY_LIMIT', CANARY],
    ['DB_POOL_MAX', '0'],
    ['DB_STATEMENT_TIMEOUT_MS', CANARY],
    ['LOG_LEVEL', 'loud'],
    ['LOG_LEVEL', CANARY],
    ['TRUST_PROXY', 'maybe'],
    ['TRUST_PROXY', CANARY],
    ['TRUST_PROXY', `10.0.0.0/8,${CANARY}`],
    ['MIGRATE_ON_START', 'yes'],
    ['MIGRATE_ON_START', '1'],
    ['MIGRATE_ON_START', CANARY],
    ['SEED_ON_EMPTY', 'TRUE'],
    ['CACHE_ENABLED', 'off'],
    ['CACHE_ENABLED', CANARY],
    ['CORS_ORIGINS', 'ftp://x'],
    ['CORS_ORIGINS', `ftp://${CANARY}`],
    ['CORS_ORIGINS', `http://localhost:3000,${CANARY}`],
    ['CACHE_PREFIX', `${CANARY}*`],
    ['CACHE_PREFIX', `has space ${CANARY}`],
    ['CACHE_PREFIX', 'x'.repeat(49)],
    // A secret given outside production is still checked, so a weak one fails before it is deployed.
    ['JWT_SECRET', CANARY],
    ['ADMIN_TOKEN', CANARY],
  ])('rejects %s=%p, naming the variable and not the value', (variable, value) => {
    const error = captureError({ [variable]: value });
    expect(error.name).toBe('InvalidEnvironmentError');
    expect(error.message).toContain(variable);
    expect(error.problems.length).toBeGreaterThan(0);
    for (const problem of error.problems) expect(problem).toContain(variable);
    const printed = everythingPrinted(error);
    expect(printed).not.toContain(CANARY);
    // Values of one or two characters ('1') are unavoidably part of a rule ("at least 1024").
    if (value.length >= 3) expect(printed).not.toContain(value);
  });

  it('takes Sentinel as REDIS_SENTINELS with REDIS_SENTINEL_MASTER, never with REDIS_URL', () => {
    const sentinel = { REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_MASTER: 'cache' };
    expect(() => validateEnv(sentinel)).not.toThrow();
    expect(captureError({ REDIS_SENTINELS: 's1:26379' }).message).toContain('REDIS_SENTINEL_MASTER');
    expect(captureError({ REDIS_SENTINEL_MASTER: 'cache' }).message).toContain('REDIS_SENTINELS');
    const both = captureError({ ...sentinel, REDIS_URL: `redis://:${CANARY}@h:6379` });
    expect(both.message).toContain('REDIS_URL and REDIS_SENTINELS are exclusive');
    expect(everythingPrinted(both)).not.toContain(CANARY);
  });

  it('takes Redis Cluster as REDIS_CLUSTER_NODES, never with another topology', () => {
    const cluster = { REDIS_CLUSTER_NODES: `redis://app:${CANARY}@n1:7001,redis://app:${CANARY}@n2:7002` };
    expect(() => validateEnv(cluster)).not.toThrow();
    const both = captureError({ ...cluster, REDIS_URL: `redis://:${CANARY}@h:6379` });
    expect(both.message).toContain('REDIS_URL and REDIS_CLUSTER_NODES are exclusive');
    expect(everythingPrinted(both)).not.toContain(CANARY);
    const withSentinel = captureError({
      ...cluster,
      REDIS_SENTINELS: 's1:26379',
      REDIS_SENTINEL_MASTER: 'cache',
    });
    expect(withSentinel.message).toContain('REDIS_CLUSTER_NODES and REDIS_SENTINELS are exclusive');
  });

  it('lists every broken variable in one error, not only the first', () => {
    const error = captureError({ PORT: 'abc', LOG_LEVEL: 'loud', TRUST_PROXY: 'maybe' });
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('LOG_LEVEL');
    expect(error.message).toContain('TRUST_PROXY');
  });

  describe('in production', () => {
    it.each<[string, Record<string, string>, string[]]>([
      ['neither secret', {}, ['JWT_SECRET', 'ADMIN_TOKEN']],
      ['no JWT_SECRET', { ADMIN_TOKEN }, ['JWT_SECRET']],
      ['no ADMIN_TOKEN', { JWT_SECRET }, ['ADMIN_TOKEN']],
      ['empty secrets (count as unset)', { JWT_SECRET: '', ADMIN_TOKEN: '' }, ['JWT_SECRET', 'ADMIN_TOKEN']],
      [
        'a 31-character JWT_SECRET',
        { JWT_SECRET: `${CANARY}${'j'.repeat(31 - CANARY.length)}`, ADMIN_TOKEN },
        ['JWT_SECRET'],
      ],
      [
        'a 15-character ADMIN_TOKEN',
        { JWT_SECRET, ADMIN_TOKEN: `${CANARY}${'a'.repeat(15 - CANARY.length)}` },
        ['ADMIN_TOKEN'],
      ],
    ])('refuses to start with %s', (_label, secrets, missing) => {
      const error = captureError({ NODE_ENV: 'production', ...secrets });
      for (const variable of missing) expect(error.message).toContain(variable);
      for (const variable of ['JWT_SECRET', 'ADMIN_TOKEN'].filter((v) => !missing.includes(v))) {
        expect(error.message).not.toContain(variable);
      }
      expect(everythingPrinted(error)).not.toContain(CANARY);
    });

    it.each(['JWT_SECRET', 'ADMIN_TOKEN'])(
      'reports one rule for a missing %s, not every rule it breaks',
      (name) => {
        const problems = captureError({
          NODE_ENV: 'production',
          JWT_SECRET,
          ADMIN_TOKEN,
          [name]: undefined,
        }).problems;
        expect(problems).toEqual([`${name} must be set in production`]);
      },
    );

    it('says the secret must be set when it is missing', () => {
      expect(captureError({ NODE_ENV: 'production' }).problems).toEqual(
        expect.arrayContaining([
          'JWT_SECRET must be set in production',
          'ADMIN_TOKEN must be set in production',
        ]),
      );
    });

    it('refuses TRUST_PROXY=true (any client could choose its address), and takes a hop count or proxy list', () => {
      const problems = captureError({
        NODE_ENV: 'production',
        JWT_SECRET,
        ADMIN_TOKEN,
        TRUST_PROXY: 'true',
      }).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^TRUST_PROXY=true .*hop count/);
      for (const TRUST_PROXY of ['1', '10.0.0.0/8,192.168.1.7', 'false']) {
        expect(
          validateEnv({ NODE_ENV: 'production', JWT_SECRET, ADMIN_TOKEN, TRUST_PROXY }).TRUST_PROXY,
        ).toBe(TRUST_PROXY);
      }
      expect(validateEnv({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe('true'); // development: a local proxy
    });

    it('starts with a 32-character JWT_SECRET and a 16-character ADMIN_TOKEN', () => {
      const env = validateEnv({ NODE_ENV: 'production', JWT_SECRET, ADMIN_TOKEN });
      expect(env.NODE_ENV).toBe('production');
      expect(env.JWT_SECRET).toBe(JWT_SECRET);
      expect(env.ADMIN_TOKEN).toBe(ADMIN_TOKEN);
    });
  });

  describe('the example env files', () => {
    it('.env.development.example starts as it is', () => {
      expect(() => validateEnv(exampleEnv('.env.development.example'))).not.toThrow();
    });

    it('.env.production.example refuses to start until both secrets are generated', () => {
      const example = exampleEnv('.env.production.example');
      expect(example.NODE_ENV).toBe('production');
      expect(captureError(example).problems).toEqual([
        'JWT_SECRET must be set in production',
        'ADMIN_TOKEN must be set in production',
      ]);
      expect(() => validateEnv({ ...example, JWT_SECRET, ADMIN_TOKEN })).not.toThrow();
    });
  });

  it('does not require the secrets outside production', () => {
    for (const NODE_ENV of ['development', 'test']) {
      expect(() => validateEnv({ NODE_ENV })).not.toThrow();
    }
  });
});
