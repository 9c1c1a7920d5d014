const SQLSTATE = /^[0-9A-Z]{5}$/;

/** Finds a PostgreSQL SQLSTATE anywhere in the cause chain (drizzle wraps driver errors in DrizzleQueryError). */
export function findSqlState(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Object && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && SQLSTATE.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * SQLSTATEs that mean "the database cannot serve right now", not "this request is wrong": connection exceptions
 * (08), insufficient resources (53: too many connections, out of memory, disk full), operator intervention (57P01
 * admin shutdown, 57P02 crash, 57P03 cannot connect now), statement timeout (57014), object or lock unavailable
 * (55000, 55006, 55P03), system errors (58), an unknown database or rejected login (3D000, 28000, 28P01: a
 * misconfiguration, but not the client's), and transient conflicts worth a retry (40001, 40P01).
 */
const UNAVAILABLE_SQLSTATE =
  /^(08|53|58|57P0[123]$|57014$|55000$|55006$|55P03$|3D000$|28000$|28P01$|40001$|40P01$)/;

/** Socket errors of a connection to the database. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** node-postgres's own failures, which carry no code: a pool that cannot connect, a dropped or hung connection. */
const DRIVER_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Query read timeout',
  'is not queryable',
  'Cannot use a pool after calling end',
];

export type DatabaseTrouble = 'timeout' | 'unavailable';

/** Whether an error (anywhere in its cause chain) means the database is unavailable or too slow. */
export function databaseTrouble(error: unknown): DatabaseTrouble | undefined {
  const sqlState = findSqlState(error);
  if (sqlState)
    return sqlState === '57014' ? 'timeout' : UNAVAILABLE_SQLSTATE.test(sqlState) ? 'unavailable' : undefined;
  for (let current = error, depth = 0; current instanceof Object && depth < 5; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'unavailable';
    if (typeof message === 'string') {
      if (message.includes('Query read timeout')) return 'timeout';
      if (DRIVER_MESSAGES.some((text) => message.includes(text))) return 'unavailable';
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
