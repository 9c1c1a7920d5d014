import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { AppConfig } from '../config/app-config.js';
import { JwtAuthGuard, OptionalJwtAuthGuard } from './auth.guards.js';
import { DatabaseModule } from '../database/database.module.js';
import { TokenService } from './token.service.js';
import { ViewerDirectory } from './viewer-directory.js';

/** Access tokens, the two auth guards and the check that a token's account exists; protected routes import it. */
@Module({
  imports: [
    DatabaseModule,
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        secret: config.auth.jwtSecret,
        signOptions: { algorithm: 'HS256', expiresIn: config.auth.jwtExpiresInSeconds },
      }),
    }),
  ],
  providers: [TokenService, ViewerDirectory, JwtAuthGuard, OptionalJwtAuthGuard],
  exports: [TokenService, ViewerDirectory, JwtAuthGuard, OptionalJwtAuthGuard],
})
export class TokenModule {}
