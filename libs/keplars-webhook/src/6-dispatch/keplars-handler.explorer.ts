import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { isKnownKeplarsEventType, KEPLARS_EVENT_TYPES, type KeplarsEvent } from '../4-normalize/keplars-event.js';
import { KEPLARS_OPTIONS, LOG_CONTEXT } from '../module/keplars-webhook.constants.js';
import { KeplarsConfigurationError, type ResolvedKeplarsOptions } from '../module/resolve-keplars-options.js';
import { KeplarsHandlerRegistry, type KeplarsEventHandler } from './keplars-handler-registry.js';
import { KEPLARS_EVENT_HANDLER } from './on-keplars-event.decorator.js';

type ProviderWrapper = ReturnType<DiscoveryService['getProviders']>[number];

/** How handlers run, in words for the startup log. */
function deliveryMode(queue: ResolvedKeplarsOptions['queue']): string {
  if (queue === undefined) return 'inline mode: handlers run before Keplars gets its answer';
  if (queue.role === 'receive') return 'queue mode, receive only: handlers run in the apps whose queue role processes';
  return `queue mode (${queue.role}): workers run handlers after the delivery is queued`;
}

/**
 * Finds every `@OnKeplarsEvent()` method of the app's providers at startup and registers it; refuses
 * what cannot work (a request-scoped provider, a malformed pattern) and warns of a type Keplars does
 * not send. Then, if the app uses `@nestjs/event-emitter`, adds it as one more handler. Logs what it
 * found, and warns when it found nothing: a service left out of `providers` is never instantiated, so
 * its handlers silently never run.
 */
@Injectable()
export class KeplarsHandlerExplorer implements OnModuleInit {
  private readonly logger = new Logger(LOG_CONTEXT);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly moduleRef: ModuleRef,
    private readonly registry: KeplarsHandlerRegistry,
    @Inject(KEPLARS_OPTIONS) private readonly options: ResolvedKeplarsOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    const problems: string[] = [];
    const names = new Map<string, number>();
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.isAlias) continue; // useExisting: the provider it points to is scanned itself
      for (const { method, patterns } of this.handlerMethods(wrapper)) {
        const base = `${wrapper.metatype?.name ?? String(wrapper.token)}.${method}`;
        const seen = (names.get(base) ?? 0) + 1;
        names.set(base, seen);
        const name = seen === 1 ? base : `${base}#${seen}`;

        const malformed = patterns.filter((pattern) => typeof pattern !== 'string' || pattern === '');
        if (patterns.length === 0 || malformed.length > 0) {
          problems.push(`@OnKeplarsEvent() on ${base} needs event types such as 'email.opened', a list of them, or '*' (got ${JSON.stringify(patterns)}).`);
          continue;
        }
        if (!wrapper.isDependencyTreeStatic()) {
          problems.push(
            `${base} handles Keplars events but ${wrapper.name} is request-scoped (or depends on a request-scoped provider). ` +
              'A webhook is not a request of your app\'s users: move the handler to a singleton provider.',
          );
          continue;
        }
        this.warnOfUnknownTypes(base, patterns as string[]);
        const instance = wrapper.instance as Record<string, (event: KeplarsEvent) => unknown>;
        this.registry.add({ name, patterns: patterns as string[], invoke: (event) => instance[method]!(event) });
      }
    }
    if (problems.length > 0) throw new KeplarsConfigurationError(problems);
    const found = [...this.registry.all()];
    const emitting = this.options.emitEvents && (await this.addEventEmitter());
    this.logFound(found, emitting);
  }

  private logFound(found: readonly KeplarsEventHandler[], emitting: boolean): void {
    for (const handler of found) {
      this.logger.log(`Handler ${handler.name} takes ${handler.patterns.join(', ')} (${deliveryMode(this.options.queue)})`);
    }
    if (emitting) this.logger.log(`Every event is also emitted on @nestjs/event-emitter as keplars.<type>, for @OnEvent('keplars.…') listeners`);
    if (found.length > 0) return;
    this.logger.warn(
      'No @OnKeplarsEvent() handler was found, so webhooks will be answered 200 and no handler of yours will run' +
        (emitting ? " (only @OnEvent('keplars.…') listeners, if there are any)" : '') +
        '. If a service has @OnKeplarsEvent() methods, list it in the `providers` of a module the app imports: ' +
        'Nest never creates a service that is left out, so its handlers are never found.',
    );
  }

  private handlerMethods(wrapper: ProviderWrapper): { method: string; patterns: unknown[] }[] {
    const prototype = wrapper.instance ? Object.getPrototypeOf(wrapper.instance) : wrapper.metatype?.prototype;
    if (!prototype || prototype === Object.prototype) return [];
    return this.scanner.getAllMethodNames(prototype).flatMap((method) => {
      const patterns: unknown[] | undefined = Reflect.getMetadata(KEPLARS_EVENT_HANDLER, prototype[method]);
      return patterns ? [{ method, patterns }] : [];
    });
  }

  private warnOfUnknownTypes(handler: string, patterns: readonly string[]): void {
    for (const pattern of patterns) {
      if (pattern === '*' || pattern.endsWith('.*') || isKnownKeplarsEventType(pattern)) continue;
      this.logger.warn(
        `${handler} listens to "${pattern}", which is not a Keplars event type this module knows (${KEPLARS_EVENT_TYPES.join(', ')}). ` +
          'If it is a typo, fix it; if Keplars added this type, the handler will receive it.',
      );
    }
  }

  /** `@OnEvent('keplars.email.opened')` listeners get each event once, like a handler. Says whether it added one. */
  private async addEventEmitter(): Promise<boolean> {
    let emitter: { emitAsync(event: string, ...values: unknown[]): Promise<unknown[]>; listeners(event: string): unknown[] } | undefined;
    try {
      const { EventEmitter2 } = await import('@nestjs/event-emitter');
      emitter = this.moduleRef.get(EventEmitter2, { strict: false });
    } catch {
      return false; // @nestjs/event-emitter not installed, or EventEmitterModule not imported
    }
    if (!emitter) return false;
    this.registry.add({
      name: 'EventEmitter2',
      patterns: ['*'],
      invoke: (event) => emitter.emitAsync(`keplars.${event.type}`, event),
      listenerCount: (type) => emitter.listeners(`keplars.${type}`).length,
    });
    return true;
  }
}
