// The server of `npm run bench:tenants`, in its own process: `node tenant-server.js <express|fastify> <tenants> <lookupMs>`.
// One tenant route (secrets looked up per request, cached) and one static-secret route beside it, the
// baseline. The resolver stands in for a database: it answers after `lookupMs`, and counts its calls,
// which GET /bench/resolver-calls reports. Prints `READY <port>` once it listens.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent } from '../../libs/keplars-webhook/src/index.js';
import { benchTenant, benchTenantSecret, STATIC_PATH, STATIC_SECRET, TENANT_PATH } from './tenant-bench-config.js';

const [adapter = 'express', tenantCount = '1000', lookupMs = '2'] = process.argv.slice(2);

/** The app's tenant directory: a table, a lookup as slow as a database's, and a count of lookups. */
@Injectable()
class TenantDirectory {
  readonly calls = new Map<string, number>();
  private readonly secrets = new Map(Array.from({ length: Number(tenantCount) }, (_, i) => [benchTenant(i), benchTenantSecret(i)]));

  async secretOf(tenant: string): Promise<string | undefined> {
    this.calls.set(tenant, (this.calls.get(tenant) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, Number(lookupMs)));
    return this.secrets.get(tenant);
  }
}

@Module({ providers: [TenantDirectory], exports: [TenantDirectory] })
class DirectoryModule {}

@Controller('bench')
class ResolverCallsController {
  constructor(private readonly directory: TenantDirectory) {}

  @Get('resolver-calls')
  calls(): Record<string, number> {
    return Object.fromEntries(this.directory.calls);
  }
}

@Injectable()
class NoopHandler {
  @OnKeplarsEvent('*')
  onEvent(_event: KeplarsEvent): void {}
}

@Module({
  imports: [
    DirectoryModule,
    KeplarsWebhookModule.forRootAsync({
      name: 'tenants',
      path: TENANT_PATH,
      imports: [DirectoryModule],
      inject: [TenantDirectory],
      useFactory: (directory: TenantDirectory) => ({ tenants: { resolveSecret: (tenant: string) => directory.secretOf(tenant), cacheSeconds: 3600 } }),
    }),
    KeplarsWebhookModule.forRoot({ name: 'static', path: STATIC_PATH, secret: STATIC_SECRET }),
  ],
  controllers: [ResolverCallsController],
  providers: [NoopHandler],
})
class TenantBenchModule {}

async function main(): Promise<void> {
  const logger: LogLevel[] = ['error'];
  const app =
    adapter === 'fastify'
      ? await NestFactory.create(TenantBenchModule, new FastifyAdapter(), { rawBody: true, logger })
      : await NestFactory.create(TenantBenchModule, { rawBody: true, logger });
  process.once('SIGINT', () => void app.close().finally(() => process.exit(0)));
  await app.listen(0, '127.0.0.1');
  process.stdout.write(`READY ${(app.getHttpServer().address() as AddressInfo).port}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
