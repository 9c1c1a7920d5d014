import { openDatabase } from '../../src/database/database.connection.js';
import type { DatabaseConnection } from '../../src/database/database.types.js';
import { runMigrations } from '../../src/database/migrate.js';

/** A fresh, migrated, in-memory PGlite database (the real engine, no server); close it in afterAll. */
export async function openMemoryDatabase(): Promise<DatabaseConnection> {
  const database = await openDatabase({
    url: undefined,
    pgliteDir: 'memory://',
    statementTimeoutMs: 5_000,
    poolMax: 1,
  });
  await runMigrations(database);
  return database;
}

/** The error a statement fails with; throws when it unexpectedly succeeds. */
export async function rejectionOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('the statement succeeded');
}
