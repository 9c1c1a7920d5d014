import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

/** The body of every error answer: `{ statusCode, error, message }`, `message` a list on validation errors. */
export type ErrorBody = components['schemas']['ErrorBody'];

export type JobBoardClient = Client<paths>;

/**
 * A fetch client whose paths, parameters, bodies and answers (errors included) are the API's own, typed from its
 * OpenAPI document. `baseUrl` is the API's origin; anything else is passed to openapi-fetch.
 *
 * @example
 * ```ts
 * const api = createJobBoardClient({ baseUrl: 'https://api.example.com' });
 * const { data, error, response } = await api.GET('/api/jobs/{id}', { params: { path: { id: 42 } } });
 * if (data) console.log(data.title, response.headers.get('X-Cache'));
 * else console.log(error.message); // 400, 404 or 503: ErrorBody
 * ```
 */
export function createJobBoardClient(options: ClientOptions = {}): JobBoardClient {
  return createClient<paths>(options);
}
