import { ConflictException, Injectable, UnauthorizedException } from '@nestjs/common';
import { UsersRepository } from '../users/users.repository.js';
import type { UserProfile } from '../users/users.types.js';
import { UsersService } from '../users/users.service.js';
import type { AuthUser } from './auth.types.js';
import { LoginDto } from './dto/login.dto.js';
import { RegisterDto } from './dto/register.dto.js';
import { hashPassword, verifyPassword } from './password.util.js';
import { TokenService } from './token.service.js';

@Injectable()
export class AuthService {
  /** Verified against when the email is unknown, so a login costs the same whether or not the account exists. */
  private readonly decoyHash = hashPassword('decoy password that never matches');

  constructor(
    private readonly users: UsersRepository,
    private readonly profiles: UsersService,
    private readonly tokens: TokenService,
  ) {}

  async register(dto: RegisterDto): Promise<{ user: UserProfile; accessToken: string }> {
    const id = await this.users.create({
      email: dto.email,
      name: dto.name,
      passwordHash: await hashPassword(dto.password),
    });
    if (id === undefined) throw new ConflictException('An account with this email already exists');
    const user = await this.profiles.getProfile(id, { id });
    return { user, accessToken: await this.tokens.issue({ id }) };
  }

  async login(dto: LoginDto): Promise<{ accessToken: string }> {
    const credentials = await this.users.findCredentials(dto.email);
    const valid = await verifyPassword(dto.password, credentials?.passwordHash ?? (await this.decoyHash));
    if (!credentials || !valid) throw new UnauthorizedException('Invalid email or password');
    return { accessToken: await this.tokens.issue({ id: credentials.id }) };
  }

  /** The viewer's own profile, email included; 401 when the token outlived its account. */
  async me(viewer: AuthUser): Promise<UserProfile> {
    const profile = await this.users.findProfile(viewer.id, viewer.id);
    if (!profile) throw new UnauthorizedException('The account of this token no longer exists');
    return profile;
  }
}
