import type { RawBodyRequest } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';

/** What the module reads of an Express or Fastify request. */
export type KeplarsWebhookRequest = RawBodyRequest<{
  readonly headers: IncomingHttpHeaders;
  readonly body?: unknown;
  readonly ip?: string;
  /** The route's parameters (the tenant, on a route with `tenants`), decoded. */
  readonly params?: Readonly<Record<string, string | undefined>>;
}>;
