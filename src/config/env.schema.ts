import { Transform } from 'class-transformer';
import {
  IsIn,
  IsBoolean,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
  ValidationArguments,
  registerDecorator,
  ValidationOptions,
} from 'class-validator';
import { IsIntBetween } from '../common/validation/validators.js';
import { parseDurationMs } from './duration.util.js';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const isProduction = (env: EnvironmentVariables) => env.NODE_ENV === 'production';

/** Env booleans are exactly `true` or `false`; anything else stays a string and fails `@IsBoolean`. */
const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

function IsDuration(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isDuration',
      target: target.constructor,
      propertyName,
      options: {
        message: (args: ValidationArguments) =>
          `${args.property} must be a duration: seconds as a whole number, or a number with ms, s, m, h or d (e.g. 30s, 2m, 1h)`,
        ...options,
      },
      validator: { validate: (value: unknown) => parseDurationMs(value) !== undefined },
    });
}

function IsUrlWithScheme(schemes: string[], options?: ValidationOptions & { list?: boolean }) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isUrlWithScheme',
      target: target.constructor,
      propertyName,
      constraints: schemes,
      options: {
        message: (args: ValidationArguments) =>
          `${args.property} must be ${options?.list ? 'comma-separated URLs' : 'a URL'} with one of the schemes ${schemes.map((s) => `${s}://`).join(', ')}`,
        ...options,
      },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'string') return false;
          return (options?.list ? value.split(',') : [value]).every((item) => {
            try {
              const url = new URL(item);
              return schemes.includes(url.protocol.replace(/:$/, '')) && url.hostname !== '';
            } catch {
              return false;
            }
          });
        },
      },
    });
}

/** `true`, `false`, a hop count, or a comma-separated list of addresses/CIDRs (Fastify `trustProxy`). */
function IsTrustProxy(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isTrustProxy',
      target: target.constructor,
      propertyName,
      options: {
        message: (args: ValidationArguments) =>
          args.value === 'true'
            ? `${args.property}=true trusts every X-Forwarded-For, so any client chooses its own address (and rate ` +
              "limit): in production give the hop count or the proxies' addresses"
            : `${args.property} must be true, false, a hop count, or a comma-separated list of IP addresses or CIDR ranges`,
        ...options,
      },
      validator: {
        validate: (value: unknown, args: ValidationArguments) =>
          typeof value === 'string' &&
          (value === 'true'
            ? !isProduction(args.object as EnvironmentVariables)
            : /^(false|\d{1,2})$/.test(value) ||
              value.split(',').every((part) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(part.trim()))),
      },
    });
}

/**
 * Every environment variable the service reads (ARCHITECTURE.md §6), with its rule and its development default.
 * Validation messages name the variable and the rule, never the value.
 */
export class EnvironmentVariables {
  @IsIn(NODE_ENVS)
  NODE_ENV: (typeof NODE_ENVS)[number] = 'development';

  @IsIntBetween(0, 65535)
  PORT = 3000;

  /** Address to listen on: all interfaces by default (containers), 127.0.0.1 to stay local. */
  @IsString()
  @Matches(/^[0-9a-fA-F:.]+$|^localhost$/, { message: 'HOST must be an IP address or localhost' })
  HOST = '0.0.0.0';

  @IsOptional()
  @IsUrlWithScheme(['postgres', 'postgresql'])
  DATABASE_URL?: string;

  @IsString()
  @MinLength(1)
  PGLITE_DIR = './.data/pglite';

  @Transform(toBoolean)
  @IsBoolean()
  MIGRATE_ON_START = true;

  /** Seeds a small data set when the app starts on an empty embedded (PGlite) database. */
  @Transform(toBoolean)
  @IsBoolean()
  SEED_ON_EMPTY = true;

  @IsIntBetween(100, 600_000)
  DB_STATEMENT_TIMEOUT_MS = 5_000;

  @IsIntBetween(1, 200)
  DB_POOL_MAX = 10;

  @IsOptional()
  @IsUrlWithScheme(['redis', 'rediss'])
  REDIS_URL?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  REDIS_TLS_CA_FILE?: string;

  /**
   * Redis Cluster instead of REDIS_URL: comma-separated seed node URLs, credentials and `rediss://` in the URLs
   * (the same on every node).
   */
  @IsOptional()
  @IsUrlWithScheme(['redis', 'rediss'], { list: true })
  REDIS_CLUSTER_NODES?: string;

  /** Redis Sentinel instead of REDIS_URL: comma-separated `host:port` of the sentinels. */
  @ValidateIf(
    (env: EnvironmentVariables) =>
      env.REDIS_SENTINELS !== undefined || env.REDIS_SENTINEL_MASTER !== undefined,
  )
  @Matches(/^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/, {
    message: 'REDIS_SENTINELS must be comma-separated host:port pairs (set with REDIS_SENTINEL_MASTER)',
  })
  @IsString({ message: 'REDIS_SENTINELS must be set when REDIS_SENTINEL_MASTER is' })
  REDIS_SENTINELS?: string;

  @ValidateIf((env: EnvironmentVariables) => env.REDIS_SENTINELS !== undefined)
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, {
    message: 'REDIS_SENTINEL_MASTER must be 1-64 letters, digits, _ . or -',
  })
  @IsString({ message: 'REDIS_SENTINEL_MASTER must be set with REDIS_SENTINELS' })
  REDIS_SENTINEL_MASTER?: string;

  /** The data nodes' ACL user and password (Sentinel; with REDIS_URL they go in the URL). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  REDIS_USERNAME?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  REDIS_PASSWORD?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  REDIS_SENTINEL_PASSWORD?: string;

  @Matches(/^[A-Za-z0-9_.-]{1,48}:?$/, {
    message: 'CACHE_PREFIX must be 1-48 letters, digits, _ . or -, optionally ending in :',
  })
  CACHE_PREFIX = 'jobboard:';

  @IsDuration()
  CACHE_DEFAULT_TTL = '60s';

  @IsIntBetween(0, 10_000_000)
  CACHE_L1_MAX_ENTRIES = 10_000;

  @IsIntBetween(0, 8 * 1024 * 1024 * 1024)
  CACHE_L1_MAX_BYTES = 64 * 1024 * 1024;

  @IsDuration()
  CACHE_L1_TTL = '5s';

  /** How long a cached answer is kept past its TTL, to stand in (X-Cache: STALE) while the database fails; 0: off. */
  @IsDuration()
  CACHE_GRACE = '1h';

  /** With a graced answer at hand: how long to wait for the database before answering it instead. */
  @IsDuration()
  CACHE_SOFT_TIMEOUT = '300ms';

  @IsIntBetween(1, 10_000)
  CACHE_OP_TIMEOUT_MS = 150;

  // Validation stops at the first broken rule, in the order the decorators apply (bottom-up): "must be set"
  // comes first, so a missing secret is reported as missing rather than as too short.
  @ValidateIf((env: EnvironmentVariables) => isProduction(env) || env.JWT_SECRET !== undefined)
  @MaxLength(512)
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters long' })
  @IsString({ message: 'JWT_SECRET must be set in production' })
  JWT_SECRET?: string;

  @IsDuration()
  JWT_EXPIRES_IN = '1h';

  @ValidateIf((env: EnvironmentVariables) => isProduction(env) || env.ADMIN_TOKEN !== undefined)
  @MaxLength(512)
  @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters long' })
  @IsString({ message: 'ADMIN_TOKEN must be set in production' })
  ADMIN_TOKEN?: string;

  /** `false` serves every route uncached (the decorators pass through; patterns are still checked at start-up). */
  @Transform(toBoolean)
  @IsBoolean()
  CACHE_ENABLED = true;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  @IsIntBetween(1_024, 64 * 1024 * 1024)
  BODY_LIMIT = 102_400;

  /**
   * A request must arrive whole (headers and body) within this, and a connection that sends nothing for this long
   * is closed: a client that stalls mid-body holds a socket for at most this long.
   */
  @IsIntBetween(1_000, 600_000)
  REQUEST_TIMEOUT_MS = 30_000;

  @IsString()
  @Matches(/^(\s*(\*|https?:\/\/[^,\s]+)\s*)(,\s*(\*|https?:\/\/[^,\s]+)\s*)*$|^$/, {
    message: 'CORS_ORIGINS must be a comma-separated list of http(s) origins, or *',
  })
  CORS_ORIGINS = 'http://localhost:5173,http://localhost:3000';

  @IsTrustProxy()
  TRUST_PROXY = 'false';

  /** After SIGTERM: keep serving (readiness failing, connections closing) this long before closing the server. */
  @IsIntBetween(0, 60_000)
  SHUTDOWN_DRAIN_MS = 500;

  /** Upper bound of the whole shutdown; connections still open then are destroyed. */
  @IsIntBetween(1_000, 600_000)
  SHUTDOWN_TIMEOUT_MS = 10_000;

  /** Requests per window and per client address on login and register. */
  @IsIntBetween(1, 100_000)
  AUTH_RATE_LIMIT_MAX = 20;

  @IsDuration()
  AUTH_RATE_LIMIT_WINDOW = '1m';

  @IsIntBetween(0, 10_000_000)
  SEED_USERS = 2_000;

  @IsIntBetween(0, 10_000_000)
  SEED_JOBS = 10_000;

  @IsIntBetween(0, 10_000_000)
  SEED_POSTS = 20_000;
}
