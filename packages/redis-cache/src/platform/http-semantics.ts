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
 * `Vary` with `field` added to what is already there (CORS's `Origin`, say), never replaced: dropping `Origin`
 * would let a shared cache hand one origin's CORS headers to another. `*` already varies on everything.
 */
export function appendVary(current: string | number | string[] | undefined, field: string): string {
  const fields = (Array.isArray(current) ? current.join(',') : String(current ?? ''))
    .split(',')
    .map((token) => token.trim())
    .filter(Boolean);
  if (fields.includes('*')) return '*';
  if (fields.some((token) => token.toLowerCase() === field.toLowerCase())) return fields.join(', ');
  return [...fields, field].join(', ');
}
