import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from './error-response.util.js';

/**
 * What to log about an unexpected error. Drizzle's query errors carry the statement's parameters (user input) in
 * their message, so for those only the driver's own error (the cause) is logged.
 */
function describeFailure(exception: unknown): string {
  if (!(exception instanceof Error)) return String(exception);
  const cause = exception.cause;
  if (exception.name === 'DrizzleQueryError' && cause instanceof Error) {
    return `database error ${(cause as { code?: string }).code ?? ''}: ${cause.message}`;
  }
  return exception.stack ?? exception.message;
}

/** Answers every error in the common shape; logs our own failures with their stack, client errors not at all. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const { status, body, unexpected } = toErrorResponse(exception);
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
