import { Injectable, Logger } from '@nestjs/common';
import type { RedisCacheEvents } from '../redis-cache.types.js';

type Listener<E extends keyof RedisCacheEvents> = (payload: RedisCacheEvents[E]) => void;

/**
 * Listeners of the cache's events, any number per event, each removable. A listener that throws is logged and
 * never breaks the cache path that emitted the event.
 */
@Injectable()
export class CacheEvents {
  private readonly listeners = new Map<keyof RedisCacheEvents, Set<Listener<never>>>();
  private readonly logger = new Logger('RedisCache');

  on<E extends keyof RedisCacheEvents>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const entry = listener as Listener<never>;
    set.add(entry);
    return () => void set.delete(entry);
  }

  /** Whether anyone listens: callers skip building a payload otherwise. */
  has(event: keyof RedisCacheEvents): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends keyof RedisCacheEvents>(event: E, payload: RedisCacheEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        this.logger.warn(`a '${event}' listener threw: ${(error as Error).message}`);
      }
    }
  }
}
