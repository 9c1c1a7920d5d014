import { ArgumentsHost, Catch, ExceptionFilter, Logger, Optional } from '@nestjs/common';
import { DrizzleQueryError } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseOutages } from '../../database/database-outages.js';
import { DATABASE_RETRY_AFTER_SECONDS, findSqlState, toErrorResponse } from './error-response.util.js';

/**
 * What to log about an unexpected error. Drizzle's query errors carry the statement's parameters (user input:
 * emails, password hashes) in their message and therefore in their stack, so for those only the SQLSTATE and the
 * driver's own message (the cause) are logged. Drizzle leaves `name` as 'Error', hence the class check.
 */
function describeFailure(exception: unknown): string {
  if (exception instanceof DrizzleQueryError) {
    const cause = exception.cause;
    const detail = cause instanceof Error ? cause.message : 'no driver error';
    return `database error ${findSqlState(cause) ?? 'without SQLSTATE'}: ${detail}`;
  }
  if (!(exception instanceof Error)) return String(exception);
  return exception.stack ?? exception.message;
}

/**
 * Answers every error in the common shape; logs our own failures with their stack, client errors not at all, and a
 * database that cannot serve as one line per window (a 503 with `Retry-After`).
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(@Optional() private readonly outages?: DatabaseOutages) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const { status, body, unexpected, databaseTrouble } = toErrorResponse(exception);
    if (databaseTrouble) {
      this.outages?.report(databaseTrouble, describeFailure(exception).split('\n')[0]);
      if (!reply.sent) void reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
    }
    if (unexpected) {
      const detail = describeFailure(exception);
      this.logger.error(
        `${request.method} ${request.routeOptions?.url ?? 'unmatched'} failed (${request.id}): ${detail}`,
      );
    }
    if (reply.sent) return;
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
