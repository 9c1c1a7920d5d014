import { describe, expect, it } from '@jest/globals';
import {
  type CacheEntry,
  decodeEntry,
  decodeEntryBytes,
  encodeEntry,
  encodeEntryBytes,
  etagOf,
} from './cache-entry.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const ONE_MB = 1024 * 1024;

type TextEntry = CacheEntry & { body: string };

function entry(body: string, generations: string[] = ['1712000000000', '3']): TextEntry {
  return {
    generations,
    freshUntil: 1_790_000_000_123,
    graceUntil: 1_790_003_600_123,
    storedAt: 1_789_999_880_123,
    etag: etagOf(body),
    contentType: JSON_TYPE,
    body,
  };
}

describe('encodeEntry / decodeEntry', () => {
  it.each<[string, TextEntry]>([
    ['a JSON body', entry('{"items":[],"total":0}')],
    ['a body with newlines', entry('line 1\nline 2\r\n\nline 4\n')],
    ['a body that starts with newlines', entry('\n\n\n{"a":1}')],
    ['a body that looks like a header', entry('1,2\n17\n"etag"\ntext/plain\nbody')],
    ['an expiry of 0', { ...entry('{}'), freshUntil: 0, graceUntil: 0, storedAt: 0 }],
    ['a unicode body', entry('{"name":"Zoë 北京 🚀 \u0000 \u2028"}')],
    ['an empty body', entry('')],
    ['a 1 MB body', entry('x'.repeat(ONE_MB))],
    ['a 1 MB body of newlines and unicode', entry('é\n🚀'.repeat(ONE_MB / 4))],
    ['an empty generation list', entry('{"a":1}', [])],
    ['an empty generation list and an empty body', entry('', [])],
    ['a single generation', entry('{"a":1}', ['42'])],
    ['an empty content type', { ...entry('{}'), contentType: '' }],
  ])('round-trips %s exactly, as a string and as the bytes Redis returns', (_label, original) => {
    expect(decodeEntry(encodeEntry(original))).toStrictEqual(original);
    const fromBytes = decodeEntryBytes(Buffer.from(encodeEntry(original)));
    expect(fromBytes).toStrictEqual({ ...original, body: Buffer.from(original.body) });
  });

  it('keeps the body as the exact tail of the encoded string, so a hit can slice it out', () => {
    const body = '{"a":"b\\nc"}\n';
    expect(encodeEntry(entry(body)).endsWith(`\n${body}`)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { body: 'x' }],
    ['a Buffer', Buffer.from('1\n5\n"e"\ntext/plain\nbody')],
    ['an empty string', ''],
    ['a string without newlines', 'body'],
    ['a string with one newline', '1\n5'],
    ['a string with three newlines', '1\n5\n"e"\ntext/plain'],
    // The frame of an earlier release (no expiry line): refused, so it is re-filled rather than misread.
    ['a frame without an expiry line', '1,2\n"e"\ntext/plain\n{"a":1}'],
    ['an expiry that is not a number', '1\n5e3\n"e"\ntext/plain\nbody'],
    ['a lifetime of two numbers', '1\n5 6\n"e"\ntext/plain\nbody'],
    ['a lifetime with a trailing space', '1\n5 6 7 \n"e"\ntext/plain\nbody'],
  ])('returns undefined for %s', (_label, raw) => {
    expect(decodeEntry(raw)).toBeUndefined();
    if (typeof raw === 'string') expect(decodeEntryBytes(Buffer.from(raw))).toBeUndefined();
  });

  it('decodes a string with exactly four newlines as an entry with an empty body', () => {
    expect(decodeEntry('1,2\n99 199 9\n"e"\ntext/plain\n')).toStrictEqual({
      generations: ['1', '2'],
      freshUntil: 99,
      graceUntil: 199,
      storedAt: 9,
      etag: '"e"',
      contentType: 'text/plain',
      body: '',
    });
  });

  it('reads the frame of the release before grace (one expiry number) as fresh until then, without grace', () => {
    expect(decodeEntry('1\n99\n"e"\ntext/plain\nbody')).toMatchObject({
      freshUntil: 99,
      graceUntil: 99,
      storedAt: 0,
    });
  });
});

describe('compressed frames', () => {
  const entry = {
    generations: ['5', '9'],
    freshUntil: 1_700_000_060_000,
    graceUntil: 1_700_003_600_000,
    storedAt: 1_700_000_000_000,
    etag: '"abc"',
    contentType: 'application/json; charset=utf-8',
    body: Buffer.from([0x1f, 0x8b, 0x0a, 0x00, 0xff, 0x0a]), // binary, with newlines in it
    encoding: 'gzip' as const,
  };

  it('round-trips the encoding and the binary body; plain frames decode without one', () => {
    const decoded = decodeEntryBytes(encodeEntryBytes(entry));
    expect(decoded).toEqual(entry);
    const plain = decodeEntryBytes(encodeEntryBytes({ ...entry, encoding: undefined }));
    expect(plain?.encoding).toBeUndefined();
    expect(Buffer.from(plain!.body).equals(entry.body)).toBe(true);
  });

  it('writes the encoding as a fourth lifetime field, which the frame reader of earlier releases refuses', () => {
    const lifetimeLine = encodeEntryBytes(entry).toString('latin1').split('\n')[1];
    expect(lifetimeLine).toBe('1700000060000 1700003600000 1700000000000 gzip');
    const earlierReader = /^(\d{1,16})(?: (\d{1,16}) (\d{1,16}))?$/; // cache-entry.ts before compression
    expect(earlierReader.test(lifetimeLine)).toBe(false);
    expect(decodeEntryBytes(Buffer.from('5\n1 2 3 br\n"e"\ntype\nbody'))).toBeUndefined(); // unknown coding
  });
});

describe('etagOf', () => {
  it.each<[string]>([[''], ['{"a":1}'], ['é\n🚀'], ['x'.repeat(ONE_MB)]])(
    'is a quoted strong ETag for %#',
    (body) => {
      const etag = etagOf(body);
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect(etag.startsWith('W/')).toBe(false);
    },
  );

  it.each<[string]>([[''], ['{"a":1}'], ['é\n🚀']])('is stable for equal bodies (%p)', (body) => {
    expect(etagOf(body)).toBe(etagOf(String(body)));
    expect(etagOf(body)).toBe(etagOf(body.slice()));
  });

  it.each<[string, string]>([
    ['', ' '],
    ['{"a":1}', '{"a":2}'],
    ['{"a":1}', '{"a":1}\n'],
    ['a', 'A'],
    // Precomposed and decomposed é: equal when rendered, different bytes.
    ['\u00e9', 'e\u0301'],
    ['x'.repeat(ONE_MB), `${'x'.repeat(ONE_MB - 1)}y`],
  ])('differs for different bodies (%#)', (a, b) => {
    expect(etagOf(a)).not.toBe(etagOf(b));
  });
});
