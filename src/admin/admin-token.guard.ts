import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time: both sides are hashed first, since
 * `timingSafeEqual` throws on inputs of different lengths (and the length itself would leak). Without ADMIN_TOKEN
 * configured every request is refused.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(config: AppConfig) {
    this.expected = config.auth.adminToken === undefined ? undefined : digest(config.auth.adminToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const given = /^Bearer (.+)$/i.exec(header)?.[1];
    const matches =
      given !== undefined && this.expected !== undefined && timingSafeEqual(digest(given), this.expected);
    if (!matches) throw new UnauthorizedException('Admin token required');
    return true;
  }
}
