/**
 * Stores values under the generations their counters hold at this moment, in one round trip and atomically:
 * reads each counter (creating a missing one from the seed, as readers do, and refreshing its TTL), then writes
 * each entry's frame with its generations line in front. A plain SET after a separate read could store a value
 * under generations an invalidation has already replaced in between.
 *
 * KEYS: the counters (G of them), then the entries. ARGV[1] = G, ARGV[2] = the seed for missing counters,
 * ARGV[3] = the counters' TTL in ms; then per entry: its TTL in ms, the indexes (1-based, comma-separated) of its
 * counters among KEYS, and the frame after the generations line. Returns each entry's generations line.
 *
 * The `#!lua` line declares the script's flags (none): Redis then refuses it as a whole when it is out of memory,
 * as it refuses a SET. Without it, the first PEXPIRE would mark the script as writing, after which Redis lets
 * every SET of it through, past `maxmemory` (a script must not stop half-way).
 */
export const WRITE_CURRENT_SCRIPT = `#!lua
local g = tonumber(ARGV[1])
local values = {}
for i = 1, g do
  local v = redis.call('GET', KEYS[i])
  if not v then
    v = ARGV[2]
    redis.call('SET', KEYS[i], v, 'PX', ARGV[3])
  else
    redis.call('PEXPIRE', KEYS[i], ARGV[3])
  end
  values[i] = v
end
local lines = {}
for j = 1, #KEYS - g do
  local base = 3 + (j - 1) * 3
  local parts = {}
  for index in string.gmatch(ARGV[base + 2], '%d+') do
    parts[#parts + 1] = values[tonumber(index)]
  end
  local line = table.concat(parts, ',')
  redis.call('SET', KEYS[g + j], line .. '\\n' .. ARGV[base + 3], 'PX', ARGV[base + 1])
  lines[j] = line
end
return lines
`;

/** KEYS and ARGV of {@link WRITE_CURRENT_SCRIPT} for these writes. */
export function writeCurrentArguments(
  writes: { entryKey: string; generationKeys: string[]; ttlMs: number; tail: Buffer }[],
  generationTtlMs: number,
  seed: string,
): { keys: string[]; arguments: (string | Buffer)[] } {
  const counters: string[] = [];
  const index = new Map<string, number>();
  for (const write of writes)
    for (const key of write.generationKeys) if (!index.has(key)) index.set(key, counters.push(key));
  return {
    keys: [...counters, ...writes.map((write) => write.entryKey)],
    arguments: [
      String(counters.length),
      seed,
      String(Math.ceil(generationTtlMs)),
      ...writes.flatMap((write) => [
        String(Math.max(1, Math.ceil(write.ttlMs))),
        write.generationKeys.map((key) => index.get(key)).join(','),
        write.tail,
      ]),
    ],
  };
}
