/** What the module uses of `@opentelemetry/api`. */
export type OpenTelemetryApi = typeof import('@opentelemetry/api');

/**
 * `@opentelemetry/api` if the app has it installed, else `undefined`: it is an optional peer, so the
 * module must load and run without it. Loaded once at startup, never on a request's way. Anything but
 * "not installed" (a broken install, say) is thrown, so it is not mistaken for a choice.
 */
export async function loadOpenTelemetryApi(load: () => Promise<OpenTelemetryApi> = () => import('@opentelemetry/api')): Promise<OpenTelemetryApi | undefined> {
  try {
    return await load();
  } catch (error) {
    if (isModuleNotFound(error)) return undefined;
    throw error;
  }
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes('@opentelemetry/api');
}
