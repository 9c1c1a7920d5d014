import { createHash } from 'node:crypto';

/** What the cache stores for one response: the exact bytes sent, with what a hit needs to send them again. */
export interface CacheEntry {
  /** The generations of the covering prefixes when the fill started; a hit requires them to be current. */
  generations: string[];
  etag: string;
  contentType: string;
  /** The response bytes: a string as the handler's result was serialised, or a Buffer as Redis returned it. */
  body: string | Buffer;
}

/** A strong ETag over the body bytes. */
export function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/**
 * Frames an entry as one string: three header lines (generations, ETag, content type), then the body unchanged,
 * so a hit slices the body out without parsing or re-serialising it.
 */
export function encodeEntry(entry: CacheEntry & { body: string }): string {
  return `${entry.generations.join(',')}\n${entry.etag}\n${entry.contentType}\n${entry.body}`;
}

const NEWLINE = 0x0a;

/**
 * Decodes an entry read as bytes: the header lines become strings, the body stays a slice of the same Buffer, so
 * a hit never turns the body into a JavaScript string and back.
 */
export function decodeEntryBytes(raw: Buffer | null | undefined): CacheEntry | undefined {
  if (!raw) return undefined;
  const first = raw.indexOf(NEWLINE);
  const second = first < 0 ? -1 : raw.indexOf(NEWLINE, first + 1);
  const third = second < 0 ? -1 : raw.indexOf(NEWLINE, second + 1);
  if (third < 0) return undefined;
  return {
    generations: first === 0 ? [] : raw.toString('latin1', 0, first).split(','),
    etag: raw.toString('utf8', first + 1, second),
    contentType: raw.toString('utf8', second + 1, third),
    body: raw.subarray(third + 1),
  };
}

/** @returns the entry, or undefined for anything not written by {@link encodeEntry}. */
export function decodeEntry(raw: unknown): CacheEntry | undefined {
  if (typeof raw !== 'string') return undefined;
  const first = raw.indexOf('\n');
  const second = first < 0 ? -1 : raw.indexOf('\n', first + 1);
  const third = second < 0 ? -1 : raw.indexOf('\n', second + 1);
  if (third < 0) return undefined;
  const generations = first === 0 ? [] : raw.slice(0, first).split(',');
  return {
    generations,
    etag: raw.slice(first + 1, second),
    contentType: raw.slice(second + 1, third),
    body: raw.slice(third + 1),
  };
}
