import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { InvalidatesCache } from '@jobboard/redis-cache';
import { UserProfileDto } from '../users/dto/user.response.js';
import { JwtAuthGuard } from './auth.guards.js';
import type { AuthUser } from './auth.types.js';
import { AuthService } from './auth.service.js';
import { CurrentUser } from './current-user.decorator.js';
import { LoginDto } from './dto/login.dto.js';
import { RegisterDto } from './dto/register.dto.js';
import { AccessTokenDto, RegisteredDto } from './dto/auth.response.js';
import { jsonBytesFor } from '../common/validation/input-caps.js';

/**
 * Opts a route into @fastify/rate-limit, whose limits (AUTH_RATE_LIMIT_*) are set where the plugin is registered,
 * and caps its body at an email, a password and a name at their longest (one RouteConfig per route: a second
 * would replace the first).
 */
const AUTH_ROUTE = { rateLimit: {}, maxBodyBytes: jsonBytesFor(254 + 128 + 100) };

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('register')
  @RouteConfig(AUTH_ROUTE)
  @InvalidatesCache('users:list:')
  @ApiCreatedResponse({ type: RegisteredDto })
  @ApiConflictResponse({ description: 'The email is taken' })
  @ApiTooManyRequestsResponse()
  @ApiOperation({ summary: 'Create an account and get a token' })
  register(@Body() dto: RegisterDto) {
    return this.auth.register(dto);
  }

  @Post('login')
  @HttpCode(200)
  @RouteConfig(AUTH_ROUTE)
  @ApiOkResponse({ type: AccessTokenDto })
  @ApiUnauthorizedResponse({ description: 'Wrong email or password' })
  @ApiTooManyRequestsResponse()
  @ApiOperation({ summary: 'Exchange email and password for a token' })
  login(@Body() dto: LoginDto) {
    return this.auth.login(dto);
  }

  @Get('me')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: UserProfileDto })
  @ApiOperation({ summary: "The signed-in user's own profile" })
  me(@CurrentUser() viewer: AuthUser) {
    return this.auth.me(viewer);
  }
}
