import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { databaseTrouble, findSqlState, type DatabaseTrouble } from '../../database/database-errors.js';

/** The one error body of the API. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
}

export interface ErrorResponse {
  status: number;
  body: ErrorBody | Record<string, unknown>;
  /** Whether this is our fault (to be logged with its stack), as opposed to a client error. */
  unexpected: boolean;
  /** Set when the database could not serve: answered 503 with `Retry-After`, logged once per window, counted. */
  databaseTrouble?: DatabaseTrouble;
}

export { findSqlState };

/** Seconds a client is asked to wait (`Retry-After`) when the database cannot serve. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

function body(status: number, message: string | string[]): ErrorBody {
  return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message };
}

function fromSqlState(code: string): ErrorResponse | undefined {
  // Class 22 is "data exception": a value the column or function cannot take. It is the client's input.
  if (code.startsWith('22'))
    return { status: 400, body: body(400, 'Invalid input value'), unexpected: false };
  if (code === '23505') return { status: 409, body: body(409, 'Resource already exists'), unexpected: false };
  if (code === '23503')
    return { status: 409, body: body(409, 'Referenced resource does not exist'), unexpected: false };
  if (code === '23514') return { status: 400, body: body(400, 'Invalid input value'), unexpected: false };
  // not_null_violation: validation should have caught the null first; if it did not, it is still the client's input.
  if (code === '23502')
    return { status: 400, body: body(400, 'A required value is missing'), unexpected: false };
  return undefined;
}

/**
 * Maps anything thrown while serving a request to a status and a body in the common shape
 * `{ statusCode, error, message }`. Internal details never reach the body.
 */
export function toErrorResponse(exception: unknown): ErrorResponse {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'string')
      return { status, body: body(status, response), unexpected: status >= 500 };
    const { message } = response as { message?: unknown };
    if (message === undefined) {
      // Bodies that are a documented shape of their own (Terminus health results) pass through unchanged.
      return { status, body: response as Record<string, unknown>, unexpected: false };
    }
    const text = Array.isArray(message) ? message.map(String) : String(message);
    return { status, body: body(status, text), unexpected: status >= 500 };
  }
  const trouble = databaseTrouble(exception);
  if (trouble) {
    const message =
      trouble === 'timeout'
        ? 'The database took too long to answer'
        : 'The database is unavailable; retry shortly';
    return { status: 503, body: body(503, message), unexpected: false, databaseTrouble: trouble };
  }
  const sqlState = findSqlState(exception);
  const fromDatabase = sqlState ? fromSqlState(sqlState) : undefined;
  if (fromDatabase) return fromDatabase;

  // Errors raised by Fastify itself before a handler runs (body too large, malformed JSON, unsupported media type).
  const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const code = (exception as { code?: unknown }).code;
    const message =
      code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'Request body is too large'
        : exception instanceof Error
          ? exception.message
          : STATUS_CODES[statusCode];
    return { status: statusCode, body: body(statusCode, message ?? 'Bad Request'), unexpected: false };
  }
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    body: body(500, 'Internal server error'),
    unexpected: true,
  };
}
