import 'reflect-metadata';
import { Logger, type ArgumentsHost } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { DrizzleQueryError, sql } from 'drizzle-orm';
import { openMemoryDatabase, rejectionOf } from '../../../test/support/memory-database.js';
import type { DatabaseConnection } from '../../database/database.types.js';
import { users } from '../../database/schema.js';
import { AllExceptionsFilter } from './all-exceptions.filter.js';

const CANARY = 'CANARY-9f3e';

/** What the filter sent: status and body, through a stand-in for Fastify's reply. */
interface Sent {
  status?: number;
  body?: unknown;
}

function httpHost(sent: Sent): ArgumentsHost {
  const reply = {
    sent: false,
    status(code: number) {
      sent.status = code;
      return reply;
    },
    header() {
      return reply;
    },
    send(body: unknown) {
      sent.body = body;
      return reply;
    },
  };
  const request = { method: 'POST', routeOptions: { url: '/api/auth/register' }, id: 'req-1' };
  return {
    switchToHttp: () => ({ getResponse: () => reply, getRequest: () => request }),
  } as unknown as ArgumentsHost;
}

describe('AllExceptionsFilter with errors from a real database', () => {
  let database: DatabaseConnection;
  const filter = new AllExceptionsFilter();
  const logged = () =>
    (jest.mocked(Logger.prototype.error).mock.calls as unknown[][]).map((call) => call.map(String).join(' '));

  beforeAll(async () => {
    database = await openMemoryDatabase();
    await database.db.insert(users).values({ email: 'taken@example.com', passwordHash: 'x', name: 'Ada' });
  }, 60_000);

  afterAll(async () => {
    await database?.close();
  });

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('logs the SQLSTATE and the driver message of an unexpected query error, never its parameters', async () => {
    // An email and a password hash as parameters, failing with an SQLSTATE that maps to no client error (500).
    const error = await rejectionOf(() =>
      database.db.insert(users).values({
        email: `${CANARY}@example.com`,
        passwordHash: `$scrypt$${CANARY}`,
        name: sql`no_such_function()`,
      }),
    );
    expect(error).toBeInstanceOf(DrizzleQueryError);
    // The premise: drizzle's own message and stack carry the parameters, and its name does not identify it.
    expect((error as Error).message).toContain(CANARY);
    expect((error as Error).stack).toContain(CANARY);
    expect((error as Error).name).toBe('Error');

    const sent: Sent = {};
    filter.catch(error, httpHost(sent));

    expect(sent.status).toBe(500);
    expect(JSON.stringify(sent.body)).not.toContain(CANARY);
    const lines = logged();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('42883');
    expect(lines[0]).toContain('no_such_function');
    expect(lines[0]).toContain('req-1');
    expect(lines[0]).not.toContain(CANARY);
    expect(lines[0]).not.toContain('params');
  });

  it('logs nothing for a query error that is the client’s (a duplicate email is a 409)', async () => {
    const error = await rejectionOf(() =>
      database.db.insert(users).values({ email: 'taken@example.com', passwordHash: CANARY, name: CANARY }),
    );
    expect(error).toBeInstanceOf(DrizzleQueryError);
    const sent: Sent = {};
    filter.catch(error, httpHost(sent));
    expect(sent.status).toBe(409);
    expect(JSON.stringify(sent.body)).not.toContain(CANARY);
    expect(logged()).toEqual([]);
  });

  it('still logs the stack of any other unexpected error', () => {
    const sent: Sent = {};
    filter.catch(new TypeError('undefined is not a function'), httpHost(sent));
    expect(sent.status).toBe(500);
    const lines = logged();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('TypeError: undefined is not a function');
    expect(lines[0]).toContain('all-exceptions.filter.spec');
  });
});
