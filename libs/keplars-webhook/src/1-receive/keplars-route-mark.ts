/**
 * The webhook route carries this in its Fastify route config (the key `@RouteConfig()` of
 * `@nestjs/platform-fastify` writes, read by the Fastify adapter), so a Fastify hook can tell the
 * module's route apart whatever the global prefix. Express ignores it.
 */
export const FASTIFY_ROUTE_CONFIG_METADATA = '__fastify_route_config__';
export const KEPLARS_ROUTE_CONFIG_KEY = 'keplarsWebhook';
export const KEPLARS_ROUTE_MARK = true;

/** Adds the mark to the route's Fastify config, keeping whatever `routeDecorators` put there. */
export const MarkKeplarsRoute = (): MethodDecorator => (_target, _key, descriptor) => {
  const handler = descriptor.value as object;
  const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as Record<string, unknown> | undefined) ?? {};
  Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...config, [KEPLARS_ROUTE_CONFIG_KEY]: KEPLARS_ROUTE_MARK }, handler);
  return descriptor;
};
