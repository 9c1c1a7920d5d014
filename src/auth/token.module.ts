import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { AppConfig } from '../config/app-config.js';
import { JwtAuthGuard, OptionalJwtAuthGuard } from './auth.guards.js';
import { TokenService } from './token.service.js';

/** Access tokens and the two auth guards; every module with protected routes imports it. */
@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        secret: config.auth.jwtSecret,
        signOptions: { algorithm: 'HS256', expiresIn: config.auth.jwtExpiresInSeconds },
      }),
    }),
  ],
  providers: [TokenService, JwtAuthGuard, OptionalJwtAuthGuard],
  exports: [TokenService, JwtAuthGuard, OptionalJwtAuthGuard],
})
export class TokenModule {}
