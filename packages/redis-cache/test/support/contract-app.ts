// The HTTP contract's fixture: a small notes API on the cache, startable on Fastify or Express, with or without a
// global prefix, CORS as a browser frontend needs it, an optional-auth guard, and a global interceptor that counts
// the requests that went through Nest's pipeline (fast hits do not).
import {
  Body,
  CallHandler,
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  Module,
  NestInterceptor,
  NotFoundException,
  Param,
  Patch,
  Post,
  Query,
  Req,
  UnauthorizedException,
  UseGuards,
  ValidationPipe,
  type INestApplication,
  type Type as ClassType,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import request from 'supertest';
import type { Observable } from 'rxjs';
import {
  Cached,
  InvalidatesCache,
  RedisCacheModule,
  RedisCacheService,
  type RedisCacheModuleOptions,
} from '../../src/index.js';
import type { TestRedisServer } from '../../src/testing/index.js';

export type PlatformName = 'fastify' | 'express';
export const FRONTEND_ORIGIN = 'http://front.example';

class PageQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  page: number = 0;
}

class FeedQuery {
  @IsOptional()
  @Transform(({ value }) => value === true || value === 'true')
  @IsBoolean()
  mine: boolean = false;
}

class IdParams {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  id: number;
}

class NoteBody {
  @IsString()
  @MaxLength(200)
  text: string;
}

interface Note {
  id: number;
  text: string;
  owner: string;
}

/** The fixture's "database": plain state that tests change and whose reads they count. */
@Injectable()
export class NotesStore {
  notes = new Map<number, Note>([
    [1, { id: 1, text: 'first', owner: 'alice' }],
    [2, { id: 2, text: 'second', owner: 'bob' }],
  ]);
  reads = 0;
  pipelineRuns = 0;
}

/** Optional auth: `Authorization: Bearer <name>` makes `<name>` the viewer; no header means anonymous. */
@Injectable()
class ViewerGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string>; user?: { id: string } }>();
    const header = req.headers.authorization;
    if (header === undefined) return true;
    const name = /^Bearer (\w{1,20})$/.exec(header)?.[1];
    if (!name) throw new UnauthorizedException();
    req.user = { id: name };
    return true;
  }
}

@Injectable()
class PipelineCounter implements NestInterceptor {
  constructor(private readonly store: NotesStore) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    this.store.pipelineRuns++;
    return next.handle();
  }
}

@Controller('notes')
class NotesController {
  constructor(private readonly store: NotesStore) {}

  @Get()
  @Cached('1m', 'notes:list:{page}')
  list(@Query() query: PageQuery) {
    this.store.reads++;
    return { page: query.page, items: [...this.store.notes.values()].map(({ id, text }) => ({ id, text })) };
  }

  @Get('mine')
  @UseGuards(ViewerGuard)
  @Cached('1m', 'notes:mine:{user.id}')
  mine(@Req() req: { user?: { id: string } }) {
    this.store.reads++;
    const viewer = req.user?.id ?? null;
    return { viewer, notes: [...this.store.notes.values()].filter((note) => note.owner === viewer) };
  }

  /** Some 1.6 KB of JSON: large enough to be stored compressed. */
  @Get('long')
  @Cached('1m', 'notes:long:{page}')
  long(@Query() query: PageQuery) {
    this.store.reads++;
    return {
      page: query.page,
      lines: Array.from({ length: 80 }, (_, i) => `line ${i} of page ${query.page}`),
    };
  }

  @Get('long/mine')
  @UseGuards(ViewerGuard)
  @Cached('1m', 'notes:longmine:{user.id}')
  longMine(@Req() req: { user?: { id: string } }) {
    this.store.reads++;
    const viewer = req.user?.id ?? null;
    return { viewer, lines: Array.from({ length: 80 }, (_, i) => `line ${i} for ${viewer}`) };
  }

  /** Everyone's notes, the same for every viewer, unless `mine=true` (the viewer's own): a per-request scope. */
  @Get('feed')
  @UseGuards(ViewerGuard)
  @Cached('1m', 'notes:feed:{mine}:{user.id}', {
    scope: ({ query }) => (query.mine === true ? 'viewer' : 'public'),
  })
  feed(@Query() query: FeedQuery, @Req() req: { user?: { id: string } }) {
    this.store.reads++;
    const viewer = req.user?.id ?? null;
    return { items: [...this.store.notes.values()].filter((note) => !query.mine || note.owner === viewer) };
  }

  @Get(':id')
  @Cached(30, 'notes:item:{id}')
  one(@Param() { id }: IdParams) {
    this.store.reads++;
    const note = this.store.notes.get(id);
    if (!note) throw new NotFoundException();
    return note;
  }

  @Post()
  @InvalidatesCache('notes:list:')
  create(@Body() body: NoteBody) {
    const id = this.store.notes.size + 1;
    this.store.notes.set(id, { id, text: body.text, owner: 'alice' });
    return this.store.notes.get(id);
  }

  @Patch(':id')
  @InvalidatesCache('notes:list:', 'notes:item:{id}', 'notes:mine:')
  update(@Param() { id }: IdParams, @Body() body: NoteBody) {
    const note = this.store.notes.get(id);
    if (!note) throw new NotFoundException();
    note.text = body.text;
    return note;
  }
}

export interface ContractApp {
  platform: PlatformName;
  app: INestApplication;
  store: NotesStore;
  cache: RedisCacheService;
  redis: TestRedisServer;
  /** A path under the global prefix, if there is one. */
  url(path: string): string;
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

export interface ContractAppOptions {
  platform: PlatformName;
  globalPrefix?: string;
  redis: TestRedisServer;
  keyPrefix: string;
  /** Module options over the fixture's (compressAbove, say). */
  cacheOptions?: Partial<RedisCacheModuleOptions>;
  /** Providers of the module replaced by other classes (a sabotaged platform, in the negative control). */
  overrides?: { provide: ClassType; useClass: ClassType }[];
}

export async function startContractApp(options: ContractAppOptions): Promise<ContractApp> {
  @Module({
    imports: [
      RedisCacheModule.forRoot({
        url: options.redis.url,
        prefix: options.keyPrefix,
        opTimeoutMs: 150,
        fastHits: options.platform === 'fastify',
        isGlobal: true,
        ...options.cacheOptions,
      }),
    ],
    controllers: [NotesController],
    providers: [NotesStore, { provide: APP_INTERCEPTOR, useClass: PipelineCounter }],
  })
  class ContractModule {}

  let builder = Test.createTestingModule({ imports: [ContractModule] });
  for (const override of options.overrides ?? [])
    builder = builder.overrideProvider(override.provide).useClass(override.useClass);
  const moduleRef = await builder.compile();
  const adapter = options.platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = moduleRef.createNestApplication(adapter, { logger: false });
  app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }));
  app.enableCors({ origin: [FRONTEND_ORIGIN], exposedHeaders: ['ETag', 'X-Cache'] });
  if (options.globalPrefix) app.setGlobalPrefix(options.globalPrefix);
  await app.init();
  if (options.platform === 'fastify')
    await (app.getHttpAdapter().getInstance() as { ready(): Promise<void> }).ready();
  const cache = app.get(RedisCacheService);
  for (let i = 0; i < 200 && cache.status().redis !== 'up'; i++) await new Promise((r) => setTimeout(r, 10));
  if (cache.status().redis !== 'up') throw new Error('the cache did not connect to Redis');
  const base = options.globalPrefix ? `/${options.globalPrefix}` : '';
  return {
    platform: options.platform,
    app,
    store: app.get(NotesStore),
    cache,
    redis: options.redis,
    url: (path) => `${base}${path}`,
    http: () => request(app.getHttpServer()),
    close: () => app.close(),
  };
}
