/**
 * Renders a connection URL for logs and health output: the password (and a user name that looks like a token)
 * is replaced by `***`. An unparseable URL, or one without a `scheme://host` authority (`user:secret@host` with the
 * scheme forgotten parses as scheme `user`), is reduced to its scheme so that nothing secret can leak from it.
 */
export function maskUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    if (!parsed.host) throw new TypeError('no authority');
    if (parsed.password) parsed.password = '***';
    else if (parsed.username) parsed.username = '***';
    parsed.search = parsed.search ? '?***' : '';
    return parsed.toString();
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
    return scheme ? `${scheme}://<unparseable>` : '<unparseable>';
  }
}
