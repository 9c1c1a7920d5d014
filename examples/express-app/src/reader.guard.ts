import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';

/**
 * The example's stand-in for real authentication: `Authorization: Bearer <reader>` makes `<reader>` the viewer
 * (`request.user.id`, which `{user.id}` in a key pattern reads). Required on the routes that use it.
 */
@Injectable()
export class ReaderGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string>; user?: { id: string } }>();
    const reader = /^Bearer ([a-z]{1,32})$/.exec(request.headers.authorization ?? '')?.[1];
    if (!reader) throw new UnauthorizedException('Authorization: Bearer <reader> required');
    request.user = { id: reader };
    return true;
  }
}
