import type { InvalidationOutbox, OutboxRecord } from '@jobboard/redis-cache';
import { sql } from 'drizzle-orm';
import type { DatabaseConnection } from './database.types.js';

/** NOTIFY channel of new outbox rows: every instance's relay LISTENs on it. */
export const OUTBOX_CHANNEL = 'cache_invalidation_outbox';

interface ClaimedRow extends Record<string, unknown> {
  id: string | number;
  generation_keys: string[];
  recorded_ms: string | number;
}

/**
 * Ids as one JSON parameter (drizzle would spread an interpolated array into one parameter per element, and a
 * batch must stay one statement of constant shape).
 */
function idList(ids: string[]) {
  return sql`SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::bigint`;
}

/** The rows of a raw query, whichever driver ran it (node-postgres and PGlite both answer `{ rows }`). */
function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/**
 * The cache's invalidation outbox in the app's database (table `cache_invalidation_outbox`): a row per invalidation
 * an instance could not make in Redis, with a NOTIFY so that relays apply it at once. Relays claim with
 * `FOR UPDATE SKIP LOCKED` and a claim deadline, so two never apply the same row at once and a relay that dies
 * leaves its rows to the next; applied rows are deleted.
 */
export function invalidationOutbox(database: DatabaseConnection): InvalidationOutbox {
  const { db } = database;
  return {
    async record(generationKeys) {
      await db.execute(sql`
        WITH recorded AS (
          INSERT INTO cache_invalidation_outbox (generation_keys)
          VALUES (array(SELECT jsonb_array_elements_text(${JSON.stringify(generationKeys)}::jsonb)))
          RETURNING id
        )
        SELECT pg_notify(${OUTBOX_CHANNEL}, '') FROM recorded`);
    },

    async claim(limit, claimMs): Promise<OutboxRecord[]> {
      const result = await db.execute(sql`
        UPDATE cache_invalidation_outbox
           SET claimed_until = now() + make_interval(secs => ${claimMs / 1000})
         WHERE id IN (
           SELECT id FROM cache_invalidation_outbox
            WHERE claimed_until IS NULL OR claimed_until < now()
            ORDER BY id LIMIT ${limit}
            FOR UPDATE SKIP LOCKED)
        RETURNING id, generation_keys, (extract(epoch FROM recorded_at) * 1000)::float8 AS recorded_ms`);
      return rowsOf<ClaimedRow>(result).map((row) => ({
        id: String(row.id),
        generationKeys: row.generation_keys,
        recordedAt: Number(row.recorded_ms),
      }));
    },

    async complete(ids) {
      if (ids.length === 0) return;
      await db.execute(sql`DELETE FROM cache_invalidation_outbox WHERE id IN (${idList(ids)})`);
    },

    async release(ids) {
      if (ids.length === 0) return;
      await db.execute(
        sql`UPDATE cache_invalidation_outbox SET claimed_until = NULL WHERE id IN (${idList(ids)})`,
      );
    },

    async depth() {
      const result = await db.execute(sql`
        SELECT count(*)::int AS records,
               (extract(epoch FROM now() - min(recorded_at)) * 1000)::float8 AS oldest_ms
          FROM cache_invalidation_outbox`);
      const [row] = rowsOf<{ records: number; oldest_ms: number | null }>(result);
      return {
        records: Number(row.records),
        oldestAgeMs: row.oldest_ms === null ? null : Number(row.oldest_ms),
      };
    },

    subscribe: (onRecord) => database.listen(OUTBOX_CHANNEL, onRecord),
  };
}
