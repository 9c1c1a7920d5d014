import { BadRequestException, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyBodyParser, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { IncomingMessage } from 'node:http';
import { toErrorResponse } from './common/http/error-response.util.js';
import { declareCommonAnswers, operationIdOf } from './common/http/openapi-document.js';
import { GracefulShutdown } from './common/http/graceful-shutdown.js';
import { OneLinePerRequestLogController } from './common/logging/request-log.controller.js';
import { registerAuthRateLimit } from './auth/auth-rate-limit.js';
import type { AppConfig } from './config/app-config.js';

/** A client-supplied request id is echoed only when it is short and plain; otherwise a fresh UUID is used. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The probes a load balancer or orchestrator routes by: both fail during the shutdown drain. */
const READINESS_PATHS = ['/health/ready', '/health/serving'];

/** How deeply arrays and objects may nest in a JSON body; every DTO of this API is flat. */
const MAX_JSON_DEPTH = 32;

/** Headers the browser frontend (another origin) may read: it revalidates with ETag and shows X-Cache. */
export const EXPOSED_HEADERS = ['X-Cache', 'ETag', 'Age', 'X-Request-Id'];

/**
 * Log lines go to stdout through a buffered asynchronous writer: one write per 4 KB instead of one per line (a
 * synchronous write per request cost about a third of a cache hit). Flushed every second, so a quiet server's last
 * lines (an error, a Redis outage) do not wait for the next 4 KB, and on exit, so shutdown loses nothing.
 */
const logDestination = pino.destination({ dest: 1, sync: false, minLength: 4_096 });
process.on('exit', () => logDestination.flushSync());
setInterval(() => logDestination.flush(), 1_000).unref();

/** The HTTP adapter: body limit, proxy trust, request ids and the JSON logger are server-level Fastify options. */
export function createFastifyAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.http.bodyLimit,
    // The whole request within the timeout (Node checks it every few seconds), and no silence longer than it on
    // the socket (exact): a stalled body is cut instead of holding a socket and every shutdown.
    requestTimeout: config.http.requestTimeoutMs,
    connectionTimeout: config.http.requestTimeoutMs,
    trustProxy: toFastifyTrustProxy(config.http.trustProxy),
    genReqId: (request: IncomingMessage) => {
      const supplied = request.headers['x-request-id'];
      return typeof supplied === 'string' && CLIENT_REQUEST_ID.test(supplied) ? supplied : randomUUID();
    },
    logController: new OneLinePerRequestLogController(),
    // Router errors (a malformed URL, an over-long path parameter) are answered before Nest sees the request, and
    // before any hook: this reply runs none, so it sets the request id the onSend hook gives every other one.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = toErrorResponse(error);
      void reply.code(status).header('x-request-id', request.id).send(body);
    },
    logger: {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.password'], censor: '***' },
      stream: logDestination,
    },
  });
}

/** A hop count trusts that many proxies nearest to the server (Fastify's typings lack the numeric form). */
function toFastifyTrustProxy(trust: boolean | number | string[]) {
  return typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust;
}

const OPEN_BRACKETS = new Set(['['.charCodeAt(0), '{'.charCodeAt(0)]);
const CLOSE_BRACKETS = new Set([']'.charCodeAt(0), '}'.charCodeAt(0)]);
const QUOTE = '"'.charCodeAt(0);
const BACKSLASH = '\\'.charCodeAt(0);

/**
 * Whether JSON text nests arrays and objects deeper than `limit`, brackets inside strings not counted. A loop over
 * the text rather than a walk of the parsed value, so the check itself cannot overflow the stack; malformed text
 * gives some answer and then fails to parse anyway.
 */
function exceedsJsonDepth(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (OPEN_BRACKETS.has(code)) {
      if (++depth > limit) return true;
    } else if (CLOSE_BRACKETS.has(code)) {
      depth--;
    }
  }
  return false;
}

/**
 * Fastify answers an empty body sent as `application/json` with 400; bodiless POST/DELETE routes (follow,
 * unfollow) must accept it, so an empty body parses to `undefined` and anything else goes to Fastify's own
 * JSON parser (which guards against prototype poisoning). Deeply nested bodies are refused before parsing: the
 * transformation into DTOs recurses once per level and would overflow the stack (a 500).
 */
function emptyTolerantJsonParser(app: NestFastifyApplication): FastifyBodyParser<Buffer> {
  const parseJson = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  return (request: FastifyRequest, body: Buffer, done) => {
    if (body.length === 0) return done(null, undefined);
    const routeLimit = (request.routeOptions.config as { maxBodyBytes?: number }).maxBodyBytes;
    if (routeLimit !== undefined && body.length > routeLimit) {
      return done(
        new PayloadTooLargeException(`Request body is too large for this route (${routeLimit} bytes)`),
        undefined,
      );
    }
    const text = body.toString('utf8');
    if (exceedsJsonDepth(text, MAX_JSON_DEPTH)) {
      return done(
        new BadRequestException(
          `JSON body must not nest arrays or objects deeper than ${MAX_JSON_DEPTH} levels`,
        ),
        undefined,
      );
    }
    void parseJson(request, text, done);
  };
}

/**
 * Every other content type: an empty body is no body (a bodiless POST/DELETE sent by a client that labels it
 * anyway, e.g. `application/octet-stream` or `multipart/form-data`), and any actual content is a 415.
 */
const emptyOnlyParser: FastifyBodyParser<Buffer> = (_request, body, done) => {
  if (body.length === 0) return done(null, undefined);
  done(new UnsupportedMediaTypeException('Unsupported content-type: send application/json'), undefined);
};

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
  shutdown.registerHooks(app, READINESS_PATHS);

  // onSend rather than onRequest: replies sent from other onRequest hooks (CORS preflights, readiness during the
  // shutdown drain) skip any onRequest hook after theirs, but every reply passes through onSend.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    done(null, payload);
  });

  app.useBodyParser('application/json', { bodyLimit: config.http.bodyLimit }, emptyTolerantJsonParser(app));
  // JSON only. Forms and text/plain are what a page on any site may send without a preflight (CORS "simple"
  // requests), so accepting them would let other sites make their visitors' browsers write here: Fastify's own
  // text/plain parser goes, and a catch-all registered through Nest stops Nest from adding its urlencoded one.
  fastify.removeContentTypeParser('text/plain');
  app.useBodyParser('*', { bodyLimit: config.http.bodyLimit }, emptyOnlyParser);

  app.enableCors({
    origin: config.http.corsOrigins.includes('*') ? true : config.http.corsOrigins,
    // @fastify/cors allows only GET, HEAD and POST by default, which fails the preflight of every edit and delete.
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    // The strict default answers an OPTIONS without Origin with a text/plain 400 outside the common error shape.
    strictPreflight: false,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });

  await registerAuthRateLimit(app, config);

  const openApi = new DocumentBuilder()
    .setTitle('Job board API')
    .setDescription('Jobs, users and posts for the job board frontend.')
    .setVersion('1')
    .addServer('/', 'The server that serves this document')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () =>
    declareCommonAnswers(SwaggerModule.createDocument(app, openApi, { operationIdFactory: operationIdOf })),
  );
  return shutdown;
}
