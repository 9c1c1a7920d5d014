import type { LoggerService } from '@nestjs/common';
import type { FastifyBaseLogger } from 'fastify';

/**
 * Nest's LoggerService on top of Fastify's pino logger, so the framework's lines and the request lines share one
 * JSON stream and one level (nestjs-pino does not install with Nest 12 on Node 20).
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: FastifyBaseLogger) {}

  log(message: unknown, ...rest: unknown[]) {
    this.pino.info({ context: contextOf(rest) }, stringify(message));
  }

  error(message: unknown, ...rest: unknown[]) {
    const [stack] = rest;
    const context = contextOf(rest);
    this.pino.error(
      { context, ...(typeof stack === 'string' && rest.length > 1 ? { stack } : {}) },
      stringify(message),
    );
  }

  warn(message: unknown, ...rest: unknown[]) {
    this.pino.warn({ context: contextOf(rest) }, stringify(message));
  }

  debug(message: unknown, ...rest: unknown[]) {
    this.pino.debug({ context: contextOf(rest) }, stringify(message));
  }

  verbose(message: unknown, ...rest: unknown[]) {
    this.pino.trace({ context: contextOf(rest) }, stringify(message));
  }

  fatal(message: unknown, ...rest: unknown[]) {
    this.pino.fatal({ context: contextOf(rest) }, stringify(message));
  }
}

/** Nest passes the context (a class name) as the last argument. */
function contextOf(rest: unknown[]): string | undefined {
  const last = rest.at(-1);
  return typeof last === 'string' ? last : undefined;
}

function stringify(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Error) return message.message;
  return JSON.stringify(message);
}
