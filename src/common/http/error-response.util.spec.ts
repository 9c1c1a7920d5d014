import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  InternalServerErrorException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DrizzleQueryError } from 'drizzle-orm';
import { STATUS_CODES } from 'node:http';
import { openMemoryDatabase, rejectionOf } from '../../../test/support/memory-database.js';
import type { DatabaseConnection } from '../../database/database.types.js';
import { jobs, posts, users } from '../../database/schema.js';
import { findSqlState, toErrorResponse } from './error-response.util.js';

const CANARY = 'CANARY-9f3e';

/** A driver error as pg and PGlite raise it: `code` holds the SQLSTATE. */
function driverError(code: string, message = `driver detail ${CANARY}`): Error {
  return Object.assign(new Error(message), { code, detail: `Key (email)=(${CANARY}) already exists.` });
}

/** What drizzle throws: the statement and its parameters (user input) in the message, the driver error as cause. */
function drizzleError(code: string): Error {
  return new DrizzleQueryError('insert into "users" ("email") values ($1)', [CANARY], driverError(code));
}

describe('toErrorResponse', () => {
  describe('HttpException', () => {
    it.each<[string, HttpException, number, string | string[], boolean]>([
      ['a string message', new NotFoundException('Job 5 not found'), 404, 'Job 5 not found', false],
      ['the default message', new ForbiddenException(), 403, 'Forbidden', false],
      [
        'a message array (ValidationPipe)',
        new BadRequestException(['a must be x', 'b must be y']),
        400,
        ['a must be x', 'b must be y'],
        false,
      ],
      ['a plain string response', new HttpException('I am a teapot', 418), 418, 'I am a teapot', false],
      [
        'an object with a message',
        new HttpException({ message: 'Too many', retryAfter: 5 }, 429),
        429,
        'Too many',
        false,
      ],
      ['a non-string message', new HttpException({ message: 42 }, 400), 400, '42', false],
      ['a 500', new InternalServerErrorException('boom'), 500, 'boom', true],
    ])('maps %s to the common shape', (_label, exception, status, message, unexpected) => {
      const response = toErrorResponse(exception);
      expect(response).toEqual({
        status,
        body: { statusCode: status, error: STATUS_CODES[status], message },
        unexpected,
      });
    });

    it('keeps only statusCode, error and message from an object response', () => {
      const { body } = toErrorResponse(new HttpException({ message: 'Conflict', internal: CANARY }, 409));
      expect(Object.keys(body).sort()).toEqual(['error', 'message', 'statusCode']);
      expect(JSON.stringify(body)).not.toContain(CANARY);
    });

    it('passes a Terminus health result (no message) through unchanged', () => {
      const health = {
        status: 'error',
        info: { database: { status: 'up' } },
        error: { cache: { status: 'down' } },
        details: { database: { status: 'up' }, cache: { status: 'down' } },
      };
      expect(toErrorResponse(new ServiceUnavailableException(health))).toEqual({
        status: 503,
        body: health,
        unexpected: false,
      });
    });
  });

  describe('database errors', () => {
    it.each<[string, number, string, boolean]>([
      ['22P02', 400, 'Invalid input value', false], // invalid_text_representation
      ['22003', 400, 'Invalid input value', false], // numeric_value_out_of_range
      ['22021', 400, 'Invalid input value', false], // character_not_in_repertoire (NUL)
      ['22001', 400, 'Invalid input value', false], // string_data_right_truncation
      ['23505', 409, 'Resource already exists', false],
      ['23503', 409, 'Referenced resource does not exist', false],
      ['23514', 400, 'Invalid input value', false],
      ['23502', 400, 'A required value is missing', false], // not_null_violation
    ])('maps SQLSTATE %s to %i', (code, status, message, unexpected) => {
      const expected = {
        status,
        body: { statusCode: status, error: STATUS_CODES[status], message },
        unexpected,
      };
      expect(toErrorResponse(driverError(code))).toEqual(expected);
      expect(toErrorResponse(drizzleError(code))).toEqual(expected);
    });

    it.each<[string, string]>([
      ['57014', 'timeout'], // statement timeout
      ['08006', 'unavailable'], // connection failure
      ['08001', 'unavailable'],
      ['57P01', 'unavailable'], // admin shutdown
      ['57P03', 'unavailable'], // cannot connect now
      ['53300', 'unavailable'], // too many connections
      ['55000', 'unavailable'],
      ['55P03', 'unavailable'], // lock not available
      ['40001', 'unavailable'], // serialization failure: worth a retry
      ['3D000', 'unavailable'], // the database does not exist (misconfigured, not the client's fault)
    ])(
      'answers SQLSTATE %s (database %s) with 503, counted and logged per window, not per request',
      (code, kind) => {
        for (const error of [driverError(code), drizzleError(code)]) {
          const response = toErrorResponse(error);
          expect(response).toMatchObject({ status: 503, unexpected: false, databaseTrouble: kind });
          expect(response.body).toEqual({
            statusCode: 503,
            error: 'Service Unavailable',
            message:
              kind === 'timeout'
                ? 'The database took too long to answer'
                : 'The database is unavailable; retry shortly',
          });
        }
      },
    );

    it.each<[string, unknown, string]>([
      [
        'a refused connection',
        Object.assign(new Error(`connect ECONNREFUSED ${CANARY}`), { code: 'ECONNREFUSED' }),
        'unavailable',
      ],
      [
        'a reset connection',
        Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
        'unavailable',
      ],
      ['an exhausted pool', new Error('timeout exceeded when trying to connect'), 'unavailable'],
      ['a dropped connection', new Error('Connection terminated unexpectedly'), 'unavailable'],
      ['a hung query (client-side timeout)', new Error('Query read timeout'), 'timeout'],
      [
        'the same, wrapped by drizzle',
        new Error('Failed query: select 1', { cause: new Error('Query read timeout') }),
        'timeout',
      ],
    ])('answers %s with 503', (_label, error, kind) => {
      const response = toErrorResponse(error);
      expect(response).toMatchObject({ status: 503, databaseTrouble: kind });
      expect(JSON.stringify(response.body)).not.toContain(CANARY);
    });

    it.each(['42P01', 'XX000'])('answers an unmapped SQLSTATE %s with 500 and logs it', (code) => {
      const response = toErrorResponse(drizzleError(code));
      expect(response.status).toBe(500);
      expect(response.unexpected).toBe(true);
    });

    it('never puts the statement, its parameters or the driver message in the body', () => {
      for (const code of ['22P02', '23502', '23505', '23503', '23514', '57014', '42P01']) {
        expect(JSON.stringify(toErrorResponse(drizzleError(code)).body)).not.toContain(CANARY);
      }
    });
  });

  describe('Fastify errors', () => {
    it('answers a too-large body with 413 in the common shape', () => {
      const error = Object.assign(new Error(`Request body is too large ${CANARY}`), {
        statusCode: 413,
        code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      });
      expect(toErrorResponse(error)).toEqual({
        status: 413,
        body: { statusCode: 413, error: STATUS_CODES[413], message: 'Request body is too large' },
        unexpected: false,
      });
    });

    it.each([
      [
        400,
        'FST_ERR_CTP_EMPTY_JSON_BODY',
        "Body cannot be empty when content-type is set to 'application/json'",
      ],
      [415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type'],
    ])('keeps the status %i and message of %s', (statusCode, code, message) => {
      const error = Object.assign(new Error(message), { statusCode, code });
      expect(toErrorResponse(error)).toEqual({
        status: statusCode,
        body: { statusCode, error: STATUS_CODES[statusCode], message },
        unexpected: false,
      });
    });

    it('uses the status text when a 4xx object has no message', () => {
      expect(toErrorResponse({ statusCode: 404 }).body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'Not Found',
      });
    });

    it('does not trust a statusCode of 5xx or an out-of-range one', () => {
      for (const statusCode of [500, 503, 200, 302, 999]) {
        const response = toErrorResponse(Object.assign(new Error(CANARY), { statusCode }));
        expect(response.status).toBe(500);
        expect(JSON.stringify(response.body)).not.toContain(CANARY);
      }
    });
  });

  describe('anything else', () => {
    it.each<[string, unknown]>([
      ['an Error', new Error(`connect ECONNREFUSED 10.0.0.5:5432 password=${CANARY}`)],
      ['a TypeError', new TypeError(`Cannot read properties of undefined (reading '${CANARY}')`)],
      ['an Error with a non-SQL code', Object.assign(new Error(CANARY), { code: 'ERR_SOMETHING' })],
      ['a thrown string', `raw ${CANARY}`],
      ['a thrown object', { reason: CANARY }],
      ['null', null],
      ['undefined', undefined],
    ])('answers %s with 500 Internal server error and flags it unexpected', (_label, exception) => {
      const response = toErrorResponse(exception);
      expect(response).toEqual({
        status: 500,
        body: { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' },
        unexpected: true,
      });
      expect(JSON.stringify(response.body)).not.toContain(CANARY);
    });
  });
});

describe('findSqlState', () => {
  it.each<[string, unknown, string | undefined]>([
    ['on the error', driverError('23505'), '23505'],
    ['in the cause (DrizzleQueryError)', drizzleError('23503'), '23503'],
    [
      'three causes deep',
      new Error('a', { cause: new Error('b', { cause: new Error('c', { cause: driverError('22P02') }) }) }),
      '22P02',
    ],
    [
      'below a non-SQL code',
      Object.assign(new Error('x'), { code: 'ECONNRESET', cause: driverError('57014') }),
      '57014',
    ],
    ['on a plain object', { code: '23514' }, '23514'],
    ['nowhere', new Error('x', { cause: new Error('y') }), undefined],
    ['a Fastify code', { code: 'FST_ERR_CTP_BODY_TOO_LARGE' }, undefined],
    ['a Node code', { code: 'ERR_INVALID_ARG_TYPE' }, undefined],
    ['a numeric code', { code: 23505 }, undefined],
    ['a lower-case code', { code: '22p02' }, undefined],
    ['null', null, undefined],
    ['undefined', undefined, undefined],
    ['a string', '23505', undefined],
  ])('finds the SQLSTATE %s', (_label, error, expected) => {
    expect(findSqlState(error)).toBe(expected);
  });

  it('terminates on a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(findSqlState(a)).toBeUndefined();
  });
});

describe('toErrorResponse with errors from a real database', () => {
  let database: DatabaseConnection;
  let userId: number;

  beforeAll(async () => {
    database = await openMemoryDatabase();
    const [user] = await database.db
      .insert(users)
      .values({ email: 'taken@example.com', passwordHash: 'x', name: 'Ada' })
      .returning({ id: users.id });
    userId = user.id;
  }, 60_000);

  afterAll(async () => {
    await database?.close();
  });

  const job = () => ({
    title: 'Engineer',
    company: 'Acme',
    location: 'Berlin',
    category: 'Engineering',
    type: 'full-time' as const,
    description: 'x',
    postedBy: userId,
  });

  it.each<[string, () => Promise<unknown>, number]>([
    [
      'a duplicate email',
      () => database.db.insert(users).values({ email: 'taken@example.com', passwordHash: 'x', name: CANARY }),
      409,
    ],
    [
      'a post by a missing author',
      () => database.db.insert(posts).values({ content: CANARY, authorId: 999_999 }),
      409,
    ],
    [
      'salaryMin above salaryMax',
      () => database.db.insert(jobs).values({ ...job(), title: CANARY, salaryMin: 9, salaryMax: 1 }),
      400,
    ],
    [
      'a NULL in a NOT NULL column',
      () =>
        database.db.insert(jobs).values({ ...job(), title: CANARY, description: null as unknown as string }),
      400,
    ],
    [
      'a NUL character',
      () => database.db.insert(posts).values({ content: `${CANARY}\u0000`, authorId: userId }),
      400,
    ],
    [
      'an int4 overflow',
      () => database.db.insert(jobs).values({ ...job(), title: CANARY, salaryMin: 2 ** 31 }),
      400,
    ],
  ])('maps %s to %i without echoing the input', async (_label, run, status) => {
    const error = await rejectionOf(run);
    expect(findSqlState(error)).toMatch(/^[0-9A-Z]{5}$/);
    const response = toErrorResponse(error);
    expect(response.status).toBe(status);
    expect(response.unexpected).toBe(false);
    expect(JSON.stringify(response.body)).not.toContain(CANARY);
  });
});
