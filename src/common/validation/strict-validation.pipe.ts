import { ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';

/** Keys that class-transformer drops silently instead of reporting them as unknown fields. */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'];

/**
 * The global ValidationPipe, plus one rule it lacks: `?__proto__=1` or `?constructor=x` is an unknown field like any
 * other (400), rather than a parameter that vanishes during transformation.
 */
export class StrictValidationPipe extends ValidationPipe {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the base class returns Promise<any>
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<any> {
    if (
      (metadata.type === 'query' || metadata.type === 'body') &&
      value !== null &&
      typeof value === 'object'
    ) {
      const present = PROTOTYPE_KEYS.filter((key) => Object.prototype.hasOwnProperty.call(value, key));
      if (present.length > 0)
        throw new BadRequestException(present.map((key) => `property ${key} should not exist`));
    }
    return super.transform(value, metadata);
  }
}
