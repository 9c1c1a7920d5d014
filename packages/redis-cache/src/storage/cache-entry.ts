import { createHash } from 'node:crypto';

/** What the cache stores for one response: the exact bytes sent, with what a hit needs to send them again. */
export interface CacheEntry {
  /** The generations of the covering prefixes when the fill started; a hit requires them to be current. */
  generations: string[];
  /**
   * Until when the entry is fresh (epoch ms): its TTL from `storedAt`. After it, and until `graceUntil`, it is
   * graced: kept (Redis's PX covers the grace too) to stand in when a fresh answer fails or is late (fail-safe).
   * Travelling in the entry, these let an L2 hit fill L1 with the remaining lifetime without a PTTL round trip.
   * Instances' clocks may differ by a little; Redis's own TTL stays authoritative for L2.
   */
  freshUntil: number;
  graceUntil: number;
  /** When it was stored (epoch ms), for the `Age` of a stale answer; 0 when not known. */
  storedAt: number;
  /** A strong ETag over the uncompressed bytes (the representation a client without `Accept-Encoding` gets). */
  etag: string;
  contentType: string;
  /** The response bytes: a string as the handler's result was serialised, or a Buffer as Redis returned it. */
  body: string | Buffer;
  /** `gzip` when `body` holds the response compressed once at fill (see platform/content-encoding.ts). */
  encoding?: StoredEncoding;
}

/** How stored response bytes may be compressed. */
export type StoredEncoding = 'gzip';

/** What a hit sends. */
export type StoredResponse = Pick<CacheEntry, 'etag' | 'contentType' | 'body' | 'encoding'>;

/** A graced entry: what a stale answer sends, and since when it is what it is (its `Age`). */
export type GracedResponse = StoredResponse & Pick<CacheEntry, 'storedAt'>;

/** A strong ETag over the body bytes. */
export function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/**
 * Frames an entry as one string: four header lines (generations, expiry, ETag, content type), then the body
 * unchanged, so a hit slices the body out without parsing or re-serialising it.
 */
export function encodeEntry(entry: CacheEntry & { body: string }): string {
  return `${entry.generations.join(',')}\n${lifetimeLine(entry)}\n${entry.etag}\n${entry.contentType}\n${entry.body}`;
}

/**
 * Fresh until, graced until, stored at: three epoch-ms numbers on the second header line, then the body's encoding
 * when it is compressed. An instance that predates compression finds four fields there, refuses the frame and
 * treats it as a miss, so that during a rolling deploy nobody sends compressed bytes as if they were plain.
 */
function lifetimeLine(
  entry: Pick<CacheEntry, 'freshUntil' | 'graceUntil' | 'storedAt' | 'encoding'>,
): string {
  const line = `${entry.freshUntil} ${entry.graceUntil} ${entry.storedAt}`;
  return entry.encoding ? `${line} ${entry.encoding}` : line;
}

/**
 * The same frame as bytes, for a binary body (a named cache's encoded value): the header lines, then the body.
 * `frameTail` is everything after the generations line, for writers that learn the generations inside Redis.
 */
export function encodeEntryBytes(entry: CacheEntry & { body: Buffer }): Buffer {
  return Buffer.concat([Buffer.from(`${entry.generations.join(',')}\n`, 'latin1'), frameTail(entry)]);
}

export function frameTail(entry: Omit<CacheEntry, 'generations'> & { body: Buffer }): Buffer {
  return Buffer.concat([
    Buffer.from(`${lifetimeLine(entry)}\n${entry.etag}\n${entry.contentType}\n`, 'utf8'),
    entry.body,
  ]);
}

const NEWLINE = 0x0a;
const HEADER_LINES = 4;

/** Positions of the newlines ending the header lines, or undefined when the frame is cut short. */
function headerEnds(newlineFrom: (from: number) => number): [number, number, number, number] | undefined {
  const ends: number[] = [];
  for (let from = 0; ends.length < HEADER_LINES; from = ends.at(-1)! + 1) {
    const end = newlineFrom(from);
    if (end < 0) return undefined;
    ends.push(end);
  }
  return ends as [number, number, number, number];
}

const LIFETIME = /^(\d{1,16})(?: (\d{1,16}) (\d{1,16})(?: (gzip))?)?$/;

type Lifetime = Pick<CacheEntry, 'freshUntil' | 'graceUntil' | 'storedAt' | 'encoding'>;

/** The lifetime line; a single number (the frame before grace existed) means fresh until then, without grace. */
function parseLifetime(text: string): Lifetime | undefined {
  const match = LIFETIME.exec(text);
  if (!match) return undefined;
  const freshUntil = Number(match[1]);
  if (match[2] === undefined) return { freshUntil, graceUntil: freshUntil, storedAt: 0 };
  const lifetime: Lifetime = {
    freshUntil,
    graceUntil: Math.max(freshUntil, Number(match[2])),
    storedAt: Number(match[3]),
  };
  if (match[4]) lifetime.encoding = match[4] as StoredEncoding;
  return lifetime;
}

/**
 * Decodes an entry read as bytes: the header lines become strings, the body stays a slice of the same Buffer, so
 * a hit never turns the body into a JavaScript string and back.
 */
export function decodeEntryBytes(raw: Buffer | null | undefined): CacheEntry | undefined {
  if (!raw) return undefined;
  const ends = headerEnds((from) => raw.indexOf(NEWLINE, from));
  if (!ends) return undefined;
  const [generationsEnd, expiryEnd, etagEnd, typeEnd] = ends;
  const lifetime = parseLifetime(raw.toString('latin1', generationsEnd + 1, expiryEnd));
  if (lifetime === undefined) return undefined;
  return {
    generations: generationsEnd === 0 ? [] : raw.toString('latin1', 0, generationsEnd).split(','),
    ...lifetime,
    etag: raw.toString('utf8', expiryEnd + 1, etagEnd),
    contentType: raw.toString('utf8', etagEnd + 1, typeEnd),
    body: raw.subarray(typeEnd + 1),
  };
}

/** @returns the entry, or undefined for anything not written by {@link encodeEntry}. */
export function decodeEntry(raw: unknown): CacheEntry | undefined {
  if (typeof raw !== 'string') return undefined;
  const ends = headerEnds((from) => raw.indexOf('\n', from));
  if (!ends) return undefined;
  const [generationsEnd, expiryEnd, etagEnd, typeEnd] = ends;
  const lifetime = parseLifetime(raw.slice(generationsEnd + 1, expiryEnd));
  if (lifetime === undefined) return undefined;
  return {
    generations: generationsEnd === 0 ? [] : raw.slice(0, generationsEnd).split(','),
    ...lifetime,
    etag: raw.slice(expiryEnd + 1, etagEnd),
    contentType: raw.slice(etagEnd + 1, typeEnd),
    body: raw.slice(typeEnd + 1),
  };
}
