import type { CacheRequest } from '../redis-cache.types.js';

/** A request as the cache reads it on either platform (Fastify's request or Express's req). */
export interface PlatformRequest extends CacheRequest {
  body?: unknown;
}

/** A response on either platform (Fastify's reply or Express's res); only the platform touches it. */
export type PlatformResponse = object;

/**
 * What differs between Fastify and Express for the cache, and nothing else: the interceptors, the fast-hit path
 * and the response helpers are written once against this interface, so both platforms answer a cached route the
 * same way (stored bytes, ETag, X-Cache, conditional GET and HEAD, Cache-Control, Vary appended).
 */
export interface HttpPlatform {
  readonly kind: 'fastify' | 'express';
  /**
   * Whether a Buffer handed to Nest goes on the wire as it is (Fastify). Express's adapter turns one into JSON and
   * strings into UTF-8, so compressed bytes cannot pass: its hits send the plain bytes.
   */
  readonly sendsBytes: boolean;
  /** Content type Nest gives a handler's string result on this platform. */
  readonly textContentType: string;
  /** The request target as the client sent it (path and query): a request's cache location is memoised on it. */
  rawUrl(request: PlatformRequest): string;
  /** The platform's own identity of the route that matched, stable across requests; undefined if it has none. */
  routeOf(request: PlatformRequest): object | undefined;
  getHeader(response: PlatformResponse, name: string): string | number | string[] | undefined;
  setHeader(response: PlatformResponse, name: string, value: string): void;
  statusCode(response: PlatformResponse): number;
  /** What the interceptor hands Nest for stored bytes, so that Nest sends them as they are. */
  payload(body: string | Buffer): string | Buffer;
  /**
   * Makes this response a bodiless 304 when the request's `If-None-Match` matches the ETag it ends up with (GET and
   * HEAD, 2xx only). Nest applies the route's status after interceptors return, so this is the platform's job.
   */
  answerConditionally(request: PlatformRequest, response: PlatformResponse): void;
}
