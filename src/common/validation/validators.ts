import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min, ValidationArguments, ValidationOptions, registerDecorator } from 'class-validator';

/** The largest value of a PostgreSQL int4 column (ids, salaries). */
export const INT4_MAX = 2_147_483_647;

/**
 * C0 control characters other than tab and line feed (§4.1); PostgreSQL rejects NUL outright. Carriage return is
 * refused too: a lone CR breaks lines differently from one client to the next, and CRLF can split a header or a
 * log line built from the text.
 */
const FORBIDDEN_CONTROL_CHARACTERS = /[\u0000-\u0008\u000B-\u001F]/;

/** Rejects text with control characters (NUL included), which no field of this API legitimately carries. */
export function IsSafeText(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isSafeText',
      target: target.constructor,
      propertyName,
      options: {
        message: (args: ValidationArguments) => `${args.property} must not contain control characters`,
        ...options,
      },
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !FORBIDDEN_CONTROL_CHARACTERS.test(value),
      },
    });
}

/**
 * Converts a decimal digit string to a number and leaves anything else as it is, so that `@IsInt` rejects
 * `1e3`, `0x10`, `12abc` or ` 7` instead of `Number()` quietly accepting them.
 */
export const ToInt = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value,
  );

/** Query booleans are exactly `true` or `false`; anything else reaches `@IsBoolean` unchanged and fails it. */
export const ToBoolean = () =>
  Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));

/** Trims surrounding whitespace of strings (titles, names), leaving other types for the validators to reject. */
export const Trim = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** A whole number within [min, max], given as decimal digits (query, params, env) or a JSON number (bodies). */
export const IsIntBetween = (min: number, max: number) =>
  applyDecorators(ToInt(), IsInt(), Min(min), Max(max));

/** A positive int4 id given as a decimal string (route params) or number (bodies). */
export const IsId = () => IsIntBetween(1, INT4_MAX);
