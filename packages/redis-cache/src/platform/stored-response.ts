import { StreamableFile } from '@nestjs/common';
import type { CachedPlan } from '../decorators/handler-plans.js';
import { X_CACHE_HEADER } from '../redis-cache.constants.js';
import type { StoredResponse } from '../storage/cache-entry.js';
import type { HttpPlatform, PlatformRequest, PlatformResponse } from './http-platform.js';
import { appendVary } from './http-semantics.js';

/** Browsers revalidate every time (with the ETag); per-viewer responses are private and vary by credentials. */
export function setCacheControl(platform: HttpPlatform, response: PlatformResponse, plan: CachedPlan): void {
  if (!plan.perViewer) return platform.setHeader(response, 'cache-control', 'no-cache');
  platform.setHeader(response, 'cache-control', 'private, no-cache');
  platform.setHeader(response, 'vary', appendVary(platform.getHeader(response, 'vary'), 'Authorization'));
}

/** Headers of an answer carrying stored (or about to be stored) bytes, with its ETag and `X-Cache`. */
export function prepareStoredResponse(
  platform: HttpPlatform,
  request: PlatformRequest,
  response: PlatformResponse,
  plan: CachedPlan,
  stored: Pick<StoredResponse, 'etag' | 'contentType'>,
  cacheStatus = 'HIT',
): void {
  setCacheControl(platform, response, plan);
  platform.setHeader(response, 'content-type', stored.contentType);
  platform.setHeader(response, 'etag', stored.etag);
  platform.setHeader(response, X_CACHE_HEADER, cacheStatus);
  platform.answerConditionally(request, response);
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
