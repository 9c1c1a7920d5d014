import type { HttpPlatform, PlatformRequest, PlatformResponse } from './http-platform.js';
import { etagMatches } from './http-semantics.js';

/** The parts of Express the cache uses, typed here so that Express stays an optional peer dependency. */
interface ExpressRequestLike extends PlatformRequest {
  originalUrl?: string;
}

interface ExpressResponseLike {
  statusCode: number;
  getHeader(name: string): string | number | string[] | undefined;
  setHeader(name: string, value: string): unknown;
}

const res = (response: PlatformResponse) => response as ExpressResponseLike;

/**
 * Express: Nest sends a string result with `res.send()`, which sends it as bytes, keeps the ETag set here, omits the
 * body of a HEAD and answers 304 when `req.fresh`. Stored Buffers are handed over as strings (Nest would turn a
 * Buffer into JSON); the bytes on the wire are the stored ones.
 */
export const expressPlatform: HttpPlatform = {
  kind: 'express',
  sendsBytes: false,
  textContentType: 'text/html; charset=utf-8',
  rawUrl: (request) => (request as ExpressRequestLike).originalUrl ?? request.url,
  routeOf: () => undefined,
  getHeader: (response, name) => res(response).getHeader(name),
  setHeader: (response, name, value) => void res(response).setHeader(name, value),
  statusCode: (response) => res(response).statusCode,
  payload: (body) => (typeof body === 'string' ? body : body.toString('utf8')),
  /**
   * `res.send()` answers 304 when `req.fresh`; Express's own freshness also refuses when the request says
   * `Cache-Control: no-cache`, which RFC 9110 does not ask of an origin. This request's freshness is therefore
   * decided as on Fastify: GET or HEAD, a 2xx, and an `If-None-Match` listing the ETag (weak comparison, `*`).
   */
  answerConditionally: (request, response) => {
    Object.defineProperty(request, 'fresh', {
      configurable: true,
      get: () => {
        const status = res(response).statusCode;
        const etag = res(response).getHeader('etag');
        return (
          (request.method === 'GET' || request.method === 'HEAD') &&
          ((status >= 200 && status < 300) || status === 304) &&
          typeof etag === 'string' &&
          etagMatches(request.headers['if-none-match'], etag)
        );
      },
    });
  },
};
