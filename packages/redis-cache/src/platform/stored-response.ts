import { StreamableFile } from '@nestjs/common';
import type { CachedPlan } from '../decorators/handler-plans.js';
import { X_CACHE_HEADER } from '../redis-cache.constants.js';
import type { StoredResponse } from '../storage/cache-entry.js';
import type { HttpPlatform, PlatformRequest, PlatformResponse } from './http-platform.js';
import { acceptsEncoding, compressionOf, encodedEtag, plainBody } from './content-encoding.js';
import { appendVary } from './http-semantics.js';

/**
 * Browsers revalidate every time (with the ETag); per-viewer responses are private and vary by credentials. With
 * compression on, every answer of a cached route varies by `Accept-Encoding` (its hits may be compressed), so that a
 * shared cache never hands gzip to a client that did not ask for it.
 */
export function setCacheControl(platform: HttpPlatform, response: PlatformResponse, plan: CachedPlan): void {
  platform.setHeader(response, 'cache-control', plan.perViewer ? 'private, no-cache' : 'no-cache');
  const compresses = compressionOf(platform, plan) !== false;
  const fields = plan.perViewer
    ? compresses
      ? BY_VIEWER_AND_ENCODING
      : BY_VIEWER
    : compresses
      ? BY_ENCODING
      : [];
  if (fields.length > 0)
    platform.setHeader(response, 'vary', appendVary(platform.getHeader(response, 'vary'), ...fields));
}

const BY_VIEWER = ['Authorization'];
const BY_ENCODING = ['Accept-Encoding'];
const BY_VIEWER_AND_ENCODING = ['Authorization', 'Accept-Encoding'];

/**
 * Headers of an answer carrying stored (or about to be stored) bytes, with its ETag and `X-Cache`; returns the
 * bytes to send. Compressed bytes go as they are, with `Content-Encoding` and their own ETag, to a client that
 * accepts gzip; any other client gets the plain bytes and the plain ETag.
 */
export function prepareStoredResponse(
  platform: HttpPlatform,
  request: PlatformRequest,
  response: PlatformResponse,
  plan: CachedPlan,
  stored: StoredResponse,
  cacheStatus = 'HIT',
): string | Buffer {
  setCacheControl(platform, response, plan);
  platform.setHeader(response, 'content-type', stored.contentType);
  let body = stored.body;
  if (
    stored.encoding &&
    platform.sendsBytes &&
    acceptsEncoding(request.headers['accept-encoding'], stored.encoding)
  ) {
    platform.setHeader(response, 'content-encoding', stored.encoding);
    platform.setHeader(response, 'etag', encodedEtag(stored.etag, stored.encoding));
  } else {
    body = plainBody(stored);
    platform.setHeader(response, 'etag', stored.etag);
  }
  platform.setHeader(response, X_CACHE_HEADER, cacheStatus);
  platform.answerConditionally(request, response);
  return body;
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The bytes Nest would send for `result`: JSON for values, a string as it is; undefined for anything else. */
export function serialiseResult(
  platform: HttpPlatform,
  result: unknown,
): { body: string; contentType: string } | undefined {
  if (typeof result === 'string') return { body: result, contentType: platform.textContentType };
  if (result === undefined || typeof result === 'function' || typeof result === 'symbol') return undefined;
  if (result instanceof Uint8Array || result instanceof StreamableFile || isStream(result)) return undefined;
  return { body: JSON.stringify(result), contentType: JSON_CONTENT_TYPE };
}

function isStream(value: unknown): boolean {
  return typeof (value as { pipe?: unknown } | null)?.pipe === 'function';
}
