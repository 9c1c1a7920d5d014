import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type TestDriver = 'postgres' | 'pglite';

/**
 * The PostgreSQL server tests use: TEST_DATABASE_URL (the local server on these machines). In CI a missing server
 * fails the run instead of silently testing PGlite twice (TESTING.md).
 */
export function testPostgresUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      'TEST_DATABASE_URL is not set: the PostgreSQL suites need a server (e.g. postgres://postgres@127.0.0.1:5432/test)',
    );
  }
  return url;
}

/** A database of this test run's own on the shared server: created empty, dropped (with its connections) at the end. */
export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(label: string): Promise<ScratchDatabase> {
  const serverUrl = testPostgresUrl();
  const name = `jobboard_${label}_${process.pid}_${randomBytes(3).toString('hex')}`.toLowerCase();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
