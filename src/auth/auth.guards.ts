import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { TokenService } from './token.service.js';
import { ViewerDirectory } from './viewer-directory.js';

const READS = new Set(['GET', 'HEAD']);

/**
 * Reads `Authorization: Bearer <token>`: undefined when absent, 401 when present but unusable, and 401 when the
 * account it names is gone (checked against the database on every write, remembered for a minute on reads).
 */
async function authenticate(request: FastifyRequest, tokens: TokenService, viewers: ViewerDirectory) {
  const header = request.headers.authorization;
  if (header === undefined) return;
  // Auth schemes are case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are the same scheme.
  const match = /^Bearer ([A-Za-z0-9\-_.]{1,4096})$/i.exec(header);
  const user = match ? await tokens.verify(match[1]) : undefined;
  if (!user) throw new UnauthorizedException('Invalid or expired access token');
  if (!(await viewers.exists(user.id, { fresh: !READS.has(request.method) }))) {
    throw new UnauthorizedException('The account of this access token no longer exists');
  }
  request.user = user;
}

/** Requires a valid bearer token (401 otherwise) and attaches the viewer to the request. */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly tokens: TokenService,
    private readonly viewers: ViewerDirectory,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    await authenticate(request, this.tokens, this.viewers);
    if (!request.user) throw new UnauthorizedException('Authentication required');
    return true;
  }
}

/**
 * Lets anonymous callers through (no Authorization header), but a header that is present and invalid or expired is
 * a 401: a client with a stale token must learn it rather than silently get the anonymous view.
 */
@Injectable()
export class OptionalJwtAuthGuard implements CanActivate {
  constructor(
    private readonly tokens: TokenService,
    private readonly viewers: ViewerDirectory,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    await authenticate(context.switchToHttp().getRequest<FastifyRequest>(), this.tokens, this.viewers);
    return true;
  }
}
