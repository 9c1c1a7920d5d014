import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';

/** supertest against an in-process app, with helpers for the bearer token and common shapes. */
export class ApiClient {
  constructor(private readonly app: NestFastifyApplication) {}

  private agent() {
    return request(this.app.getHttpServer());
  }

  get(path: string, token?: string) {
    const call = this.agent().get(path);
    return token ? call.set('Authorization', `Bearer ${token}`) : call;
  }

  post(path: string, body?: unknown, token?: string) {
    const call = this.agent().post(path);
    if (token) void call.set('Authorization', `Bearer ${token}`);
    return body === undefined ? call : call.send(body as object);
  }

  patch(path: string, body: unknown, token?: string) {
    const call = this.agent().patch(path);
    if (token) void call.set('Authorization', `Bearer ${token}`);
    return call.send(body as object);
  }

  delete(path: string, token?: string) {
    const call = this.agent().delete(path);
    return token ? call.set('Authorization', `Bearer ${token}`) : call;
  }

  raw() {
    return this.agent();
  }

  /** Registers a fresh user and returns its id and token. */
  async register(name: string): Promise<{ id: number; token: string; email: string }> {
    const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${Math.random().toString(36).slice(2, 8)}@example.com`;
    const response = await this.post('/api/auth/register', {
      email,
      password: 'correct horse battery',
      name,
    });
    if (response.status !== 201)
      throw new Error(`register failed: ${response.status} ${JSON.stringify(response.body)}`);
    return { id: response.body.user.id, token: response.body.accessToken, email };
  }
}

/** Asserts the common error shape and returns the message(s) as one string for matching. */
export function errorText(body: unknown): string {
  const { statusCode, error, message } = body as { statusCode: unknown; error: unknown; message: unknown };
  if (typeof statusCode !== 'number' || typeof error !== 'string') {
    throw new Error(`not the common error shape: ${JSON.stringify(body)}`);
  }
  if (typeof message === 'string') return message;
  if (Array.isArray(message) && message.every((m) => typeof m === 'string')) return message.join('; ');
  throw new Error(`error message is neither a string nor a list of strings: ${JSON.stringify(body)}`);
}
