import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';

/**
 * What the sample verifies with when no secret is configured, and what `npm run send` signs with
 * (it is also in apps/sample/.env.example). Anyone can read it here, so never use it in production.
 */
export const DEVELOPMENT_WEBHOOK_SECRET = 'whsec_sample_development_secret';

/**
 * The secret Keplars signs webhooks with. The development default lets `npm start` and `npm run send`
 * work out of the box; with NODE_ENV=production it is refused, so a deployed app never accepts
 * webhooks signed with a secret that is public.
 */
export function webhookSecretFrom(config: ConfigService): string {
  const configured = config.get<string>('KEPLARS_WEBHOOK_SECRET');
  if (configured && configured !== DEVELOPMENT_WEBHOOK_SECRET) return configured;

  const why = configured ? 'KEPLARS_WEBHOOK_SECRET is the development secret' : 'KEPLARS_WEBHOOK_SECRET is not set';
  if (config.get<string>('NODE_ENV') === 'production') {
    throw new Error(
      `${why}, and NODE_ENV is production. Set KEPLARS_WEBHOOK_SECRET to the webhook signing secret from your Keplars dashboard ` +
        '(in the environment, or in apps/sample/.env).',
    );
  }
  new Logger('Config').warn(
    `${why}: verifying webhooks with the development default "${DEVELOPMENT_WEBHOOK_SECRET}". ` +
      'Put the signing secret from your Keplars dashboard in apps/sample/.env before pointing Keplars at this app.',
  );
  return DEVELOPMENT_WEBHOOK_SECRET;
}
