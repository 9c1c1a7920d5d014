import 'reflect-metadata';
import { BadRequestException, Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { describe, expect, it } from '@jest/globals';
import { UndeclaredQueryGuard } from './undeclared-query.guard.js';

@Controller('fixture')
class FixtureController {
  @Get()
  list(@Query() _query: object) {}

  @Get('one')
  one(@Query('id') _id: string) {}

  @Get(':id')
  get(@Param('id') _id: string) {}

  @Post()
  create(@Body() _body: object) {}
}

const guard = new UndeclaredQueryGuard();

function context(handler: keyof FixtureController, query: Record<string, unknown>) {
  const request = { query };
  return new ExecutionContextHost([request, {}], FixtureController, FixtureController.prototype[handler]);
}

function messages(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return ((error as BadRequestException).getResponse() as { message: string[] }).message;
  }
  throw new Error('the guard let the request through');
}

describe('UndeclaredQueryGuard', () => {
  it.each<[keyof FixtureController, Record<string, unknown>]>([
    ['list', { junk: '1' }],
    ['one', { id: '1', junk: '1' }],
    ['get', {}],
    ['create', {}],
  ])('lets %s through with the query %p (the pipe or nothing reads it)', (handler, query) => {
    expect(guard.canActivate(context(handler, query))).toBe(true);
  });

  it.each<keyof FixtureController>(['get', 'create'])(
    'refuses any query key on %s, which declares no @Query(), naming every key',
    (handler) => {
      expect(messages(() => guard.canActivate(context(handler, { junk: '1', toString: 'x' })))).toEqual([
        'property junk should not exist',
        'property toString should not exist',
      ]);
    },
  );

  it('gives the same answer on every call (the per-handler decision is cached)', () => {
    for (let i = 0; i < 3; i++) {
      expect(guard.canActivate(context('list', { junk: '1' }))).toBe(true);
      expect(messages(() => guard.canActivate(context('get', { junk: '1' })))).toHaveLength(1);
    }
  });

  it('ignores contexts other than HTTP', () => {
    const rpc = context('get', { junk: '1' });
    rpc.setType('rpc');
    expect(guard.canActivate(rpc)).toBe(true);
  });
});
