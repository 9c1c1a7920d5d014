/**
 * Whether an `If-None-Match` header lists `etag`: `*`, a list, and weak comparison, as RFC 9110 §13.1.2 prescribes
 * for GET and HEAD.
 */
export function etagMatches(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  const header = Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch;
  if (!header) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.trim() === '*' || header.split(',').some((tag) => bare(tag) === bare(etag));
}

/**
 * `Vary` with `added` fields appended to what is already there (CORS's `Origin`, say), never replaced: dropping
 * `Origin` would let a shared cache hand one origin's CORS headers to another. `*` already varies on everything.
 */
export function appendVary(current: string | number | string[] | undefined, ...added: string[]): string {
  const fields = (Array.isArray(current) ? current.join(',') : String(current ?? ''))
    .split(',')
    .map((token) => token.trim())
    .filter(Boolean);
  if (fields.includes('*')) return '*';
  for (const field of added)
    if (!fields.some((token) => token.toLowerCase() === field.toLowerCase())) fields.push(field);
  return fields.join(', ');
}
