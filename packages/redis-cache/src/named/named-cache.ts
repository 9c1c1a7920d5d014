import { ttlToMs } from '../keys/ttl.util.js';
import type { NamedCaches } from './named-caches.js';
import type { NamespaceConfig } from './named-locations.js';
import type { NamedCache, NamedCallOptions, NamedSetOptions, NamedWrapOptions } from './named-cache.types.js';
import { failSafePolicy } from '../resilience/fail-safe.js';

/**
 * A handle on one namespace: binds its configuration (TTL, tenant, codec) to the shared engine. Every method is
 * async, so that even an invalid key is a rejection, never a synchronous throw.
 */
export class NamedCacheHandle<T> implements NamedCache<T> {
  readonly name: string;

  constructor(
    private readonly engine: NamedCaches,
    private readonly config: NamespaceConfig<T>,
  ) {
    this.name = config.name;
  }

  async get(key: string | number, options: NamedCallOptions = {}): Promise<T | undefined> {
    return this.engine.get(this.config, this.locate(key, options));
  }

  async set(key: string | number, value: T, options: NamedSetOptions = {}): Promise<void> {
    return this.engine.setMany(
      this.config,
      [{ location: this.locate(key, options), value }],
      this.ttlMs(options),
    );
  }

  async delete(key: string | number, options: NamedCallOptions = {}): Promise<void> {
    return this.engine.delete(this.config, [key], this.tenantOf(options));
  }

  async getMany(
    keys: readonly (string | number)[],
    options: NamedCallOptions = {},
  ): Promise<(T | undefined)[]> {
    return this.engine.getMany(
      this.config,
      keys.map((key) => this.locate(key, options)),
    );
  }

  async setMany(
    entries: readonly (readonly [string | number, T])[],
    options: NamedSetOptions = {},
  ): Promise<void> {
    const items = entries.map(([key, value]) => ({ location: this.locate(key, options), value }));
    return this.engine.setMany(this.config, items, this.ttlMs(options));
  }

  async wrap(
    key: string | number,
    compute: () => T | Promise<T>,
    options: NamedWrapOptions = {},
  ): Promise<T> {
    const policy = failSafePolicy(options, this.config.failSafe, `wrap() of namespace '${this.name}'`);
    return this.engine.wrap(this.config, this.locate(key, options), compute, {
      ttlMs: this.ttlMs(options),
      policy,
    });
  }

  async invalidate(prefix: string, options: NamedCallOptions = {}): Promise<void> {
    return this.engine.invalidate(this.config, prefix, this.tenantOf(options));
  }

  async clear(options: NamedCallOptions = {}): Promise<void> {
    return this.engine.invalidate(this.config, '', this.tenantOf(options));
  }

  private locate(key: string | number, options: NamedCallOptions) {
    return this.engine.locations.locate(this.config, key, this.tenantOf(options));
  }

  private tenantOf(options: NamedCallOptions): string | undefined {
    return options.tenant ?? this.config.tenant;
  }

  private ttlMs(options: NamedSetOptions): number {
    return options.ttl === undefined ? this.config.ttlMs : ttlToMs(options.ttl);
  }
}
