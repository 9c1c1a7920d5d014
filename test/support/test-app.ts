import { NestFactory } from '@nestjs/core';
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
  /** Fastify's route template (`/api/jobs/:id`); undefined for a request no route matched. */
  route: string | undefined;
  status: number;
  /** The headers as sent, names lower-cased. */
  headers: Record<string, string | string[] | number | undefined>;
  /** The payload as sent; undefined when it was a stream (static files). */
  body: string | undefined;
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
    const answers: RecordedAnswer[] = [];
    const payloads = new WeakMap<object, string | undefined>();
    const fastify = app.getHttpAdapter().getInstance();
    // Registered after every hook of the app and its modules (the conditional GET's among them, added during
    // init), so this onSend sees the payload as it goes on the wire.
    fastify.addHook('onSend', (request, _reply, payload, done) => {
      payloads.set(request, payloadText(payload));
      done(null, payload);
    });
    fastify.addHook('onResponse', (request, reply, done) => {
      answers.push({
        method: request.method,
        url: request.url,
        route: request.routeOptions.url,
        status: reply.statusCode,
        headers: reply.getHeaders(),
        body: payloads.has(request) ? payloads.get(request) : '',
      });
      done();
    });
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

function payloadText(payload: unknown): string | undefined {
  if (payload === null || payload === undefined) return '';
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) return payload.toString('utf8');
  return undefined;
}
