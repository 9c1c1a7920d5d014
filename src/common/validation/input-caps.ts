import { BadRequestException } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';

/** No DTO has more fields than this; a query string or body with more is refused before any validation runs. */
export const MAX_FIELDS = 32;
/** An error answer lists at most this many problems, each at most MAX_MESSAGE_CHARS long. */
export const MAX_MESSAGES = 20;
export const MAX_MESSAGE_CHARS = 200;

/**
 * Refuses, in time proportional to the key count only, a query or body object with more top-level fields than any
 * route accepts: validating 9,000 unknown keys one by one and listing each costs hundreds of milliseconds and a
 * reply hundreds of kilobytes long.
 */
export function refuseOverfull(value: object, where: 'query' | 'body'): void {
  let fields = 0;
  for (const key in value) {
    if (Object.hasOwn(value, key) && ++fields > MAX_FIELDS) {
      throw new BadRequestException(`${where} has more than ${MAX_FIELDS} fields`);
    }
  }
}

/** The first MAX_MESSAGES messages, each cut to MAX_MESSAGE_CHARS, and a count of the rest. */
export function capMessages(messages: string[]): string[] {
  const kept = messages
    .slice(0, MAX_MESSAGES)
    .map((message) =>
      message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message,
    );
  if (messages.length > MAX_MESSAGES) kept.push(`and ${messages.length - MAX_MESSAGES} more`);
  return kept;
}

/**
 * The most bytes a route's JSON body may have, below the server-wide BODY_LIMIT: sized to what the route accepts,
 * so a larger body is a 413 before it is parsed. Read by the JSON parser from the route's config (`maxBodyBytes`;
 * a route with a RouteConfig of its own puts it there, since a second RouteConfig would replace the first).
 */
export const MaxBodyBytes = (bytes: number) => RouteConfig({ maxBodyBytes: bytes });

/** Worst case for `chars` characters of JSON text: every one escaped as \uXXXX. */
export const jsonBytesFor = (chars: number) => chars * 6 + 1024;
