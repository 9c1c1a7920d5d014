import { ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { capMessages, refuseOverfull } from './input-caps.js';

/**
 * Whether class-transformer would drop `key` silently instead of reporting it as an unknown field: every name that
 * an ordinary object inherits (`toString`, `valueOf`, `hasOwnProperty`, `constructor`, `__proto__`...), and
 * `prototype`.
 */
function isPrototypeName(key: string): boolean {
  return key in Object.prototype || key === 'prototype';
}

/**
 * The global ValidationPipe, plus what it lacks: `?__proto__=1`, `?toString=1` or a body field `valueOf` is an
 * unknown field like any other (400), rather than a parameter that vanishes during transformation; a query or body
 * with more fields than any route takes is refused before validation; error lists are capped (input-caps.ts).
 */
export class StrictValidationPipe extends ValidationPipe {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the base class returns Promise<any>
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<any> {
    if (
      (metadata.type === 'query' || metadata.type === 'body') &&
      value !== null &&
      typeof value === 'object'
    ) {
      refuseOverfull(value, metadata.type);
      const present = Object.keys(value).filter(isPrototypeName);
      if (present.length > 0)
        throw new BadRequestException(present.map((key) => `property ${key} should not exist`));
    }
    return super.transform(value, metadata);
  }

  override createExceptionFactory() {
    return (errors: ValidationError[] = []) =>
      new BadRequestException(capMessages(this.flattenValidationErrors(errors)));
  }
}
