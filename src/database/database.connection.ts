import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { maskUrl } from '../config/mask-url.util.js';
import type { DatabaseConnection, Db } from './database.types.js';
import { schema } from './schema.js';
import { listenOnPostgres } from './pg-listener.js';

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent, an embedded PGlite database in `pgliteDir` (`memory://` keeps it in memory). */
  url: string | undefined;
  pgliteDir: string;
  statementTimeoutMs: number;
  poolMax: number;
  onPoolError?: (error: Error) => void;
  /** Called with the SQL text (never the parameters) of every query sent to the driver: debug logs, query counts. */
  onQuery?: (sql: string) => void;
}

/** Drizzle's logger hook, reduced to the statement: parameters can hold emails and password hashes. */
function queryLogger(options: DatabaseOptions) {
  const onQuery = options.onQuery;
  return onQuery ? { logQuery: (sql: string) => onQuery(sql) } : undefined;
}

/** Opens PostgreSQL through a pg pool, or the embedded PGlite database when no URL is configured. */
export async function openDatabase(options: DatabaseOptions): Promise<DatabaseConnection> {
  return options.url ? openPostgres(options.url, options) : openPglite(options);
}

function openPostgres(url: string, options: DatabaseOptions): DatabaseConnection {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax,
    statement_timeout: options.statementTimeoutMs,
    // Waiting for a connection counts against the same budget as the statement: a 1 s statement timeout must not
    // become a 6 s request when the pool is exhausted or the server refuses connections.
    connectionTimeoutMillis: options.statementTimeoutMs,
    // The server enforces statement_timeout only if it can talk; a blackholed or frozen server would leave the query
    // hanging. A client-side bound, a little later, ends it ('Query read timeout', a 503).
    query_timeout: options.statementTimeoutMs + 1_000,
    keepAlive: true,
    idleTimeoutMillis: 30_000,
    application_name: 'jobboard-api',
  });
  // An idle client losing its connection emits on the pool; without a listener that would crash the process.
  pool.on('error', (error) => options.onPoolError?.(error));
  const db = drizzlePg(pool, { schema, logger: queryLogger(options) }) as unknown as Db;
  return {
    db,
    driver: 'postgres',
    location: maskUrl(url) ?? 'postgres',
    async ping() {
      await pool.query('SELECT 1');
    },
    async withAdvisoryLock(key, fn) {
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [key]);
        try {
          return await fn(drizzlePg(client, { schema }) as unknown as Db);
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [key]);
        }
      } finally {
        client.release();
      }
    },
    listen: (channel, onNotify) =>
      listenOnPostgres(url, channel, onNotify, (error) => options.onPoolError?.(error)),
    close: () => pool.end(),
  };
}

async function openPglite(options: DatabaseOptions): Promise<DatabaseConnection> {
  const inMemory = options.pgliteDir.startsWith('memory://');
  if (!inMemory) mkdirSync(options.pgliteDir, { recursive: true });
  const client = await PGlite.create(options.pgliteDir, { extensions: { pg_trgm } });
  await client.exec(`SET statement_timeout = ${Math.trunc(options.statementTimeoutMs)}`);
  const db = drizzlePglite(client, { schema, logger: queryLogger(options) }) as unknown as Db;
  return {
    db,
    driver: 'pglite',
    location: inMemory ? 'pglite (in memory)' : `pglite:${options.pgliteDir}`,
    async ping() {
      await client.query('SELECT 1');
    },
    withAdvisoryLock: (_key, fn) => fn(db),
    async listen(channel, onNotify) {
      const stop = await client.listen(channel, onNotify);
      return async () => stop();
    },
    close: () => client.close(),
  };
}
