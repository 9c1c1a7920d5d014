import { LRUCache } from 'lru-cache';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CacheConfigurationError } from '../errors.js';
import type { CachedPlan } from '../decorators/handler-plans.js';
import type { StoredEncoding, StoredResponse } from '../storage/cache-entry.js';
import type { HttpPlatform } from './http-platform.js';

/** Default of option `compressAbove` (and of a namespace's): bodies larger than this many bytes are stored compressed. */
export const DEFAULT_COMPRESS_ABOVE = 1024;
/** Compression must save at least this share of the bytes to be kept (else the plain bytes are stored). */
const MIN_SAVING = 0.1;
/** Uncompressed bodies kept for clients that do not accept gzip, by ETag: bounded in bytes. */
const PLAIN_COPIES_MAX_BYTES = 32 * 1024 * 1024;

/** Option `compressAbove`, checked: a whole number of bytes, or false. */
export function compressAboveOf(option: unknown): number | false {
  if (option === undefined) return DEFAULT_COMPRESS_ABOVE;
  if (option === false || (Number.isSafeInteger(option) && (option as number) >= 0))
    return option as number | false;
  throw new CacheConfigurationError(
    `RedisCacheModule option compressAbove must be a whole number of bytes or false, got ${String(option)}`,
  );
}

/** What a route compresses above on this platform: its threshold, or false where bytes cannot pass (Express). */
export function compressionOf(
  platform: HttpPlatform,
  plan: Pick<CachedPlan, 'compressAbove'>,
): number | false {
  return platform.sendsBytes ? plan.compressAbove : false;
}

/**
 * The response as it is stored: compressed with gzip once, at fill, when it is larger than `compressAbove` bytes
 * and compression saves at least a tenth (gzip, because every HTTP client that compresses accepts it, whereas
 * browsers offer br only over HTTPS). Synchronous: some 90 us for a 7 KB list, on a miss that just ran a query,
 * and it leaves no moment where the entry is in neither form.
 */
export function storedForm(response: StoredResponse & { body: string }, compressAbove: number | false) {
  const size = Buffer.byteLength(response.body);
  if (compressAbove === false || size <= compressAbove) return response;
  const compressed = gzipSync(response.body);
  if (compressed.length > size * (1 - MIN_SAVING)) return response;
  return { ...response, body: compressed, encoding: 'gzip' as const };
}

/**
 * Whether an `Accept-Encoding` header accepts `encoding` (RFC 9110 §12.5.3): named or `*`, with a q-value above 0.
 * An explicit entry for the coding wins over `*`.
 */
export function acceptsEncoding(header: string | string[] | undefined, encoding: StoredEncoding): boolean {
  if (!header) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  let wildcard: boolean | undefined;
  for (const part of text.split(',')) {
    const [name, ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    if (coding !== encoding && coding !== 'x-gzip' && coding !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('q='));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (coding === '*') wildcard = accepted;
    else return accepted;
  }
  return wildcard ?? false;
}

/**
 * The ETag of the compressed representation: another representation, hence another strong validator (RFC 9110
 * §8.8.3), derived from the plain one so that both are known without hashing the compressed bytes.
 */
export function encodedEtag(etag: string, encoding: StoredEncoding): string {
  return etag.endsWith('"') ? `${etag.slice(0, -1)}-${encoding}"` : `${etag}-${encoding}`;
}

const plainCopies = new LRUCache<string, Buffer>({
  maxSize: PLAIN_COPIES_MAX_BYTES,
  sizeCalculation: (body, etag) => body.length + etag.length,
});

/**
 * The uncompressed bytes of a stored response, for a client that does not accept its encoding. Decompressed once
 * per ETag (an ETag names exactly one plain body), then kept in a bounded LRU, so that such clients do not cost a
 * gunzip per hit.
 */
export function plainBody(stored: StoredResponse): string | Buffer {
  if (!stored.encoding) return stored.body;
  let plain = plainCopies.get(stored.etag);
  if (!plain) {
    plain = gunzipSync(stored.body);
    plainCopies.set(stored.etag, plain);
  }
  return plain;
}
