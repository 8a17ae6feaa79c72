import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { KeplarsHealthIndicator } from 'nestjs-keplars-webhook';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly keplars: KeplarsHealthIndicator,
  ) {}

  /** 200 while the webhook can take events; 503 naming what is wrong (e.g. its Redis store is unreachable). */
  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.keplars.isHealthy('keplars')]);
  }
}
