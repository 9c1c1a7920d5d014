import { promisify } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { deflateRaw, inflateRaw } from 'node:zlib';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/**
 * How a named cache turns values into bytes. Its name and version are recorded in every entry: an entry written
 * by another codec, or by another version of this one, reads as a miss, never as a wrong value.
 */
export interface CacheCodec<T = unknown> {
  /** Letters, digits and `-`. */
  readonly name: string;
  readonly version: number;
  encode(value: T): Buffer;
  decode(bytes: Buffer): T;
}

/**
 * The default: what `structuredClone` round-trips comes back with its types (objects, arrays, `Date`, `Map`, `Set`,
 * `RegExp`, `Buffer`, typed arrays such as a `Float32Array` embedding, `bigint`, `undefined` inside objects), through
 * Node's own V8 serialiser. Only Node reads it.
 */
export const structuredCodec: CacheCodec = {
  name: 'structured',
  version: 1,
  encode: (value) => serialize(value),
  decode: (bytes) => deserialize(bytes) as unknown,
};

/** JSON (UTF-8), for values that programs in other languages read: `Date`s come back as strings, as with JSON. */
export const jsonCodec: CacheCodec = {
  name: 'json',
  version: 1,
  encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
  decode: (bytes) => JSON.parse(bytes.toString('utf8')) as unknown,
};

/** The frame format of named values; bumped if the tag's layout changes, so old entries read as misses. */
const FORMAT = 'v1';
const CODEC_NAME = /^[A-Za-z0-9-]{1,32}$/;

export type Compression = 'raw' | 'deflate';

/** A value as stored: its bytes and the tag (format, codec, codec version, compression) that says how to read them. */
export interface PackedValue {
  tag: string;
  body: Buffer;
}

/** The codec a namespace option names, checked once when the namespace is declared. */
export function resolveCodec<T>(codec: 'structured' | 'json' | CacheCodec<T> | undefined): CacheCodec<T> {
  const resolved = (
    codec === undefined || codec === 'structured' ? structuredCodec : codec === 'json' ? jsonCodec : codec
  ) as CacheCodec<T>;
  if (!CODEC_NAME.test(resolved.name) || !Number.isSafeInteger(resolved.version))
    throw new TypeError(`a cache codec needs a name of letters, digits and '-', and a whole version number`);
  return resolved;
}

/**
 * Encodes a value and compresses it (raw deflate, on libuv's thread pool) when it is larger than `compressAbove`
 * bytes and compression makes it smaller. Rejects when the codec cannot encode the value (a function, a symbol).
 */
export async function packValue<T>(
  codec: CacheCodec<T>,
  value: T,
  compressAbove: number,
): Promise<PackedValue> {
  const encoded = codec.encode(value);
  let body = encoded;
  let compression: Compression = 'raw';
  if (encoded.length > compressAbove) {
    const compressed = await deflate(encoded);
    if (compressed.length < encoded.length) {
      body = compressed;
      compression = 'deflate';
    }
  }
  return { tag: `${FORMAT};${codec.name};${codec.version};${compression}`, body };
}

/** Decodes a stored value; `undefined` (never a throw) when the tag is not this codec's or the bytes do not decode. */
export async function unpackValue<T>(
  codec: CacheCodec<T>,
  tag: string,
  body: Buffer | string,
): Promise<{ value: T } | undefined> {
  const [format, name, version, compression] = tag.split(';');
  if (format !== FORMAT || name !== codec.name || version !== String(codec.version)) return undefined;
  if (compression !== 'raw' && compression !== 'deflate') return undefined;
  try {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
    return { value: codec.decode(compression === 'deflate' ? await inflate(bytes) : bytes) };
  } catch {
    return undefined;
  }
}
