import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { seedDatabase } from '../src/database/seed.js';
import { ApiClient } from './support/api-client.js';
import { OpenApiValidator } from './support/openapi-validator.js';
import { startTestApp, type RecordedAnswer, type TestApp } from './support/test-app.js';

/**
 * The contract suite trusts OpenApiValidator to fail when the spec and the code disagree. Here real answers of the
 * app meet the served document with one thing taken out or changed: each change must be reported, and the
 * untouched document must report nothing.
 */
describe('OpenApiValidator against the served document', () => {
  let t: TestApp;
  let served: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  let answers: RecordedAnswer[];

  const edited = (change: (document: typeof served) => void) => {
    const copy = structuredClone(served);
    change(copy);
    return new OpenApiValidator(copy as never).violations(answers);
  };

  beforeAll(async () => {
    t = await startTestApp('pglite');
    await seedDatabase(t.database.db, { users: 5, jobs: 10, posts: 5, maxFollowsPerUser: 2, seed: 3 });
    const api = new ApiClient(t.app);
    served = (await api.get('/docs-json')).body;
    const first = t.answers.length;
    const job = (await api.get('/api/jobs?limit=1')).body.items[0];
    const hit = await api.get(`/api/jobs/${job.id}`);
    await api.get(`/api/jobs/${job.id}`); // the HIT, with the same headers
    await api.raw().get(`/api/jobs/${job.id}`).set('If-None-Match', hit.headers.etag); // 304
    await api.get('/api/jobs/2147483647'); // 404
    await api.get('/api/jobs?limit=0'); // 400
    await api.get('/health');
    await api.get(`/api/jobs/${'9'.repeat(300)}`); // 414 from the router, before any route matched
    await api.get('/api/no-such-thing'); // 404 for a path no operation has: not the spec's business
    answers = t.answers.slice(first);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 304, 404, 400, 200, 414, 404]);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('finds nothing wrong with the served document', () => {
    expect(new OpenApiValidator(served as never).violations(answers)).toEqual([]);
  });

  it('reports a status the operation no longer declares', () => {
    const problems = edited((document) => delete document.paths['/api/jobs/{id}'].get.responses['404']);
    expect(problems).toEqual(['GET /api/jobs/{id} 404: status not declared']);
  });

  it("checks the router's own answers against the operation whose template the URL fits", () => {
    const problems = edited((document) => delete document.paths['/api/jobs/{id}'].get.responses['414']);
    expect(problems).toEqual(['GET /api/jobs/{id} 414: status not declared']);
  });

  it('reports a field the schema does not name, and a field of the wrong type', () => {
    const missing = edited((document) => delete document.components.schemas.JobDto.properties.salaryMax);
    expect(missing.join('\n')).toMatch(
      /GET \/api\/jobs\/\{id\} 200: body.*must NOT have additional properties/,
    );
    const retyped = edited((document) => (document.components.schemas.JobDto.properties.id.type = 'string'));
    expect(retyped.join('\n')).toMatch(/body\/id must be string/);
  });

  it('reports a contract header sent but not declared, and a required one missing', () => {
    const undeclared = edited(
      (document) => delete document.paths['/api/jobs/{id}'].get.responses['200'].headers.ETag,
    );
    expect(undeclared).toContain('GET /api/jobs/{id} 200: header etag sent but not declared');
    const required = edited((document) => {
      document.paths['/api/jobs/{id}'].get.responses['404'].headers['X-Cache'] = {
        required: true,
        schema: { type: 'string' },
      };
    });
    expect(required).toEqual(['GET /api/jobs/{id} 404: required header x-cache missing']);
  });

  it('reports a header value outside its schema and a body of an undeclared media type', () => {
    const xCache = edited((document) => {
      document.paths['/api/jobs/{id}'].get.responses['200'].headers['X-Cache'].schema.enum = ['BYPASS'];
    });
    expect(xCache.join('\n')).toMatch(
      /200: header x-cache=MISS value must be equal to one of the allowed values/,
    );
    const mediaType = edited((document) => {
      const content = document.paths['/api/jobs'].get.responses['400'].content;
      content['application/problem+json'] = content['application/json'];
      delete content['application/json'];
    });
    expect(mediaType).toEqual(['GET /api/jobs 400: body of undeclared media type "application/json"']);
  });

  it('reports a body on a 304 and an error body that breaks the common shape', () => {
    const errorBody = edited((document) => (document.components.schemas.ErrorBody.required = ['detail']));
    expect(errorBody.join('\n')).toMatch(/404: body must have required property 'detail'/);
    const bodyOn304 = new OpenApiValidator(served as never).violations(
      answers.filter((answer) => answer.status === 304).map((answer) => ({ ...answer, body: '{}' })),
    );
    expect(bodyOn304).toEqual(['GET /api/jobs/{id} 304: a body on a bodiless status']);
  });
});
