import './operations/instrumentation.js'; // first: the metrics SDK is registered before the app is created
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { queueModeIsOn } from './config/queue-mode.js';
import { QUEUE_DASHBOARD_PATH } from './config/queue-dashboard.js';

async function bootstrap(): Promise<void> {
  // Keplars signs the exact bytes it sends, so the webhook module needs the raw body kept.
  const app = await NestFactory.create(AppModule, { rawBody: true });
  app.enableShutdownHooks(); // Ctrl-C closes the database cleanly

  const config = app.get(ConfigService);
  const port = portFrom(config.get<string>('PORT', '3000'));
  try {
    await app.listen(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new Error(`Port ${port} is already in use: is the sample already running in another terminal? Stop it, or set PORT in apps/sample/.env.`);
  }

  const logger = new Logger('Sample');
  logger.log(`Receiving Keplars webhooks at POST http://localhost:${port}/webhooks/keplars`);
  if (queueModeIsOn(config) && config.get<string>('QUEUE_DASHBOARD_PASSWORD')) {
    logger.log(`Queue mode (REDIS_URL is set): the queue's dashboard at GET http://localhost:${port}${QUEUE_DASHBOARD_PATH}`);
  }
  logger.log(`Metrics at GET http://localhost:${port}/metrics, health at GET http://localhost:${port}/health`);
  logger.log(`What has landed (recent emails, their timelines, suppressed addresses): open http://localhost:${port}/ in a browser`);
  logger.log(`As JSON: GET http://localhost:${port}/emails, /emails/:emailId, /suppressions, /suppressions/:address`);
  const url = port === 3000 ? '' : ` --url http://localhost:${port}/webhooks/keplars`;
  logger.log(`Send a test event from another terminal: npm run send -- --type email.delivered${url}`);
}

function portFrom(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number (0-65535), not ${JSON.stringify(value)}: fix it in the environment or apps/sample/.env.`);
  }
  return port;
}

bootstrap().catch((error: unknown) => {
  new Logger('Sample').fatal(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
