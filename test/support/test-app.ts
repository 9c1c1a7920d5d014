import { NestFactory } from '@nestjs/core';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../../src/app.module.js';
import { configureApp, createFastifyAdapter } from '../../src/app.setup.js';
import { loadAppConfig, type EnvOverrides } from '../../src/config/config.module.js';
import { DATABASE_CONNECTION } from '../../src/database/database.constants.js';
import type { DatabaseConnection } from '../../src/database/database.types.js';
import { createScratchDatabase, type ScratchDatabase, type TestDriver } from './test-database.js';

export interface RecordedAnswer {
  method: string;
  /** The request's URL as sent (path and query). */
  url: string;
  status: number;
  /** The headers as sent, names lower-cased. */
  headers: Record<string, string | string[] | number | undefined>;
  /** The body as it went on the wire, decompressed when it was sent gzip-encoded, as UTF-8. */
  body: string;
}

export interface TestApp {
  app: NestFastifyApplication;
  database: DatabaseConnection;
  driver: TestDriver;
  /** Every answer the app sent, as its route template saw it, oldest first (for checks against the spec). */
  answers: RecordedAnswer[];
  close(): Promise<void>;
}

/**
 * Boots the real application in-process, through the same adapter and `configureApp` as main.ts, on a database of
 * its own: a scratch database on the PostgreSQL server, or an in-memory PGlite.
 */
export async function startTestApp(driver: TestDriver, env: EnvOverrides = {}): Promise<TestApp> {
  const scratch: ScratchDatabase | undefined =
    driver === 'postgres' ? await createScratchDatabase('e2e') : undefined;
  const overrides: EnvOverrides = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    SEED_ON_EMPTY: 'false',
    MIGRATE_ON_START: 'true',
    AUTH_RATE_LIMIT_MAX: '100000',
    DATABASE_URL: scratch?.url ?? '',
    PGLITE_DIR: 'memory://',
    REDIS_URL: '',
    ...env,
  };
  const config = loadAppConfig(overrides);
  try {
    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot(overrides),
      createFastifyAdapter(config),
      { logger: ['error'] },
    );
    await configureApp(app, config);
    await app.init();
    const answers = recordAnswers(app.getHttpServer());
    await app.getHttpAdapter().getInstance().ready();
    const database = app.get<DatabaseConnection>(DATABASE_CONNECTION);
    console.log(`e2e backend: ${database.location}`);
    return {
      app,
      database,
      driver,
      answers,
      async close() {
        await app.close();
        await scratch?.drop();
      },
    };
  } catch (error) {
    await scratch?.drop();
    throw error;
  }
}

/**
 * Records every answer at the HTTP server, below Fastify: the router's own answers (a 414 for an overlong path
 * parameter, a 400 for a bad escape) skip Fastify's hooks, and a fuzzer sees them all the same.
 */
function recordAnswers(server: Server): RecordedAnswer[] {
  const answers: RecordedAnswer[] = [];
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    const { writeHead, write, end } = response;
    // Headers handed to writeHead directly (Fastify does) are not in getHeaders(): keep them from the call.
    let written: Record<string, unknown> = {};
    response.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
      const headers = rest.find((arg) => arg && typeof arg === 'object');
      if (headers && !Array.isArray(headers)) written = headers as Record<string, unknown>;
      return writeHead.call(this, status, ...(rest as [OutgoingHttpHeaders]));
    } as typeof response.writeHead;
    response.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      keep(chunk);
      return write.call(this, chunk, ...(rest as [BufferEncoding, () => void]));
    } as typeof response.write;
    response.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      keep(chunk);
      return end.call(this, chunk, ...(rest as [BufferEncoding, () => void]));
    } as typeof response.end;
    response.once('finish', () => {
      const headers = {
        ...Object.fromEntries(Object.entries(written).map(([name, value]) => [name.toLowerCase(), value])),
        ...response.getHeaders(),
      } as RecordedAnswer['headers'];
      const bytes = Buffer.concat(chunks);
      // The body as a client reads it: decoded when the cache sent its stored gzip bytes.
      const gzipped = headers['content-encoding'] === 'gzip' && bytes.length > 0;
      answers.push({
        method: request.method ?? '',
        url: request.url ?? '',
        status: response.statusCode,
        headers,
        body: (gzipped ? gunzipSync(bytes) : bytes).toString('utf8'),
      });
    });
  });
  return answers;
}
