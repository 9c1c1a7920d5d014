/**
 * Escapes `\`, `%` and `_` so a user's search term matches literally inside an ILIKE pattern (PostgreSQL's default
 * escape character is the backslash).
 *
 * @returns the pattern `%term%` for a case-insensitive substring match.
 */
export function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}
