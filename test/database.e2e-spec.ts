import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../src/database/database.connection.js';
import type { DatabaseConnection } from '../src/database/database.types.js';
import { MIGRATIONS_FOLDER, runMigrations } from '../src/database/migrate.js';
import { seedDatabase } from '../src/database/seed.js';
import { createScratchDatabase, type ScratchDatabase } from './support/test-database.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const MIGRATION_COUNT = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8'))
  .entries.length as number;

/** Both drivers answer `execute` with `{ rows }`; the shared Db type leaves it unknown. */
async function rowsOf<T>(database: DatabaseConnection, query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await database.db.execute(query)) as unknown as { rows: T[] }).rows;
}

const options = (url: string) => ({ url, pgliteDir: 'memory://', statementTimeoutMs: 10_000, poolMax: 4 });

/** Migrations and indexes on the real PostgreSQL server, with the default seed size. */
describe('PostgreSQL schema', () => {
  let scratch: ScratchDatabase;
  let instances: DatabaseConnection[] = [];

  beforeAll(async () => {
    scratch = await createScratchDatabase('schema');
    instances = await Promise.all([1, 2, 3].map(() => openDatabase(options(scratch.url))));
  });

  afterAll(async () => {
    await Promise.all(instances.map((db) => db.close()));
    await scratch?.drop();
  });

  it('migrates once when several instances start at the same time (advisory lock)', async () => {
    await Promise.all(instances.map((db) => runMigrations(db)));
    const applied = await rowsOf(
      instances[0],
      sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`,
    );
    // Each migration once, however many instances raced to apply it.
    expect(applied).toEqual([{ n: MIGRATION_COUNT }]);
  });

  it('serves the list queries from indexes on the full seed (EXPLAIN)', async () => {
    const db = instances[0].db;
    const seeded = await seedDatabase(db, { users: 2_000, jobs: 10_000, posts: 20_000 });
    expect(seeded).toMatchObject({ users: 2_000, jobs: 10_000, posts: 20_000 });
    await db.execute(sql`ANALYZE`);

    const plan = async (query: ReturnType<typeof sql>) => {
      const rows = await rowsOf<{ 'QUERY PLAN': string }>(instances[0], sql`EXPLAIN (FORMAT TEXT) ${query}`);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    };
    // At 10,000 rows the planner rightly prefers a sequential scan for substring search (it costs GIN posting lists
    // high); the trigram indexes are for larger tables. This proves they can serve the query when it matters.
    const planPreferringIndexes = (query: ReturnType<typeof sql>) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`SET LOCAL enable_seqscan = off`);
        const result = (await tx.execute(sql`EXPLAIN (FORMAT TEXT) ${query}`)) as unknown as {
          rows: { 'QUERY PLAN': string }[];
        };
        return result.rows.map((row) => row['QUERY PLAN']).join('\n');
      });
    const cases: [string, ReturnType<typeof sql>, RegExp, boolean?][] = [
      [
        'jobs list (active, newest first)',
        sql`SELECT * FROM jobs WHERE status = 'active' ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 40`,
        /Index Scan Backward using jobs_status_newest_idx/,
      ],
      [
        'jobs list by location',
        sql`SELECT * FROM jobs WHERE status = 'active' AND location = 'Berlin' ORDER BY created_at DESC, id DESC LIMIT 20`,
        /Index Scan Backward using jobs_location_status_newest_idx/,
      ],
      [
        'jobs list by category',
        sql`SELECT * FROM jobs WHERE status = 'active' AND category = 'Legal' ORDER BY created_at DESC, id DESC LIMIT 20`,
        /Index Scan Backward using jobs_category_status_newest_idx/,
      ],
      [
        'posts feed',
        sql`SELECT * FROM posts ORDER BY created_at DESC, id DESC LIMIT 20`,
        /Index Scan Backward using posts_newest_idx/,
      ],
      [
        "one author's posts",
        sql`SELECT * FROM posts WHERE author_id = 7 ORDER BY created_at DESC, id DESC LIMIT 20`,
        /posts_author_newest_idx/,
      ],
      ['followers count', sql`SELECT count(*) FROM follows WHERE followee_id = 7`, /follows_followee_idx/],
      [
        'rare search term (trigram index)',
        sql`SELECT * FROM jobs WHERE title ILIKE '%penetration%' OR company ILIKE '%penetration%' OR description ILIKE '%penetration%'`,
        /Bitmap Index Scan on jobs_title_trgm_idx[\s\S]*jobs_company_trgm_idx[\s\S]*jobs_description_trgm_idx/,
        true,
      ],
      [
        'user name search (trigram index)',
        sql`SELECT * FROM users WHERE name ILIKE '%lovelace%'`,
        /Bitmap Index Scan on users_name_trgm_idx/,
        true,
      ],
    ];
    for (const [name, query, expected, preferIndexes] of cases) {
      const text = preferIndexes ? await planPreferringIndexes(query) : await plan(query);
      if (!expected.test(text)) throw new Error(`${name}: expected ${expected} in the plan:\n${text}`);
    }
  });
});
