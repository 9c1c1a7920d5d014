import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { seedDatabase } from '../src/database/seed.js';
import { ApiClient } from './support/api-client.js';
import { OpenApiValidator } from './support/openapi-validator.js';
import { startTestApp, type TestApp } from './support/test-app.js';

interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  nullable?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
}
interface Parameter {
  name: string;
  in: 'path' | 'query';
  schema: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: { 'application/json': { schema: Schema } } };
}
interface GeneratedRequest {
  url: string;
  contentType?: string;
  body?: string;
  auth: 'none' | 'viewer' | 'admin' | 'garbage';
}

const RUNS_PER_OPERATION = 40;
const ADMIN_TOKEN = 'fuzz-admin-token-0123456789';
const HOSTILE_TEXT = fc.constantFrom(
  '',
  ' ',
  '%00',
  '-1',
  '1e3',
  '1.5',
  'true',
  '__proto__',
  'ä',
  '9'.repeat(40),
);

/**
 * What an OpenAPI fuzzer does, kept in the suite: requests generated from /docs-json itself (values in and just
 * outside each declared range, wrong types, unknown parameters, bodies of the wrong shape and media type, valid,
 * garbage and missing tokens), every answer validated against the same document. No 5xx, no undeclared status,
 * header or field. fast-check with a fixed seed, so a failure replays.
 */
describe('requests generated from the served OpenAPI document', () => {
  let t: TestApp;
  let api: ApiClient;
  let document: {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, Schema> };
  };
  let viewerToken: string;

  const resolve = (schema: Schema): Schema =>
    schema.$ref ? resolve(document.components.schemas[schema.$ref.split('/').pop() as string]) : schema;

  /** Mostly values the schema allows; one in six just outside it or of another type. */
  const valueOf = (raw: Schema, depth = 0): fc.Arbitrary<unknown> => {
    const schema = resolve(raw);
    const [valid, invalid] = candidates(schema, depth);
    return fc.oneof({ weight: 5, arbitrary: valid }, { weight: 1, arbitrary: invalid });
  };

  const candidates = (schema: Schema, depth: number): [fc.Arbitrary<unknown>, fc.Arbitrary<unknown>] => {
    const nullable = schema.nullable ? [fc.constant(null)] : [];
    if (schema.enum)
      return [fc.constantFrom(...schema.enum, ...(schema.nullable ? [null] : [])), HOSTILE_TEXT];
    switch (schema.type) {
      case 'integer':
      case 'number': {
        const min = schema.minimum ?? -1000;
        const max = Math.min(schema.maximum ?? 1000, min + 100_000);
        return [
          fc.oneof(fc.integer({ min, max }), ...nullable),
          fc.oneof(fc.constantFrom(min - 1, max + 1), fc.double({ noNaN: true }), HOSTILE_TEXT),
        ];
      }
      case 'boolean':
        return [fc.boolean(), HOSTILE_TEXT];
      case 'string':
        return [
          fc.oneof(
            schema.format === 'email'
              ? fc.emailAddress()
              : fc.string({ minLength: 1, maxLength: schema.maxLength ?? 40 }),
            ...nullable,
          ),
          fc.oneof(
            fc.string({ minLength: (schema.maxLength ?? 40) + 1, maxLength: (schema.maxLength ?? 40) + 3 }),
            fc.integer(),
            HOSTILE_TEXT,
          ),
        ];
      case 'array': {
        const items =
          depth > 3 ? fc.constant([]) : fc.array(valueOf(schema.items ?? {}, depth + 1), { maxLength: 3 });
        return [items, fc.jsonValue()];
      }
      case 'object': {
        if (depth > 3 || !schema.properties) return [fc.jsonValue(), fc.jsonValue()];
        const fields = Object.fromEntries(
          Object.entries(schema.properties).map(([name, property]) => [name, valueOf(property, depth + 1)]),
        );
        return [
          fc.record(fields, { requiredKeys: schema.required ?? [] }),
          fc.oneof(
            fc.record({ ...fields, unknownField: fc.jsonValue() }, { requiredKeys: [] }),
            fc.jsonValue(),
          ),
        ];
      }
      default:
        return [fc.jsonValue(), fc.jsonValue()];
    }
  };

  const requestFor = (path: string, operation: Operation): fc.Arbitrary<GeneratedRequest> => {
    const parameters = operation.parameters ?? [];
    const pathValues = fc.tuple(
      ...parameters
        .filter((parameter) => parameter.in === 'path')
        .map((parameter) =>
          fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 60 }) }, valueOf(parameter.schema)),
        ),
    );
    const queryValues = fc.tuple(
      ...parameters
        .filter((parameter) => parameter.in === 'query')
        .map((parameter) =>
          fc.option(valueOf(parameter.schema).map((value) => [parameter.name, value] as const)),
        ),
      // An unknown parameter in one request of ten.
      fc.oneof(
        { weight: 9, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.string()) },
      ),
    );
    const body = operation.requestBody
      ? fc.oneof(
          {
            weight: 4,
            arbitrary: valueOf(operation.requestBody.content['application/json'].schema).map((value) => ({
              contentType: 'application/json',
              body: JSON.stringify(value) ?? 'null',
            })),
          },
          fc.record({
            contentType: fc.constantFrom(
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/json',
            ),
            body: fc.string({ maxLength: 30 }),
          }),
        )
      : fc.constant({});
    return fc
      .record({
        pathValues,
        queryValues,
        body,
        auth: fc.constantFrom('none', 'viewer', 'viewer', 'admin', 'garbage') as fc.Arbitrary<
          GeneratedRequest['auth']
        >,
      })
      .map(({ pathValues, queryValues, body, auth }) => {
        let index = 0;
        const filled = path.replace(/\{\w+\}/g, () => encodeURIComponent(String(pathValues[index++])));
        const query = new URLSearchParams();
        for (const entry of queryValues) if (entry) query.append(entry[0], String(entry[1]));
        const search = query.toString();
        return { url: search ? `${filled}?${search}` : filled, auth, ...body };
      });
  };

  const send = async (method: string, request: GeneratedRequest) => {
    let call = api.raw()[method as 'get'](request.url);
    const token = { none: undefined, viewer: viewerToken, admin: ADMIN_TOKEN, garbage: 'not.a.token' }[
      request.auth
    ];
    if (token) call = call.set('Authorization', `Bearer ${token}`);
    if (request.contentType) call = call.set('Content-Type', request.contentType);
    return request.body === undefined ? call : call.send(request.body);
  };

  beforeAll(async () => {
    t = await startTestApp('pglite', { ADMIN_TOKEN });
    api = new ApiClient(t.app);
    await seedDatabase(t.database.db, { users: 20, jobs: 60, posts: 60, maxFollowsPerUser: 3, seed: 9 });
    viewerToken = (await api.register('Fuzz Viewer')).token;
    document = (await api.get('/docs-json')).body;
  });

  afterAll(async () => {
    await t?.close();
  });

  it(`answers ${RUNS_PER_OPERATION} generated requests per operation only as the document declares`, async () => {
    const validator = new OpenApiValidator(document as never);
    const statuses = new Map<number, number>();
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        await fc.assert(
          fc.asyncProperty(requestFor(path, operation), async (request) => {
            const first = t.answers.length;
            const response = await send(method, request);
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            expect(response.status).toBeLessThan(500);
            expect(validator.violations(t.answers.slice(first))).toEqual([]);
          }),
          { numRuns: RUNS_PER_OPERATION, seed: 20261203, endOnFailure: true },
        );
      }
    }
    console.log(
      `fuzzed ${[...statuses.values()].reduce((a, b) => a + b)} requests:`,
      Object.fromEntries(statuses),
    );
    // The generator reaches more than the happy path and the validation errors.
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([200, 201, 204, 400, 401, 403, 404, 415]));
  });
});
