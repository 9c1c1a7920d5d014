import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { sameValue } from '../../test/support/same-value.js';
import { structuredValue } from '../../test/support/structured-values.js';
import { jsonCodec, packValue, structuredCodec, unpackValue } from './value-codec.js';

describe('named values: codecs, compression and the frame tag', () => {
  it.each([
    ['raw', Infinity],
    ['compressed when smaller', 0],
  ])('round-trips every structured value with its types (%s)', async (_label, compressAbove) => {
    await fc.assert(
      fc.asyncProperty(structuredValue, async (value) => {
        const packed = await packValue(structuredCodec, value, compressAbove);
        const back = await unpackValue(structuredCodec, packed.tag, packed.body);
        expect(back).toBeDefined();
        expect(sameValue(back!.value, value)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('compresses only above the threshold and only when that saves space', async () => {
    const big = 'abc'.repeat(1_000);
    expect((await packValue(structuredCodec, big, 1024)).tag).toBe('v1;structured;1;deflate');
    expect((await packValue(structuredCodec, 'short', 1024)).tag).toBe('v1;structured;1;raw');
    const random = Buffer.from(Array.from({ length: 4_000 }, (_, i) => (i * 7919) % 251));
    const packed = await packValue(structuredCodec, random.toString('base64'), 0);
    expect(packed.body.length).toBeLessThanOrEqual(structuredCodec.encode(random.toString('base64')).length);
  });

  it('reads a value of another codec, another version, another format or corrupted bytes as nothing', async () => {
    const packed = await packValue(structuredCodec, { a: 1 }, Infinity);
    const v2 = { ...structuredCodec, version: 2 };
    for (const [codec, tag, body] of [
      [jsonCodec, packed.tag, packed.body],
      [v2, packed.tag, packed.body],
      [structuredCodec, packed.tag.replace('v1', 'v0'), packed.body],
      [structuredCodec, packed.tag.replace('raw', 'zstd'), packed.body],
      [structuredCodec, packed.tag.replace('raw', 'deflate'), packed.body],
      [structuredCodec, packed.tag, packed.body.subarray(0, 2)],
      [structuredCodec, 'garbage', packed.body],
    ] as const)
      await expect(unpackValue(codec, tag, body)).resolves.toBeUndefined();
  });

  it('json keeps what JSON keeps: dates become strings', async () => {
    const packed = await packValue(jsonCodec, { at: new Date(0), n: 1 }, Infinity);
    expect((await unpackValue(jsonCodec, packed.tag, packed.body))?.value).toEqual({
      at: '1970-01-01T00:00:00.000Z',
      n: 1,
    });
  });

  it('refuses to encode what no structured clone can carry', async () => {
    await expect(packValue(structuredCodec, { f: () => 1 }, Infinity)).rejects.toThrow();
  });
});
