// Deep equality with types, across realms: V8's deserialiser builds objects of Node's own realm, while a test's
// values come from jest's, so constructors differ even where the types are the same. Types are compared by their
// tags (`[object Map]`, `[object Float32Array]`), values by content.
const tag = (value: unknown) => Object.prototype.toString.call(value);

export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a !== 'object' || a === null || b === null) return Object.is(a, b);
  if (tag(a) !== tag(b)) return false;
  if (Buffer.isBuffer(a) !== Buffer.isBuffer(b)) return false;
  if (ArrayBuffer.isView(a)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const view = b as ArrayBufferView;
    const y = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    return x.length === y.length && x.every((byte, i) => byte === y[i]);
  }
  switch (tag(a)) {
    case '[object Date]':
      return Object.is((a as Date).getTime(), (b as Date).getTime());
    case '[object RegExp]':
      return String(a) === String(b);
    case '[object Map]': {
      const x = [...(a as Map<unknown, unknown>)];
      const y = [...(b as Map<unknown, unknown>)];
      return x.length === y.length && x.every(([k, v], i) => sameValue(k, y[i][0]) && sameValue(v, y[i][1]));
    }
    case '[object Set]': {
      const x = [...(a as Set<unknown>)];
      const y = [...(b as Set<unknown>)];
      return x.length === y.length && x.every((v, i) => sameValue(v, y[i]));
    }
    case '[object Array]': {
      const x = a as unknown[];
      const y = b as unknown[];
      return x.length === y.length && x.every((v, i) => sameValue(v, y[i]));
    }
    default: {
      const x = a as Record<string, unknown>;
      const y = b as Record<string, unknown>;
      const keys = Object.keys(x);
      return (
        keys.length === Object.keys(y).length && keys.every((key) => key in y && sameValue(x[key], y[key]))
      );
    }
  }
}
