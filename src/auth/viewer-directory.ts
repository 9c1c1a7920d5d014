import { Inject, Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import { DB } from '../database/database.constants.js';
import type { Db } from '../database/database.types.js';
import { users } from '../database/schema.js';

/** How long a lookup is trusted on reads: a deleted account's token reads for at most this long. */
const REMEMBER_MS = 60_000;

/**
 * Whether the user a correctly signed token names still exists. Writes ask the database every time (they touch it
 * anyway, and a deleted account must not write); reads trust an answer for a minute, so a cached per-viewer hit
 * costs a map lookup, not a query. Bounded: one entry per recently seen viewer.
 */
@Injectable()
export class ViewerDirectory {
  private readonly known = new LRUCache<number, boolean>({ max: 100_000, ttl: REMEMBER_MS });

  constructor(@Inject(DB) private readonly db: Db) {}

  async exists(id: number, { fresh }: { fresh: boolean }): Promise<boolean> {
    const remembered = this.known.get(id);
    if (!fresh && remembered !== undefined) return remembered;
    try {
      const rows = await this.db.select({ id: users.id }).from(users).where(eq(users.id, id)).limit(1);
      this.known.set(id, rows.length > 0);
      return rows.length > 0;
    } catch {
      // The database is away: the signature still holds, and reads must keep being served from the cache.
      return remembered ?? true;
    }
  }
}
