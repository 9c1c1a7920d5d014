import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * The viewer attached by {@link JwtAuthGuard} or {@link OptionalJwtAuthGuard} (undefined when anonymous).
 *
 * @example
 * ```ts
 * @Post() @UseGuards(JwtAuthGuard)
 * create(@Body() dto: CreatePostDto, @CurrentUser() user: AuthUser) { ... }
 * ```
 */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => context.switchToHttp().getRequest<FastifyRequest>().user,
);
