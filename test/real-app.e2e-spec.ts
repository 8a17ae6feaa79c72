import {
  CanActivate,
  CallHandler,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  Module,
  NestInterceptor,
  SetMetadata,
  HttpException,
  HttpStatus,
  UnauthorizedException,
  ValidationPipe,
  type INestApplication,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, Reflector } from '@nestjs/core';
import { KeplarsWebhookModule, type KeplarsWebhookOptions } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { map, type Observable } from 'rxjs';
import { RecordingHandlers } from './support/recording-handlers.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// SPEC §2: the module inside a real app, with what real apps put around every route.
const SECRET = 'whsec_real_app';

const IS_PUBLIC = 'isPublic';
const Public = () => SetMetadata(IS_PUBLIC, true);

/** The usual global auth guard: everything needs a token unless marked @Public(). */
@Injectable()
class TokenGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    if (request.headers.authorization !== 'Bearer user-token') throw new UnauthorizedException('Sign in first');
    return true;
  }
}

// @nestjs/throttler 6 is CommonJS requiring ESM-only Nest 12, which Jest's loader cannot do; this
// guard stands in for it, with its own skip decorator, as @SkipThrottle() would be used.
const SKIP_RATE_LIMIT = 'skipRateLimit';
const SkipRateLimit = () => SetMetadata(SKIP_RATE_LIMIT, true);

/** A global rate limit: two requests per route, unless marked @SkipRateLimit(). */
@Injectable()
class RateLimitGuard implements CanActivate {
  private readonly seen = new Map<unknown, number>();
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(SKIP_RATE_LIMIT, [context.getHandler(), context.getClass()])) return true;
    const count = (this.seen.get(context.getHandler()) ?? 0) + 1;
    this.seen.set(context.getHandler(), count);
    if (count > 2) throw new HttpException('Too many requests', HttpStatus.TOO_MANY_REQUESTS);
    return true;
  }
}

/** The usual response envelope. */
@Injectable()
class EnvelopeInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((data) => ({ data })));
  }
}

@Controller('profile')
class ProfileController {
  @Get()
  get() {
    return { name: 'Ada' };
  }
}

function realApp(webhook: ReturnType<typeof KeplarsWebhookModule.forRoot>) {
  return {
    imports: [webhook],
    controllers: [ProfileController],
    providers: [
      RecordingHandlers,
      { provide: APP_GUARD, useClass: TokenGuard },
      { provide: APP_GUARD, useClass: RateLimitGuard },
      { provide: APP_INTERCEPTOR, useClass: EnvelopeInterceptor },
    ],
  };
}

describe.each(ADAPTERS)('in a real app on %s: global prefix, ValidationPipe, auth guard, rate limit, interceptor', (adapter) => {
  describe('with the route marked public and unthrottled through routeDecorators', () => {
    let app: INestApplication;
    let handlers: RecordingHandlers;

    beforeAll(async () => {
      app = await createWebhookApp({
        adapter,
        ...realApp(KeplarsWebhookModule.forRoot({ secret: SECRET, routeDecorators: [Public(), SkipRateLimit()] })),
        configure: (app) => {
          app.setGlobalPrefix('api');
          app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }));
        },
      });
      handlers = app.get(RecordingHandlers);
    });
    afterAll(() => app.close());

    it('receives events under the global prefix, however many (the rate limit is 2)', async () => {
      for (let i = 0; i < 5; i++) {
        const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened', { extra: { field_keplars_added: i } }), {
          secret: SECRET,
          path: '/api/webhooks/keplars',
        });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ data: { received: true } });
      }
      expect(handlers.opened).toHaveLength(5);
    });

    it('still checks the signature: public does not mean unsigned', async () => {
      const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: 'wrong', path: '/api/webhooks/keplars' });
      expect(response.status).toBe(401);
      expect(handlers.opened).toHaveLength(5);
    });

    it('leaves the rest of the app guarded', async () => {
      const response = await fetch(`${await app.getUrl()}/api/profile`);
      expect(response.status).toBe(401);
    });
  });

  describe('without routeDecorators', () => {
    it('is refused by the app\'s own auth guard, which runs first (hence the option)', async () => {
      const app = await createWebhookApp({ adapter, ...realApp(KeplarsWebhookModule.forRoot(SECRET)) });
      const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET });
      expect(response.status).toBe(401);
      expect(response.body.message).toBe('Sign in first');
      expect(app.get(RecordingHandlers).opened).toHaveLength(0);
      await app.close();
    });
  });

  describe('with the route excluded from the global prefix, at a custom path', () => {
    it('receives events at the path given', async () => {
      const app = await createWebhookApp({
        adapter,
        imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, path: '/hooks/keplars-email' })],
        providers: [RecordingHandlers],
        configure: (app) => app.setGlobalPrefix('api', { exclude: ['hooks/keplars-email'] }),
      });
      const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET, path: '/hooks/keplars-email' });
      expect(response.status).toBe(200);
      expect(app.get(RecordingHandlers).opened).toHaveLength(1);
      await app.close();
    });
  });
});

/** Options from a class of the app's own, as with `TypeOrmModule.forRootAsync({ useClass })`. */
@Injectable()
class KeplarsConfig {
  createKeplarsWebhookOptions(): KeplarsWebhookOptions {
    return { secret: [SECRET, 'whsec_previous'] };
  }
}

@Module({ providers: [KeplarsConfig], exports: [KeplarsConfig] })
class KeplarsConfigModule {}

describe.each(ADAPTERS)('forRootAsync with useClass and useExisting on %s', (adapter) => {
  it.each([
    ['useClass', () => KeplarsWebhookModule.forRootAsync({ useClass: KeplarsConfig, path: '/hooks/by-class' }), '/hooks/by-class'],
    [
      'useExisting',
      () => KeplarsWebhookModule.forRootAsync({ imports: [KeplarsConfigModule], useExisting: KeplarsConfig, path: '/hooks/by-existing' }),
      '/hooks/by-existing',
    ],
  ])('%s', async (_, module, path) => {
    const app = await createWebhookApp({ adapter, imports: [module()], providers: [RecordingHandlers] });
    for (const secret of [SECRET, 'whsec_previous']) {
      expect((await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret, path })).status).toBe(200);
    }
    expect((await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: 'other', path })).status).toBe(401);
    expect(app.get(RecordingHandlers).opened).toHaveLength(2);
    await app.close();
  });
});
