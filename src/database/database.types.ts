import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { schema } from './schema.js';

/** The typed query builder; the same type whether PostgreSQL (node-postgres) or PGlite is behind it. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DatabaseDriver = 'postgres' | 'pglite';

/** An open database: the query builder plus what the app needs to run and stop it. */
export interface DatabaseConnection {
  readonly db: Db;
  readonly driver: DatabaseDriver;
  /** Where it points, with any password masked. */
  readonly location: string;
  /** A trivial query, for readiness checks. */
  ping(): Promise<void>;
  /** Runs `fn` while holding a PostgreSQL advisory lock (PGlite has one connection, so no lock is needed). */
  withAdvisoryLock<T>(key: number, fn: (db: Db) => Promise<T>): Promise<T>;
  /** Calls `onNotify` on every NOTIFY of `channel` (best effort: callers poll too); resolves to a stop function. */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
