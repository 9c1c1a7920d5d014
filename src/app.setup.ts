import rateLimit from '@fastify/rate-limit';
import { HttpException, HttpStatus } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyBodyParser, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { toErrorResponse } from './common/http/error-response.util.js';
import { GracefulShutdown } from './common/http/graceful-shutdown.js';
import { OneLinePerRequestLogController } from './common/logging/request-log.controller.js';
import type { AppConfig } from './config/app-config.js';

/** A client-supplied request id is echoed only when it is short and plain; otherwise a fresh UUID is used. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const READINESS_PATH = '/health/ready';

/** Headers the browser frontend (another origin) may read: it revalidates with ETag and shows X-Cache. */
export const EXPOSED_HEADERS = ['X-Cache', 'ETag', 'X-Request-Id'];

/** The HTTP adapter: body limit, proxy trust, request ids and the JSON logger are server-level Fastify options. */
export function createFastifyAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.http.bodyLimit,
    trustProxy: toFastifyTrustProxy(config.http.trustProxy),
    genReqId: (request: IncomingMessage) => {
      const supplied = request.headers['x-request-id'];
      return typeof supplied === 'string' && CLIENT_REQUEST_ID.test(supplied) ? supplied : randomUUID();
    },
    logController: new OneLinePerRequestLogController(),
    // Router errors (a malformed URL, an over-long path parameter) are answered before Nest sees the request.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = toErrorResponse(error);
      void reply.code(status).header('x-request-id', request.id).send(body);
    },
    logger: {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.password'], censor: '***' },
    },
  });
}

/** A hop count trusts that many proxies nearest to the server (Fastify's typings lack the numeric form). */
function toFastifyTrustProxy(trust: boolean | number | string[]) {
  return typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust;
}

/**
 * Fastify answers an empty body sent as `application/json` with 400; bodiless POST/DELETE routes (follow,
 * unfollow) must accept it, so an empty body parses to `undefined` and anything else goes to Fastify's own
 * JSON parser (which guards against prototype poisoning).
 */
function emptyTolerantJsonParser(app: NestFastifyApplication): FastifyBodyParser<Buffer> {
  const parseJson = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  return (request: FastifyRequest, body: Buffer, done) => {
    if (body.length === 0) return done(null, undefined);
    void parseJson(request, body.toString('utf8'), done);
  };
}

/**
 * Everything about the HTTP surface that is not a module: hooks, body parsing, CORS, rate limits and OpenAPI.
 * main.ts and the e2e tests both call it, so tests exercise the same server as production.
 *
 * @returns the shutdown sequence, whose signal handlers main.ts installs (tests close the app themselves).
 */
export async function configureApp(
  app: NestFastifyApplication,
  config: AppConfig,
): Promise<GracefulShutdown> {
  const fastify = app.getHttpAdapter().getInstance();
  const shutdown = new GracefulShutdown();
  shutdown.registerHooks(app, READINESS_PATH);

  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });

  app.useBodyParser('application/json', { bodyLimit: config.http.bodyLimit }, emptyTolerantJsonParser(app));

  app.enableCors({
    origin: config.http.corsOrigins.includes('*') ? true : config.http.corsOrigins,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });

  await app.register(rateLimit, {
    global: false,
    max: config.auth.rateLimitMax,
    timeWindow: config.auth.rateLimitWindowMs,
    // Thrown from a Fastify hook, it reaches Nest's exception layer and leaves in the common error shape.
    errorResponseBuilder: (_request, context) =>
      new HttpException(
        `Too many attempts; retry in ${Math.ceil(context.ttl / 1000)} s`,
        HttpStatus.TOO_MANY_REQUESTS,
      ),
  });

  const openApi = new DocumentBuilder()
    .setTitle('Job board API')
    .setDescription('Jobs, users and posts for the job board frontend.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi));
  return shutdown;
}
