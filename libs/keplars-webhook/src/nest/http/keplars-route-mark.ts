/**
 * The webhook route carries this in its Fastify route config (the key `@RouteConfig()` of
 * `@nestjs/platform-fastify` writes, read by the Fastify adapter), so a Fastify hook can tell the
 * module's route apart whatever the global prefix. Express ignores it.
 */
export const FASTIFY_ROUTE_CONFIG_METADATA = '__fastify_route_config__';
export const KEPLARS_ROUTE_CONFIG_KEY = 'keplarsWebhook';
export const KEPLARS_ROUTE_MARK = true;

/**
 * The webhook route's handler carries its endpoint's name under this key. Nest copies a route
 * method's metadata to the handler it gives Express, so the module finds its route in Express's own
 * router (prefix, version, `RouterModule` path and all), without working out the path itself.
 */
export const KEPLARS_ENDPOINT_METADATA = 'keplars:webhook-endpoint';

/** Nest's key for a route's method (`@Post()`): only a Nest route's handler has it, not a middleware. */
export const NEST_METHOD_METADATA = 'method';

/** Marks the webhook route, for Fastify (its route config) and Express (its handler), keeping whatever `routeDecorators` put there. */
export const MarkKeplarsRoute =
  (endpoint: string): MethodDecorator =>
  (_target, _key, descriptor) => {
    const handler = descriptor.value as object;
    const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as Record<string, unknown> | undefined) ?? {};
    Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...config, [KEPLARS_ROUTE_CONFIG_KEY]: KEPLARS_ROUTE_MARK }, handler);
    Reflect.defineMetadata(KEPLARS_ENDPOINT_METADATA, endpoint, handler);
    return descriptor;
  };
