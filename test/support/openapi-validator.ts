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
    return answers.flatMap((answer) => {
      const path = this.templateOf(answer.url);
      const name = `${answer.method} ${path} ${answer.status}`;
      return path ? this.check(path, answer).map((problem) => `${name}: ${problem}`) : [];
    });
  }

  private check(path: string, { method, status, headers, body }: RecordedAnswer): string[] {
    if (method === 'OPTIONS' || method === 'HEAD') return []; // preflights; HEAD answers are GETs without a body
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

  /**
   * The document's path template `url` fits, a literal segment winning over a parameter (`/users/list`), as a
   * fuzzer sees it: the router's own 414s and 400s are checked too. A URL that fits none (a plain 404, /docs
   * assets) is no operation's answer.
   */
  private templateOf(url: string): string | undefined {
    const segments = url.split('?')[0].split('/');
    const fits = Object.keys(this.document.paths).filter((template) => {
      const parts = template.split('/');
      return (
        parts.length === segments.length &&
        parts.every((part, i) => part.startsWith('{') || part === segments[i])
      );
    });
    const parameters = (template: string) => template.split('{').length;
    return fits.sort((a, b) => parameters(a) - parameters(b))[0];
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
