/**
 * `module`: the module as an app without `@opentelemetry/api` runs it. The package is installed here
 * (the other targets need it), so a resolve hook makes it unfindable, as if it were not.
 */
export async function hideOpenTelemetryApi(): Promise<void> {
  const { register } = await import('node:module');
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier === '@opentelemetry/api') throw Object.assign(new Error("Cannot find package '@opentelemetry/api' (hidden by the benchmark)"), { code: 'ERR_MODULE_NOT_FOUND' });
    return next(specifier, context);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  const visible = await import('@opentelemetry/api').then(() => true, () => false);
  if (visible) throw new Error('the resolve hook did not hide @opentelemetry/api: the module target would measure it');
}
