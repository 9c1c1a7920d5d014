import type { FastifyInstance } from 'fastify';

/** Whether an `If-None-Match` header lists `etag` (weak comparison, as RFC 9110 prescribes for GET). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => bare(tag) === bare(etag));
}

/**
 * Turns a 200 carrying an ETag that the client already holds into a bodiless 304. A Fastify `onSend` hook, because
 * Nest applies the route's status code after interceptors return.
 */
export function registerConditionalGet(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const etag = reply.getHeader('etag');
    if (
      request.method === 'GET' &&
      reply.statusCode === 200 &&
      typeof etag === 'string' &&
      etagMatches(request.headers['if-none-match'], etag)
    ) {
      void reply.code(304).removeHeader('content-length');
      done(null, '');
      return;
    }
    done(null, payload);
  });
}
