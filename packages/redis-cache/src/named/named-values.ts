import { Inject, Injectable, Logger } from '@nestjs/common';
import { DEFAULT_MAX_ENTRY_BYTES } from '../redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import type { EntryLocation } from '../storage/entry-store.js';
import type { NamespaceConfig } from './named-locations.js';
import { packValue, unpackValue, type PackedValue } from './value-codec.js';

/** Values to and from stored bytes with a namespace's codec, within `maxEntryBytes`; problems warned once. */
@Injectable()
export class NamedValues {
  private readonly logger = new Logger('RedisCache');
  private readonly warned = new Set<string>();
  private readonly maxEntryBytes: number;

  constructor(@Inject(REDIS_CACHE_OPTIONS) options: RedisCacheModuleOptions) {
    this.maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  }

  /** Encodes a value for storage; undefined (logged once per namespace) for one that cannot or should not be stored. */
  async pack<T>(
    config: NamespaceConfig<T>,
    location: EntryLocation,
    value: T,
  ): Promise<PackedValue | undefined> {
    if (value === undefined) return undefined;
    try {
      const packed = await packValue(config.codec, value, config.compressAbove);
      if (packed.body.length <= this.maxEntryBytes) return packed;
      this.warnOnce(config.name, `a value of ${packed.body.length} bytes is over maxEntryBytes: not stored`);
    } catch (error) {
      location.stats.record('error');
      this.warnOnce(config.name, `a value could not be encoded (${(error as Error).message}): not stored`);
    }
    return undefined;
  }

  /** Decodes stored bytes; undefined (counted as an error) for another codec's or corrupted ones. */
  async unpack<T>(
    config: NamespaceConfig<T>,
    entry: { contentType: string; body: string | Buffer },
  ): Promise<{ value: T } | undefined> {
    const found = await unpackValue(config.codec, entry.contentType, entry.body);
    if (!found) config.stats.record('error');
    return found as { value: T } | undefined;
  }

  private warnOnce(namespace: string, message: string): void {
    if (this.warned.has(`${namespace}\n${message.slice(0, 12)}`)) return;
    this.warned.add(`${namespace}\n${message.slice(0, 12)}`);
    this.logger.warn(`namespace '${namespace}': ${message} (warned once)`);
  }
}
