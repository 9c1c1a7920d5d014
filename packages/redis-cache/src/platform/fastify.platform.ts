import type { HttpPlatform, PlatformRequest, PlatformResponse } from './http-platform.js';
import { etagMatches } from './http-semantics.js';

/** The parts of Fastify the cache uses, typed here so that Fastify stays an optional peer dependency. */
export interface FastifyRequestLike extends PlatformRequest {
  routeOptions?: { handler?: unknown };
}

export interface FastifyReplyLike {
  statusCode: number;
  header(name: string, value: string): unknown;
  getHeader(name: string): string | number | string[] | undefined;
  removeHeader(name: string): unknown;
  code(status: number): unknown;
  send(payload: unknown): unknown;
}

type Done = (error?: Error | null, payload?: unknown) => void;

export interface FastifyInstanceLike {
  addHook(
    name: 'onSend',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, payload: unknown, done: Done) => void,
  ): unknown;
  addHook(
    name: 'preHandler',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: Done) => void,
  ): unknown;
}

const reply = (response: PlatformResponse) => response as FastifyReplyLike;

/** Fastify: replies take Buffers as they are; conditional GET is one `onSend` hook for every route. */
export const fastifyPlatform: HttpPlatform = {
  kind: 'fastify',
  sendsBytes: true,
  textContentType: 'text/plain; charset=utf-8',
  rawUrl: (request) => request.url,
  // One function per registered route (GET and its HEAD twin each have their own), whatever the global prefix.
  routeOf: (request) =>
    ((request as FastifyRequestLike).routeOptions?.handler as object | undefined) ?? undefined,
  getHeader: (response, name) => reply(response).getHeader(name),
  setHeader: (response, name, value) => void reply(response).header(name, value),
  statusCode: (response) => reply(response).statusCode,
  payload: (body) => body,
  answerConditionally: () => undefined,
};

/**
 * Turns a 200 carrying an ETag that the client already holds into a bodiless 304, for GET and HEAD. A Fastify
 * `onSend` hook, because Nest applies the route's status code after interceptors return.
 */
export function registerConditionalGet(fastify: FastifyInstanceLike): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const etag = reply.getHeader('etag');
    if (
      (request.method === 'GET' || request.method === 'HEAD') &&
      reply.statusCode === 200 &&
      typeof etag === 'string' &&
      etagMatches(request.headers['if-none-match'], etag)
    ) {
      reply.code(304);
      reply.removeHeader('content-length');
      done(null, '');
      return;
    }
    done(null, payload);
  });
}
