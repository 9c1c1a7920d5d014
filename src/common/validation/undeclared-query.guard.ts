import { BadRequestException, CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import type { FastifyRequest } from 'fastify';
import { capMessages } from './input-caps.js';

/**
 * Refuses a query string on routes that declare no `@Query()` parameter, with the ValidationPipe's message
 * (`property <key> should not exist`). Routes with a query DTO are left to the pipe, which rejects unknown fields
 * itself; without this guard `/api/jobs/1?junk=1` would be answered as if the junk were not there (§4: unknown query
 * fields are 400).
 */
@Injectable()
export class UndeclaredQueryGuard implements CanActivate {
  /** Per handler: whether it reads the query. Handlers are fixed at startup, so the answer never changes. */
  private readonly readsQuery = new WeakMap<object, boolean>();

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const query = context.switchToHttp().getRequest<FastifyRequest>().query;
    const keys = query !== null && typeof query === 'object' ? Object.keys(query) : [];
    if (keys.length === 0 || this.handlerReadsQuery(context)) return true;
    throw new BadRequestException(capMessages(keys.map((key) => `property ${key} should not exist`)));
  }

  private handlerReadsQuery(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let reads = this.readsQuery.get(handler);
    if (reads === undefined) {
      const args: Record<string, unknown> =
        Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {};
      // Keys are `<paramtype>:<index>` (custom decorators prefix theirs differently and never read the query).
      reads = Object.keys(args).some((key) => key.split(':')[0] === String(RouteParamtypes.QUERY));
      this.readsQuery.set(handler, reads);
    }
    return reads;
  }
}
