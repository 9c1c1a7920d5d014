import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatabaseConnection } from './database.types.js';

/** The SQL migrations that drizzle-kit generated from schema.ts, shipped beside `src`/`dist`. */
export const MIGRATIONS_FOLDER = resolve(dirname(fileURLToPath(import.meta.url)), '../../drizzle');

/** Arbitrary but fixed: every instance of this service agrees on it, so concurrent start-ups migrate one at a time. */
const MIGRATION_LOCK_KEY = 0x6a6f6273; // 'jobs'

/** Applies pending migrations under a PostgreSQL advisory lock, so several instances may start at once. */
export async function runMigrations(database: DatabaseConnection): Promise<void> {
  await database.withAdvisoryLock(MIGRATION_LOCK_KEY, async (db) => {
    if (database.driver === 'pglite') {
      await migratePglite(db as unknown as PgliteDatabase, { migrationsFolder: MIGRATIONS_FOLDER });
    } else {
      await migratePg(db as unknown as NodePgDatabase, { migrationsFolder: MIGRATIONS_FOLDER });
    }
  });
}
