import { applyDecorators, type Type } from '@nestjs/common';
import { ApiOkResponse, ApiResponse } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;
type Responses = Operation['responses'];

const ERROR_BODY = { $ref: '#/components/schemas/ErrorBody' };
const REQUEST_ID = {
  description: 'Echoes a plain client-supplied X-Request-Id, else a fresh UUID',
  required: true,
  schema: { type: 'string' },
};

/** What each common status means on this API; the body is always `{ statusCode, error, message }`. */
const ERROR_MEANINGS: Record<number, { description: string; message: string | string[] }> = {
  400: {
    description: 'Invalid input: an unknown query or body field, a value out of bounds, malformed JSON',
    message: ['limit must not be greater than 100'],
  },
  401: {
    description: 'Missing, invalid or expired token (on optional-auth routes only a present bad token)',
    message: 'Unauthorized',
  },
  403: { description: 'The viewer does not own the resource', message: 'Forbidden' },
  404: { description: 'No such resource', message: 'Job 42 not found' },
  409: {
    description: 'Conflicts with stored data: a taken email, or a referenced row that is gone',
    message: 'Resource already exists',
  },
  413: {
    description: 'The body is larger than the route takes (a post: 5,000 characters) or than BODY_LIMIT',
    message: 'Request body is too large',
  },
  414: {
    description: 'A path parameter longer than 100 characters (the router refuses it before matching)',
    message: "'/api/jobs/99999…' is exceeding the max param length",
  },
  415: {
    description: 'A non-empty body that is not application/json',
    message: 'Unsupported content-type: send application/json',
  },
  429: { description: 'Too many attempts from this address', message: 'Too many attempts; retry in 60 s' },
  503: {
    description: 'The database cannot serve and nothing cached can answer; retry after Retry-After seconds',
    message: 'The database is unavailable; retry shortly',
  },
};

const WRITE_METHODS = new Set(['post', 'patch', 'delete']);
const RATE_LIMITED_PATHS = new Set(['/api/auth/register', '/api/auth/login']);
/** Routes whose handlers touch nothing that can fail with the database (liveness, the cache's own view). */
const DATABASE_FREE = /^\/(health|health\/cache|cache\/.*)$/;

/**
 * Declares on every operation the answers that come from the shared HTTP layer rather than the handler: validation
 * (400), the bearer guard (401), path lookups (404), body parsing (413, 415), write conflicts (409), the auth rate
 * limit (429) and database outages (503), each with the common error body, plus the X-Request-Id header every
 * response carries. Kept next to that layer so a client generated from the spec knows every error shape.
 */
export function declareCommonAnswers(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.schemas = {
    ...document.components.schemas,
    ErrorBody: {
      type: 'object',
      required: ['statusCode', 'error', 'message'],
      properties: {
        statusCode: { type: 'integer', example: 400 },
        error: { type: 'string', example: 'Bad Request' },
        message: {
          description: 'What went wrong; on a 400 the list of failing fields',
          oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
        },
      },
    },
  };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'patch', 'delete'] as const) {
      const operation = item[method];
      if (operation) declareOn(path, method, operation);
    }
  }
  return document;
}

function declareOn(path: string, method: string, operation: Operation): void {
  // Public operations say so (an empty list) rather than inherit nothing, so a forgotten scheme stands out.
  operation.security ??= [];
  const statuses = [400];
  if (operation.security?.length) statuses.push(401);
  if (path.includes('{')) statuses.push(404, 414);
  if (WRITE_METHODS.has(method)) statuses.push(413, 415);
  if (WRITE_METHODS.has(method) && path.startsWith('/api/')) statuses.push(409);
  if (RATE_LIMITED_PATHS.has(path)) statuses.push(429);
  if (!DATABASE_FREE.test(path)) statuses.push(503);
  const responses: Responses = operation.responses;
  for (const status of new Set([...statuses, ...Object.keys(responses).map(Number)])) {
    const meaning = ERROR_MEANINGS[status];
    if (!meaning) continue;
    const declared = (responses[status] ?? {}) as { description?: string; content?: unknown };
    // Health routes declare their own 503 body (Terminus's shape): keep it.
    if (declared.content) continue;
    responses[status] = {
      description: declared.description || meaning.description,
      ...(status === 503 && { headers: { 'Retry-After': { schema: { type: 'integer' } } } }),
      content: {
        'application/json': {
          schema: ERROR_BODY,
          example: { statusCode: status, error: STATUS_CODES[status], message: meaning.message },
        },
      },
    };
  }
  // A cached route sets Cache-Control (and Vary) before its handler runs, so its errors carry them too.
  const cacheHeaders = Object.entries((responses[200] as HeaderBearer | undefined)?.headers ?? {}).filter(
    ([name]) => name === 'Cache-Control' || name === 'Vary',
  );
  for (const [status, response] of Object.entries(responses) as [string, HeaderBearer][]) {
    response.headers = {
      'X-Request-Id': REQUEST_ID,
      ...(Number(status) >= 400 && Object.fromEntries(cacheHeaders)),
      ...response.headers,
    };
  }
}

type HeaderBearer = { headers?: Record<string, unknown> };

/** `JobsController` + `list` -> `jobsList`: stable names for generated clients. */
export function operationIdOf(controllerKey: string, methodKey: string): string {
  const resource = controllerKey.replace(/Controller$/, '');
  return (
    resource.charAt(0).toLowerCase() +
    resource.slice(1) +
    methodKey.charAt(0).toUpperCase() +
    methodKey.slice(1)
  );
}

/**
 * A GET cached by `@Cached`: 200 with the cache's headers, and 304 (empty body) when `If-None-Match` holds the
 * current ETag. Every answer varies by `Accept-Encoding` (bodies over 1 KiB are stored gzip-compressed and sent so
 * to clients that accept it); per-viewer answers are `private` and vary by `Authorization` too (and `Origin`, from
 * CORS).
 */
export function ApiCachedResponse(type: Type<unknown>, { perViewer = false } = {}) {
  const validators = {
    ETag: {
      description:
        'Strong validator of this representation (the gzip one has its own, ending in -gzip); send it back in ' +
        'If-None-Match',
      schema: { type: 'string' },
    },
    'Cache-Control': {
      description: perViewer ? 'Per-viewer: not for shared caches' : 'Browsers revalidate with the ETag',
      schema: { type: 'string', enum: [perViewer ? 'private, no-cache' : 'no-cache'] },
    },
    Vary: {
      description: perViewer
        ? 'Contains Accept-Encoding and Authorization (and Origin when CORS applies)'
        : 'Contains Accept-Encoding (and Origin when CORS applies)',
      schema: { type: 'string' },
    },
  };
  const headers = {
    ...validators,
    'X-Cache': {
      description: 'HIT, MISS, STALE (served past its TTL while the database cannot answer) or BYPASS',
      schema: { type: 'string', enum: ['HIT', 'MISS', 'STALE', 'BYPASS'] },
    },
    Age: {
      description: 'Seconds since the entry was stored; sent with STALE answers',
      schema: { type: 'integer' },
    },
    'Content-Encoding': {
      description: 'gzip: the stored bytes as they are, for a client whose Accept-Encoding takes gzip',
      schema: { type: 'string', enum: ['gzip'] },
    },
  };
  return applyDecorators(
    ApiOkResponse({ type, headers }),
    // RFC 9110 §15.4.5: a 304 carries the headers the 200 would have.
    ApiResponse({ status: 304, description: 'Not modified: the ETag in If-None-Match is current', headers }),
  );
}
