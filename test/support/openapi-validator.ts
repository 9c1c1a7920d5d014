import { Ajv, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import type { RecordedAnswer } from './test-app.js';

interface HeaderObject {
  required?: boolean;
  schema?: object;
}
interface ResponseObject {
  headers?: Record<string, HeaderObject>;
  content?: Record<string, { schema?: object }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
}

/** Headers whose presence is part of the API's contract: each one an answer carries must be declared on it. */
const CONTRACT_HEADERS = ['etag', 'x-cache', 'age', 'cache-control', 'retry-after', 'x-request-id'];
const BODILESS = new Set([204, 304]);
const UNCHECKED_PATH = /^\/(docs|metrics)/; // Swagger UI's assets and the Prometheus text: not API operations

// ajv-formats is CommonJS with `exports.default`: under nodenext its default import is the module object.
const addFormats = formats as unknown as (ajv: Ajv) => Ajv;

/**
 * Checks recorded answers against an OpenAPI document the way a generated client relies on it: the status is
 * declared on the operation, every required header is present and every contract header sent is declared and
 * matches its schema, and the body is of a declared media type and matches its schema, with every object closed
 * (a property the spec does not name is a violation, so a handler cannot grow a field the client does not know).
 */
export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly document: OpenApiDocument) {
    this.ajv = addFormats(new Ajv({ strict: false, allErrors: true, validateSchema: false }));
    this.ajv.addSchema(closeObjects(structuredClone(document)), 'openapi');
  }

  /** One line per violation, `METHOD /path status: what`; empty when every answer is what the spec says. */
  violations(answers: RecordedAnswer[]): string[] {
    return answers.flatMap((answer) =>
      this.check(answer).map((problem) => `${answerName(answer)}: ${problem}`),
    );
  }

  private check({ method, route, status, headers, body }: RecordedAnswer): string[] {
    if (!route || method === 'OPTIONS' || method === 'HEAD') return []; // unrouted 404s, preflights
    const path = route.replace(/:(\w+)/g, '{$1}');
    if (UNCHECKED_PATH.test(path)) return [];
    const operation = this.document.paths[path]?.[method.toLowerCase()];
    if (!operation) return ['no such operation'];
    const response = operation.responses[String(status)];
    if (!response) return ['status not declared'];
    const pointer = `#/paths/${escape(path)}/${method.toLowerCase()}/responses/${status}`;
    return [
      ...this.checkHeaders(pointer, response, headers),
      ...this.checkBody(pointer, response, status, headers, body),
    ];
  }

  private checkHeaders(
    pointer: string,
    response: ResponseObject,
    headers: RecordedAnswer['headers'],
  ): string[] {
    const declared = new Map(
      Object.entries(response.headers ?? {}).map(([name, h]) => [name.toLowerCase(), h]),
    );
    const problems: string[] = [];
    for (const [name, header] of declared) {
      if (header.required && headers[name] === undefined) problems.push(`required header ${name} missing`);
    }
    for (const name of CONTRACT_HEADERS) {
      const value = headers[name];
      if (value === undefined) continue;
      const header = declared.get(name);
      if (!header) {
        problems.push(`header ${name} sent but not declared`);
        continue;
      }
      const original = Object.keys(response.headers ?? {}).find((key) => key.toLowerCase() === name);
      const validate = this.validator(`${pointer}/headers/${escape(String(original))}/schema`);
      const typed =
        (header.schema as { type?: string } | undefined)?.type === 'integer' ? Number(value) : value;
      if (!validate(typed))
        problems.push(
          `header ${name}=${String(value)} ${this.ajv.errorsText(validate.errors, { dataVar: 'value' })}`,
        );
    }
    return problems;
  }

  private checkBody(
    pointer: string,
    response: ResponseObject,
    status: number,
    headers: RecordedAnswer['headers'],
    body: RecordedAnswer['body'],
  ): string[] {
    if (body === undefined) return []; // a stream: not an API answer
    const content = response.content ?? {};
    if (BODILESS.has(status)) return body.length === 0 ? [] : ['a body on a bodiless status'];
    if (body.length === 0) return Object.keys(content).length ? ['empty body'] : [];
    const mediaType = String(headers['content-type'] ?? '')
      .split(';')[0]
      .trim();
    if (!(mediaType in content)) return [`body of undeclared media type "${mediaType}"`];
    if (mediaType !== 'application/json' || !content[mediaType].schema) return [];
    const validate = this.validator(`${pointer}/content/${escape(mediaType)}/schema`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return ['body is not JSON'];
    }
    return validate(parsed) ? [] : [this.ajv.errorsText(validate.errors, { dataVar: 'body' })];
  }

  private validator(pointer: string): ValidateFunction {
    let validate = this.compiled.get(pointer);
    if (!validate) {
      validate = this.ajv.getSchema(`openapi${pointer}`);
      if (!validate) throw new Error(`no schema at ${pointer}`);
      this.compiled.set(pointer, validate);
    }
    return validate;
  }
}

function answerName({ method, route, status }: RecordedAnswer): string {
  return `${method} ${route?.replace(/:(\w+)/g, '{$1}')} ${status}`;
}

/** A JSON pointer segment (RFC 6901). */
function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Every object schema that lists its properties and says nothing of others gets `additionalProperties: false`. */
function closeObjects<T>(node: T): T {
  if (Array.isArray(node)) node.forEach(closeObjects);
  else if (node && typeof node === 'object') {
    const schema = node as Record<string, unknown>;
    if (schema.properties && typeof schema.properties === 'object' && !('additionalProperties' in schema)) {
      schema.additionalProperties = false;
    }
    Object.values(schema).forEach(closeObjects);
  }
  return node;
}
