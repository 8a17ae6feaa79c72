/**
 * Whether a request's path is the webhook route's, matched as Express matches a route: parameters
 * (`:tenant`) take any one non-empty segment, static segments ignore case, a trailing slash and the
 * query do not count.
 */
export function matchesRoutePath(routePath: string, requestUrl: string): boolean {
  const route = segmentsOf(routePath);
  const request = segmentsOf(requestUrl.split('?', 1)[0]!);
  if (route.length !== request.length) return false;
  return route.every((segment, i) => (segment.startsWith(':') ? request[i] !== '' : segment.toLowerCase() === request[i]!.toLowerCase()));
}

/** The route's path as the app serves it: under the global prefix, unless excluded from it. */
export function servedRoutePath(routePath: string, globalPrefix: string, excludedFromPrefix: boolean): string {
  const prefix = segmentsOf(globalPrefix);
  return prefix.length === 0 || excludedFromPrefix ? routePath : `/${[...prefix, ...segmentsOf(routePath)].join('/')}`;
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}
