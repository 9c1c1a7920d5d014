/** Stable codes of the errors the package throws; match on `error.code`, not on messages. */
export type RedisCacheErrorCode = 'E_CACHE_CONFIG' | 'E_KEY_PATTERN' | 'E_TTL' | 'E_PLATFORM' | 'E_TIMEOUT';

/**
 * Base of every error the package throws. Configuration errors are thrown at start-up or by a call with an invalid
 * argument; `wrap` rejects with {@link CacheTimeoutError} past a `hardTimeout`. Redis trouble is never thrown, it
 * turns into a bypass.
 */
export class RedisCacheError extends Error {
  constructor(
    readonly code: RedisCacheErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Module options or decorator usage that cannot work: the message names the handler and what to write instead. */
export class CacheConfigurationError extends RedisCacheError {
  constructor(message: string) {
    super('E_CACHE_CONFIG', message);
  }
}

/** A key pattern or invalidation prefix that does not parse, or names a value that can never be resolved. */
export class InvalidKeyPatternError extends RedisCacheError {
  constructor(message: string) {
    super('E_KEY_PATTERN', message);
  }
}

/** A TTL that is not a positive number of seconds or a duration string. */
export class InvalidTtlError extends RedisCacheError {
  constructor(message: string) {
    super('E_TTL', message);
  }
}

/** An option the HTTP platform in use cannot honour (the fast-hit path on Express). */
export class UnsupportedPlatformError extends RedisCacheError {
  constructor(message: string) {
    super('E_PLATFORM', message);
  }
}

/** `wrap`'s compute did not finish within `hardTimeout`, and no graced value could stand in (it goes on running). */
export class CacheTimeoutError extends RedisCacheError {
  constructor(message: string) {
    super('E_TIMEOUT', message);
  }
}
