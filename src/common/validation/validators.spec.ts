import 'reflect-metadata';
import { BadRequestException, type ArgumentMetadata } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import { createValidationPipe } from '../../app.module.js';
import { CreateJobDto } from '../../jobs/dto/create-job.dto.js';
import { ListJobsQuery } from '../../jobs/dto/list-jobs.query.js';
import { UpdateJobDto } from '../../jobs/dto/update-job.dto.js';
import { ListPostsQuery } from '../../posts/dto/posts.dto.js';
import { IdParams } from '../dto/id.params.js';

const pipe = createValidationPipe();

const query = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'query', metatype });
const param: ArgumentMetadata = { type: 'param', metatype: IdParams };
const body: ArgumentMetadata = { type: 'body', metatype: CreateJobDto };

/** Runs the pipe and returns the 400's messages; fails the test when the value is accepted. */
async function rejection(value: unknown, metadata: ArgumentMetadata): Promise<string[]> {
  try {
    await pipe.transform(value, metadata);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    const { message } = (error as BadRequestException).getResponse() as { message: string[] };
    expect(Array.isArray(message)).toBe(true);
    return message;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe('validation through the global ValidationPipe', () => {
  describe('ListJobsQuery', () => {
    it('applies the defaults to an empty query', async () => {
      const result = await pipe.transform({}, query(ListJobsQuery));
      expect(result).toBeInstanceOf(ListJobsQuery);
      expect({ ...result }).toEqual({ skip: 0, limit: 20, status: 'active' });
    });

    it.each<[Record<string, unknown>, Record<string, unknown>]>([
      [{ limit: '20' }, { limit: 20 }],
      [{ limit: '1' }, { limit: 1 }],
      [{ limit: '100' }, { limit: 100 }],
      [{ limit: '007' }, { limit: 7 }],
      [{ skip: '0' }, { skip: 0 }],
      [{ skip: '1000000' }, { skip: 1_000_000 }],
      [{ status: 'closed' }, { status: 'closed' }],
      [{ type: 'part-time' }, { type: 'part-time' }],
      [{ search: 'backend' }, { search: 'backend' }],
      [{ search: 'tab\there' }, { search: 'tab\there' }],
      [{ search: 'line\nbreak\n' }, { search: 'line\nbreak\n' }],
      [{ search: '100%_\\' }, { search: '100%_\\' }],
      [
        { location: 'Berlin', category: 'Engineering' },
        { location: 'Berlin', category: 'Engineering' },
      ],
    ])('accepts %p', async (input, expected) => {
      const result = await pipe.transform(input, query(ListJobsQuery));
      expect(result).toMatchObject(expected);
      for (const [key, value] of Object.entries(expected)) expect(typeof result[key]).toBe(typeof value);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['limit 0', { limit: '0' }, 'limit'],
      ['limit 101', { limit: '101' }, 'limit'],
      ['limit in exponent notation', { limit: '1e1' }, 'limit'],
      ['limit in hexadecimal', { limit: '0x10' }, 'limit'],
      ['limit with a leading space', { limit: ' 5' }, 'limit'],
      ['limit with a trailing space', { limit: '5 ' }, 'limit'],
      ['limit with a fraction', { limit: '5.0' }, 'limit'],
      ['limit with a plus sign', { limit: '+5' }, 'limit'],
      ['a word as limit', { limit: 'abc' }, 'limit'],
      ['an empty limit', { limit: '' }, 'limit'],
      ['a repeated limit', { limit: ['1', '2'] }, 'limit'],
      ['a negative skip', { skip: '-1' }, 'skip'],
      ['skip beyond the maximum', { skip: '1000001' }, 'skip'],
      ['an enormous skip', { skip: '99999999999999999999' }, 'skip'],
      ['an unknown key', { sort: 'salary' }, 'sort'],
      ['an unknown status', { status: 'bogus' }, 'status'],
      ['an upper-case status', { status: 'ACTIVE' }, 'status'],
      ['an unknown type', { type: 'bogus' }, 'type'],
      ['an empty search', { search: '' }, 'search'],
      ['a search of 201 characters', { search: 'x'.repeat(201) }, 'search'],
      ['a repeated search', { search: ['a', 'b'] }, 'search'],
      ['a location with NUL', { location: 'Ber\u0000lin' }, 'location'],
      ['a category with ESC', { category: 'Eng\u001b[31m' }, 'category'],
    ])('rejects %s', async (_label, input, property) => {
      const messages = await rejection(input, query(ListJobsQuery));
      expect(messages.join('\n')).toContain(property);
    });

    it.each(['__proto__', 'constructor', 'prototype'])(
      'rejects a %s key as an unknown field instead of dropping it, and pollutes nothing',
      async (key) => {
        const input = JSON.parse(`{"${key}": {"polluted": true}, "limit": "5"}`);
        const messages = await rejection(input, query(ListJobsQuery));
        expect(messages).toEqual([`property ${key} should not exist`]);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      },
    );

    it.each(['toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'toLocaleString'])(
      'rejects a query key named like the Object.prototype member %s instead of dropping it',
      async (key) => {
        const messages = await rejection({ [key]: '1', limit: '5' }, query(ListJobsQuery));
        expect(messages).toEqual([`property ${key} should not exist`]);
      },
    );

    it.each([0x00, 0x01, 0x07, 0x08, 0x0b, 0x0c, 0x0d, 0x0e, 0x1b, 0x1f])(
      'rejects a search containing the control character 0x%s',
      async (code) => {
        const messages = await rejection(
          { search: `back${String.fromCharCode(code)}end` },
          query(ListJobsQuery),
        );
        expect(messages).toContain('search must not contain control characters');
      },
    );

    it('does not echo the rejected value', async () => {
      const messages = await rejection(
        { limit: 'CANARY-9f3e', search: 'CANARY-9f3e\u0000' },
        query(ListJobsQuery),
      );
      expect(messages.join('\n')).not.toContain('CANARY-9f3e');
    });
  });

  describe('ListPostsQuery', () => {
    it.each<[Record<string, unknown>, boolean]>([
      [{}, false],
      [{ following: 'true' }, true],
      [{ following: 'false' }, false],
    ])('reads %p as following=%p', async (input, following) => {
      const result = await pipe.transform(input, query(ListPostsQuery));
      expect({ ...result }).toEqual({ skip: 0, limit: 20, following });
    });

    it.each(['yes', '1', '0', '', 'TRUE', 'True', 'on'])('rejects following=%p', async (following) => {
      const messages = await rejection({ following }, query(ListPostsQuery));
      expect(messages.join('\n')).toContain('following');
    });

    it('rejects a repeated following', async () => {
      await rejection({ following: ['true', 'true'] }, query(ListPostsQuery));
    });

    it('shares the pagination rules', async () => {
      await rejection({ limit: '101' }, query(ListPostsQuery));
      await rejection({ search: 'x' }, query(ListPostsQuery));
    });
  });

  describe('IdParams', () => {
    it.each([
      ['1', 1],
      ['42', 42],
      ['2147483647', 2_147_483_647],
    ])('accepts id %p as the number %p', async (id, expected) => {
      await expect(pipe.transform({ id }, param)).resolves.toEqual({ id: expected });
    });

    it.each(['2147483648', '99999999999999999', '0', '-1', '1.5', 'abc', '', ' 1', '1e3', '0x1', '12abc'])(
      'rejects id %p',
      async (id) => {
        const messages = await rejection({ id }, param);
        expect(messages.join('\n')).toContain('id');
      },
    );
  });

  describe('CreateJobDto', () => {
    const valid = {
      title: 'Senior Backend Engineer',
      company: 'Acme Labs',
      location: 'Berlin',
      category: 'Engineering',
      type: 'full-time',
      description: 'Build and run our APIs.',
      salaryMin: 60_000,
      salaryMax: 80_000,
    };

    it('accepts a valid body', async () => {
      const result = await pipe.transform(valid, body);
      expect(result).toBeInstanceOf(CreateJobDto);
      expect({ ...result }).toEqual(valid);
    });

    it('trims the text fields', async () => {
      const result = await pipe.transform(
        { ...valid, title: '  Senior Backend Engineer \n', company: '\tAcme Labs ', location: ' Berlin ' },
        body,
      );
      expect(result).toMatchObject({
        title: 'Senior Backend Engineer',
        company: 'Acme Labs',
        location: 'Berlin',
      });
    });

    it('checks length after trimming: 200 characters with spaces around pass, whitespace only fails', async () => {
      await expect(
        pipe.transform({ ...valid, title: `  ${'t'.repeat(200)}  ` }, body),
      ).resolves.toMatchObject({
        title: 't'.repeat(200),
      });
      expect((await rejection({ ...valid, title: '   ' }, body)).join('\n')).toContain('title');
    });

    it.each<[string, Record<string, unknown>]>([
      ['no salary', { salaryMin: undefined, salaryMax: undefined }],
      ['null salaries', { salaryMin: null, salaryMax: null }],
      ['only a minimum', { salaryMax: undefined }],
      ['only a maximum', { salaryMin: undefined }],
      ['equal bounds', { salaryMin: 50_000, salaryMax: 50_000 }],
      ['int4 bounds', { salaryMin: 0, salaryMax: 2_147_483_647 }],
      ['each type', { type: 'internship' }],
    ])('accepts %s', async (_label, change) => {
      await expect(pipe.transform({ ...valid, ...change }, body)).resolves.toBeInstanceOf(CreateJobDto);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['salaryMax below salaryMin', { salaryMin: 80_000, salaryMax: 79_999 }, 'salaryMax'],
      ['salaryMin beyond int4', { salaryMin: 2_147_483_648, salaryMax: undefined }, 'salaryMin'],
      ['salaryMax beyond int4', { salaryMax: 2_147_483_648 }, 'salaryMax'],
      ['a negative salary', { salaryMin: -1 }, 'salaryMin'],
      ['a fractional salary', { salaryMin: 1.5 }, 'salaryMin'],
      ['a salary as a string', { salaryMin: '60000' }, 'salaryMin'],
      ['a title of 201 characters', { title: 't'.repeat(201) }, 'title'],
      ['an empty company', { company: '' }, 'company'],
      ['a location of 101 characters', { location: 'l'.repeat(101) }, 'location'],
      ['a numeric category', { category: 5 }, 'category'],
      ['an unknown type', { type: 'freelance' }, 'type'],
      ['a description of 10,001 characters', { description: 'd'.repeat(10_001) }, 'description'],
      ['a title with NUL', { title: 'Engineer\u0000' }, 'title'],
      ['a description with a carriage return', { description: 'line\r\nbreak' }, 'description'],
      ['a field named toString', { toString: 1 }, 'toString'],
      ['a field named valueOf', { valueOf: 'x' }, 'valueOf'],
      ['an unknown field', { postedBy: 1 }, 'postedBy'],
      ['a status (not settable on create)', { status: 'closed' }, 'status'],
    ])('rejects %s', async (_label, change, property) => {
      const messages = await rejection({ ...valid, ...change }, body);
      expect(messages.join('\n')).toContain(property);
    });

    it.each(['title', 'company', 'location', 'category', 'type', 'description'])(
      'rejects a body without %s',
      async (field) => {
        const { [field as keyof typeof valid]: _omitted, ...rest } = valid;
        const messages = await rejection(rest, body);
        expect(messages.join('\n')).toContain(field);
      },
    );

    it.each<[string, unknown]>([
      ['an empty object', {}],
      ['an array', [valid]],
      ['a string', 'title=x'],
      ['null', null],
    ])('rejects %s as a body', async (_label, value) => {
      await rejection(value, body);
    });
  });

  describe('UpdateJobDto', () => {
    const patch: ArgumentMetadata = { type: 'body', metatype: UpdateJobDto };

    it.each<[string, Record<string, unknown>]>([
      ['an empty patch', {}],
      ['one field', { title: 'Renamed' }],
      ['closing the job', { status: 'closed' }],
      ['clearing both salaries', { salaryMin: null, salaryMax: null }],
      ['clearing one salary', { salaryMax: null }],
    ])('accepts %s', async (_label, value) => {
      const result = await pipe.transform(value, patch);
      expect(result).toBeInstanceOf(UpdateJobDto);
      expect({ ...result }).toEqual(value);
    });

    it.each(['title', 'company', 'location', 'category', 'type', 'description', 'status'])(
      'rejects %s: null, which its NOT NULL column cannot take',
      async (field) => {
        const messages = await rejection({ [field]: null }, patch);
        expect(messages.join('\n')).toContain(field);
      },
    );
  });
});
